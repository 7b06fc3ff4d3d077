"""Issue 12 through the production scheduler: the daily trigger over days, with its agenda.

The simulator services its loan every day; production services only the loans whose agenda date
has come (projections.read_model, scheduler.trigger). Each §8 path of issue 12 must wake the loan
on the right day: a cure deadline moved off a holiday (R-ACC-6), a hardship's end (R-ACC-10) and a
revoked cure (R-ACC-7). Each history is driven day by day through `DailyServicing.catch_up` on
PostgreSQL and SQLite, and must record exactly the events the simulator records, on the same days.
"""
from __future__ import annotations

import datetime as dt

import pytest

from application.days import apply_action
from application.simulation import TENANT, _parse, simulate
from scheduler.trigger import DailyServicing
from tests.integration.helpers import Clock, loan_events, stack  # noqa: F401 - stack is a fixture

RATES = [{"from": "2025-01-01", "rate": "3.50"}, {"from": "2025-07-01", "rate": "2.50"},
         {"from": "2026-01-01", "rate": "2.50"}]


def scenario(actions: list, run_until: str, **loan) -> dict:
    terms = {"loan_id": "L-S8", "borrower_id": "B-S8", "purpose": "rent arrears", "granted_on": "2025-01-15",
             "principal": "1000.00", "first_due_date": "2025-02-10", "instalment_amount": "100.00", **loan}
    return {"name": "issue 12 via the scheduler", "policy": {"preset": "default"}, "reference_rates": RATES,
            "loan": terms, "actions": actions, "run_until": run_until}


NOTICE = {"type": "acceleration_notice", "decided_by": "sw-1"}
HISTORIES = {
    # R-ACC-6: cure deadline Thu 25 Dec 2025 moves to Mon 29 Dec; paid that day: cured.
    "holiday_cured": scenario([{"on": "2025-11-27", **NOTICE},
                               {"on": "2025-12-29", "type": "payment", "payment_id": "p", "amount": "200.00"}],
                              "2026-01-05", granted_on="2025-08-15", first_due_date="2025-09-10"),
    # Not paid: E = Tue 30 Dec, recorded on Fri 2 Jan.
    "holiday_unpaid": scenario([{"on": "2025-11-27", **NOTICE}], "2026-01-05", granted_on="2025-08-15",
                               first_due_date="2025-09-10"),
    # R-ACC-10: the notice lapses on the hardship's end, the conditions are recorded again that day.
    "hardship_end": scenario([{"on": "2025-03-11", **NOTICE},
                              {"on": "2025-03-20", "type": "hardship", "cause": "illness", "decided_by": "sw-1"},
                              {"on": "2025-04-22", "type": "hardship_end", "decided_by": "sw-1"}], "2025-04-30"),
    # R-ACC-7: the cure is reversed after the deadline; the acceleration is recorded that day.
    "revoked_cure": scenario([{"on": "2025-03-11", **NOTICE},
                              {"on": "2025-03-20", "type": "payment", "payment_id": "cure", "amount": "100.00"},
                              {"on": "2025-04-20", "type": "payment_reversal", "payment_id": "cure",
                               "reason": "returned by the bank"}], "2025-04-25"),
}


def key(event_type: str, effective: dt.date | str, recorded_on: str, instalment, kind) -> tuple:
    return (event_type, str(effective), recorded_on, instalment, kind)


def production(stack, history: dict) -> list[tuple]:
    policy, rates, terms, actions, run_until = _parse(history)
    clock = Clock()
    clock.set_day(terms["granted_on"])
    container = stack.container(clock, tenants={TENANT: {"preset": "default"}})
    container.service.rates = rates
    from domain.loan import Decision

    container.service.grant(tenant=TENANT, decision=Decision("sw-1", "grant"), **terms)
    daily = DailyServicing(container)
    day = terms["granted_on"]
    while day <= run_until:
        clock.set_day(day)
        for action in (a for a in actions if a.on == day):
            apply_action(container.service, TENANT, terms["loan_id"], action)
        daily.catch_up(today=day)
        day += dt.timedelta(days=1)
    from zoneinfo import ZoneInfo

    helsinki = ZoneInfo("Europe/Helsinki")
    return [key(type(e).__name__, e.effective_date, e.timestamp.astimezone(helsinki).date().isoformat(),
                getattr(e, "instalment", None), getattr(e, "kind", None))
            for e in loan_events(container.service, terms["loan_id"], TENANT)
            if type(e).__name__ != "NoticeDeliveryRecorded"]


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_issue_12_paths_wake_the_loan_on_the_right_day(stack, name):
    history = HISTORIES[name]
    expected = [key(e["type"], e["effective_date"], e["recorded_on"], e.get("instalment"), e.get("kind"))
                for e in simulate(history)["events"]]
    assert production(stack, history) == expected
    assert {e[0] for e in expected} & {"AccelerationLapsed", "AccelerationLapseRevoked", "LoanAccelerated"}
