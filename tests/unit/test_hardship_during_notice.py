"""Act §8(2) over R-ACC-8: an acceleration does not take effect while a recorded hardship is active."""
from __future__ import annotations

import copy

from scheduler.simulator import simulate

BASE = {
    "policy": {"preset": "etela-karjala"},
    "reference_rates": [{"from": "2025-01-01", "rate": "3.50"}, {"from": "2025-07-01", "rate": "2.50"}],
    "loan": {"loan_id": "L", "borrower_id": "B", "purpose": "rent arrears", "granted_on": "2024-12-15",
             "principal": "1200.00", "first_due_date": "2025-01-10", "instalment_amount": "50.00"},
    # Instalments 2 and 3 unpaid: conditions hold from 11 Apr; notice 14 Apr, cure deadline 12 May, E = 13 May.
    "actions": [{"on": "2025-01-10", "type": "payment", "payment_id": "p1", "amount": "50.00"},
                {"on": "2025-04-14", "type": "acceleration_notice", "decided_by": "sw-1"}],
    "run_until": "2025-06-30",
}


def run(*extra: dict) -> list[dict]:
    scenario = copy.deepcopy(BASE)
    scenario["actions"] += list(extra)
    return simulate(scenario)["events"]


def accelerated(events: list[dict]) -> list[dict]:
    return [e for e in events if e["type"] == "LoanAccelerated"]


def test_r_acc_8_without_hardship_takes_effect_on_the_notified_day():
    [event] = accelerated(run())
    assert (event["effective_date"], event["recorded_on"]) == ("2025-05-13", "2025-05-15")


def test_r_acc_5_hardship_active_on_the_notified_day_defers_the_acceleration_to_its_end():
    events = run({"on": "2025-05-02", "type": "hardship", "cause": "illness", "decided_by": "sw-1"},
                 {"on": "2025-06-02", "type": "hardship_end", "decided_by": "sw-1"})
    [event] = accelerated(events)
    # Hardship 2 May .. 1 Jun covers 13 May; it ends on Mon 2 Jun; lag 2 banking days -> Wed 4 Jun.
    assert (event["effective_date"], event["recorded_on"]) == ("2025-06-02", "2025-06-04")


def test_r_acc_5_no_acceleration_while_the_hardship_lasts():
    events = run({"on": "2025-05-02", "type": "hardship", "cause": "unemployment", "decided_by": "sw-1"})
    assert accelerated(events) == []


def test_r_acc_5_hardship_that_ended_before_the_notified_day_changes_nothing():
    events = run({"on": "2025-04-20", "type": "hardship", "cause": "illness", "decided_by": "sw-1"},
                 {"on": "2025-05-05", "type": "hardship_end", "decided_by": "sw-1"})
    [event] = accelerated(events)
    assert event["effective_date"] == "2025-05-13"


def test_r_acc_5_override_reason_lets_the_acceleration_take_effect_despite_hardship():
    scenario_actions = [{"on": "2025-04-10", "type": "hardship", "cause": "other", "decided_by": "sw-1"}]
    scenario = copy.deepcopy(BASE)
    scenario["actions"] = [BASE["actions"][0], *scenario_actions,
                           {"on": "2025-04-14", "type": "acceleration_notice", "decided_by": "sw-1",
                            "override_reason": "the delay has lasted long and the borrower has means"}]
    [event] = accelerated(simulate(scenario)["events"])
    assert event["effective_date"] == "2025-05-13"
