"""Issue 18 end to end through the API, on PostgreSQL and SQLite (R-APP-6, 7, 8, R-INT-2): a cohabiting
couple's grant waits behind the capital limit, is offered when a repayment frees capital, is contracted
(a PDF to each in their language, both listed, both and the official sign), paid out to two creditors in
one pain.001 file that validates against the ISO 20022 schema; one transfer comes back, a new decision
names another account, the second file pays it; the first instalment is paid. Names and IBANs never
reach the event store."""
from __future__ import annotations

import datetime as dt
import importlib.resources
import xml.etree.ElementTree as ET

import pytest
import xmlschema

from adapters.bankfiles.pain001 import NS
from tests.integration.helpers import Stack, stack  # noqa: F401 - fixture
from tests.integration.served_api import served_api
from tests.integration.test_applications import NORM, facts, pdf_text

SCHEMA = xmlschema.XMLSchema(str(importlib.resources.files("sepaxml") / "schemas" / "pain.001.001.03.xsd"))
DAY = dt.date(2026, 3, 2)
TENANTS = {"ek": {"preset": "etela-karjala",
                  "overrides": {"living_cost_norm": NORM, "capital_limit": "4000.00", "offer_valid_days": 14,
                               "reminder_offsets_days": [14]},
                  "organiser": {"name": "Etelä-Karjalan hyvinvointialue", "iban": "FI21 1234 5600 0007 85",
                                "bic": "NDEAFIHH", "phone": "05 352 000"}}}
CREDITORS = [{"payee_id": "P1", "kind": "creditor", "name": "Esimerkkirahoitus Oyj", "iban": "FI4950009420028730",
              "reference": "12344", "amount": "1500.00"},
             {"payee_id": "P2", "kind": "creditor", "name": "Perintätoimisto Virtanen", "iban": "FI5810171000000122",
              "reference": "RF7320260312", "amount": "900.00"}]


@pytest.fixture
def api(stack: Stack, tmp_path):  # noqa: F811 - the fixture
    with served_api(stack, tmp_path, TENANTS, DAY) as (client, issuer, container, clock):
        yield client, issuer, container, clock


def file_of(answer) -> ET.Element:
    xml = answer.json()["file"].encode("utf-8")
    SCHEMA.validate(xml)  # the ISO 20022 pain.001.001.03 schema, shipped by sepaxml
    return ET.fromstring(xml)


def texts(root: ET.Element, tag: str) -> list[str]:
    return [e.text for e in root.iter(f"{{{NS}}}{tag}")]


