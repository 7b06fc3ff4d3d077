"""The application service on real stores (PostgreSQL schema and SQLite file), as separate
processes would use it: idempotent payments under concurrency (R-PAY-1), serialised grants
(R-PORT-1) and replays as known at an instant / against the simulator (R-EVID-4).

Every test runs twice, once per backend (see helpers.stack).
"""
from __future__ import annotations

import datetime as dt
import time

import pytest

from domain.errors import DomainError
from domain.loan import Decision, loan_uuid
from domain.register import payment_marker_id
from application.days import apply_action
from application.simulation import _parse, simulate
from tests.integration.helpers import (  # noqa: F401 - `stack` is a fixture
    HELSINKI,
    D,
    TENANT,
    Clock,
    events_of,
    grant,
    loan_events,
    pay,
    run_together,
    stack,
)

UTC = dt.timezone.utc


def _errors(outcomes) -> list[BaseException]:
    return [o.error for o in outcomes if o.error is not None]


# --------------------------------------------------------------------------------------- #
# R-PAY-1: a payment is never counted twice, under concurrency
# --------------------------------------------------------------------------------------- #


def test_r_pay_1_twenty_concurrent_identical_posts_record_one_payment(stack):
    """R-PAY-1: 20 separate service instances post the same payment at once: one PaymentReceived,
    every caller gets the first result, exactly one of them actually wrote."""
    clock = Clock()
    main = stack.container(clock)
    grant(main.service, "L1", "B1")  # 1200.00 in 12 x 100.00 from 2025-02-15
    clock.set_day(D("2025-02-14"))
    workers = [stack.bare_service(clock) for _ in range(20)]

    outcomes = run_together([lambda s=s: pay(s, "p-1", "100.00", D("2025-02-14"), loan_id="L1")
                             for s in workers])

    assert _errors(outcomes) == []
    results = [o.value.result for o in outcomes]
    assert results == [{"amount": "100.00", "value_date": "2025-02-14", "loan_id": "L1", "reference": None,
                        "payment_id": "p-1", "status": "allocated"}] * 20
    # One write; the 19 others were answered as retries (position None -> HTTP 200, not 201).
    assert sum(o.value.position is not None for o in outcomes) == 1
    received = events_of(main.service, "L1", "PaymentReceived")
    assert [(e.payment_id, e.amount) for e in received] == [("p-1", "100.00")]
    # 1200.00 - 100.00 paid ahead = 1100.00 principal outstanding, read from a fresh load.
    balance = main.service.loan(TENANT, "L1").books(main.service.rates).balance(D("2025-02-14"))
    assert balance["principal_outstanding"] == "1100.00"


def test_r_pay_1_twenty_concurrent_conflicting_posts_record_exactly_one(stack):
    """R-PAY-1: 20 concurrent posts of one payment_id with 20 different amounts: exactly one is
    recorded, the 19 others are refused with payment_conflict - never two recorded."""
    clock = Clock()
    main = stack.container(clock)
    grant(main.service, "L1", "B1")
    clock.set_day(D("2025-02-14"))
    workers = [stack.bare_service(clock) for _ in range(20)]
    amounts = [f"{100 + i}.00" for i in range(20)]

    outcomes = run_together([lambda s=s, a=a: pay(s, "p-2", a, D("2025-02-14"), loan_id="L1")
                             for s, a in zip(workers, amounts)])

    winners = [o.value for o in outcomes if o.error is None]
    refused = _errors(outcomes)
    assert len(winners) == 1, refused
    assert [type(e).__name__ for e in refused] == ["DomainError"] * 19, refused
    assert {(e.code, e.rule, e.field) for e in refused} == {("payment_conflict", "R-PAY-1", "payment_id")}
    won = winners[0].result
    assert won["status"] == "allocated" and won["amount"] in amounts
    received = events_of(main.service, "L1", "PaymentReceived")
    assert [(e.payment_id, e.amount) for e in received] == [("p-2", won["amount"])]


# --------------------------------------------------------------------------------------- #
# R-PORT-1: grants are serialised per organiser
# --------------------------------------------------------------------------------------- #

LIMITED = {TENANT: {"preset": "etela-karjala", "overrides": {"capital_limit": "10000.00"}}}


