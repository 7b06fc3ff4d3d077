"""From decision to money in the console (issue 22): the waiting list with positions and offers from
freed capital, an applicant giving up a grant (R-APP-6), the contract previewed and signed (R-APP-7),
the pain.001 file, an earlier file again and a returned transfer (R-APP-8); each form recorded by the
signed-in person, refused by role and CSRF (R-DATA-6, R-WEB-1), every page read in the access log."""
from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

from adapters.bankfiles.pain001 import NS
from adapters.settings import Settings
from api.app import create_app
from domain.loan import Decision
from tests.integration.test_applications import NORM, facts, pdf_text
from tests.integration.test_console import signed_in
from tests.support.clock import Clock
from tests.support.console import csrf_of

DAY = dt.date(2026, 3, 2)
TENANTS = {"ek": {"preset": "etela-karjala",
                  "overrides": {"living_cost_norm": NORM, "capital_limit": "4000.00", "offer_valid_days": 14},
                  "organiser": {"name": "Etelä-Karjalan hyvinvointialue", "iban": "FI21 1234 5600 0007 85",
                                "bic": "NDEAFIHH"}}}
CREDITORS = [{"payee_id": "P1", "kind": "creditor", "name": "Esimerkkirahoitus Oyj", "iban": "FI4950009420028730",
              "reference": "12344", "amount": "1500.00"},
             {"payee_id": "P2", "kind": "creditor", "name": "Perintätoimisto Virtanen", "iban": "FI5810171000000122",
              "reference": "RF7320260312", "amount": "900.00"}]


def prepare(service, application_id: str, applicant: str, amount: str, **grant) -> None:
    """Received, assessed and prepared by a caseworker, granted by a decision maker (four eyes)."""
    service.receive_application("ek", application_id, kind="loan", on=DAY, by="cw-1",
                                facts=facts(applicant=applicant, requested_amount=amount))
    service.assess_application("ek", application_id, on=DAY, by="cw-1")
    service.give_granting_criteria("ek", application_id, understood=True, on=DAY, by="cw-1")
    service.look_into_social_assistance("ek", application_id, finding="no_right", reasons="", on=DAY, by="cw-1")
    service.decide_application("ek", application_id, outcome="granted", decided_by="Pekka Päättäjä", on=DAY,
                               by="dm-1", grant=grant)


