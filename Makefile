# Two commands make a fresh machine work: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench clean browser

# Playwright drives Debian's chromium (/usr/bin/chromium); it never downloads a browser build.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

install: $(STAMP)

# Reinstall only when the pins change, so `make install` is cheap and idempotent.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

# Development: the OpenAPI pages are public here (LUOTTO_DOCS is off by default).
run: install
	LUOTTO_ENVIRONMENT=$${LUOTTO_ENVIRONMENT:-development} LUOTTO_DOCS=$${LUOTTO_DOCS:-public} $(BIN)/luotto serve

test: install browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The console's browser tests (tests/e2e/test_console_browser.py) need Debian's chromium: installed
# through apt when missing; the run stops here, loudly, when it cannot be.
browser:
	@test -x /usr/bin/chromium || { echo "chromium is missing: installing Debian's package"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	  || { echo "FAILED: cannot install chromium with apt-get (the browser tests need /usr/bin/chromium)" >&2; \
	       exit 1; }; }
	@/usr/bin/chromium --version 2>/dev/null

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
