"""The console's browser tests: one real `luotto serve` with seeded data, Debian's Chromium driven
by Playwright (never a downloaded browser), axe-core on every page, a screenshot of every page.

    ConsoleServer     a LuottoServer in the development environment (the local sign-in) on a
                      seeded SQLite file
    seed(settings)    loans, payments and a hardship-free history written before the server starts
    sign_in(page, …)  the sign-in form, as a person fills it
    check(page, name) axe-core: no serious or critical violation; the screenshot kept in artifacts/
"""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.e2e.conftest import LuottoServer

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
TENANTS = {"t1": {"preset": "default", "overrides": {"capital_limit": "10000.00"}}, "t2": {"preset": "default"}}
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bankfiles"
SERIOUS = ("serious", "critical")
HELSINKI = ZoneInfo("Europe/Helsinki")


def chromium_major() -> int:
    """The installed Chromium's major version; fails loudly (never skips) when it is missing."""
    assert CHROMIUM.exists(), "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    out = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True, timeout=30).stdout
    found = re.search(r"Chromium (\d+)\.", out)
    assert found, f"cannot read the Chromium version from {out!r}"
    return int(found.group(1))


def launched_chromium():
    """A module-scoped fixture's headless Debian Chromium: `yield from launched_chromium()`."""
    from playwright.sync_api import sync_playwright

    chromium_major()  # fails loudly when Debian's chromium is missing
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()


def watched_page(browser, *, csp_clean: bool = False):
    """A page in a fresh Finnish context that keeps the Content-Security-Policy violations the console
    reports (`page.csp_violations`); with `csp_clean`, any left at the test's end fail it."""
    context = browser.new_context(locale="fi-FI")  # Playwright accepts downloads by default
    found = context.new_page()
    found.csp_violations = []
    found.on("console", lambda m: found.csp_violations.append(m.text)
             if "Content Security Policy" in m.text else None)
    try:
        yield found
        if csp_clean:
            assert not found.csp_violations, found.csp_violations  # the pages need nothing the policy forbids
    finally:
        context.close()


def serving(running: LuottoServer, facts: dict | None = None):
    """A module-scoped fixture's started server, stopped (then killed) after the module."""
    running.start()
    running.facts = facts
    try:
        yield running
    finally:
        running.stop()
        running.kill()


def playwright_chromium_major() -> int:
    """The Chromium major version the pinned Playwright was built to drive."""
    import playwright

    browsers = Path(playwright.__file__).parent / "driver" / "package" / "browsers.json"
    chromium = next(b for b in json.loads(browsers.read_text())["browsers"] if b["name"] == "chromium")
    return int(chromium["browserVersion"].split(".")[0])


class ConsoleServer(LuottoServer):
    """`luotto serve` as `make run` starts it (development: the local sign-in, no issuer)."""

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in super().env().items() if not k.startswith("LUOTTO_OIDC_")}
        env.update({"LUOTTO_ENVIRONMENT": "development", "LUOTTO_TENANTS": json.dumps(TENANTS),
                    "LUOTTO_SIGNING_KEY_FILE": str(self.log_dir / "signing.key"),
                    "LUOTTO_NOTICE_STORE": str(self.log_dir / "notices"),
                    "LUOTTO_NOTICE_PRINT_FOLDER": str(self.log_dir / "print")})
        return env


def seed(folder: Path, database_url: str) -> dict:
    """Loans of two organisers, written through the application service before the server starts:
    t1's L1…L3 (references 10016, 10029, 10032 as the bank-file fixtures expect), an unallocated
    payment; t2's M1."""
    from adapters.settings import Settings
    from application.container import Container
    from domain.loan import Decision

    settings = Settings(database_url=database_url, tenants=TENANTS, signing_key_file=str(folder / "signing.key"),
                        notice_store=str(folder / "notices"), notice_print_folder=str(folder / "print"),
                        environment="development")
    c = Container.build(settings)
    try:
        for n in (1, 2, 3):
            c.service.grant(tenant="t1", loan_id=f"L{n}", borrower_id=f"B{n}", purpose="vuokrarästit",
                            principal=120000, granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 15),
                            instalment_amount=10000, decision=Decision("dm-1", "Myönnetty vuokrarästeihin"))
        c.service.grant(tenant="t2", loan_id="M1", borrower_id="C1", purpose="pesukone", principal=50000,
                        granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 15), instalment_amount=10000,
                        decision=Decision("dm-9", "Myönnetty"))
        today = c.today()
        c.service.post_payment(tenant="t1", payment_id="U-1", amount=2500, value_date=today, on=today,
                               reference="999991")
        # L3's cause of delay is recorded after `before_decision`: a replay as known then does not show it
        time.sleep(1.1)
        before = dt.datetime.now(HELSINKI).replace(microsecond=0, tzinfo=None)
        time.sleep(1.1)
        c.service.record_hardship("t1", "L3", on=today, cause="unemployment", decision=Decision("dm-1", "Irtisanottu"))
    finally:
        c.close()
    return {"today": today, "before_decision": before.isoformat()}


def sign_in(page, base_url: str, subject: str, tenant: str, roles: list[str]) -> None:
    page.context.clear_cookies()
    page.goto(f"{base_url}/console/sign-in")
    page.fill("#subject", subject)
    page.select_option("#tenant", tenant)
    for role in roles:
        page.check(f"#role-{role}")
    page.click("form[action='/console/dev-sign-in'] button[type=submit]")
    page.wait_for_load_state()
    assert "/console/sign-in" not in page.url and "dev-sign-in" not in page.url, page.inner_text("main")


def check(page, name: str) -> list[dict]:
    """axe-core on the page as it is: no serious or critical violation (WCAG 2.1 AA, Act 306/2019);
    the screenshot is kept whatever the result. Answers the violations of lesser impact."""
    from axe_playwright_python.sync_playwright import Axe

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a",
                                                                           "wcag21aa", "best-practice"]}})
    violations = results.response["violations"]
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
           if v["impact"] in SERIOUS]
    assert not bad, f"{name}: axe-core found serious or critical violations: {bad}"
    return violations