def build(tmp_path: Path):
    """L-0 (3,000.00) uses most of the 4,000.00 limit: A (2,400.00, payees P1 and P2) waits first,
    B (600.00) behind it."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/luotto.sqlite", signing_key_file=str(tmp_path / "key"),
                        notice_store=str(tmp_path / "notices"), notice_print_folder=str(tmp_path / "print"),
                        tenants=TENANTS, environment="development")
    app = create_app(settings)
    c = app.state.container
    c.service.clock = Clock(DAY)
    for person, name, language in (("B-1", "Maija Meikäläinen", "fi"), ("B-2", "Britt Sjöberg", "sv")):
        c.borrowers.put("ek", person, name=name, identity_code="131052-308T", address=["Katu 1"], language=language)
    c.service.grant(tenant="ek", loan_id="L-0", borrower_id="B-0", purpose="vuokrarästit", principal=300000,
                    granted_on=DAY, first_due_date=dt.date(2026, 4, 10), instalment_amount=30000,
                    decision=Decision("dm", "x"))
    prepare(c.service, "A", "B-1", "2400.00", payees=CREDITORS)
    prepare(c.service, "B", "B-2", "600.00")
    c.read_model.catch_up()
    return app


def offered(app):
    """A repayment frees capital and A is offered (with its contract drawn), as the daily run would."""
    c = app.state.container
    c.service.clock.day = dt.date(2026, 3, 5)
    c.service.post_payment(tenant="ek", payment_id="P-0", amount=150000, value_date=c.today(), on=c.today(),
                           loan_id="L-0")
    c.service.process_waiting_list("ek", c.today())
    return app


def contracted(app):
    c = offered(app).state.container
    c.service.clock.day = dt.date(2026, 3, 9)
    for signer in ("B-1", "official"):
        c.service.sign_contract("ek", "A", signer=signer, on=c.today(), by="dm-1")
    c.read_model.catch_up()
    return app


def events(c, aggregate_id):
    return [type(e).__name__ for e in c.service.events.get(aggregate_id)]


def access_rows(c) -> list[tuple]:
    return [(r["subject"], r["loan_id"], r["borrower_id"], r["endpoint"]) for r in c.access_log.query("ek", limit=500)]


def test_a_decision_maker_makes_offers_from_freed_capital_in_order(tmp_path):
    app = build(tmp_path)
    c = app.state.container
    with signed_in(app, ["decision_maker"], tenant="ek", subject="dm-2") as cl:
        page = cl.get("/console/waiting-list")
        assert page.status_code == 200 and 'id="make-offers"' in page.text
        assert [row.split('"')[0] for row in page.text.split('<tr id="waiting-')[1:]] == ["A", "B"]
        assert "2 400,00 €" in page.text and "B-1" in page.text
        capital = page.text.split('id="capital"')[1].split("</dl>")[0]
        # 4,000.00 limit, 3,000.00 in L-0, nothing reserved, 3,000.00 waiting: 1,000.00 free, too little for A
        assert [x in capital for x in ("4 000,00 €", "3 000,00 €", "0,00 €")] == [True] * 3
        assert 'id="free">1 000,00 €' in capital
        csrf = csrf_of(page.text)
        nothing = cl.post("/console/waiting-list/offers", data={"csrf": csrf}, follow_redirects=False)
        assert nothing.headers["location"] == "/console/waiting-list?done=offers&made=0&expired=0"
        offered(app)  # only the repayment here: the form offers
        c.service.clock.day = dt.date(2026, 3, 6)
        done = cl.post("/console/waiting-list/offers", data={"csrf": csrf}, follow_redirects=False)
        assert done.status_code == 303
        shown = cl.get(done.headers["location"]).text
        assert "Tarjouksia tehty: 0, vanhentuneita: 0." in shown  # the repayment's run already offered A
        assert '<tr id="offer-A">' in shown and "2026-03-19" in shown
        assert '<tr id="waiting-B">' in shown and '<td class="num">1</td>' in shown  # B moved up to position 1
        assert 'id="free">100,00 €' in shown  # 4,000.00 - 1,500.00 in L-0 - 2,400.00 reserved for A
        forged = cl.post("/console/waiting-list/offers", data={"csrf": "x"})
        assert forged.status_code == 403 and "R-WEB-1" in forged.text
        english = cl.get("/console/waiting-list", headers={"Accept-Language": "en"}).text
        assert "Make offers from freed capital" in english and "Standing offers" in english
        swedish = cl.get("/console/waiting-list", headers={"Accept-Language": "sv"}).text
        assert "Kölista och erbjudanden" in swedish
    assert ("dm-2", None, "B-1", "/console/waiting-list") in access_rows(c)
    with signed_in(app, ["finance"], tenant="ek") as cl:
        assert cl.get("/console/waiting-list").status_code == 403  # it names the applicants (R-DATA-6)
        assert cl.post("/console/waiting-list/offers", data={"csrf": "x"}).status_code == 403


def test_the_form_offers_the_first_in_line_when_capital_frees(tmp_path):
    app = build(tmp_path)
    c = app.state.container
    c.service.clock.day = dt.date(2026, 3, 5)
    c.service.post_payment(tenant="ek", payment_id="P-0", amount=150000, value_date=c.today(), on=c.today(),
                           loan_id="L-0")
    with signed_in(app, ["decision_maker"], tenant="ek", subject="dm-2") as cl:
        csrf = csrf_of(cl.get("/console/waiting-list").text)
        done = cl.post("/console/waiting-list/offers", data={"csrf": csrf}, follow_redirects=False)
        assert done.headers["location"] == "/console/waiting-list?done=offers&made=1&expired=0"
    case = c.service.case("ek", "A")
    assert case.grant_status == "offered" and case.contract is not None  # drawn with the offer
    assert c.service.case("ek", "B").grant_status == "waiting"


def test_a_caseworker_records_that_the_applicant_gives_up_and_the_next_is_offered(tmp_path):
    app = offered(build(tmp_path))
    c = app.state.container
    with signed_in(app, ["caseworker"], tenant="ek", subject="cw-2") as cl:
        page = cl.get("/console/waiting-list").text
        assert 'id="make-offers"' not in page and 'id="withdraw-A"' in page  # offers are decision makers'
        done = cl.post("/console/applications/A/grant-withdrawal",
                       data={"csrf": csrf_of(page), "reason": "Sai rahoituksen muualta"}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/console/waiting-list?done=withdrawn"
        shown = cl.get(done.headers["location"]).text
        assert "Luopuminen kirjattu" in shown and '<tr id="offer-B">' in shown  # A's capital went to B
        assert 'id="offer-A"' not in shown
        again = cl.post("/console/applications/A/grant-withdrawal", data={"csrf": csrf_of(page)})
        assert again.status_code == 409 and "R-APP-6" in again.text
        assert cl.post("/console/applications/B/contract/signatures",
                       data={"csrf": csrf_of(page), "signer": "B-2"}).status_code == 403
    withdrawn = [e for e in c.service.events.get(c.service.case("ek", "A").id) if type(e).__name__ == "GrantWithdrawn"]
    assert len(withdrawn) == 1 and withdrawn[0].by == "cw-2"
    assert "Sai rahoituksen" not in str(withdrawn[0].__dict__)  # the applicant's words are sealed
    assert c.service.case("ek", "B").grant_status == "offered"


def test_the_contract_previewed_and_signed_by_the_borrower_and_the_official(tmp_path):
    app = offered(build(tmp_path))
    c = app.state.container
    c.service.clock.day = dt.date(2026, 3, 9)
    with signed_in(app, ["decision_maker"], tenant="ek", subject="dm-2") as cl:
        page = cl.get("/console/applications/A/contract")
        assert page.status_code == 200 and 'id="sign-B-1"' in page.text and 'id="sign-official"' in page.text
        assert "2026-03-19" in page.text and 'id="draw-form"' in page.text
        preview = cl.get("/console/applications/A/contract/B-1")
        assert preview.status_code == 200 and preview.headers["content-type"] == "application/pdf"
        assert preview.headers["content-disposition"].startswith("inline;")
        # shown by Chromium's own viewer, which `default-src 'none'` would block; never framed elsewhere
        assert preview.headers["content-security-policy"] == "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert "Sosiaalisen luoton luottosopimus" in pdf_text(preview.content)
        saved = cl.get("/console/applications/A/contract/B-1?download=true")
        assert saved.headers["content-disposition"] == 'attachment; filename="contract-A-B-1.pdf"'
        missing = cl.get("/console/applications/A/contract/B-2")
        assert missing.status_code == 404 and "borrower_id" in missing.text
        csrf = csrf_of(page.text)
        drawn = cl.post("/console/applications/A/contract", data={"csrf": csrf, "first_due_date": "2026-05-10"},
                        follow_redirects=False)
        assert drawn.headers["location"] == "/console/applications/A/contract?done=drawn"
        assert c.service.case("ek", "A").contract.first_due_date == dt.date(2026, 5, 10)
        first = cl.post("/console/applications/A/contract/signatures", data={"csrf": csrf, "signer": "B-1"},
                        follow_redirects=False)
        assert first.headers["location"] == "/console/applications/A/contract?done=signed"
        shown = cl.get(first.headers["location"]).text
        assert "Allekirjoitus kirjattu." in shown and 'id="sign-B-1"' not in shown and 'id="draw-form"' not in shown
        stranger = cl.post("/console/applications/A/contract/signatures", data={"csrf": csrf, "signer": "B-9"})
        assert stranger.status_code == 422 and "signer" in stranger.text
        last = cl.post("/console/applications/A/contract/signatures", data={"csrf": csrf, "signer": "official"},
                       follow_redirects=False)
        assert last.headers["location"] == "/console/applications/A/contract?done=concluded"
        done = cl.get(last.headers["location"]).text
        assert 'id="contracted"' in done and "/console/loans/A/disbursements" in done
        swedish = cl.get("/console/applications/A/contract", headers={"Accept-Language": "sv"}).text
        assert "Ansökan A: kreditavtal" in swedish and "Avtal ingått" in swedish
    loan = c.service.loan("ek", "A")
    assert loan.granted_on == dt.date(2026, 3, 9) and loan.first_due_date == dt.date(2026, 5, 10)
    signed = [e for e in c.service.events.get(c.service.case("ek", "A").id) if type(e).__name__ == "ContractSigned"]
    assert [(e.signer, e.by) for e in signed] == [("B-1", "dm-2"), ("official", "dm-2")]
    rows = access_rows(c)
    assert ("dm-2", None, "B-1", "/console/applications/{application_id}/contract/{borrower_id}") in rows
    with signed_in(app, ["finance"], tenant="ek") as cl:
        assert cl.get("/console/applications/A/contract").status_code == 403
        assert cl.get("/console/applications/A/contract/B-1").status_code == 403


def test_finance_makes_the_payment_file_downloads_it_again_and_records_a_return(tmp_path):
    app = contracted(build(tmp_path))
    c = app.state.container
    c.service.clock.day = dt.date(2026, 3, 10)
    reference = c.service.loan("ek", "A").reference
    with signed_in(app, ["finance"], tenant="ek", subject="fi-1") as cl:
        overview = cl.get("/console/disbursements").text
        assert '<tr id="loan-A">' in overview and "Maksamatta" in overview and "L-0" not in overview
        page = cl.get("/console/loans/A/disbursements")
        assert page.status_code == 200 and 'id="disburse"' in page.text and "2 400,00 €" in page.text
        csrf = csrf_of(page.text)
        future = cl.post("/console/loans/A/disbursements", data={"csrf": csrf, "on": "2026-03-11"})
        assert future.status_code == 422 and "R-DATE-1" in future.text
        made = cl.post("/console/loans/A/disbursements", data={"csrf": csrf, "on": ""}, follow_redirects=False)
        message_id = f"LUOTTO-{reference}-1"
        assert made.headers["location"] == f"/console/loans/A/disbursements?done=disbursed&file={message_id}"
        shown = cl.get(made.headers["location"]).text
        assert "Maksuaineisto tehty." in shown and 'id="new-file"' in shown and "Maksettu" in shown
        assert f"{message_id}.xml" in shown and 'id="disburse"' not in shown
        xml = cl.get(f"/console/loans/A/disbursements/{message_id}")
        assert xml.status_code == 200 and xml.headers["content-disposition"] == f'attachment; filename="{message_id}.xml"'
        root = ET.fromstring(xml.content)
        assert [e.text for e in root.iter(f"{{{NS}}}EndToEndId")] == [f"{reference}-1", f"{reference}-2"]
        assert xml.content == c.service.disbursement_file("ek", "A", message_id)
        c.service.clock.day = dt.date(2026, 3, 12)
        back = cl.post(f"/console/loans/A/disbursements/{reference}-2/return", data={"csrf": csrf, "on": ""},
                       follow_redirects=False)
        assert back.headers["location"] == "/console/loans/A/disbursements?done=returned"
        shown = cl.get(back.headers["location"]).text
        assert "Osittain maksettu" in shown and "900,00 €" in shown and "2026-03-12" in shown
        assert f'id="return-{reference}-2"' not in shown and f'id="return-{reference}-1"' in shown
        unknown = cl.post("/console/loans/A/disbursements/X-9/return", data={"csrf": csrf, "on": ""})
        assert unknown.status_code == 404 and "R-APP-8" in unknown.text
        again = cl.post("/console/loans/A/disbursements", data={"csrf": csrf, "on": ""}, follow_redirects=False)
        assert again.headers["location"].endswith(f"file=LUOTTO-{reference}-3")  # P2 paid again
        shown = cl.get("/console/loans/A/disbursements", headers={"Accept-Language": "en"}).text
        assert "Paid out" in shown and f"LUOTTO-{reference}-1.xml" in shown and f"LUOTTO-{reference}-3.xml" in shown
        outside = cl.get("/console/loans/L-0/disbursements").text
        assert 'id="outside"' in outside
    paid = [e for e in c.service.events.get(c.service.loan("ek", "A").id) if type(e).__name__ == "LoanDisbursed"]
    assert [(e.transfer_id.rsplit("-", 1)[1], e.returned) for e in paid] == [("1", False), ("2", False), ("2", True),
                                                                             ("3", False)]
    assert ("fi-1", "A", "B-1", "/console/loans/{loan_id}/disbursements") in access_rows(c)
    assert ("fi-1", "A", "/console/disbursements") in [(r[0], r[1], r[3]) for r in access_rows(c)]  # each loan listed
    with signed_in(app, ["caseworker"], tenant="ek") as cl:
        page = cl.get("/console/loans/A/disbursements").text
        assert "Maksettu" in page and 'id="files-table"' not in page and "/return" not in page  # status only
        assert cl.get(f"/console/loans/A/disbursements/LUOTTO-{reference}-1").status_code == 403
        assert cl.post("/console/loans/A/disbursements", data={"csrf": csrf_of(page)}).status_code == 403


def test_a_decision_maker_decides_the_payees_and_the_details_stay_out_of_the_events(tmp_path):
    app = build(tmp_path)
    c = app.state.container
    with signed_in(app, ["decision_maker"], tenant="ek", subject="dm-2") as cl:
        page = cl.get("/console/applications/B/contract")
        assert page.status_code == 200 and 'id="payees-form"' in page.text and "Jonossa" in page.text
        assert 'id="position">2<' in page.text
        fields = {"csrf": csrf_of(page.text), "decided_by": "Pekka Päättäjä", "reasons": "pesukone myyjältä",
                  "payee_id_0": "V1", "kind_0": "vendor", "name_0": "Kodinkone Oy", "iban_0": "FI49 5000 9420 0287 30",
                  "message_0": "Tilaus 123", "amount_0": "600.00", "kind_1": "creditor", "kind_2": "creditor"}
        bad = cl.post("/console/applications/B/payees", data={**fields, "iban_0": "FI00 1234"})
        assert bad.status_code == 422 and "R-APP-8" in bad.text and "payees[0].iban" in bad.text
        short = cl.post("/console/applications/B/payees", data={**fields, "amount_0": "500.00"})
        assert short.status_code == 422 and "add up to 500.00" in short.text
        done = cl.post("/console/applications/B/payees", data=fields, follow_redirects=False)
        assert done.headers["location"] == "/console/applications/B/contract?done=payees#payees-h"
        shown = cl.get("/console/applications/B/contract").text
        assert "Kodinkone Oy" in shown and "FI4950009420028730" in shown and "Tilaus 123" in shown
    decided = [e for e in c.service.events.get(c.service.case("ek", "B").id) if type(e).__name__ == "PayeesDecided"]
    assert len(decided) == 1 and decided[0].by == "dm-2" and decided[0].payees == [
        {"payee_id": "V1", "kind": "vendor", "amount": "600.00"}]
    assert "Kodinkone" not in str(decided[0].__dict__) and "FI4950009420028730" not in str(decided[0].__dict__)
    with signed_in(app, ["caseworker"], tenant="ek") as cl:
        page = cl.get("/console/applications/B/contract").text
        assert "Kodinkone Oy" in page and 'id="payees-form"' not in page
        assert cl.post("/console/applications/B/payees", data={**fields, "csrf": csrf_of(page)}).status_code == 403
