"""Issue 17 end to end through the API, on PostgreSQL and SQLite (R-APP-1 … 5, 9, 10, R-DATA-1/5):
an application received, assessed, refused with grounds; reapplied, prepared, granted by another
person than the preparer (four eyes refuses the preparer), its letter in Swedish; a relief
application rejected with an appealable letter; a request for a personal discussion in the work
queue until the meeting is recorded; the facts never in the event store; every read logged."""
from __future__ import annotations

import copy
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.integration.helpers import Stack, stack  # noqa: F401 - fixture
from tests.integration.served_api import served_api

EXAMPLE = json.loads((Path(__file__).resolve().parents[3] / "shared" / "spec" / "applications" /
                      "example-fit.json").read_text(encoding="utf-8"))
NORM = EXAMPLE["policy"]["overrides"]["living_cost_norm"]
TENANTS = {"ek": {"preset": "etela-karjala", "overrides": {"living_cost_norm": NORM},
                  "organiser": {"name": "Etelä-Karjalan hyvinvointialue", "phone": "05 352 000"}}}
DAY = dt.date(2026, 3, 2)
CREDITOR = "Esimerkkirahoitus Oyj"  # personal data of the applicant: never in the events


def facts(**changes) -> dict:
    out = copy.deepcopy(EXAMPLE["application"])
    out["debts"][0]["creditor"] = CREDITOR
    out.update(changes)
    return out


