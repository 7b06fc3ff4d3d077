"""Issue 20: the collection agency (R-COL-1: transfer of instalments or of the accelerated loan, the agency's
file, its payments recorded with their source, a recall; Act §6: no fee) and the loan's legal status
(R-LEGAL-1: claim filed, judgment, enforcement, each with who, when and why), visible in replay, the
evidence, the court package and the work queue."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.app import create_app
from application.collection_export import COLUMNS, transfer_csv, transfer_document
from application.container import Container
from application.court_package import build as court_package
from application.evidence_export import verify_bundle
from application.replay import replay
from domain.errors import DomainError
from domain.loan import Decision
from tests.integration.test_court_package import accelerated, pdf_text
from tests.support.auth import TestIssuer
from tests.support.clock import Clock

DM = Decision("Päättäjä P", "kaksi muistutusta, ei maksua", None)


def late_loan(tmp_path) -> Container:
    """2,400.00 at 100.00 a month from 10 Feb 2025, nothing paid; served daily to 25 Mar: instalments 1
    (deadline Mon 10 Feb) and 2 (deadline Mon 10 Mar) are overdue, the loan is not accelerated."""
    settings = Settings(database_url="memory://", signing_key_file=str(tmp_path / "key"),
                        notice_store=str(tmp_path / "notices"), notice_print_folder=str(tmp_path / "print"),
                        tenants={"k": {"preset": "kittila", "organiser": {"name": "Kittilän kunta",
                                                                          "iban": "FI49 5000 9420 0287 30"}}})
    c = Container.build(settings)
    clock = Clock(dt.date(2025, 1, 15))
    c.service.clock = clock
    c.clock = clock
    c.borrowers.put("k", "B-1", name="Maija Meikäläinen", identity_code="131052-308T", address=["Katu 1"],
                    language="fi")
    c.service.grant(tenant="k", loan_id="L-1", borrower_id="B-1", purpose="vuokrarästit", principal=240000,
                    granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 10), instalment_amount=10000,
                    decision=Decision("sw-1", "grant"))
    day = dt.date(2025, 1, 15)
    while day <= dt.date(2025, 3, 25):
        clock.day = day
        c.service.service("k", "L-1", day)
        day += dt.timedelta(days=1)
    return c


def types(c, loan_id="L-1") -> list[str]:
    return [type(e).__name__ for e in c.service.events.get(c.service.loan("k", loan_id).id)]


@pytest.fixture
def late(tmp_path):
    c = late_loan(tmp_path)
    yield c
    c.close()


def test_r_col_1_one_overdue_instalment_to_the_agency_its_payment_and_a_recall(late):
    c, on = late, dt.date(2025, 3, 25)
    # Not accelerated: the whole loan cannot go, instalment 3 (due 10 Apr) is not overdue.
    with pytest.raises(DomainError) as e:
        c.service.transfer_to_collection("k", "L-1", on=on, decision=DM)
    assert (e.value.code, e.value.rule) == ("not_eligible", "R-ACC-8")
    with pytest.raises(DomainError) as e:
        c.service.transfer_to_collection("k", "L-1", on=on, decision=DM, instalments=[3])
    assert (e.value.code, e.value.rule, e.value.field) == ("not_eligible", "R-COL-1", "instalments")
    c.service.transfer_to_collection("k", "L-1", on=on, decision=DM, instalments=[1], transfer_id="T-1")
    with pytest.raises(DomainError) as e:  # already with the agency
        c.service.transfer_to_collection("k", "L-1", on=on, decision=DM, instalments=[1], transfer_id="T-2")
    assert (e.value.code, e.value.field) == ("invalid_request", "instalments")
    event = [x for x in c.service.events.get(c.service.loan("k", "L-1").id)][-1]
    assert (type(event).__name__, event.transfer_id, event.instalments, event.amount) == \
        ("LoanTransferredToCollection", "T-1", [1], "100.00")

    # The agency's file: instalment 1's 100.00 (interest-free loan); the debtor named only here.
    doc = transfer_document(c, "k", "L-1", "T-1")
    assert (doc["amount"], doc["whole_loan"], doc["costs"], doc["debtor"]["name"]) == \
        ("100.00", False, "none", "Maija Meikäläinen")
    assert [(r["instalment"], r["principal_unpaid"]) for r in doc["instalments"]] == [(1, "100.00")]
    assert "6 §" in doc["no_costs"]["fi"] and "no collection fee" in doc["no_costs"]["en"]
    rows = list(csv.reader(io.StringIO(transfer_csv(doc))))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 2
    assert rows[1][:2] == ["T-1", "2025-03-25"] and rows[1][COLUMNS.index("principal_unpaid")] == "100.00"

    # The agency collects 100.00; it is recorded with its source and no fee beside it (Act §6).
    payoff = c.service.loan("k", "L-1").books(c.service.rates).balance(on)["payoff_amount"]
    c.service.post_payment(tenant="k", payment_id="AG-1", amount=10000, value_date=on, on=on, loan_id="L-1",
                           source="collection_agency:T-1")
    paid = [e for e in c.service.events.get(c.service.loan("k", "L-1").id) if type(e).__name__ == "PaymentReceived"]
    assert [(p.payment_id, p.source, p.amount) for p in paid] == [("AG-1", "collection_agency:T-1", "100.00")]
    after = c.service.loan("k", "L-1").books(c.service.rates).balance(on)["payoff_amount"]
    from decimal import Decimal
    assert Decimal(payoff) - Decimal(after) == Decimal("100.00")  # the payment, nothing charged on top

    # The recall: the transfer stands no more; the loan has no legal status left.
    with pytest.raises(DomainError) as e:
        c.service.recall_collection("k", "L-1", on=on, decision=DM, transfer_id="T-9")
    assert (e.value.code, e.value.rule) == ("not_found", "R-COL-1")
    c.service.recall_collection("k", "L-1", on=on, decision=DM, transfer_id="T-1")
    status = replay(c.service, "k", "L-1", on, None)["legal_status"]
    assert status["collection"] == [{"transfer_id": "T-1", "on": "2025-03-25", "instalments": [1],
                                     "recalled_on": "2025-03-25", "version": status["collection"][0]["version"]}]
    assert types(c)[-3:] == ["LoanTransferredToCollection", "PaymentReceived", "CollectionRecalled"]
    assert c.service.loan("k", "L-1").collection_on is None


def test_r_legal_1_claim_judgment_enforcement_in_order_and_visible_everywhere(tmp_path):
    c = accelerated(tmp_path)
    on = dt.date(2025, 6, 30)
    try:
        with pytest.raises(DomainError) as e:  # a judgment needs a claim filed first
            c.service.record_legal_step("k", "L-1", on=on, decision=DM, kind="judgment", case_number="HO 1/2025",
                                        outcome="granted", amount=232652)
        assert (e.value.code, e.value.rule) == ("not_eligible", "R-LEGAL-1")
        c.service.transfer_to_collection("k", "L-1", on=on, decision=DM)  # the accelerated loan, whole
        c.service.record_legal_step("k", "L-1", on=on, decision=DM, kind="claim_filed", case_number="HO 1/2025",
                                    court="Pohjois-Suomen hallinto-oikeus", amount=232652)
        with pytest.raises(DomainError) as e:  # enforcement needs a judgment ordering payment
            c.service.record_legal_step("k", "L-1", on=on, decision=DM, kind="enforcement", case_number="HO 1/2025")
        assert e.value.code == "not_eligible"
        c.service.record_legal_step("k", "L-1", on=on, decision=DM, kind="judgment", case_number="HO 1/2025",
                                    court="Pohjois-Suomen hallinto-oikeus", outcome="granted", amount=232652)
        c.service.record_legal_step("k", "L-1", on=on, decision=DM, kind="enforcement", case_number="HO 1/2025",
                                    court="Lapin ulosottoalue")
        events = list(c.service.events.get(c.service.loan("k", "L-1").id))
        filed = [e for e in events if type(e).__name__ == "ClaimFiled"][0]
        assert (filed.decided_by, filed.effective_date, filed.amount, filed.court) == \
            ("Päättäjä P", on, "2326.52", "Pohjois-Suomen hallinto-oikeus")
        assert filed.reasons != DM.reasons  # why: sealed in the event (R-DATA-2), opened for the court

        # Replay
        status = replay(c.service, "k", "L-1", on, None)
        assert [s["step"] for s in status["legal_status"]["court"]] == ["claim_filed", "judgment", "enforcement"]
        assert status["legal_status"]["court"][1]["outcome"] == "granted"
        assert {"ClaimFiled", "JudgmentGiven", "EnforcementStarted"} <= {d["type"] for d in status["decisions"]}
        # Work queue (read model)
        c.read_model.catch_up()
        queue = c.read_model.work_queue("k", on)
        assert [(r["loan_id"], r["legal_status"]) for r in queue["legal_status"]] == [("L-1", "enforcement")]
        # Evidence and court package: the events, the trail, the claim and the account.
        out = tmp_path / "package"
        manifest = court_package(c, "k", "L-1", out, on=on)
        assert verify_bundle(out) == []  # the new events chain and verify like every other
        assert {"ClaimFiled", "JudgmentGiven", "EnforcementStarted"} <= \
            {e["type"] for e in json.loads((out / "events.json").read_text())["events"]}
        trail = json.loads((out / "court/trail.json").read_text(encoding="utf-8"))["events"]
        judged = next(e for e in trail if e["type"] == "JudgmentGiven")
        assert judged["reasons"] == "kaksi muistutusta, ei maksua"
        told = judged["sentence_fi"].replace("\u00a0", " ")
        assert "tuomioistuin (Pohjois-Suomen hallinto-oikeus) hyväksyi vaatimuksen asiassa HO 1/2025, 2 326,52 euroa" \
            in told
        assert "Oikeusperuste: oikeudenkäynnistä hallintoasioissa annetun lain (808/2019) 20 §." in told
        claim = json.loads((out / "court/claim.json").read_text(encoding="utf-8"))
        assert claim["legal_status"]["collection"][0]["instalments"] is None  # the whole loan
        account = pdf_text((out / "court/selvitys-fi.pdf").read_bytes())
        assert "perintätoimistolle" in account and "ulosottoon" in account
        assert manifest["files"]
    finally:
        c.close()


def test_the_routes_with_their_roles(tmp_path):
    issuer = TestIssuer(tmp_path / "oidc")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/luotto.sqlite", signing_key_file=str(tmp_path / "key"),
                        notice_store=str(tmp_path / "notices"), notice_print_folder=str(tmp_path / "print"),
                        tenants={"k": {"preset": "kittila"}}, **issuer.settings_kwargs())
    app = create_app(settings)
    c = app.state.container
    clock = Clock(dt.date(2025, 1, 15))
    c.service.clock = clock
    c.service.grant(tenant="k", loan_id="L-1", borrower_id="B-1", purpose="vuokrarästit", principal=240000,
                    granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 10), instalment_amount=10000,
                    decision=Decision("sw-1", "grant"))
    c.borrowers.put("k", "B-1", name="Maija Meikäläinen", identity_code="131052-308T", address=["Katu 1"],
                    language="fi")
    clock.day = dt.date(2025, 3, 25)
    c.service.service("k", "L-1", clock.day)
    base = "/v1/loans/L-1/collection-transfer"
    with TestClient(app) as client:
        as_ = lambda role: issuer.headers("k", [role], subject=f"{role}-1")  # noqa: E731
        made = client.post(base, headers=as_("decision_maker"), json={
            "decided_by": "Päättäjä P", "reasons": "kaksi muistutusta", "instalments": [1, 2], "transfer_id": "T-1"})
        assert made.status_code == 201, made.text
        exported = client.get(f"{base}/T-1/export?format=csv", headers=as_("legal"))
        assert exported.status_code == 200 and exported.text.startswith(",".join(COLUMNS))
        assert client.get(f"{base}/T-1/export", headers=as_("caseworker")).status_code == 403
        paid = client.post(f"{base}/T-1/payments", headers=as_("finance"),
                           json={"payment_id": "AG-1", "amount": "50.00", "value_date": "2025-03-25"})
        assert paid.status_code == 201 and paid.json()["source"] == "collection_agency:T-1", paid.text
        unknown = client.post(f"{base}/T-9/payments", headers=as_("finance"),
                              json={"payment_id": "AG-2", "amount": "50.00"})
        assert (unknown.status_code, unknown.json()["rule"], unknown.json()["field"]) == \
            (404, "R-COL-1", "transfer_id")
        step = client.post("/v1/loans/L-1/legal-steps", headers=as_("legal"), json={
            "decided_by": "Lakimies L", "reasons": "ei maksua perinnästä huolimatta", "kind": "claim_filed",
            "case_number": "HO 7/2025", "court": "Pohjois-Suomen hallinto-oikeus", "amount": "200.00"})
        assert step.status_code == 201 and step.json()["legal_status"]["court"][0]["case_number"] == "HO 7/2025"
        c.read_model.catch_up()
        queue = client.get("/v1/work-queue", headers=as_("legal"))
        assert [(r["loan_id"], r["legal_status"]) for r in queue.json()["legal_status"]] == [("L-1", "claim_filed")]
        shown = c.access_log.query("k", loan_id="L-1", subject="legal-1")
        assert "/v1/work-queue" in {r["endpoint"] for r in shown}  # R-DATA-5: each loan shown is logged
        bad = client.post("/v1/loans/L-1/legal-steps", headers=as_("legal"), json={
            "decided_by": "Lakimies L", "kind": "verdict", "case_number": "HO 7/2025"})
        assert (bad.status_code, bad.json()["field"]) == (422, "kind")
        recalled = client.post(f"{base}/T-1/recall", headers=as_("decision_maker"), json={"decided_by": "Päättäjä P"})
        assert recalled.status_code == 201 and recalled.json()["legal_status"]["collection"][0]["recalled_on"]
        from application import digest

        digest.take(c, "k", dt.date(2025, 3, 25))
        package = client.get("/v1/loans/L-1/court-package?on=2025-03-25", headers=as_("legal"))
        assert package.status_code == 200 and package.headers["content-type"] == "application/zip"
        (tmp_path / "package.zip").write_bytes(package.content)  # the zip verifies offline as served
        assert verify_bundle(tmp_path / "package.zip") == []
        late = client.get("/v1/loans/L-1/court-package?on=2025-03-26", headers=as_("legal"))
        assert (late.status_code, late.json()["rule"], late.json()["field"]) == (422, "R-DATE-1", "on")
        assert client.get("/v1/loans/L-1/court-package", headers=as_("auditor")).status_code == 403
