"""After acceleration in the console (issue 22): court package, legal steps (R-LEGAL-1) and the
collection agency (R-COL-1), each form recorded by the signed-in person, refused with its rule,
and CSRF-checked (R-WEB-1)."""
from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

from tests.integration.test_console import build, signed_in
from tests.support.console import csrf_of, summary_of

DAY = dt.date(2025, 5, 20)  # L1: instalment 1 paid; 2, 3 and 4 (due 15.3., 15.4., 15.5.) overdue


def _app(tmp_path):
    app = build(tmp_path)
    app.state.container.service.clock.day = DAY
    return app


def _events(c, loan_id="L1"):
    return list(c.service.events.get(c.service.loan("t1", loan_id).id))


def test_legal_staff_record_a_claim_filed_and_a_judgment_for_an_unfiled_case_is_refused(tmp_path):
    app = _app(tmp_path)
    c = app.state.container
    with signed_in(app, ["legal"], subject="lg-1") as cl:
        page = cl.get("/console/loans/L1/legal")
        assert page.status_code == 200 and 'id="legal-step-form"' in page.text
        assert 'id="transfer-form"' not in page.text  # transfers are decision makers' (api/access.py)
        fields = {"csrf": csrf_of(page.text), "kind": "claim_filed", "court": "Helsingin hallinto-oikeus",
                  "case_number": "H 12/2025", "amount": "200.00", "reasons": "Kaksi erää maksamatta", "on": ""}
        done = cl.post("/console/loans/L1/legal-steps", data=fields, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/console/loans/L1/legal?done=legal_step"
        last = _events(c)[-1]
        assert type(last).__name__ == "ClaimFiled" and last.decided_by == "lg-1" and last.case_number == "H 12/2025"
        assert last.amount == "200.00" and last.effective_date == DAY
        shown = cl.get(done.headers["location"]).text
        assert "Oikeudellinen vaihe kirjattu." in shown and "H 12/2025" in shown and "200,00 €" in shown
        count = len(_events(c))
        refused = cl.post("/console/loans/L1/legal-steps", data={**fields, "kind": "judgment", "case_number": "X 1",
                                                                  "outcome": "granted"})
        assert refused.status_code in (409, 422) and "R-LEGAL-1" in refused.text and "case_number" in refused.text
        twice = cl.post("/console/loans/L1/legal-steps", data=fields)
        assert twice.status_code == 422 and "R-LEGAL-1" in twice.text and "already filed" in twice.text
        forged = cl.post("/console/loans/L1/legal-steps", data={**fields, "case_number": "H 13/2025", "csrf": "x"})
        assert forged.status_code == 403 and "R-WEB-1" in forged.text
        assert len(_events(c)) == count


def test_the_court_package_for_a_chosen_date_and_a_future_date_refused(tmp_path):
    app = _app(tmp_path)
    with signed_in(app, ["legal"]) as cl:
        got = cl.get("/console/loans/L1/court-package?on=2025-05-01")
        assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
        assert 'filename="court-package-L1-2025-05-01.zip"' in got.headers["content-disposition"]
        names = zipfile.ZipFile(io.BytesIO(got.content)).namelist()
        claim = json.loads(zipfile.ZipFile(io.BytesIO(got.content)).read(
            next(n for n in names if n.endswith("court/claim.json"))))
        assert claim["on"] == "2025-05-01", claim.get("on")
        future = cl.get("/console/loans/L1/court-package?on=2025-05-21")
        assert future.status_code == 422 and "R-DATE-1" in future.text and summary_of(future.text)
        swedish = cl.get("/console/loans/L1/legal", headers={"Accept-Language": "sv"}).text
        assert "Lån L1: rättsliga åtgärder och indrivning" in swedish and "Rättegångsmaterial" in swedish
        english = cl.get("/console/loans/L1/legal", headers={"Accept-Language": "en"}).text
        assert "Record a legal step" in english and "Claim filed with the court" in english


def test_a_decision_maker_transfers_an_overdue_instalment_then_recalls_it(tmp_path):
    app = _app(tmp_path)
    c = app.state.container
    with signed_in(app, ["decision_maker"], subject="dm-3") as cl:
        page = cl.get("/console/loans/L1/legal").text
        assert 'id="instalment-2"' in page and 'id="instalment-4"' in page and 'id="instalment-5"' not in page
        csrf = csrf_of(page)
        whole = cl.post("/console/loans/L1/collection-transfer", data={"csrf": csrf, "reasons": "koko laina",
                                                                        "on": ""})
        assert whole.status_code in (409, 422) and "R-ACC-8" in whole.text  # not accelerated: name instalments
        count = len(_events(c))
        done = cl.post("/console/loans/L1/collection-transfer",
                       data={"csrf": csrf, "instalments": ["2"], "reasons": "Kaksi muistutusta", "on": ""},
                       follow_redirects=False)
        assert done.status_code == 303 and len(_events(c)) == count + 1
        last = _events(c)[-1]
        assert type(last).__name__ == "LoanTransferredToCollection" and last.decided_by == "dm-3"
        assert last.instalments == [2] and last.amount == "100.00"
        transfer = last.transfer_id
        shown = cl.get("/console/loans/L1/legal").text
        assert "Erät 2" in shown and f"/collection-transfer/{transfer}/recall" in shown
        recall = f"/console/loans/L1/collection-transfer/{transfer}/recall"
        ok = cl.post(recall, data={"csrf": csrf, "reasons": "maksusuunnitelma sovittu", "on": ""},
                     follow_redirects=False)
        assert ok.status_code == 303 and type(_events(c)[-1]).__name__ == "CollectionRecalled"
        again = cl.post(recall, data={"csrf": csrf, "reasons": "uudelleen", "on": ""})
        assert again.status_code == 404 and "R-COL-1" in again.text and "transfer_id" in again.text


def test_the_agencys_file_and_its_payment(tmp_path):
    from domain.loan import Decision

    app = _app(tmp_path)
    c = app.state.container
    c.service.transfer_to_collection("t1", "L1", on=DAY, decision=Decision("dm-1", "muistutukset"),
                                     instalments=[2, 3], transfer_id="T-9")
    with signed_in(app, ["legal"]) as cl:
        as_json = cl.get("/console/loans/L1/collection-transfer/T-9/export?format=json")
        assert as_json.status_code == 200 and as_json.json()["amount"] == "200.00"
        assert [r["instalment"] for r in as_json.json()["instalments"]] == [2, 3]
        as_csv = cl.get("/console/loans/L1/collection-transfer/T-9/export?format=csv")
        assert as_csv.status_code == 200 and as_csv.text.startswith("transfer_id,") and len(as_csv.text.splitlines()) == 3
        bad = cl.get("/console/loans/L1/collection-transfer/T-9/export?format=xml")
        assert bad.status_code == 422 and "R-COL-1" in bad.text
        assert "/collection-transfer/T-9/payments" not in cl.get("/console/loans/L1/legal").text
    with signed_in(app, ["finance"], subject="fi-2") as cl:
        page = cl.get("/console/loans/L1/legal").text
        assert 'id="legal-step-form"' not in page and "/export?" not in page  # the debtor's file: legal only
        csrf = csrf_of(page)
        done = cl.post("/console/loans/L1/collection-transfer/T-9/payments",
                       data={"csrf": csrf, "payment_id": "AG-1", "amount": "150.00", "value_date": "2025-05-19"},
                       follow_redirects=False)
        assert done.status_code == 303
        paid = _events(c)[-1]
        assert type(paid).__name__ == "PaymentReceived" and paid.source == "collection_agency:T-9"
        assert paid.amount == "150.00" and paid.value_date == dt.date(2025, 5, 19)
        count = len(_events(c))
        unknown = cl.post("/console/loans/L1/collection-transfer/T-1/payments",
                          data={"csrf": csrf, "payment_id": "AG-2", "amount": "1.00", "value_date": ""})
        assert unknown.status_code == 404 and "R-COL-1" in unknown.text and len(_events(c)) == count