def pdf_text(data: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


@pytest.fixture
def api(stack: Stack, tmp_path):  # noqa: F811 - the fixture
    with served_api(stack, tmp_path, TENANTS, DAY) as (client, issuer, container, _clock):
        yield client, issuer, container


def as_(issuer, role: str, subject: str) -> dict:
    return issuer.headers("ek", [role], subject=subject)


def test_received_refused_reapplied_granted_by_another_and_a_relief_refused(api):
    client, issuer, c = api
    cw, dm1, dm2 = as_(issuer, "caseworker", "cw-1"), as_(issuer, "decision_maker", "dm-1"), \
        as_(issuer, "decision_maker", "dm-2")
    assert client.put("/v1/borrowers/B-1", json={"name": "Britt Sjöberg", "identity_code": "131052-308T",
                                                   "address": ["Storgatan 1", "53100 Villmanstrand"], "language": "sv"},
                      headers=cw).status_code == 200

    # 1. Received and assessed: 1,400.00 of salary leaves no payment capacity.
    low = facts(incomes=[{"kind": "salary", "amount": "1400.00"}])
    answer = client.post("/v1/applications", json={"application_id": "A-1", "facts": low}, headers=cw)
    assert answer.status_code == 201, answer.text
    assessed = client.post("/v1/applications/A-1/assessment", json={}, headers=cw)
    assert assessed.status_code == 201, assessed.text
    assert "no_payment_capacity" in {g["code"] for g in assessed.json()["assessment"]["grounds"]}

    # Refused with grounds and reasons; a grant over the computed ground would need override reasons.
    refused = client.post("/v1/applications/A-1/decision", headers=dm1, json={
        "outcome": "rejected", "decided_by": "Sosiaalityöntekijä Maija Virtanen", "grounds": ["no_payment_capacity"],
        "reasons": "Maksuvara ei riitä koko laina-ajalle."})
    assert refused.status_code == 201, refused.text
    assert refused.json()["status"] == "rejected" and refused.json()["decision"]["grounds"] == ["no_payment_capacity"]
    letter = client.get("/v1/applications/A-1/letters/B-1", headers=cw)
    assert letter.status_code == 200 and letter.headers["content-type"] == "application/pdf"
    text = pdf_text(letter.content)
    for wording in ("Beslut om social kredit", "Ansökan har avslagits", "Grunder för avslaget",
                    "Anvisning för begäran om omprövning", "inom 30 dagar", "Rätt till personligt samtal",
                    "Etelä-Karjalan hyvinvointialueen yksilöasioiden jaosto", "Britt Sjöberg"):
        assert wording in text, wording

    # 2. Reapplied with the salary that fits; prepared by the caseworker and by dm-1.
    assert client.post("/v1/applications", json={"application_id": "A-2", "facts": facts()},
                       headers=cw).status_code == 201
    assert client.post("/v1/applications/A-2/assessment", json={}, headers=cw).json()["assessment"]["grounds"] == []
    early = client.post("/v1/applications/A-2/decision", headers=dm2, json={"outcome": "granted",
                                                                             "decided_by": "Pekka Päättäjä"})
    assert early.status_code == 409 and early.json()["rule"] == "R-APP-5" and "§4(3)" in early.json()["message"]
    assert client.post("/v1/applications/A-2/criteria", json={"understood": True}, headers=cw).status_code == 201
    assert client.post("/v1/applications/A-2/social-assistance", headers=dm1,
                       json={"finding": "no_right", "reasons": "tulot ylittävät normin"}).status_code == 201
    own = client.post("/v1/applications/A-2/decision", headers=dm1,
                      json={"outcome": "granted", "decided_by": "Maija Virtanen"})
    assert own.status_code == 409 and own.json()["code"] == "four_eyes" and "dm-1 prepared" in own.json()["message"]
    granted = client.post("/v1/applications/A-2/decision", headers=dm2,
                          json={"outcome": "granted", "decided_by": "Pekka Päättäjä", "reasons": "täyttää perusteet"})
    assert granted.status_code == 201, granted.text
    assert granted.json()["decision"]["loan_id"] == "A-2"
    # R-APP-6/7 (issue 18): the capital covers it, so it is offered; the signed contract records the loan.
    assert (granted.json()["grant_status"], granted.json()["unsigned"]) == ("offered", ["B-1", "official"])
    assert client.get("/v1/loans/A-2", headers=dm2).status_code == 404
    # The offer is made known by the contract itself, drawn with the offer and sent to the applicant.
    assert granted.json()["contract"]["first_due_date"] == "2026-04-10"
    text = pdf_text(client.get("/v1/applications/A-2/contract/B-1", headers=dm2).content)
    for wording in ("Kreditavtal om social kredit", "Britt Sjöberg (B-1)", "debt restructuring", "2 400,00",
                    "Rat 1, förfallodag 10.4.2026", "Rat 16, förfallodag 10.7.2027", "150,00",
                    "Ingen ränta tas ut på krediten", "Förtida återbetalning (7 §)", "delvis utan kostnader", "Betalningsfria månader (7 a §)",
                    "Befrielse från betalning (7 b §)", "Uppsägning (8 §)", "4 § 1 mom. i räntelagen",
                    "inga andra kreditkostnader", "Underskrifter", "För kreditgivaren"):
        assert wording in text, wording
    for signer in ("B-1", "official"):
        signed = client.post("/v1/applications/A-2/contract/signatures", headers=dm2, json={"signer": signer})
        assert signed.status_code == 201, signed.text
    assert (signed.json()["grant_status"], signed.json()["contracted_loan"]) == ("contracted", "A-2")
    loan = client.get("/v1/loans/A-2", headers=dm2).json()
    assert (loan["borrower_id"], loan["principal"]) == ("B-1", "2400.00")
    schedule = client.get("/v1/loans/A-2/schedule", headers=dm2).json()["instalments"]
    assert (len(schedule), schedule[0]["amount"]) == (16, "150.00")  # the assessed plan (R-APP-3)
    text = pdf_text(client.get("/v1/applications/A-2/letters/B-1", headers=dm2).content)
    for wording in ("Ansökan har beviljats", "2 400,00", "16 månader", "150,00", "Pekka Päättäjä",
                    "Anvisning för begäran om omprövning", "ekonomisk rådgivning"):
        assert wording in text, wording

    # 3. A relief application (free months) rejected with an appealable letter.
    relief = client.post("/v1/loans/A-2/relief-applications", headers=cw, json={
        "application_id": "R-1", "kind": "free_months", "request": {"months": 2, "from_instalment": 1},
        "explanation": "sairausloma"})
    assert relief.status_code == 201, relief.text
    rejected = client.post("/v1/applications/R-1/decision", headers=dm2, json={
        "outcome": "rejected", "decided_by": "Pekka Päättäjä", "reasons": "maksukyky ei ole heikentynyt tilapäisesti"})
    assert rejected.status_code == 201, rejected.text
    text = pdf_text(client.get("/v1/applications/R-1/letters/B-1", headers=cw).content)
    for wording in ("Beslut om ansökan om betalningsfria månader", "Ansökan har avslagits",
                    "2 betalningsfria månader från rat 1", "Anvisning för begäran om omprövning"):
        assert wording in text, wording
    assert [e["type"] for e in client.get("/v1/loans/A-2/events", headers=dm2).json()["events"]] == ["LoanGranted"]

    # 4. A personal discussion requested: in the work queue, with its deadline, until it is held.
    assert client.post("/v1/discussions", headers=cw, json={"request_id": "D-1", "borrower_id": "B-1",
                                                            "application_id": "A-1"}).status_code == 201
    queue = client.get("/v1/work-queue", headers=cw).json()["discussions_requested"]
    assert [(q["request_id"], q["due_by"], q["overdue"]) for q in queue] == [("D-1", "2026-03-16", False)]
    assert client.post("/v1/discussions/D-1/meeting", headers=cw, json={"held_on": "2026-03-02"}).status_code == 201
    assert client.get("/v1/work-queue", headers=cw).json()["discussions_requested"] == []

    # The letters go out through the notice channel (the print folder), one per decision, and the contract.
    c.letters.enqueue_new()
    c.notices.deliver()
    rows = [r for r in c.notices.outbox.rows(tenant="ek") if r["loan_id"].startswith("A|")]
    assert sorted(r["loan_id"] for r in rows) == ["A|A-1|B-1", "A|A-2|B-1", "A|A-2|B-1", "A|R-1|B-1"]
    assert {r["status"] for r in rows} == {"sent_for_printing"}
    shown = client.get("/v1/applications/A-2", headers=cw).json()
    assert shown["deliveries"] == [{"borrower_id": "B-1", "outcome": "sent_for_printing"}]
    assert shown["facts_verified"] is True and shown["facts"]["debts"][0]["creditor"] == CREDITOR

    # The facts are in the personal-data store only: no event holds the creditor or an income.
    stored = b"".join(n.state for n in c.service.recorder.select_notifications(start=1, limit=100_000)).decode()
    assert "ApplicationDecided" in "".join(n.topic for n in c.service.recorder.select_notifications(start=1,
                                                                                                    limit=100_000))
    assert CREDITOR not in stored and "1650.00" not in stored and "Britt" not in stored

    # Every read of application data is in the access log under the applicant (R-DATA-5).
    logged = c.access_log.query("ek", borrower_id="B-1", limit=500, offset=0)
    endpoints = {row["endpoint"] for row in logged}
    assert {"/v1/applications/{application_id}", "/v1/applications/{application_id}/letters/{borrower_id}",
            "/v1/applications/{application_id}/decision", "/v1/applications"} <= endpoints


def test_roles_caseworker_prepares_decision_maker_decides_auditor_sees_nothing(api):
    client, issuer, _ = api
    cw, dm, auditor = (as_(issuer, "caseworker", "cw-1"), as_(issuer, "decision_maker", "dm-1"),
                       as_(issuer, "auditor", "au-1"))
    assert client.post("/v1/applications", json={"application_id": "A-9", "facts": facts()},
                       headers=cw).status_code == 201
    assert client.post("/v1/applications/A-9/decision", headers=cw, json={
        "outcome": "rejected", "decided_by": "x", "grounds": ["other"], "reasons": "x"}).status_code == 403
    assert client.get("/v1/applications/A-9", headers=auditor).status_code == 403
    bad = client.post("/v1/applications", json={"application_id": "A-10", "facts": facts(requested_amount=2400)},
                      headers=dm)
    assert bad.status_code == 422 and bad.json()["field"] == "facts.requested_amount"
    again = client.post("/v1/applications", json={"application_id": "A-9", "facts": facts()}, headers=cw)
    assert again.status_code == 200  # a retry answers the application already received
    unprintable = facts()
    unprintable["debts"][0]["creditor"] = "Perintä\x00Oy"
    answer = client.post("/v1/applications", json={"application_id": "A-11", "facts": unprintable}, headers=cw)
    assert answer.status_code == 422 and answer.json()["field"] == "facts.debts[0].creditor", answer.text
    code = client.post("/v1/applications/A-9/decision", headers=dm, json={
        "outcome": "rejected", "decided_by": "x", "grounds": ["Ei\u2028"], "reasons": "x"})
    assert code.status_code == 422


def test_joint_application_binds_both_and_a_rectification_decision_is_sent_with_court_instructions(api):
    """R-APP-1: a cohabiting couple applies together; the grant makes both liable (one open loan each),
    each gets the letter. R-APP-9: deciding a rectification request sends a letter with the
    instructions for appealing to the administrative court; its delivery is recorded on the loan."""
    from domain.loan import Decision

    client, issuer, c = api
    service = c.service
    for person, language in (("B-1", "fi"), ("B-2", "sv")):
        c.borrowers.put("ek", person, name=f"Henkilö {person}", identity_code="131052-308T", address=["Katu 1"],
                        language=language)
    joint = facts(co_applicant="B-2", household={"adults": 2, "children": []},
                  incomes=[{"kind": "salary", "amount": "1650.00"}, {"kind": "salary", "amount": "1200.00"}])
    service.receive_application("ek", "J-1", kind="loan", facts=joint, on=DAY, by="cw-1")
    service.assess_application("ek", "J-1", on=DAY, by="cw-1")
    service.give_granting_criteria("ek", "J-1", understood=True, on=DAY, by="cw-1")
    service.look_into_social_assistance("ek", "J-1", finding="no_right", reasons="", on=DAY, by="cw-1")
    service.decide_application("ek", "J-1", outcome="granted", decided_by="Pekka", on=DAY, by="dm-1")
    service.draw_contract("ek", "J-1", on=DAY, by="dm-1")
    for person, wording in (("B-1", ("Luotonsaajat vastaavat luoton takaisinmaksusta yhteisvastuullisesti",
                                     "Henkilö B-1 (B-1), Henkilö B-2 (B-2)")),
                            ("B-2", ("Låntagarna svarar solidariskt", "Henkilö B-1 (B-1), Henkilö B-2 (B-2)"))):
        text = pdf_text(client.get(f"/v1/applications/J-1/contract/{person}",
                                   headers=as_(issuer, "caseworker", "x")).content)
        assert all(w in text for w in wording), (person, text)
    for signer in ("B-2", "official", "B-1"):  # R-APP-7: both spouses and the official sign
        service.sign_contract("ek", "J-1", signer=signer, on=DAY, by="dm-1")
    c.letters.enqueue_new()
    c.notices.deliver()  # each spouse receives the decision letter and the contract
    contract_version = service.case("ek", "J-1").contract.version
    for person in ("B-1", "B-2"):
        assert c.notices.outbox.get("ek", f"A|J-1|{person}", contract_version)["status"] == "sent_for_printing"
    assert {(b, v) for b, o, v in service.case("ek", "J-1").letter_deliveries if v == contract_version} == {
        ("B-1", contract_version), ("B-2", contract_version)}
    loan = service.loan("ek", "J-1")
    assert (loan.borrower_id, loan.co_borrower_id) == ("B-1", "B-2")
    letters = {x.borrower_id: x.hash for x in service.case("ek", "J-1").decision.letters}
    assert set(letters) == {"B-1", "B-2"} and letters["B-1"] != letters["B-2"]
    swedish = pdf_text(client.get("/v1/applications/J-1/letters/B-2", headers=as_(issuer, "caseworker", "x")).content)
    assert "Ansökan har beviljats" in swedish
    other = client.post("/v1/loans", headers=as_(issuer, "decision_maker", "dm-1"), json={
        "loan_id": "L-9", "borrower_id": "B-2", "purpose": "pesukone", "principal": "600.00", "granted_on": "2026-03-02",
        "first_due_date": "2026-04-10", "term_months": 6, "decided_by": "dm", "reasons": "x"})
    assert other.status_code == 422 and "B-2 already has open loan J-1" in other.json()["message"]

    service.file_appeal("ek", "J-1", decision_version=1, on=DAY, appellant="B-1", grounds="liian lyhyt laina-aika")
    appeal = [e for e in service.events.get(loan.id) if type(e).__name__ == "AppealFiled"][-1].originator_version
    service.decide_appeal("ek", "J-1", appeal=appeal, outcome="rejected", on=DAY,
                          decision=Decision("Yksilöasioiden jaosto", "laina-aika vastaa maksuvaraa"))
    decided = [e for e in service.events.get(loan.id) if type(e).__name__ == "AppealDecided"][-1]
    assert decided.letter_hash
    letter = c.notices.pdfs.get(decided.letter_hash, c.borrowers.key("ek", "B-1"))
    text = pdf_text(letter)
    assert "Valitusosoitus" in text and "hallinto-oikeuteen" in text and "Oikaisuvaatimus on hylätty" in text
    c.letters.enqueue_new()
    c.notices.deliver()
    assert c.notices.outbox.get("ek", "J-1", decided.originator_version)["status"] == "sent_for_printing"
    deliveries = [e for e in service.events.get(loan.id) if type(e).__name__ == "NoticeDeliveryRecorded"]
    assert [(d.notice, d.outcome) for d in deliveries] == [(decided.originator_version, "sent_for_printing")]
