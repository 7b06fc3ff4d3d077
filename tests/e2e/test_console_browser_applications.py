"""Applications in a real browser (issue 22): Debian's Chromium driven by the pinned Playwright
against one `luotto serve` for the module. A caseworker takes an application in with the assessment
following the facts as they are typed (static/application.js under the console's CSP) and prepares
it; the decision maker who prepared a step is refused by four eyes; a second one previews the letter
in the applicant's Swedish and decides; a relief application is rejected; a discussion request
waits in the work queue with its deadline. axe-core on every new page: no serious or critical
violation (WCAG 2.1 AA, Act 306/2019)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.e2e.console_support import check, ConsoleServer, serving, sign_in

NORM = {"source": "järjestäjän päätös 12/2026", "first_adult": "560.00", "other_adult": "400.00",
        "children": [{"from_age": 0, "to_age": 17, "amount": "380.00"}]}
TENANTS = {"t1": {"preset": "etela-karjala", "overrides": {"living_cost_norm": NORM}}}


class ApplicationsServer(ConsoleServer):
    def env(self) -> dict[str, str]:
        return {**super().env(), "LUOTTO_TENANTS": json.dumps(TENANTS)}


def _seed(folder: Path, database_url: str) -> None:
    from adapters.settings import Settings
    from application.container import Container
    from domain.loan import Decision

    c = Container.build(Settings(database_url=database_url, tenants=TENANTS, environment="development",
                                 signing_key_file=str(folder / "signing.key"), notice_store=str(folder / "notices"),
                                 notice_print_folder=str(folder / "print")))
    try:
        today = c.today()
        c.service.grant(tenant="t1", loan_id="L1", borrower_id="B7", purpose="vuokrarästit", principal=120000,
                        granted_on=today, first_due_date=today + dt.timedelta(days=30), instalment_amount=10000,
                        decision=Decision("dm-1", "Myönnetty vuokrarästeihin"))
    finally:
        c.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("console-applications")
    url = f"sqlite:///{folder / 'luotto.sqlite'}"
    _seed(folder, url)
    yield from serving(ApplicationsServer(url, folder))



def _first_due() -> str:
    today = dt.date.today()
    month = today.month + 2
    return dt.date(today.year + (month - 1) // 12, (month - 1) % 12 + 1, 10).isoformat()


def _updated(page, before: str | None) -> str:
    """Waits for the script's next answer in the assessment section; answers its sequence number."""
    page.wait_for_function("b => document.getElementById('assessment').getAttribute('data-updated') !== b",
                           arg=before, timeout=10_000)
    return page.get_attribute("#assessment", "data-updated")