def test_r_pay_1_concurrent_posts_in_one_process_share_transactions_and_each_gets_its_own_answer(stack):
    """Group commit (architecture.md): 30 posts at once through one service. Distinct payments,
    repeats of one payment, a conflicting repeat and an unmatched payment end up in shared
    transactions; every caller gets the answer for its own payment, and nothing is counted twice."""
    clock = Clock()
    c = stack.container(clock)
    grant(c.service, "L1", "B1")
    grant(c.service, "L2", "B2")
    clock.set_day(D("2025-02-14"))
    saves = []
    real_save = c.service.save

    def slow_save(*aggregates, **kwargs):  # a slower disk: callers pile up behind the writer
        saves.append(sum(len(a.pending_events) for a in aggregates))
        time.sleep(0.05)
        return real_save(*aggregates, **kwargs)

    c.service.save = slow_save
    calls = [lambda i=i: pay(c.service, f"p-{i}", "10.00", D("2025-02-14"), loan_id=f"L{1 + i % 2}")
             for i in range(20)]
    calls += [lambda: pay(c.service, "p-same", "5.00", D("2025-02-14"), loan_id="L1")] * 5
    calls += [lambda: pay(c.service, "p-same", "6.00", D("2025-02-14"), loan_id="L1")]
    calls += [lambda: pay(c.service, "p-nobody", "7.00", D("2025-02-14"), reference="RF18539007547034")] * 2
    calls += [lambda: pay(c.service, "p-ghost", "8.00", D("2025-02-14"), loan_id="NO-SUCH-LOAN")] * 2
    outcomes = run_together(calls)

    for i, outcome in enumerate(outcomes[:20]):
        assert outcome.error is None and outcome.value.result["payment_id"] == f"p-{i}"
        assert outcome.value.result["loan_id"] == f"L{1 + i % 2}" and outcome.value.position is not None
    same = outcomes[20:26]
    answered = [o for o in same if o.error is None]
    refused = [o for o in same if o.error is not None]
    # Whichever amount came first was recorded; every other content of p-same is payment_conflict.
    assert {o.value.result["amount"] for o in answered} in ({"5.00"}, {"6.00"})
    assert all(isinstance(o.error, DomainError) and o.error.code == "payment_conflict" for o in refused)
    assert len(answered) in (1, 5) and len(answered) + len(refused) == 6
    assert {o.value.result["status"] for o in outcomes[26:30]} == {"unallocated"}
    paid = {lid: sorted(e.payment_id for e in events_of(c.service, lid, "PaymentReceived")) for lid in ("L1", "L2")}
    assert paid["L1"] == sorted([f"p-{i}" for i in range(0, 20, 2)] + ["p-same"])
    assert paid["L2"] == sorted(f"p-{i}" for i in range(1, 20, 2))
    # 21 payments on loans (a PaymentReceived and a marker each) and 2 unmatched (a marker each),
    # written in fewer transactions than there were callers.
    assert sum(saves) == 21 * 2 + 2
    assert len(saves) < 15


def test_r_port_1_concurrent_grants_never_exceed_capital_limit(stack):
    """R-PORT-1: capital_limit 10000.00 with 7000.00 outstanding; 10 processes grant 1000.00 to 10
    borrowers at once: 10000 - 7000 = 3000 room, so exactly 3 are granted and 7 refused."""
    clock = Clock()
    main = stack.container(clock, LIMITED)
    for loan_id, borrower, principal in (("E1", "BE1", "2500.00"), ("E2", "BE2", "2500.00"),
                                         ("E3", "BE3", "2000.00")):
        grant(main.service, loan_id, borrower, principal)
    main.read_model.catch_up()
    assert main.service.capital_in_use(TENANT, main.service.register(TENANT)) == 700000
    workers = [stack.container(clock, LIMITED) for _ in range(10)]  # each its own read model, like a process

    outcomes = run_together([lambda c=c, i=i: grant(c.service, f"N{i}", f"B{i}", "1000.00")
                             for i, c in enumerate(workers)])

    granted = [o.value.result.loan_id for o in outcomes if o.error is None]
    refused = _errors(outcomes)
    assert len(granted) == 3, refused
    assert [(type(e).__name__, e.code, e.rule) for e in refused] == [("DomainError", "limit_exceeded", "R-PORT-1")] * 7
    loans = main.service.loan_ids(TENANT)
    assert sorted(loans) == sorted(["E1", "E2", "E3", *granted])
    main.read_model.catch_up()
    outstanding = main.read_model.outstanding_of(TENANT, loans)
    assert sorted(outstanding) == sorted(loans)
    assert sum(outstanding.values()) == 1_000_000  # 7000.00 + 3 x 1000.00, never above the limit
    # Serialised grants also hand out distinct payment references.
    references = [main.service.loan(TENANT, lid).reference for lid in loans]
    assert len(set(references)) == 6


