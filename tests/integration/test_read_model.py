"""Read models on real stores (PostgreSQL schema and SQLite file): a rebuild from zero equals the
live projection, catching up is idempotent, and the unallocated-payments queue (R-PAY-2).

Every test runs twice, once per backend (see helpers.stack).
"""
from __future__ import annotations

import pytest

from adapters.reference_numbers import format_rf, normalise_reference, reference_for_loan, rf_reference
from domain.errors import DomainError
from projections.read_model import ReadModel
from tests.integration.helpers import (  # noqa: F401 - `stack` is a fixture
    D,
    TENANT,
    Clock,
    events_of,
    grant,
    pay,
    stack,
    table_rows,
)

TABLES = ("luotto_loans", "luotto_unallocated")
UNKNOWN_REFERENCE = reference_for_loan(999)  # a valid national reference no loan of this test has


def _snapshot(container) -> dict[str, list[dict]]:
    return {table: table_rows(container, table) for table in TABLES}


def _build_history(c, clock: Clock) -> None:
    """Three loans, payments by loan id and by RF reference, unallocated payments (one allocated later,
    one returned, one left waiting), a reversal and servicing runs over several dates. The live read
    model catches up after every step, as the projection thread would."""
    s, live = c.service, c.read_model
    steps: list = []

    def at(day: str, *commands) -> None:
        steps.append((D(day), commands))

    ref = lambda lid: s.loan(TENANT, lid).reference  # noqa: E731
    at("2025-01-15",
       lambda: grant(s, "L1", "B1", "1200.00"),  # 12 x 100.00 from 2025-02-15
       lambda: grant(s, "L2", "B2", "600.00", first_due_date=D("2025-02-20")),
       lambda: grant(s, "L3", "B3", "900.00", first_due_date=D("2025-02-28"), instalment_amount="150.00"))
    at("2025-02-14",
       lambda: pay(s, "p1", "100.00", D("2025-02-14"), loan_id="L1"),
       lambda: pay(s, "p3", "150.00", D("2025-02-14"), reference=rf_reference(ref("L3"))),
       lambda: pay(s, "u1", "50.00", D("2025-02-14"), reference=UNKNOWN_REFERENCE),
       lambda: pay(s, "u2", "75.00", D("2025-02-14"), reference="not a reference"),
       lambda: pay(s, "u3", "20.00", D("2025-02-14")))
    for day in ("2025-02-15", "2025-02-20", "2025-02-28"):
        at(day, lambda day=day: s.run_servicing(TENANT, D(day)))
    at("2025-03-05",
       lambda: s.allocate_payment(tenant=TENANT, payment_id="u2", loan_id="L2", on=D("2025-03-05"),
                                  allocated_by="sw-1"),
       lambda: s.reverse_payment(tenant=TENANT, payment_id="u3", reason="returned to payer", on=D("2025-03-05")))
    for day in ("2025-03-10", "2025-03-20"):
        at(day, lambda day=day: s.run_servicing(TENANT, D(day)))
    at("2025-03-25",
       lambda: s.reverse_payment(tenant=TENANT, payment_id="p1", reason="returned by the bank",
                                 on=D("2025-03-25")),
       lambda: s.run_servicing(TENANT, D("2025-03-25")))
    at("2025-03-31", lambda: s.run_servicing(TENANT, D("2025-03-31")))

    for day, commands in steps:
        clock.set_day(day)
        for command in commands:
            command()
            live.catch_up()