def test_issue_18_queued_offered_contracted_for_a_couple_disbursed_returned_redirected_and_first_instalment_paid(api):
    client, issuer, c, clock = api
    cw, fin = issuer.headers("ek", ["caseworker"], subject="cw-1"), issuer.headers("ek", ["finance"], subject="fi-1")
    dm = issuer.headers("ek", ["decision_maker"], subject="dm-1")
    for person, name, language in (("B-1", "Maija Meikäläinen", "fi"), ("B-2", "Britt Sjöberg", "sv")):
        assert client.put(f"/v1/borrowers/{person}", headers=cw, json={
            "name": name, "identity_code": "131052-308T", "address": ["Katu 1"], "language": language}).status_code == 200
    assert client.post("/v1/loans", headers=dm, json={
        "loan_id": "L-0", "borrower_id": "B-0", "purpose": "vuokrarästit", "principal": "3000.00",
        "granted_on": "2026-03-02", "first_due_date": "2026-04-10", "term_months": 10, "decided_by": "dm",
        "reasons": "x"}).status_code == 201

    # A cohabiting couple applies together; prepared by the caseworker, decided by the decision maker.
    joint = facts(co_applicant="B-2", household={"adults": 2, "children": []},
                  incomes=[{"kind": "salary", "amount": "1650.00"}, {"kind": "salary", "amount": "1200.00"}])
    assert client.post("/v1/applications", headers=cw, json={"application_id": "J-1", "facts": joint}).status_code == 201
    assert client.post("/v1/applications/J-1/assessment", headers=cw, json={}).status_code == 201
    assert client.post("/v1/applications/J-1/criteria", headers=cw, json={"understood": True}).status_code == 201
    assert client.post("/v1/applications/J-1/social-assistance", headers=cw, json={"finding": "no_right"}).status_code == 201
    decided = client.post("/v1/applications/J-1/decision", headers=dm, json={
        "outcome": "granted", "decided_by": "Pekka Päättäjä", "grant": {"term_months": 16, "payees": CREDITORS}})
    assert decided.status_code == 201, decided.text
    assert decided.json()["grant_status"] == "waiting"  # 3,000.00 + 2,400.00 > 4,000.00 (R-APP-6)
    assert [(w["position"], w["application_id"], w["borrowers"]) for w in client.get(
        "/v1/waiting-list", headers=dm).json()["waiting"]] == [(1, "J-1", ["B-1", "B-2"])]

    # A repayment of 1,500.00 on L-0: the next daily run offers J-1 (1,500.00 + 2,400.00 <= 4,000.00).
    clock.set_day(dt.date(2026, 3, 5))
    assert client.post("/v1/payments", headers=fin, json={"payment_id": "P-0", "amount": "1500.00",
                                                          "value_date": "2026-03-05", "loan_id": "L-0"}).status_code == 201
    run = client.post("/v1/servicing-runs", headers=dm, json={"business_date": "2026-03-05"})
    assert run.json()["waiting_list"] == [{"change": "offered", "application_id": "J-1"}], run.text

    # The contract, drawn with the offer: one PDF to each spouse in their language, both listed, the creditors.
    assert client.get("/v1/applications/J-1", headers=dm).json()["contract"]["drawn_on"] == "2026-03-05"
    finnish = pdf_text(client.get("/v1/applications/J-1/contract/B-1", headers=dm).content)
    swedish = pdf_text(client.get("/v1/applications/J-1/contract/B-2", headers=dm).content)
    for wording in ("Sosiaalisen luoton luottosopimus", "Maija Meikäläinen (B-1), Britt Sjöberg (B-2)",
                    "yhteisvastuullisesti", "2 400,00", "16. erä, eräpäivä 10.7.2027",
                    "velkoja: Esimerkkirahoitus Oyj", "1 500,00", "velkoja: Perintätoimisto Virtanen", "900,00"):
        assert wording in finnish, wording
    for wording in ("Kreditavtal om social kredit", "solidariskt", "borgenär: Perintätoimisto Virtanen"):
        assert wording in swedish, wording
    clock.set_day(dt.date(2026, 3, 9))
    for signer in ("B-1", "B-2", "official"):
        signed = client.post("/v1/applications/J-1/contract/signatures", headers=dm, json={"signer": signer})
        assert signed.status_code == 201, signed.text
    loan = client.get("/v1/loans/J-1", headers=fin).json()
    assert (loan["borrower_id"], loan["principal"], loan["granted_on"]) == ("B-1", "2400.00", "2026-03-09")
    assert c.service.loan("ek", "J-1").co_borrower_id == "B-2"

    # Paid out (finance): one pain.001 file, a transfer to each creditor with its reference.
    assert client.post("/v1/loans/J-1/disbursements", headers=dm, json={}).status_code == 403
    clock.set_day(dt.date(2026, 3, 10))
    paid = client.post("/v1/loans/J-1/disbursements", headers=fin, json={})
    assert paid.status_code == 201, paid.text
    root = file_of(paid)
    reference = c.service.loan("ek", "J-1").reference
    assert texts(root, "EndToEndId") == [f"{reference}-1", f"{reference}-2"]
    assert texts(root, "InstdAmt") == ["1500.00", "900.00"] and texts(root, "Ref") == ["12344", "RF7320260312"]
    assert texts(root, "IBAN") == ["FI2112345600000785", "FI4950009420028730", "FI5810171000000122"]
    assert texts(root, "Nm")[-2:] == ["Esimerkkirahoitus Oyj", "Perintätoimisto Virtanen"]
    assert texts(root, "ReqdExctnDt") == ["2026-03-10"]
    assert paid.json()["message_id"] == f"LUOTTO-{reference}-1"
    kept = client.get(f"/v1/loans/J-1/disbursements/LUOTTO-{reference}-1", headers=fin)
    assert kept.status_code == 200 and kept.content == paid.json()["file"].encode("utf-8")  # made again, same bytes
    again = client.post("/v1/loans/J-1/disbursements", headers=fin, json={})
    assert (again.status_code, again.json()["rule"]) == (409, "R-APP-8")  # nothing left to pay

    # The second transfer comes back; a new payee needs a new decision; P1's standing transfer cannot change.
    clock.set_day(dt.date(2026, 3, 12))
    back = client.post(f"/v1/loans/J-1/disbursements/{reference}-2/return", headers=fin, json={})
    assert back.status_code == 201, back.text
    moved = [CREDITORS[0], {**CREDITORS[1], "payee_id": "P3", "iban": "FI1410093000123458", "bic": "OKOYFIHH"}]
    refused = client.post("/v1/applications/J-1/payees", headers=dm, json={
        "payees": [{**CREDITORS[0], "amount": "1000.00"}, {**moved[1], "amount": "1400.00"}],
        "decided_by": "Pekka Päättäjä", "reasons": "tili vaihtunut"})
    assert (refused.status_code, refused.json()["rule"]) == (409, "R-APP-8"), refused.text
    redirected = client.post("/v1/applications/J-1/payees", headers=dm, json={
        "payees": moved, "decided_by": "Pekka Päättäjä", "reasons": "velkojan tili vaihtunut"})
    assert redirected.status_code == 201, redirected.text
    second = client.post("/v1/loans/J-1/disbursements", headers=fin, json={})
    assert second.status_code == 201, second.text
    root = file_of(second)
    assert texts(root, "EndToEndId") == [f"{reference}-3"] and texts(root, "InstdAmt") == ["900.00"]
    assert texts(root, "IBAN")[-1] == "FI1410093000123458" and texts(root, "BIC") == ["NDEAFIHH", "OKOYFIHH"]
    first_file = client.get(f"/v1/loans/J-1/disbursements/LUOTTO-{reference}-1", headers=fin).content
    assert first_file == paid.json()["file"].encode("utf-8")  # the first file still names the payee of its time
    assert client.get(f"/v1/loans/J-1/disbursements/LUOTTO-{reference}-3", headers=fin).content == \
        second.json()["file"].encode("utf-8")
    assert client.get(f"/v1/loans/J-1/disbursements/LUOTTO-{reference}-2", headers=fin).status_code == 404
    events = client.get("/v1/loans/J-1/events", headers=fin).json()["events"]
    assert [(e["type"], e["data"]["payee"], e["data"]["amount"], e["data"]["returned"], e["effective_date"])
            for e in events if e["type"] == "LoanDisbursed"] == [
        ("LoanDisbursed", "P1", "1500.00", False, "2026-03-10"), ("LoanDisbursed", "P2", "900.00", False, "2026-03-10"),
        ("LoanDisbursed", "P2", "900.00", True, "2026-03-12"), ("LoanDisbursed", "P3", "900.00", False, "2026-03-12")]

    # The first instalment (2,400.00 over 16 months: 150.00) paid on its due date.
    clock.set_day(dt.date(2026, 4, 10))
    first = client.post("/v1/payments", headers=fin, json={"payment_id": "P-J1", "amount": "150.00",
                                                           "value_date": "2026-04-10", "reference": reference})
    assert first.status_code == 201, first.text
    schedule = client.get("/v1/loans/J-1/schedule", headers=fin).json()["instalments"]
    assert (schedule[0]["amount"], schedule[0]["paid"]) == ("150.00", "150.00"), schedule[0]
    assert client.get("/v1/loans/J-1?on=2026-04-10", headers=fin).json()["principal_outstanding"] == "2250.00"

    # Instalment 2 (due Sunday 10 May, deadline Monday 11 May) is not paid: the reminder 14 days after the
    # deadline goes to both spouses, each in their language (R-APP-7: every letter, §8 notices included).
    for day in (dt.date(2026, 5, 11), dt.date(2026, 5, 12), dt.date(2026, 5, 25)):
        clock.set_day(day)
        assert client.post("/v1/servicing-runs", headers=dm, json={"business_date": day.isoformat()}).status_code \
            in (200, 201)
    events = client.get("/v1/loans/J-1/events", headers=fin).json()["events"]
    reminder = [e for e in events if e["type"] == "NoticeSent"]
    assert [(e["data"]["kind"], e["effective_date"]) for e in reminder] == [("reminder", "2026-05-25")]

    # Each spouse received every letter (the decision, the contract, the reminder); no name or IBAN is in an event.
    c.letters.enqueue_new()
    c.notices.enqueue_new()
    c.notices.deliver()
    letters = sorted(r["loan_id"] for r in c.notices.outbox.rows(tenant="ek") if "J-1" in r["loan_id"])
    assert letters == ["A|J-1|B-1", "A|J-1|B-1", "A|J-1|B-2", "A|J-1|B-2", "C|J-1|B-2", "J-1"]
    assert {r["status"] for r in c.notices.outbox.rows(tenant="ek") if "J-1" in r["loan_id"]} == {"sent_for_printing"}
    copy = c.notices.outbox.get("ek", "C|J-1|B-2", reminder[0]["version"])
    swedish = pdf_text(c.notices.pdfs.get(copy["sha256"], c.borrowers.key("ek", "B-2")))
    assert "Britt Sjöberg" in swedish and "Betalningspåminnelse" in swedish, swedish[:300]
    stored = b"".join(n.state for n in c.service.recorder.select_notifications(start=1, limit=100_000)).decode()
    for secret in ("Esimerkkirahoitus", "Perintätoimisto", "Perint\\u00e4toimisto", "FI4950009420028730",
                   "FI1410093000123458", "Britt", "Maija"):
        assert secret not in stored, secret