def test_r_port_1_concurrent_grants_to_one_borrower_grant_one_loan(stack):
    """R-PORT-1 (one_open_loan_per_borrower): 8 processes grant 8 different loans to the same borrower
    at once: exactly one is granted, 7 are refused naming borrower_id."""
    clock = Clock()
    main = stack.container(clock)
    workers = [stack.container(clock) for _ in range(8)]

    outcomes = run_together([lambda c=c, i=i: grant(c.service, f"S{i}", "B-same", "600.00")
                             for i, c in enumerate(workers)])

    granted = [o.value.result.loan_id for o in outcomes if o.error is None]
    refused = _errors(outcomes)
    assert len(granted) == 1, refused
    assert [(type(e).__name__, e.code, e.field) for e in refused] == [
        ("DomainError", "limit_exceeded", "borrower_id")] * 7
    assert main.service.loan_ids(TENANT) == granted == main.service.loans_of_borrower(TENANT, "B-same")


def test_r_port_1_reversal_not_yet_projected_still_counts_toward_capital_limit(stack):
    """R-PORT-1: capital_limit 5000.00; E1 3000.00 is paid in full (the read model sees 0 outstanding),
    then the payment is reversed, so 3000.00 is owed again. A grant of 3000.00 before the read model
    has processed the reversal would make 6000.00 > 5000.00 and must be refused."""
    clock = Clock()
    tenants = {TENANT: {"preset": "etela-karjala", "overrides": {"capital_limit": "5000.00"}}}
    main = stack.container(clock, tenants)
    grant(main.service, "E1", "BE1", "3000.00")
    clock.set_day(D("2025-02-14"))
    pay(main.service, "p-all", "3000.00", D("2025-02-14"), loan_id="E1")
    main.read_model.catch_up()
    assert main.read_model.outstanding_of(TENANT, ["E1"]) == {"E1": 0}
    assert main.service.capital_in_use(TENANT, main.service.register(TENANT)) == 0  # E1 repaid in full
    clock.set_day(D("2025-02-20"))
    main.service.reverse_payment(tenant=TENANT, payment_id="p-all", reason="returned by the bank",
                                 on=D("2025-02-20"))
    # The projection has not run yet (it polls; it may be behind or being rebuilt).
    assert main.service.loan(TENANT, "E1").books(main.service.rates).position(
        D("2025-02-20")).principal_outstanding == 300000

    with pytest.raises(DomainError) as refused:
        grant(main.service, "N1", "BN1", "3000.00", granted_on=D("2025-02-20"), first_due_date=D("2025-03-20"))
    assert (refused.value.code, refused.value.rule) == ("limit_exceeded", "R-PORT-1")


# --------------------------------------------------------------------------------------- #
# R-EVID-4: replays
# --------------------------------------------------------------------------------------- #


def test_r_evid_4_loan_known_at_an_instant_excludes_later_writes(stack):
    """R-EVID-4: the loan as known at an instant between two writes shows the state before the later
    write (1200.00 outstanding), after it the payment (1200.00 - 100.00 = 1100.00)."""
    clock = Clock()
    main = stack.container(clock)
    t0 = dt.datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    t1 = dt.datetime(2025, 2, 14, 9, 0, tzinfo=UTC)
    t2 = dt.datetime(2025, 2, 16, 9, 0, tzinfo=UTC)
    clock.set(t0)
    grant(main.service, "L1", "B1")
    clock.set(t1)
    pay(main.service, "p1", "100.00", D("2025-02-14"), loan_id="L1")
    clock.set(t2)
    main.service.run_servicing(TENANT, D("2025-02-16"))  # instalment 1 (due Sat 2025-02-15) falls due
    svc, day = main.service, D("2025-02-14")
    assert [type(e).__name__ for e in loan_events(svc, "L1")] == ["LoanGranted", "PaymentReceived",
                                                                 "InstalmentFellDue"]

    before = svc.loan_known_at(TENANT, "L1", t1 - dt.timedelta(seconds=1))
    assert before.version == 1 and before.payments == ()
    assert before.books(svc.rates).balance(day)["principal_outstanding"] == "1200.00"

    between = svc.loan_known_at(TENANT, "L1", t1 + dt.timedelta(seconds=1))
    assert between.version == 2 and [p.payment_id for p in between.payments] == ["p1"]
    assert between.books(svc.rates).balance(day)["principal_outstanding"] == "1100.00"
    assert between.fell_due == ()  # the servicing run at t2 is not known yet

    now = svc.loan_known_at(TENANT, "L1", t2 + dt.timedelta(seconds=1))
    assert now.version == 3 and now.fell_due == (1,)

    with pytest.raises(DomainError) as unknown:
        svc.loan_known_at(TENANT, "L1", t0 - dt.timedelta(seconds=1))
    assert unknown.value.code == "not_found"