def test_rebuilt_read_model_equals_the_live_one_and_catch_up_is_idempotent(stack):
    """R-PAY-2/R-PAY-4 read models (architecture.md: projections "can be rebuilt from zero at any
    time"): rows built live, step by step, equal a rebuild from zero (with any batch size, so batch
    boundaries do not matter); a second catch_up, or another process's, changes nothing."""
    clock = Clock()
    c = stack.container(clock)
    _build_history(c, clock)
    live = _snapshot(c)

    # The live rows are the expected figures, not just self-consistent.
    loans = {r["loan_id"]: r for r in live["luotto_loans"]}
    assert sorted(loans) == ["L1", "L2", "L3"]
    assert [r["payment_id"] for r in live["luotto_unallocated"]] == ["u1"]  # u2 allocated, u3 returned
    assert live["luotto_unallocated"][0]["amount"] == 5000
    assert loans["L1"]["principal_outstanding"] == 120000  # p1 reversed
    assert loans["L3"]["principal_outstanding"] == 75000  # 900.00 - 150.00 by RF reference
    assert loans["L2"]["principal_outstanding"] == 52500  # 600.00 - 75.00 allocated
    assert loans["L1"]["status"] == "late"  # instalments of 02-15 and 03-15 unpaid after the reversal
    for row in loans.values():
        assert row["version"] == c.service.loan(TENANT, row["loan_id"]).version

    position = c.read_model.position()
    assert position == c.service.recorder.max_notification_id()
    total = len(c.service.recorder.select_notifications(start=1, limit=100_000))
    assert c.read_model.catch_up() == 0
    assert _snapshot(c) == live

    for batch in (500, 1, 7):
        c.read_model.batch = batch
        processed = c.read_model.rebuild()
        assert processed == total  # every notification again, from the first
        assert _snapshot(c) == live, f"batch={batch}"
        assert c.read_model.position() == position
        assert c.read_model.catch_up() == 0
        assert _snapshot(c) == live

    # A second process's read model over the same tables finds nothing to do and changes nothing.
    other = ReadModel(c.service, c.read_model.store)
    assert other.run_once() == 0
    assert other.catch_up() == 0
    assert _snapshot(c) == live


def test_r_pay_2_unallocated_queue_allocation_and_reversal(stack):
    """R-PAY-2: a payment with an unknown reference waits in the unallocated queue; allocating it
    records PaymentReceived on the loan and removes it from the queue; reversing it records
    PaymentReversed (R-PAY-4) and restores the balance."""
    clock = Clock()
    c = stack.container(clock)
    s, rm = c.service, c.read_model
    grant(s, "L1", "B1")  # 1200.00
    clock.set_day(D("2025-02-14"))

    posted = pay(s, "u1", "50.00", D("2025-02-14"), reference=UNKNOWN_REFERENCE)
    assert posted.result == {"amount": "50.00", "value_date": "2025-02-14", "loan_id": None,
                             "reference": UNKNOWN_REFERENCE, "payment_id": "u1", "status": "unallocated"}
    assert rm.wait_for(posted.position, 5.0)
    assert rm.unallocated(TENANT) == [{"tenant": TENANT, "payment_id": "u1", "amount": 5000,
                                       "value_date": "2025-02-14", "reference": UNKNOWN_REFERENCE}]
    assert events_of(s, "L1", "PaymentReceived") == []

    clock.set_day(D("2025-02-16"))
    allocated = s.allocate_payment(tenant=TENANT, payment_id="u1", loan_id="L1", on=D("2025-02-16"),
                                   allocated_by="sw-1")
    assert allocated.result["status"] == "allocated" and allocated.result["loan_id"] == "L1"
    [received] = events_of(s, "L1", "PaymentReceived")
    assert (received.payment_id, received.amount, received.value_date, received.source) == (
        "u1", "50.00", D("2025-02-14"), "allocation")
    assert rm.wait_for(allocated.position, 5.0)
    assert rm.unallocated(TENANT) == []
    assert rm.outstanding_of(TENANT, ["L1", "L-none"]) == {"L1": 115000}  # 1200.00 - 50.00
    assert rm.repaid_principal(TENANT) == 5000
    # A retry of the same allocation is a no-op.
    assert s.allocate_payment(tenant=TENANT, payment_id="u1", loan_id="L1", on=D("2025-02-16"),
                              allocated_by="sw-1").position is None
    assert len(events_of(s, "L1", "PaymentReceived")) == 1

    clock.set_day(D("2025-02-18"))
    reversed_ = s.reverse_payment(tenant=TENANT, payment_id="u1", reason="returned by the bank",
                                  on=D("2025-02-18"))
    [reversal] = events_of(s, "L1", "PaymentReversed")
    assert (reversal.payment_id, reversal.effective_date) == ("u1", D("2025-02-18"))
    assert rm.wait_for(reversed_.position, 5.0)
    assert rm.outstanding_of(TENANT, ["L1"]) == {"L1": 120000} and rm.repaid_principal(TENANT) == 0
    assert rm.unallocated(TENANT) == []  # a reversed allocated payment does not go back to the queue


