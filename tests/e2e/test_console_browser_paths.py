"""Whole paths through the staff console in a real browser (issue 22): Debian's Chromium driven by
the pinned Playwright against one `luotto serve` for the module, axe-core on every page visited
(no serious or critical violation), a screenshot of each in tests/e2e/artifacts/.

- a decision maker works the waiting list: positions, offers from freed capital, an applicant who
  gives up, the contract previewed and signed; finance pays the loan out and records a return;
- a caseworker takes an application from intake to disbursement with a second person deciding.

Two organisers keep the paths apart: `wl` has a capital limit its loans nearly fill (grants wait),
`ek` has room (a grant is offered at the decision).
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.e2e.console_support import (ARTIFACTS, check, ConsoleServer, serving, sign_in,
                                      watched_page)

ORGANISER = {"name": "Etelä-Karjalan hyvinvointialue", "iban": "FI21 1234 5600 0007 85", "bic": "NDEAFIHH"}
CREDITORS = [{"payee_id": "P1", "kind": "creditor", "name": "Esimerkkirahoitus Oyj", "iban": "FI4950009420028730",
              "reference": "12344", "amount": "1500.00"},
             {"payee_id": "P2", "kind": "creditor", "name": "Perintätoimisto Virtanen", "iban": "FI5810171000000122",
              "reference": "RF7320260312", "amount": "900.00"}]


def tenants() -> dict:
    from tests.integration.test_applications import NORM

    overrides = {"living_cost_norm": NORM, "offer_valid_days": 14}
    return {"wl": {"preset": "etela-karjala", "overrides": {**overrides, "capital_limit": "4000.00"},
                   "organiser": ORGANISER},
            "ek": {"preset": "etela-karjala", "overrides": {**overrides, "capital_limit": "100000.00"},
                   "organiser": ORGANISER}}


class PathServer(ConsoleServer):
    def env(self) -> dict[str, str]:
        return {**super().env(), "LUOTTO_TENANTS": json.dumps(tenants())}


def seed(folder: Path, database_url: str) -> dict:
    """`wl`: L-0 (3,000.00 of the 4,000.00 limit) with 1,500.00 repaid and no run since; A (2,400.00,
    two creditors), B and C granted by dm-1 and waiting in that order."""
    from adapters.settings import Settings
    from application.container import Container
    from domain.loan import Decision
    from tests.integration.test_applications import facts

    settings = Settings(database_url=database_url, tenants=tenants(), signing_key_file=str(folder / "signing.key"),
                        notice_store=str(folder / "notices"), notice_print_folder=str(folder / "print"),
                        environment="development")
    c = Container.build(settings)
    try:
        today = c.today()
        first_due = (today.replace(day=1) + dt.timedelta(days=45)).replace(day=10)
        c.borrowers.put("wl", "B-1", name="Maija Meikäläinen", identity_code="131052-308T", address=["Katu 1"],
                        language="fi")
        c.service.grant(tenant="wl", loan_id="L-0", borrower_id="B-0", purpose="vuokrarästit", principal=300000,
                        granted_on=today, first_due_date=first_due, instalment_amount=30000, decision=Decision("dm", "x"))
        for application_id, person, amount, grant in (("A", "B-1", "2400.00", {"payees": CREDITORS}),
                                                      ("B", "B-2", "600.00", {}), ("C", "B-3", "500.00", {})):
            s = c.service
            s.receive_application("wl", application_id, kind="loan", on=today, by="cw-1", facts=facts(
                applicant=person, requested_amount=amount, first_due_date=first_due.isoformat()))
            s.assess_application("wl", application_id, on=today, by="cw-1")
            s.give_granting_criteria("wl", application_id, understood=True, on=today, by="cw-1")
            s.look_into_social_assistance("wl", application_id, finding="no_right", reasons="", on=today, by="cw-1")
            s.decide_application("wl", application_id, outcome="granted", decided_by="Pekka Päättäjä", on=today,
                                 by="dm-1", grant=grant)
        c.service.post_payment(tenant="wl", payment_id="P-0", amount=150000, value_date=today, on=today,
                               loan_id="L-0")
    finally:
        c.close()
    return {"today": today, "first_due": first_due}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("console-paths")
    url = f"sqlite:///{folder / 'luotto.sqlite'}"
    yield from serving(PathServer(url, folder), seed(folder, url))


@pytest.fixture
def page(browser):  # conftest's, but any Content-Security-Policy violation fails the test
    yield from watched_page(browser, csp_clean=True)


def _download(page, selector: str, name: str) -> bytes:
    with page.expect_download() as download:
        page.click(selector)
    saved = ARTIFACTS / name
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    download.value.save_as(str(saved))
    return saved.read_bytes()


def pay_out(page, base: str, loan_id: str, name: str) -> str:
    """Finance opens the disbursements, makes the pain.001 file and downloads it; answers the file."""
    page.click("nav >> text=Maksatukset")
    assert page.locator(f"#loan-{loan_id}").inner_text().count("Maksamatta") == 1
    check(page, f"{name}-disbursements")
    page.click(f"#loan-{loan_id} a")
    assert page.locator("#disbursement-status").inner_text() == "Maksamatta"
    check(page, f"{name}-disbursement")
    page.click("#disburse")
    assert page.locator("#done").inner_text().startswith("Maksuaineisto tehty.")
    assert page.locator("#disbursement-status").inner_text() == "Maksettu"
    xml = _download(page, "#new-file", f"{name}-pain001.xml").decode("utf-8")
    assert "pain.001.001.03" in xml and "<EndToEndId>" in xml
    check(page, f"{name}-disbursement-paid")
    return xml


def test_a_decision_maker_works_the_waiting_list_and_finance_pays_the_loan_out(server, page):
    base = server.base_url
    sign_in(page, base, "dm-2", "wl", ["decision_maker"])
    page.click("nav >> text=Jonotuslista")
    waiting = page.locator("#waiting-table tbody tr")
    assert [waiting.nth(i).locator("td").nth(1).inner_text() for i in range(waiting.count())] == ["A", "B", "C"]
    assert waiting.nth(0).locator("td").first.inner_text() == "1"
    check(page, "path-waiting-list")

    # The repayment freed 1,500.00: A (2,400.00) fits beside L-0's 1,500.00; B and C stay behind it.
    page.click("#make-offers")
    assert page.locator("#done").inner_text() == "Tarjouksia tehty: 1, vanhentuneita: 0."
    assert "A" in page.locator("#offer-A").inner_text()
    assert page.locator("#waiting-B td").first.inner_text() == "1"
    check(page, "path-waiting-list-offered")
    page.fill("#reason-B", "Ei tarvitse enää lainaa")
    page.click("#withdraw-B")
    assert page.locator("#done").inner_text().startswith("Luopuminen kirjattu")
    assert page.locator("#waiting-B").count() == 0 and page.locator("#waiting-C td").first.inner_text() == "1"

    # The contract: drawn with the offer; previewed in the browser, downloaded, signed by both.
    page.click("#offer-A a")
    assert page.locator("#grant-status").inner_text() == "Tarjottu"
    check(page, "path-contract")
    preview = page.request.get(base + page.locator("#preview-B-1").get_attribute("href"))
    assert preview.headers["content-type"] == "application/pdf"
    assert preview.headers["content-disposition"].startswith("inline;") and preview.body().startswith(b"%PDF")
    assert _download(page, "#download-B-1", "path-contract-B-1.pdf").startswith(b"%PDF")
    page.click("#sign-B-1")
    assert page.locator("#done").inner_text() == "Allekirjoitus kirjattu."
    page.click("#sign-official")
    assert page.locator("#done").inner_text() == "Sopimus on allekirjoitettu ja laina myönnetty."
    assert page.locator("#grant-status").inner_text() == "Sopimus tehty"
    check(page, "path-contract-concluded")

    # Finance pays it out to both creditors; the bank returns the second transfer.
    sign_in(page, base, "fi-1", "wl", ["finance"])
    xml = pay_out(page, base, "A", "path-wl")
    assert xml.count("<CdtTrfTxInf>") == 2 and "Perintätoimisto Virtanen" in xml
    second = page.locator("#transfers-table tbody tr").nth(1)
    second.locator("button").click()
    assert page.locator("#done").inner_text() == "Palautunut siirto kirjattu."
    assert page.locator("#disbursement-status").inner_text() == "Osittain maksettu"
    assert page.locator("#files-table tbody tr").count() == 1
    check(page, "path-disbursement-returned")


def test_a_caseworker_takes_an_application_from_intake_to_disbursement_with_a_second_person_deciding(server, page):
    base = server.base_url
    first_due = server.facts["first_due"]

    # Intake (api/web/application_pages.py): the caseworker types the facts and saves; it is assessed.
    sign_in(page, base, "cw-1", "ek", ["caseworker"])
    page.goto(f"{base}/console/applications/new")
    for selector, value in (("#applicant", "H-1"), ("#person_name", "Matti Meikäläinen"),
                            ("#person_identity_code", "131052-308T"), ("#person_address", "Katu 2\n53100 Lappeenranta"),
                            ("#purpose", "velkojen järjestely"), ("#requested_amount", "2400.00"),
                            ("#first_due_date", first_due.isoformat()), ("#adults", "1"),
                            ("input[name='incomes-0-kind']", "salary"), ("input[name='incomes-0-amount']", "1650.00"),
                            ("input[name='expenses-0-kind']", "housing"), ("input[name='expenses-0-amount']", "620.00"),
                            ("input[name='debts-0-creditor']", "Esimerkkirahoitus Oyj"),
                            ("input[name='debts-0-basis']", "kulutusluotto"), ("input[name='debts-0-amount']", "2400.00"),
                            ("input[name='debts-0-monthly_payment']", "180.00")):
        page.fill(selector, value)
    page.check("input[name='debts-0-paid_off_by_loan']")
    page.click("#save")
    assert "/console/applications/" in page.url and "done=received" in page.url, page.inner_text("main")
    application_id = page.url.split("/console/applications/")[1].split("?")[0]
    check(page, "path-application-received")
    page.check("#understood")
    page.click("#criteria-form button[type=submit]")
    page.select_option("#finding", "no_right")
    page.click("#social-assistance-form button[type=submit]")
    check(page, "path-application-prepared")

    # A second person decides: the preview, then the record; the organiser has room, so it is offered.
    sign_in(page, base, "dm-2", "ek", ["decision_maker"])
    page.goto(f"{base}/console/applications/{application_id}")
    page.check("#outcome-granted")
    page.fill("#decided_by", "Pekka Päättäjä")
    page.click("#preview")
    page.click("#record-decision")
    assert page.locator("#grant-status").inner_text().startswith("tarjottu")
    check(page, "path-application-decided")
    page.click("#contract-link")  # from the application page to the contract
    assert page.locator("#grant-status").inner_text() == "Tarjottu"

    # The payees, the contract drawn again to name them, both signatures.
    for selector, value in (("#payee_id_0", "P1"), ("#name_0", "Esimerkkirahoitus Oyj"),
                            ("#iban_0", "FI49 5000 9420 0287 30"), ("#reference_0", "12344"), ("#amount_0", "2400.00"),
                            ("#payees-decided-by", "Pekka Päättäjä"), ("#payees-reasons", "Kulutusluoton maksu")):
        page.fill(selector, value)
    page.click("#decide-payees")
    assert page.locator("#done").inner_text() == "Päätös maksunsaajista kirjattu."
    assert "Esimerkkirahoitus Oyj" in page.locator("#payees-table").inner_text()
    page.click("#draw")
    assert page.locator("#done").inner_text().startswith("Sopimus laadittu")
    check(page, "path-contract-with-payees")
    page.click("#sign-H-1")
    page.click("#sign-official")
    assert page.locator("#grant-status").inner_text() == "Sopimus tehty"

    # Finance pays it out.
    sign_in(page, base, "fi-1", "ek", ["finance"])
    xml = pay_out(page, base, application_id, "path-ek")
    assert xml.count("<CdtTrfTxInf>") == 1 and "<InstdAmt Ccy=\"EUR\">2400.00</InstdAmt>" in xml