SCENARIO = {
    "policy": {"preset": "etela-karjala"},
    "loan": {"loan_id": "L-1", "borrower_id": "B-1", "purpose": "rent arrears", "granted_on": "2024-12-15",
             "principal": "1200.00", "first_due_date": "2025-01-10", "instalment_amount": "50.00"},
    "actions": [
        {"on": "2025-01-10", "type": "payment", "payment_id": "p1", "amount": "50.00"},
        {"on": "2025-03-14", "type": "payment", "payment_id": "p2", "amount": "30.00", "value_date": "2025-03-12"},
        {"on": "2025-04-14", "type": "acceleration_notice", "decided_by": "sw-1"},
        {"on": "2025-05-05", "type": "payment", "payment_id": "p3", "amount": "150.00"},
        {"on": "2025-05-20", "type": "payment", "payment_id": "p4", "amount": "60.00", "value_date": "2025-05-19"},
        {"on": "2025-05-22", "type": "payment_reversal", "payment_id": "p4", "reason": "returned by the bank"},
    ],
    "run_until": "2025-05-31",
}


def test_r_evid_4_service_history_replays_like_the_simulator(stack):
    """R-EVID-4: a history entered day by day through the service on a real store (actions, then the
    daily servicing run) has the same events (type, effective date, recorded day) and the same final
    balance as `simulate` of the same scenario. The history has a late partial payment, a 5 % branch
    notice that lapses when paid, an instalment late by 21.91 and a reversed payment."""
    expected = simulate(SCENARIO)
    assert expected["rejections"] == []

    clock = Clock()
    main = stack.container(clock)
    loan = SCENARIO["loan"]
    actions = _parse(SCENARIO)[3]
    first, last = D(loan["granted_on"]), D(SCENARIO["run_until"])
    clock.set_day(first)
    grant(main.service, loan["loan_id"], loan["borrower_id"], loan["principal"], granted_on=first,
          first_due_date=D(loan["first_due_date"]), instalment_amount=loan["instalment_amount"])
    day = first
    while day <= last:
        clock.set_day(day)
        for action in (a for a in actions if a.on == day):  # as the API would issue them
            apply_action(main.service, TENANT, loan["loan_id"], action)
        summary = main.service.run_servicing(TENANT, day)
        assert summary["failures"] == []
        day += dt.timedelta(days=1)

    events = loan_events(main.service, loan["loan_id"])
    got = [(type(e).__name__, e.effective_date.isoformat(),
            e.timestamp.astimezone(HELSINKI).date().isoformat()) for e in events]
    want = [(e["type"], e["effective_date"], e["recorded_on"]) for e in expected["events"]]
    assert got == want
    stored = main.service.loan(TENANT, loan["loan_id"])
    assert stored.books(main.service.rates).balance(last) == expected["balance"]
    # Hand check of the headline figure: 1200.00 - 50.00 - (30.00 + 150.00 - 1.91 penalty) = 971.91.
    assert expected["balance"]["principal_outstanding"] == "971.91"



# --------------------------------------------------------------------------------------- #
# Repository.get_many (adapters.eventsourcing_internals.repository): one query, the same aggregates as get()
# --------------------------------------------------------------------------------------- #


