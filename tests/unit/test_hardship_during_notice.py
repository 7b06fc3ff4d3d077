"""R-ACC-10 (Act §8(2)): a notice during which a hardship was active never takes effect; it lapses
when the hardship ends, and a new notice with its own cure window is needed."""
from __future__ import annotations

import copy

from application.simulation import simulate

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


def run(*extra: dict, until: str = "2025-06-30") -> list[dict]:
    scenario = copy.deepcopy(BASE)
    scenario["actions"] += list(extra)
    scenario["run_until"] = until
    return simulate(scenario)["events"]


def of(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["type"] == kind]


def hardship(on: str, cause: str = "illness") -> dict:
    return {"on": on, "type": "hardship", "cause": cause, "decided_by": "sw-1"}


def hardship_end(on: str) -> dict:
    return {"on": on, "type": "hardship_end", "decided_by": "sw-1"}


def test_r_acc_8_without_hardship_takes_effect_on_the_notified_day():
    [event] = of(run(), "LoanAccelerated")
    assert (event["effective_date"], event["recorded_on"]) == ("2025-05-13", "2025-05-15")


def test_r_acc_10_hardship_during_the_notice_lapses_it_at_the_hardships_end():
    events = run(hardship("2025-05-02"), hardship_end("2025-06-02"))
    assert of(events, "LoanAccelerated") == []
    [lapse] = of(events, "AccelerationLapsed")
    assert (lapse["effective_date"], lapse["recorded_on"]) == ("2025-06-02", "2025-06-02")
    assert lapse["reason"].startswith("hardship")
    # R-ACC-4: the conditions still hold, so they are recorded again the day the notice lapsed.
    assert [e["effective_date"] for e in of(events, "AccelerationConditionsMet")] == ["2025-04-11", "2025-06-02"]


def test_r_acc_10_a_new_notice_after_the_lapse_has_its_own_two_week_window():
    events = run(hardship("2025-05-02"), hardship_end("2025-06-02"),
                 {"on": "2025-06-03", "type": "acceleration_notice", "decided_by": "sw-1"}, until="2025-07-31")
    second = of(events, "NoticeSent")[-1]
    # A notice was already sent in this episode: 14 days; 17 Jun is a Tuesday.
    assert (second["period_days"], second["cure_deadline"], second["takes_effect_on"]) == (
        14, "2025-06-17", "2025-06-18")
    [accelerated] = of(events, "LoanAccelerated")
    # Lag 2 banking days after Wed 18 Jun: Thu 19, then (Midsummer Eve Fri 20, the weekend) Mon 23.
    assert (accelerated["effective_date"], accelerated["recorded_on"]) == ("2025-06-18", "2025-06-23")


def test_r_acc_10_no_acceleration_while_the_hardship_lasts():
    events = run(hardship("2025-05-02", "unemployment"))
    assert of(events, "LoanAccelerated") == [] and of(events, "AccelerationLapsed") == []
    assert of(events, "NoticeSent")[-1]["kind"] == "acceleration"


def test_r_acc_10_hardship_that_ended_before_the_effective_day_still_lapses_the_notice():
    """Active at any time from the notice day: 20 Apr .. 5 May lies inside the cure window."""
    events = run(hardship("2025-04-20"), hardship_end("2025-05-05"))
    assert of(events, "LoanAccelerated") == []
    [lapse] = of(events, "AccelerationLapsed")
    assert lapse["effective_date"] == "2025-05-05"


def test_r_acc_10_hardship_during_the_settlement_lag_stops_the_acceleration():
    """E = Tue 13 May, recorded on the second banking day after it (Thu 15 May): a hardship from
    Wed 14 May is still inside the window."""
    events = run(hardship("2025-05-14"), hardship_end("2025-05-20"))
    assert of(events, "LoanAccelerated") == []
    assert of(events, "AccelerationLapsed")[0]["effective_date"] == "2025-05-20"


def test_r_acc_10_hardship_that_ended_before_the_notice_changes_nothing():
    scenario = copy.deepcopy(BASE)
    scenario["actions"] = [BASE["actions"][0], hardship("2025-03-01"), hardship_end("2025-04-01"),
                           BASE["actions"][1]]
    [event] = of(simulate(scenario)["events"], "LoanAccelerated")
    assert event["effective_date"] == "2025-05-13"


def test_r_acc_10_paid_during_the_hardship_after_the_deadline_is_never_accelerated():
    """Issue 12, case 1: a notice pending, a hardship, everything overdue paid during it (after the
    cure deadline), the hardship ends: nothing is overdue, so nothing may be accelerated (§8(1)(1)
    "edelleen suorittamatta", §8(2)); the notice lapses and the conditions do not hold again."""
    events = run(hardship("2025-04-20"),
                 {"on": "2025-05-20", "type": "payment", "payment_id": "p2", "amount": "300.00"},
                 hardship_end("2025-06-02"), until="2025-07-31")
    assert of(events, "LoanAccelerated") == []
    [lapse] = of(events, "AccelerationLapsed")
    assert lapse["effective_date"] == "2025-06-02"
    assert [e["effective_date"] for e in of(events, "AccelerationConditionsMet")] == ["2025-04-11"]


def test_r_acc_5_override_reason_lets_the_acceleration_take_effect_despite_hardship():
    scenario = copy.deepcopy(BASE)
    scenario["actions"] = [BASE["actions"][0], hardship("2025-04-10", "other"),
                           {"on": "2025-04-14", "type": "acceleration_notice", "decided_by": "sw-1",
                            "override_reason": "the delay has lasted long and the borrower has means"}]
    [event] = of(simulate(scenario)["events"], "LoanAccelerated")
    assert event["effective_date"] == "2025-05-13"