def test_r_pay_2_returned_unallocated_payment_leaves_the_queue(stack):
    """R-PAY-2: unmatched payments (unknown reference, malformed reference, no reference) are all kept
    in the queue; one returned to the payer leaves it, and can then no longer be allocated."""
    clock = Clock()
    c = stack.container(clock)
    s, rm = c.service, c.read_model
    grant(s, "L1", "B1")
    clock.set_day(D("2025-02-14"))
    pay(s, "u1", "10.00", D("2025-02-14"), reference=UNKNOWN_REFERENCE)
    pay(s, "u2", "20.00", D("2025-02-14"), reference="12345 6789 x")
    pay(s, "u3", "30.00", D("2025-02-14"))
    rm.catch_up()
    assert [(r["payment_id"], r["amount"]) for r in rm.unallocated(TENANT)] == [
        ("u1", 1000), ("u2", 2000), ("u3", 3000)]

    returned = s.reverse_payment(tenant=TENANT, payment_id="u2", reason="returned to payer", on=D("2025-02-15"))
    assert returned.result["status"] == "returned"
    rm.catch_up()
    assert [r["payment_id"] for r in rm.unallocated(TENANT)] == ["u1", "u3"]
    with pytest.raises(DomainError) as refused:
        s.allocate_payment(tenant=TENANT, payment_id="u2", loan_id="L1", on=D("2025-02-15"), allocated_by="sw-1")
    assert (refused.value.code, refused.value.rule) == ("invalid_request", "R-PAY-2")
    assert events_of(s, "L1", "PaymentReceived") == []


def test_r_pay_2_rf_and_national_reference_match_the_same_loan(stack):
    """R-PAY-2: a payment is matched by the loan's national reference or by its RF form (compact or
    printed in groups of four); all three land on the same loan, none in the queue."""
    clock = Clock()
    c = stack.container(clock)
    s, rm = c.service, c.read_model
    grant(s, "L1", "B1")
    grant(s, "L2", "B2", "600.00")
    national = s.loan(TENANT, "L2").reference
    assert normalise_reference(national) == national and national != s.loan(TENANT, "L1").reference
    rf = rf_reference(national)
    assert rf.startswith("RF") and rf.endswith(national)
    clock.set_day(D("2025-02-14"))

    results = [pay(s, "r1", "10.00", D("2025-02-14"), reference=national).result,
               pay(s, "r2", "20.00", D("2025-02-14"), reference=rf).result,
               pay(s, "r3", "30.00", D("2025-02-14"), reference=format_rf(rf)).result]

    assert [(r["status"], r["loan_id"]) for r in results] == [("allocated", "L2")] * 3
    assert [e.payment_id for e in events_of(s, "L2", "PaymentReceived")] == ["r1", "r2", "r3"]
    assert events_of(s, "L1", "PaymentReceived") == []
    rm.catch_up()
    assert rm.unallocated(TENANT) == []
    assert rm.outstanding_of(TENANT, ["L1", "L2"]) == {"L1": 120000, "L2": 54000}  # 600.00 - 60.00
    assert rm.repaid_principal(TENANT) == 6000
