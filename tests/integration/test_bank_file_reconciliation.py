"""R-BOOK-2: each imported bank file reconciled with the payments it produced, on PostgreSQL and
SQLite (helpers.stack), and over HTTP for finance and the auditor. Loans L1-L3 have references 10016,
10029, 10032 (tests/fixtures/bankfiles/README.md); 999991 is a valid reference no loan has.

camt054_001_02.xml, counted by hand from the file (message id FI-20250303-0001), 12 entries:
  matched    4: A001 100.00 (L1), B001 50.00 (L2), B002 25.00 (L3), C001/1 30.00 (L2) = 205.00
  unmatched  2: B003 10.00 (999991, no loan), C001/2 20.00 (12345, bad check digit)  =  30.00
  duplicates 1: A001 again 100.00                                                     = 100.00
  rejected   5: USD 40.00, 0.00, -5.00, "12,50" (no amount), pending 70.00           = 105.00
  entries total 205.00 + 30.00 + 100.00 + 105.00 = 440.00; difference 0.00.
ktl_payments.txt (KTL has no message id), 9 entries:
  matched 3: 40.00 (L1), 35.00 (L2), 20.00 (L3) = 95.00; unmatched 1: 12.00 (999991);
  duplicates 1: record 1 again 40.00; reversed 1: correction of record 2, 35.00;
  rejected 3: currency code 2 15.00, 0.00, bad dates 9.00 = 24.00;
  entries total 95.00 + 12.00 + 40.00 + 35.00 + 24.00 = 206.00 (the trailer's 171.00 of payments
  plus 35.00 of corrections); difference 0.00.
"""
from __future__ import annotations

import json

from application.bank_file_records import bank_file_reconciliations
from application.payment_files import import_payments
from domain.bank_files import BankFileLedger, bank_files_id
from domain.register import payment_marker_id
from tests.integration.helpers import TENANT, stack  # noqa: F401 - `stack` is a fixture
from tests.integration.test_payment_files import (  # noqa: F401 - `client` is a fixture
    ACCOUNTS, ON, client, fixture, notifications, with_loans)

CAMT_SHA = "f7e2a33b3d30979425eefb233a08604524812b11be0333f903f3ff5a56533125"
KTL_SHA = "5d574e5b553e69426c0c535df967db8cd1f216aaa31677185f1f938f1b16e13c"


def _outcomes(**given) -> dict:
    base = {k: {"count": 0, "cents": 0} for k in ("matched", "unmatched", "duplicates", "rejected", "reversed",
                                                   "queued")}
    return {**base, **{k: {"count": n, "cents": c} for k, (n, c) in given.items()}}


CAMT = {"sha256": CAMT_SHA, "message_id": "FI-20250303-0001", "format": "camt.054.001.02",
        "imported_on": "2025-03-31", "entries": 12, "entries_cents": 44000,
        **_outcomes(matched=(4, 20500), unmatched=(2, 3000), duplicates=(1, 10000), rejected=(5, 10500)),
        "accounted_entries": 12, "accounted_cents": 44000, "difference_cents": 0}
KTL = {"sha256": KTL_SHA, "message_id": None, "format": "ktl", "imported_on": "2025-03-31", "entries": 9,
       "entries_cents": 20600,
       **_outcomes(matched=(3, 9500), unmatched=(1, 1200), duplicates=(1, 4000), reversed=(1, 3500),
                   rejected=(3, 2400)),
       "accounted_entries": 9, "accounted_cents": 20600, "difference_cents": 0}


def test_r_book_2_each_file_reconciles_and_a_reimport_counts_once(stack):
    container, _ = with_loans(stack)
    service = container.service
    first = import_payments(service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS)
    assert (first.sha256, first.message_id) == (CAMT_SHA, "FI-20250303-0001")
    assert bank_file_reconciliations(service, TENANT) == [CAMT]
    before = notifications(container)
    again = import_payments(service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS)
    assert again.counts["duplicates"] == 7 and notifications(container) == before  # nothing written
    assert bank_file_reconciliations(service, TENANT) == [CAMT]  # the file once, as first imported
    ktl = import_payments(service, TENANT, fixture("ktl_payments.txt"), on=ON, accounts=ACCOUNTS)
    assert bank_file_reconciliations(service, TENANT) == [CAMT, KTL]
    # Each payment names the file that first brought it, matched or waiting unallocated.
    for payment_id, sha in [("20250303-A001", CAMT_SHA), ("20250303-B003", CAMT_SHA),
                            (ktl.matched[0]["payment_id"], KTL_SHA), (ktl.unmatched[0]["payment_id"], KTL_SHA)]:
        assert service.repository.get(payment_marker_id(TENANT, payment_id)).file_sha256 == sha, payment_id
    paid = service.post_payment(tenant=TENANT, payment_id="P-api", amount=500, value_date=ON, on=ON, loan_id="L1")
    assert paid.position and service.repository.get(payment_marker_id(TENANT, "P-api")).file_sha256 is None
    # R-DATA-1: the record holds counts and cents, never a payer, a reference or an account.
    stored = [e for e in service.events.get(bank_files_id(TENANT)) if isinstance(e, BankFileLedger.FileImported)]
    text = json.dumps([e.__dict__ for e in stored], default=str)
    for personal in ("VIRTANEN", "999991", "10016", "FI2112345600000785", "12345600000785"):
        assert personal not in text



def test_r_book_2_report_over_http_for_finance_and_the_auditor_json_and_csv(client):  # noqa: F811
    http, issuer = client
    posted = http.post("/v1/payments/files", content=fixture("camt054_001_02.xml").read_bytes(),
                       headers={**issuer.headers(TENANT, ["payment_system"]), "Content-Type": "application/xml"})
    assert posted.status_code == 200 and posted.json()["sha256"] == CAMT_SHA
    assert http.get("/v1/books/bank-files", headers=issuer.headers(TENANT, ["caseworker"])).status_code == 403
    answer = http.get("/v1/books/bank-files", headers=issuer.headers(TENANT, ["finance"]))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"files": [CAMT]}
    csv = http.get("/v1/books/bank-files?format=csv", headers=issuer.headers(TENANT, ["auditor"]))
    assert csv.status_code == 200, csv.text
    assert csv.content.decode("utf-8-sig").splitlines() == [
        "sha256;message_id;format;imported_on;entries;entries_total;matched_count;matched_total;unmatched_count;"
        "unmatched_total;duplicates_count;duplicates_total;rejected_count;rejected_total;reversed_count;"
        "reversed_total;queued_count;queued_total;accounted_entries;accounted_total;difference",
        f"{CAMT_SHA};FI-20250303-0001;camt.054.001.02;2025-03-31;12;440.00;4;205.00;2;30.00;1;100.00;5;105.00;"
        "0;0.00;0;0.00;12;440.00;0.00"]
