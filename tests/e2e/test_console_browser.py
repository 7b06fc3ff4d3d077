"""The staff console in a real browser (issue 21): Debian's Chromium, headless, driven by the
pinned Playwright; one `luotto serve` for the module; axe-core on every page with no serious or
critical violation (WCAG 2.1 AA, Act 306/2019); a screenshot of every page in tests/e2e/artifacts/."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.e2e.console_support import (ARTIFACTS, check, chromium_major, ConsoleServer,
                                      playwright_chromium_major, seed, serving, sign_in)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{folder / 'luotto.sqlite'}"
    yield from serving(ConsoleServer(url, folder), seed(folder, url))



def test_the_pinned_playwright_drives_the_installed_chromium():
    """Playwright is pinned to the release built for Debian's Chromium (156): an older browser than
    the driver expects may lack protocol it uses."""
    assert chromium_major() >= playwright_chromium_major(), (chromium_major(), playwright_chromium_major())


def test_every_page_is_accessible_in_each_language(server, page):
    base = server.base_url
    page.goto(f"{base}/console/work-queue")
    assert "/console/sign-in" in page.url  # not signed in: to the sign-in page
    check(page, "sign-in")
    sign_in(page, base, "cw-1", "t1", ["caseworker"])
    assert page.locator("h1").inner_text().startswith("Työjono")
    check(page, "work-queue-caseworker")
    page.goto(f"{base}/console/loans/L1")
    assert page.locator("h1").inner_text() == "Laina L1"
    assert "Laina myönnetty: 1 200,00 €" in page.locator("#timeline-table").inner_text()
    check(page, "loan")
    for lang, heading in (("sv", "Lån L1"), ("en", "Loan L1")):
        page.select_option("#lang", lang)
        page.click("form[action='/console/language'] button")
        assert page.locator("h1").inner_text() == heading and page.locator("html").get_attribute("lang") == lang
        check(page, f"loan-{lang}")
    page.goto(f"{base}/console/loans/NOPE")
    assert "Not found" in page.locator(".summary").inner_text()
    check(page, "error-not-found")
    sign_in(page, base, "fi-1", "t1", ["finance"])
    assert "U-1" in page.locator("#list-unallocated").inner_text()
    check(page, "work-queue-finance")
    assert not page.csp_violations, page.csp_violations  # the pages need nothing the policy forbids


def test_a_caseworker_of_one_organiser_cannot_see_anothers_loan(server, page):
    base = server.base_url
    sign_in(page, base, "cw-t2", "t2", ["caseworker"])
    page.goto(f"{base}/console/loans/M1")
    assert page.locator("h1").inner_text() == "Laina M1"
    answer = page.goto(f"{base}/console/loans/L1")  # t1's loan
    assert answer.status == 404
    assert page.locator(".summary").inner_text().startswith("Ei löydy")
    assert "1 200,00" not in page.content()
    check(page, "error-other-organiser")


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bankfiles"


def test_finance_imports_a_bank_file_and_allocates_an_unallocated_payment(server, page):
    base = server.base_url
    sign_in(page, base, "fi-1", "t1", ["finance"])
    page.click("nav >> text=Maksut")
    check(page, "payments")
    page.set_input_files("#file", str(FIXTURES / "ktl_payments.txt"))
    page.click("form[action='/console/payments/files'] button")
    report = page.locator("#import-report").inner_text()
    assert "Kohdistettu lainoihin: 3" in report and "Kohdistamattomiin: 1" in report, report
    check(page, "payments-import-report")
    row = page.locator("#unallocated-table tr", has_text="U-1")
    row.locator("input[name=loan_id]").fill("L1")
    row.locator("button").click()
    assert page.locator("#done").inner_text() == "Maksu U-1 kohdistettu."
    assert "U-1" not in page.locator("#unallocated-table").inner_text()
    page.goto(f"{base}/console/loans/L1")
    assert "Maksu saatu: 25,00 €" in page.locator("#timeline-table").inner_text()


def test_a_caseworker_records_a_hardship_and_sees_the_work_queue_change(server, page):
    base = server.base_url
    sign_in(page, base, "cw-1", "t1", ["caseworker"])
    assert page.locator("#list-hardships_active a[href='/console/loans/L2']").count() == 0
    page.goto(f"{base}/console/loans/L2")
    page.click("text=Maksuvaikeuden syy")
    page.select_option("#cause", "illness")
    page.fill("#reasons", "Sairaalahoidossa")
    page.click("button[value=check]")
    assert page.locator("#verdict-text").inner_text().startswith("Säännöt sallivat")
    check(page, "decision-hardship-checked")
    page.click("#record")
    assert page.locator("#done").inner_text() == "Kirjattu: Maksuvaikeuden syy."
    assert "Sairaalahoidossa" in page.locator("#timeline-table").inner_text()
    page.click("nav >> text=Työjono")
    assert page.locator("#list-hardships_active a[href='/console/loans/L2']").count() == 1
    check(page, "work-queue-after-hardship")


def test_an_appeal_handler_replays_a_loan_as_known_at_a_past_instant_and_downloads_its_evidence(server, page):
    base = server.base_url
    sign_in(page, base, "dm-2", "t1", ["decision_maker"])
    page.goto(f"{base}/console/loans/L3/replay")
    assert "Maksuvaikeuden syy kirjattu (työttömyys)" in page.locator("#timeline-table").inner_text()
    page.fill("#known_at", server.facts["before_decision"])
    page.click("form.replay button")
    timeline = page.locator("#timeline-table").inner_text()
    assert "Laina myönnetty" in timeline and "Maksuvaikeuden syy" not in timeline, timeline
    assert "Myöntäminen" in page.locator("#decisions-seen").inner_text()
    check(page, "replay-known-at")
    with page.expect_download() as download:
        page.click("#evidence-link")
    saved = ARTIFACTS / "evidence-L3.zip"
    download.value.save_as(str(saved))
    names = zipfile.ZipFile(saved).namelist()
    assert names and any("L3" in n or n.endswith(".json") for n in names), names
    page.click("nav >> text=Salkku")
    assert page.locator("svg").count() == 3
    check(page, "portfolio")


def test_an_auditor_reads_the_access_log(server, page):
    base = server.base_url
    sign_in(page, base, "au-1", "t1", ["auditor"])
    page.goto(f"{base}/console/loans/L1")
    page.click("nav >> text=Lokitiedot")
    page.fill("#loan_id", "L1")
    page.click("form[action='/console/access-log'] button")
    assert "au-1 (console)" in page.locator("#access-log-table").inner_text()
    check(page, "access-log")


def test_legal_staff_record_a_claim_filed_and_download_the_court_package(server, page):
    """Issue 22: from the loan page to its legal page; the claim is recorded by the signed-in person
    (R-LEGAL-1) and the court package for a chosen date downloads as a signed zip."""
    base = server.base_url
    sign_in(page, base, "lg-1", "t1", ["legal"])
    page.goto(f"{base}/console/loans/L1")
    page.click("#legal-link")
    assert page.locator("h1").inner_text() == "Laina L1: oikeudelliset toimet ja perintä"
    check(page, "legal")
    page.select_option("#step-kind", "claim_filed")
    page.fill("#court", "Helsingin hallinto-oikeus")
    page.fill("#case_number", "H 77/2026")
    page.fill("#step-amount", "300.00")
    page.fill("#step-reasons", "Kolme erää maksamatta")
    page.click("#record-step")
    assert page.locator("#done").inner_text() == "Oikeudellinen vaihe kirjattu."
    row = page.locator("#court-table tbody tr").first.inner_text()
    assert "Hakemus jätetty hallinto-oikeuteen" in row and "H 77/2026" in row and "300,00 €" in row, row
    check(page, "legal-after-claim")
    page.fill("#package-on", str(server.facts["today"]))
    with page.expect_download() as download:
        page.click("#package-form button")
    saved = ARTIFACTS / "court-package-L1.zip"
    download.value.save_as(str(saved))
    names = zipfile.ZipFile(saved).namelist()
    assert any(n.endswith("court/claim.json") for n in names), names
    assert not page.csp_violations, page.csp_violations


def test_a_decision_maker_transfers_an_instalment_to_collection_and_finance_sees_the_payment_form(server, page):
    """Issue 22: the transfer and recall forms (decision) and the agency payment form (payment_admin)
    pass axe-core too."""
    base = server.base_url
    sign_in(page, base, "dm-4", "t1", ["decision_maker"])
    page.goto(f"{base}/console/loans/L1/legal")
    page.check("#instalment-3")
    page.fill("#transfer-reasons", "Kaksi muistutusta ilman vastausta")
    page.click("#transfer-form button")
    assert page.locator("#done").inner_text() == "Siirretty perintätoimistolle."
    assert "Erät 3" in page.locator("#transfer-table").inner_text()
    check(page, "legal-transferred")
    sign_in(page, base, "fi-3", "t1", ["finance"])
    page.goto(f"{base}/console/loans/L1/legal")
    assert page.locator("form[action$='/payments']").count() == 1
    check(page, "legal-finance")