def _state(aggregate) -> dict:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def test_get_many_gives_what_get_gives_cached_stale_uncached_or_absent(stack):
    """Loans cached here and then changed by another process come back current; loans never loaded
    here (one past a snapshot) are folded from all their events; unknown ids are left out;
    `uncached_ids` stay out of the cache; every aggregate handed out is a copy."""
    clock = Clock()
    here = stack.container(clock).service
    elsewhere = stack.bare_service(clock)
    for n in range(1, 5):
        grant(here, f"L{n}", f"B{n}")
    clock.set_day(D("2025-02-14"))
    here.loan(TENANT, "L1"), here.loan(TENANT, "L2")  # cached here
    pay(elsewhere, "p-1", "100.00", D("2025-02-14"), loan_id="L1")  # L1's cached copy is now stale
    here.snapshotting_intervals = {type(here.loan(TENANT, "L3")): 2}
    pay(here, "p-3", "50.00", D("2025-02-14"), loan_id="L3")  # a snapshot of L3 at version 2
    assert [s.originator_version for s in here.snapshots.get(loan_uuid(TENANT, "L3"))] == [2]
    here.repository.cache.get(loan_uuid(TENANT, "L3"), evict=True)  # not cached here any more
    ids = [loan_uuid(TENANT, f"L{n}") for n in (1, 2, 3, 4, 9)]
    marker = payment_marker_id(TENANT, "p-1")

    got = here.repository.get_many(ids, uncached_ids=[marker])

    assert set(got) == set(ids[:4]) | {marker}
    for i in ids[:4]:
        assert _state(got[i]) == _state(elsewhere.repository.get(i)), i
    assert got[ids[0]].version == 2 and got[marker].loan_id == "L1"
    assert marker not in here.repository.cache.cache
    got[ids[1]].receive_payment(payment_id="p-x", amount=100, value_date=D("2025-02-14"), on=D("2025-02-14"),
                                recorded_at=clock(), rates=here.rates, source="api", reference=None)
    assert here.loan(TENANT, "L2").version == 1  # the cached instance was not touched


@pytest.mark.parametrize("stack", ["postgres"], indirect=True)
def test_get_many_reads_each_aggregate_by_index_even_without_statistics(stack):
    """The batched read (ArrayInsertRecorder.select_events_after) looks each aggregate up in the
    primary key, in the prepared statement's generic plan too, on a table never analysed (a bulk
    load before autovacuum's ANALYZE, or autovacuum off): as a plain join, a batch of 16 scanned
    all 30,000 rows (7-12 ms, growing with the store; now 0.4 ms)."""
    recorder = stack.container().service.recorder
    table = f"{recorder.datastore.schema}.{recorder.events_table_name}"
    with recorder.datastore.get_connection() as conn:
        conn.execute(f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
                     "SELECT gen_random_uuid(), 1, 'tests:Filler', '\\x7b7d'::bytea FROM generate_series(1, 30000)")
        ids = [row["originator_id"] for row in conn.execute(f"SELECT originator_id FROM {table} LIMIT 16")]
        conn.execute("SET plan_cache_mode = force_generic_plan")
        statement = recorder.select_after_statement.as_string(conn).replace("%b", "%s")
        plan = "\n".join(row["QUERY PLAN"] for row in conn.execute("EXPLAIN " + statement, (ids, [0] * 16)))
        conn.execute("RESET plan_cache_mode")
        conn.commit()
    assert "Seq Scan" not in plan, plan
    assert "_pkey" in plan, plan  # the primary key (originator_id, originator_version)
    assert len(recorder.select_events_after([(i, 0) for i in ids])) == 16


def test_a_loan_loads_the_same_from_a_snapshot_as_from_its_events(stack):
    """domain.state: snapshots store the typed state as plain JSON; loaded back through the store it
    is the state folded from the events (and old-shape snapshots are skipped, test_stored_data.py)."""
    from adapters.persistence import eventsourcing_env
    from application.service import LoanService

    clock = Clock()
    container = stack.container(clock)
    container.service.snapshotting_intervals = {k: 5 for k in container.service.snapshotting_intervals}
    grant(container.service, "L-SNAP", "B-SNAP")
    pay(container.service, "p1", "150.00", D("2025-02-20"), loan_id="L-SNAP")
    for day in range(0, 120, 3):
        container.service.service(TENANT, "L-SNAP", D("2025-01-15") + dt.timedelta(days=day))
    uuid_ = loan_uuid(TENANT, "L-SNAP")
    assert list(container.service.snapshots.get(uuid_))  # snapshots were taken
    fresh = LoanService(eventsourcing_env(stack.settings().model_copy(update={"aggregate_cache_size": 0})))
    stack._opened.append(fresh)
    from_snapshot = fresh.repository.get(uuid_)
    folded = None
    for event in fresh.events.get(uuid_):
        folded = event.mutate(folded)
    assert vars(from_snapshot) == vars(folded)
