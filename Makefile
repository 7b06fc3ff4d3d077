# Two commands make a fresh machine work: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench clean

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

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