def test_intake_with_a_live_assessment_then_four_eyes_and_a_swedish_letter(server, page):
    base = server.base_url
    sign_in(page, base, "cw-1", "t1", ["caseworker"])
    page.click("nav >> text=Hakemukset")
    check(page, "applications-list")
    page.click("#new-application")
    check(page, "application-intake")
    page.fill("#applicant", "B-1")
    page.fill("#purpose", "velkojen järjestely")
    page.fill("#requested_amount", "2400")
    page.fill("#first_due_date", _first_due())
    page.fill("input[name=expenses-0-kind]", "asuminen")
    page.fill("input[name=expenses-0-amount]", "650")
    seen = page.get_attribute("#assessment", "data-updated")
    page.fill("input[name=incomes-0-amount]", "1650")  # the script asks for the assessment as it is typed
    seen = _updated(page, seen)
    page.wait_for_function("() => document.getElementById('capacity') && "
                           "document.getElementById('capacity').textContent.includes('440,00')", timeout=10_000)
    assert "6 kk, erä 400,00 €" in page.inner_text("#plan")
    page.fill("input[name=incomes-0-amount]", "1000")
    page.wait_for_function("() => document.getElementById('capacity').textContent.includes('-210,00')",
                           timeout=10_000)
    assert "maksuvara ei riitä" in page.inner_text("#grounds-found")
    page.fill("input[name=incomes-0-amount]", "1650")
    page.fill("input[name=debts-0-creditor]", "Esimerkkirahoitus Oyj")
    page.fill("input[name=debts-0-amount]", "2400")
    page.check("input[name=debts-0-paid_off_by_loan]")
    page.fill("#person_name", "Britt Sjöberg")
    page.fill("#person_identity_code", "131052-308T")
    page.fill("#person_address", "Storgatan 1\n53100 Villmanstrand")
    page.select_option("#person_language", "sv")
    page.click("#recalculate")  # the same assessment without the script, from the server
    assert "440,00" in page.inner_text("#capacity")
    check(page, "application-intake-recalculated")
    page.click("#save")
    assert page.locator("#done").count() == 1, (page.url, page.content()[:3000])
    assert page.inner_text("#done") == "Hakemus vastaanotettu ja arvioitu."
    application_url = page.url.split("?")[0]
    check(page, "application")
    page.check("#understood")
    page.click("#criteria-form button")
    assert "Myöntämisperusteiden antaminen kirjattu." in page.inner_text("#done")

    sign_in(page, base, "dm-1", "t1", ["decision_maker"])
    page.goto(application_url)
    page.select_option("#finding", "no_right")
    page.click("#social-assistance-form button")
    assert page.locator("#four-eyes-note").count() == 1
    page.check("#outcome-granted")
    page.fill("#decided_by", "Maija Virtanen")
    page.click("#preview")
    refusal = page.inner_text("#refusal")
    assert "Neljän silmän periaate: toinen henkilö päättää." in refusal and "R-APP-5" in refusal, refusal
    assert page.locator("#record-decision").count() == 0
    check(page, "application-four-eyes")

    sign_in(page, base, "dm-2", "t1", ["decision_maker"])
    page.goto(application_url)
    page.check("#outcome-granted")
    page.fill("#decided_by", "Pekka Päättäjä")
    page.fill("#decision-reasons", "Täyttää myöntämisen edellytykset.")
    page.click("#preview")
    letter = page.locator("article.letter[lang=sv]")
    assert "Ansökan har beviljats" in letter.inner_text() and "Britt Sjöberg" in letter.inner_text()
    check(page, "application-decision-preview")
    page.click("#record-decision")
    assert page.inner_text("#done").startswith("Päätös kirjattu")
    assert page.locator("#letters a").count() == 1
    check(page, "application-decided")
    for lang in ("sv", "en"):
        page.select_option("#lang", lang)
        page.click("form[action='/console/language'] button")
        check(page, f"application-decided-{lang}")
    assert not page.csp_violations, page.csp_violations


def test_a_relief_application_is_rejected_and_a_discussion_waits_in_the_work_queue(server, page):
    base = server.base_url
    sign_in(page, base, "cw-2", "t1", ["caseworker"])
    page.goto(f"{base}/console/loans/L1")
    page.click("#relief-link")
    check(page, "relief-form")
    page.select_option("#relief-kind", "free_months")
    page.fill("#months", "2")
    page.fill("#from_instalment", "1")
    page.fill("#explanation", "sairausloma")
    page.click("#receive-relief")
    assert page.inner_text("#done") == "Helpotushakemus vastaanotettu."
    relief_url = page.url.split("?")[0]
    page.click("#discussion-form button")
    assert page.inner_text("#done") == "Keskustelupyyntö kirjattu työjonoon."
    page.click("nav >> text=Työjono")
    row = page.locator("#list-discussions_requested li").first
    assert "määräaika" in row.inner_text()
    check(page, "work-queue-discussions")

    sign_in(page, base, "dm-2", "t1", ["decision_maker"])
    assert page.locator("#list-applications_to_decide a").count() >= 1
    page.goto(relief_url)
    page.check("#outcome-rejected")
    page.fill("#decided_by", "Pekka Päättäjä")
    page.fill("#decision-reasons", "Maksukyky ei ole heikentynyt tilapäisesti.")
    page.click("#preview")
    assert "Hakemus on hylätty." in page.locator("article.letter[lang=fi]").inner_text()
    page.click("#record-decision")
    assert page.inner_text("#status") == "hylätty"
    check(page, "relief-decided")
    assert not page.csp_violations, page.csp_violations
