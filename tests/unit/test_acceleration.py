"""Acceleration under Act 1133/2002 §8: rule book R-ACC-1 .. R-ACC-9.

Most tests drive whole loan histories through `application.simulation.simulate` (the same code
as `luotto simulate`) with hand-built scenarios; a few check `conditions()` on a ledger
position directly for the percentage boundaries of R-ACC-3.

Calendar facts used below (2025): Mon 10 Feb, Mon 10 Mar, Thu 10 Apr, Sat 10 May
(effective deadline Mon 12 May), Fri 31 Jan, Fri 28 Feb, Good Friday 18 Apr, Easter Monday 21 Apr.
Penalty rate in 2025 H1 = 3.50 + 7 = 10.50 %.
"""
from __future__ import annotations

import copy
import datetime as dt

import pytest

from domain.delinquency import conditions
from domain.ledger import position
from domain.schedule import build_plan
from application.simulation import simulate
from tests.support.scenarios import of, only

RATES = [{"from": "2025-01-01", "rate": "3.50"}, {"from": "2025-07-01", "rate": "2.50"},
         {"from": "2026-01-01", "rate": "2.50"}, {"from": "2026-07-01", "rate": "2.50"}]

# Base loan: 1000.00 in ten instalments of 100.00 due on the 10th from Mon 10 Feb 2025.
# One instalment of 100.00 is exactly 10 % of the principal, so one instalment delayed a
# month is enough (branch a): instalment 1 (deadline 10 Feb) is delayed from 11 Mar.
BASE_LOAN = {"loan_id": "L-ACC", "borrower_id": "B-ACC", "purpose": "rent arrears", "granted_on": "2025-01-15",
             "principal": "1000.00", "first_due_date": "2025-02-10", "instalment_amount": "100.00"}


def scenario(*, preset: str = "default", overrides: dict | None = None, actions: list | None = None,
             run_until: str = "2025-05-31", **loan) -> dict:
    """A scenario dict; keyword arguments other than the named ones override loan fields."""
    return {"name": "test", "policy": {"preset": preset, "overrides": overrides or {}},
            "reference_rates": copy.deepcopy(RATES), "loan": dict(BASE_LOAN, **loan), "actions": actions or [],
            "run_until": run_until}


def pay(on: str, amount: str, value_date: str | None = None) -> dict:
    return {"on": on, "type": "payment", "payment_id": f"p-{on}-{amount}", "amount": amount,
            "value_date": value_date or on}


def notice(on: str, **extra) -> dict:
    return {"on": on, "type": "acceleration_notice", "decided_by": "sw-1", **extra}


def acm_dates(out: dict) -> list[str]:
    return [e["effective_date"] for e in of(out, "AccelerationConditionsMet")]


def codes(out: dict) -> list[str]:
    return [r["code"] for r in out["rejections"]]


# --- R-ACC-1: delayed at least one month -----------------------------------------------------


@pytest.mark.parametrize("run_until, expected", [
    ("2025-03-09", []),              # the day before add_months(10 Feb, 1) = 10 Mar
    ("2025-03-10", []),              # on it: T > 10 Mar does not hold yet
    ("2025-03-11", ["2025-03-11"]),  # the day after: delayed a month
])
def test_r_acc_1_instalment_counts_only_after_one_month_past_its_deadline(run_until, expected):
    """R-ACC-1: instalment 1 (deadline Mon 10 Feb) is delayed a month only when T > 10 Mar."""
    out = simulate(scenario(run_until=run_until))
    assert acm_dates(out) == expected


@pytest.mark.parametrize("on, accepted", [("2025-03-10", False), ("2025-03-11", True)])
def test_r_acc_1_notice_on_the_one_month_boundary(on, accepted):
    """R-ACC-1/R-ACC-6: a notice on 10 Mar is not_eligible (not yet a month late), on 11 Mar it is sent."""
    out = simulate(scenario(actions=[notice(on)], run_until=on))
    sent = of(out, "NoticeSent", kind="acceleration")
    if accepted:
        assert codes(out) == [] and len(sent) == 1
    else:
        assert codes(out) == ["not_eligible"] and sent == []


@pytest.mark.parametrize("run_until, expected", [("2025-02-28", []), ("2025-03-01", ["2025-03-01"])])
def test_r_acc_1_month_end_clamping(run_until, expected):
    """R-ACC-1 with R-DATE-2: deadline Fri 31 Jan + one month = 28 Feb (clamped), so the
    instalment is delayed a month from Sat 1 Mar (a naive 31-day month would give 4 Mar)."""
    out = simulate(scenario(granted_on="2025-01-02", first_due_date="2025-01-31", run_until=run_until))
    assert acm_dates(out) == expected
    if expected:
        assert only(out, "AccelerationConditionsMet")["instalments"] == [1]


@pytest.mark.parametrize("run_until, expected", [("2025-06-12", []), ("2025-06-13", ["2025-06-13"])])
def test_r_acc_1_counts_from_the_effective_deadline_not_the_due_date(run_until, expected):
    """R-ACC-1 with R-DATE-4: due Sat 10 May -> effective deadline Mon 12 May -> one month = 12 Jun,
    so the instalment is delayed from 13 Jun (counting from the due date would give 11 Jun)."""
    out = simulate(scenario(granted_on="2025-04-15", first_due_date="2025-05-10", run_until=run_until))
    assert acm_dates(out) == expected


# --- R-ACC-3: the §8(1)(1) conditions ------------------------------------------------------


@pytest.mark.parametrize("principal, instalment, first_acm, instalments, branch", [
    # (a) one instalment >= 10 %: 100.00 of 1000.00 is exactly 10 % -> qualifies on 11 Mar.
    ("1000.00", "100.00", "2025-03-11", [1], "a"),
    # 99.99 < 100.00: one instalment is not enough; on 11 Apr two instalments 199.98 >= 50.00 (b).
    ("1000.00", "99.99", "2025-04-11", [1, 2], "b"),
    # (b) two instalments >= 5 %: 2 x 25.00 = 50.00 is exactly 5 % of 1000.00 -> 11 Apr.
    ("1000.00", "25.00", "2025-04-11", [1, 2], "b"),
    # 2 x 24.99 = 49.98 < 50.00: needs the third instalment (deadline 10 Apr -> delayed 11 May).
    ("1000.00", "24.99", "2025-05-11", [1, 2, 3], "b"),
])
def test_r_acc_3_percentage_boundaries(principal, instalment, first_acm, instalments, branch):
    """R-ACC-3 (a)/(b): thresholds are >= 10 % for one instalment and >= 5 % for several."""
    out = simulate(scenario(principal=principal, instalment_amount=instalment, run_until="2025-05-31"))
    acm = of(out, "AccelerationConditionsMet")
    assert acm, "conditions never met"
    assert (acm[0]["effective_date"], acm[0]["instalments"], acm[0]["branch"]) == (first_acm, instalments, branch)


@pytest.mark.parametrize("principal, instalment, first_acm, branch", [
    # 10 % of 1000.04 is 100.004: 100.00 is less, so one instalment is not enough (a rounded
    # threshold of 100.00 would have let it through); two instalments qualify by (b) on 11 Apr.
    ("1000.04", "100.00", "2025-04-11", "b"),
    ("1000.05", "100.00", "2025-04-11", "b"),
    # 5 % of 1000.08 is 50.004 (issue 12): two instalments of 25.00 = 50.00 are less; three qualify.
    ("1000.08", "25.00", "2025-05-11", "b"),
    ("1000.09", "25.00", "2025-05-11", "b"),
    # 5 % of 1000.00 is exactly 50.00: two instalments of 25.00 qualify on 11 Apr.
    ("1000.00", "25.00", "2025-04-11", "b"),
])
def test_r_acc_3_percentages_compared_exactly(principal, instalment, first_acm, branch):
    """R-ACC-3: the delayed amount must be at least 10 % (5 %) of the principal exactly
    (100 × delayed ≥ 10 × principal in cents), never a rounded-down threshold."""
    out = simulate(scenario(principal=principal, instalment_amount=instalment, run_until="2025-05-31"))
    acm = of(out, "AccelerationConditionsMet")
    assert acm, "conditions never met"
    assert (acm[0]["effective_date"], acm[0]["branch"]) == (first_acm, branch)


@pytest.mark.parametrize("principal, instalment, as_of, expected", [
    ("1000.00", "100.00", dt.date(2025, 3, 11), ("a", (1,), 10000)),
    ("1000.00", "99.99", dt.date(2025, 3, 11), None),
    ("1000.04", "100.00", dt.date(2025, 3, 11), None),  # 100.00 < 10 % of 1000.04 = 100.004
    ("1000.08", "25.00", dt.date(2025, 4, 11), None),  # 50.00 < 5 % of 1000.08 = 50.004 (issue 12)
    ("1000.00", "25.00", dt.date(2025, 4, 11), ("b", (1, 2), 5000)),
    ("1000.08", "25.00", dt.date(2025, 5, 11), ("b", (1, 2, 3), 7500)),
])
def test_r_acc_3_conditions_on_a_ledger_position(principal, instalment, as_of, expected):
    """R-ACC-3 directly on the ledger (no payments, no penalty interest): branch, instalments, amount."""
    cents = int(principal.replace(".", ""))
    plan = build_plan(cents, dt.date(2025, 2, 10), instalment_amount=int(instalment.replace(".", "")))
    met = conditions(position(plan, [], as_of=as_of, rates=None), cents)
    got = None if met is None else (met.branch, met.instalments, met.delayed_amount)
    assert got == expected


def test_r_acc_3_branch_c_delayed_amount_is_everything_still_owed():
    """R-ACC-3 (c): 1000.00 as 9 x 110.00 + 10.00. 990.00 paid ahead on the grant day leaves only
    instalment 10 (10.00, due Mon 10 Nov 2025). 10.00 is below 10 % (100.00) but it is all that is
    still owed (penalty interest excluded: about 0.09 has accrued by then), so on 11 Dec: branch c."""
    out = simulate(scenario(instalment_amount="110.00", actions=[pay("2025-01-15", "990.00")],
                            run_until="2025-12-31"))
    acm = only(out, "AccelerationConditionsMet")
    assert (acm["effective_date"], acm["instalments"], acm["delayed_amount"], acm["branch"]) == \
        ("2025-12-11", [10], "10.00", "c")
    assert out["balance"]["penalty_interest_outstanding"] != "0.00"  # penalty owed did not block branch c


def test_r_acc_3_branch_c_not_met_while_more_is_owed():
    """R-ACC-3 (c) is not met by a small instalment while more is owed: 1000.00 in 50.00 instalments,
    instalment 1 alone (50.00 < 100.00, 950.00 still owed) does not qualify on 11 Mar."""
    out = simulate(scenario(instalment_amount="50.00", run_until="2025-04-10"))
    assert acm_dates(out) == []


# --- R-ACC-4: when AccelerationConditionsMet is recorded -----------------------------------


def test_r_acc_4_recorded_once_while_the_loan_keeps_qualifying():
    """R-ACC-4: first qualifies 11 Mar; a payment on 20 Apr pays instalment 1 but instalment 2
    (100.00, delayed since 11 Apr) keeps the conditions holding, so there is no second record."""
    out = simulate(scenario(actions=[pay("2025-04-20", "100.00")], run_until="2025-05-31"))
    assert acm_dates(out) == ["2025-03-11"]


def test_r_acc_4_recorded_again_after_a_payment_makes_the_conditions_fail():
    """R-ACC-4: qualifies 11 Mar ([1]); a payment of 100.00 on 20 Mar pays instalment 1 (oldest first)
    and instalment 2 (deadline 10 Mar) is not yet a month late, so the conditions fail; they hold
    anew on 11 Apr with instalment 2 alone (100.00 = 10 %, branch a)."""
    out = simulate(scenario(actions=[pay("2025-03-20", "100.00")], run_until="2025-04-30"))
    acm = of(out, "AccelerationConditionsMet")
    assert [(e["effective_date"], e["instalments"], e["branch"]) for e in acm] == \
        [("2025-03-11", [1], "a"), ("2025-04-11", [2], "a")]


def test_r_acc_4_recorded_again_after_a_back_dated_payment_makes_the_conditions_fail():
    """R-ACC-4: qualifies 11 Mar ([1]). 100.00 arrives on 20 Mar value-dated 10 Mar and pays instalment 1,
    so from 20 Mar on (whichever way it is read) the conditions do not hold: instalment 2 is not yet a
    month late. They hold anew on 11 Apr (instalment 2, 100.00 = 10 %): recorded again then."""
    out = simulate(scenario(actions=[pay("2025-03-20", "100.00", value_date="2025-03-10")], run_until="2025-04-30"))
    acm = of(out, "AccelerationConditionsMet")
    assert [(e["effective_date"], e["instalments"]) for e in acm] == [("2025-03-11", [1]), ("2025-04-11", [2])]


def test_r_acc_4_not_while_a_hardship_is_active_and_again_when_it_ends():
    """R-ACC-4/R-ACC-5: a hardship recorded on 1 Mar suppresses the record on 11 Mar; when it ends on
    15 Apr the loan still qualifies (instalments 1-2, 200.00) and the run for 15 Apr records it."""
    out = simulate(scenario(actions=[{"on": "2025-03-01", "type": "hardship", "cause": "illness"},
                                     {"on": "2025-04-15", "type": "hardship_end"}], run_until="2025-05-31"))
    acm = of(out, "AccelerationConditionsMet")
    assert [(e["effective_date"], e["instalments"], e["delayed_amount"]) for e in acm] == \
        [("2025-04-15", [1, 2], "200.00")]


def test_r_acc_4_recorded_again_when_a_hardship_ends_while_still_qualifying():
    """R-ACC-4: recorded 11 Mar, hardship 15 Mar .. 15 Apr, recorded again on 15 Apr (once)."""
    out = simulate(scenario(actions=[{"on": "2025-03-15", "type": "hardship", "cause": "unemployment"},
                                     {"on": "2025-04-15", "type": "hardship_end"}], run_until="2025-05-31"))
    assert acm_dates(out) == ["2025-03-11", "2025-04-15"]


def test_r_acc_4_none_while_a_notice_is_pending():
    """R-ACC-4: 1000.00 in 50.00 instalments qualifies on 11 Apr ([1, 2] = 100.00, branch b).
    Notice on 14 Apr (28 days: cure deadline 12 May). A payment of 50.00 on 20 Apr pays instalment 1
    only, so the conditions fail (50.00 < 100.00) without a cure; on 11 May [2, 3] qualifies anew,
    but the notice is pending, so nothing is recorded; the acceleration then takes effect."""
    out = simulate(scenario(instalment_amount="50.00",
                            actions=[notice("2025-04-14"), pay("2025-04-20", "50.00")], run_until="2025-05-31"))
    assert acm_dates(out) == ["2025-04-11"]
    assert of(out, "AccelerationLapsed") == []
    assert len(of(out, "LoanAccelerated")) == 1


def test_r_acc_4_recorded_again_after_a_cure_once_it_qualifies_anew():
    """R-ACC-4/R-ACC-7: notice 14 Apr lists [1, 2] (50.00 each); 100.00 on 5 May cures it. Instalment 3
    (50.00, delayed from 11 May) alone does not qualify; with instalment 4 (due Sat 10 May, deadline
    Mon 12 May, delayed from 13 Jun) the loan qualifies anew and it is recorded on 13 Jun."""
    out = simulate(scenario(instalment_amount="50.00", actions=[notice("2025-04-14"), pay("2025-05-05", "100.00")],
                            run_until="2025-06-30"))
    only(out, "AccelerationLapsed", effective_date="2025-05-05")
    acm = of(out, "AccelerationConditionsMet")
    assert [(e["effective_date"], e["instalments"]) for e in acm] == [("2025-04-11", [1, 2]), ("2025-06-13", [3, 4])]


def test_r_acc_4_runs_every_calendar_day_including_weekends():
    """R-ACC-4: the month-end case qualifies on Sat 1 Mar 2025 and is recorded for that Saturday."""
    out = simulate(scenario(granted_on="2025-01-02", first_due_date="2025-01-31", run_until="2025-03-05"))
    acm = only(out, "AccelerationConditionsMet")
    assert (acm["effective_date"], acm["recorded_on"]) == ("2025-03-01", "2025-03-01")


# --- R-ACC-5: hardship ----------------------------------------------------------------------


def test_r_acc_5_notice_refused_while_hardship_active():
    """R-ACC-5: hardship from 1 Mar; a notice on 11 Mar (conditions hold) is refused hardship_active."""
    out = simulate(scenario(actions=[{"on": "2025-03-01", "type": "hardship", "cause": "illness"},
                                     notice("2025-03-11")], run_until="2025-03-11"))
    assert codes(out) == ["hardship_active"]
    assert out["rejections"][0]["action_index"] == 1
    assert of(out, "NoticeSent", kind="acceleration") == []


def test_r_acc_5_override_reason_allows_the_notice():
    """R-ACC-5: with override_reason the same notice is sent and records the reason."""
    reason = "not accelerating would be manifestly unreasonable"
    out = simulate(scenario(actions=[{"on": "2025-03-01", "type": "hardship", "cause": "illness"},
                                     notice("2025-03-11", override_reason=reason)], run_until="2025-03-11"))
    assert codes(out) == []
    assert only(out, "NoticeSent", kind="acceleration")["override_reason"] == reason


def test_r_acc_5_notice_allowed_after_the_hardship_ended():
    """R-ACC-5: a hardship 1 Mar .. 10 Mar no longer blocks a notice on 11 Mar."""
    out = simulate(scenario(actions=[{"on": "2025-03-01", "type": "hardship", "cause": "other"},
                                     {"on": "2025-03-10", "type": "hardship_end"},
                                     notice("2025-03-11")], run_until="2025-03-11"))
    assert codes(out) == []
    assert len(of(out, "NoticeSent", kind="acceleration")) == 1


# --- R-ACC-6: the acceleration notice --------------------------------------------------------


def test_r_acc_6_not_eligible_when_conditions_do_not_hold():
    """R-ACC-6: 1000.00 in 50.00 instalments: on 11 Mar only instalment 1 (50.00 < 100.00) is a month
    late, so the notice is refused not_eligible and nothing is recorded."""
    out = simulate(scenario(instalment_amount="50.00", actions=[notice("2025-03-11")], run_until="2025-03-12"))
    assert codes(out) == ["not_eligible"]
    assert of(out, "NoticeSent") == []


def test_r_acc_6_second_notice_refused_notice_pending():
    """R-ACC-6: a second notice while the first is pending (cure deadline 8 Apr) is notice_pending."""
    out = simulate(scenario(actions=[notice("2025-03-11"), notice("2025-03-20")], run_until="2025-03-20"))
    assert [(r["action_index"], r["code"]) for r in out["rejections"]] == [(1, "notice_pending")]
    assert len(of(out, "NoticeSent", kind="acceleration")) == 1


def test_r_acc_6_28_days_without_an_earlier_reminder_etela_karjala():
    """R-ACC-6: etela-karjala sends no reminders: notice 11 Mar, 28 days -> cure deadline 8 Apr,
    takes effect 9 Apr; it records the delayed amount and instalments."""
    out = simulate(scenario(preset="etela-karjala", actions=[notice("2025-03-11")], run_until="2025-03-11"))
    n = only(out, "NoticeSent", kind="acceleration")
    assert (n["effective_date"], n["period_days"], n["cure_deadline"], n["takes_effect_on"]) == \
        ("2025-03-11", 28, "2025-04-08", "2025-04-09")
    assert (n["delayed_amount"], n["instalments"]) == ("100.00", [1])


def test_r_acc_6_14_days_after_a_reminder_kittila():
    """R-ACC-6: kittila reminds at 14 and 28 days (24 Feb, 10 Mar for instalment 1), so a notice on
    11 Mar has 14 days -> cure deadline 25 Mar, takes effect 26 Mar."""
    out = simulate(scenario(preset="kittila", actions=[notice("2025-03-11")], run_until="2025-03-11"))
    assert [e["effective_date"] for e in of(out, "NoticeSent", kind="reminder")] == ["2025-02-24", "2025-03-10"]
    n = only(out, "NoticeSent", kind="acceleration")
    assert (n["period_days"], n["cure_deadline"], n["takes_effect_on"]) == (14, "2025-03-25", "2025-03-26")


def test_r_acc_6_kittila_without_reminders_has_28_days():
    """R-ACC-6: the period depends on a reminder having been sent, not on the preset."""
    out = simulate(scenario(preset="kittila", overrides={"reminder_offsets_days": []},
                            actions=[notice("2025-03-11")], run_until="2025-03-11"))
    n = only(out, "NoticeSent", kind="acceleration")
    assert (n["period_days"], n["cure_deadline"], n["takes_effect_on"]) == (28, "2025-04-08", "2025-04-09")


def test_r_acc_6_an_earlier_notice_in_the_same_episode_gives_14_days():
    """R-ACC-6: etela-karjala (no reminders). Notice 11 Mar for [1] (28 days) is cured on 20 Mar, but
    instalment 2 (deadline 10 Mar) stays overdue, so the episode goes on; a second notice on 11 Apr
    for [2] follows another notice in the same episode: 14 days -> cure deadline 25 Apr."""
    out = simulate(scenario(preset="etela-karjala",
                            actions=[notice("2025-03-11"), pay("2025-03-20", "100.00"), notice("2025-04-11")],
                            run_until="2025-04-11"))
    sent = of(out, "NoticeSent", kind="acceleration")
    assert [(n["instalments"], n["period_days"], n["cure_deadline"]) for n in sent] == \
        [([1], 28, "2025-04-08"), ([2], 14, "2025-04-25")]


def test_r_acc_6_a_reminder_of_an_earlier_episode_does_not_shorten_the_period():
    """R-ACC-6/R-LATE-2: reminders 40 days after the deadline. Instalment 1 gets one on 22 Mar;
    200.00 on 25 Mar pays instalments 1-2, ending that episode. Instalment 3 (deadline 10 Apr) starts
    a new one; a notice on 11 May (before its 40-day reminder on 20 May) gets the full 28 days,
    ending on Sun 8 Jun and so on Mon 9 Jun (R-ACC-6)."""
    out = simulate(scenario(overrides={"reminder_offsets_days": [40]},
                            actions=[pay("2025-03-25", "200.00"), notice("2025-05-11")], run_until="2025-05-11"))
    assert [e["effective_date"] for e in of(out, "NoticeSent", kind="reminder")] == ["2025-03-22"]
    n = only(out, "NoticeSent", kind="acceleration")
    assert (n["instalments"], n["period_days"], n["cure_deadline"]) == ([3], 28, "2025-06-09")


# --- R-ACC-7: cure ---------------------------------------------------------------------------

# etela-karjala notice on 11 Mar for instalment 1: cure deadline Tue 8 Apr, takes effect Wed 9 Apr,
# LoanAccelerated recorded on the 2nd banking day after, Fri 11 Apr.


def test_r_acc_7_payment_value_dated_on_the_cure_deadline_cures():
    """R-ACC-7: 100.00 value-dated 8 Apr (the cure deadline) pays instalment 1 (oldest overdue first):
    AccelerationLapsed effective 8 Apr, no LoanAccelerated, nothing pending any more."""
    out = simulate(scenario(preset="etela-karjala", actions=[notice("2025-03-11"), pay("2025-04-08", "100.00")],
                            run_until="2025-04-30"))
    assert only(out, "AccelerationLapsed")["effective_date"] == "2025-04-08"
    assert of(out, "LoanAccelerated") == []
    assert out["balance"]["status"] != "accelerated" and out["balance"]["notice_pending"] is False


def test_r_acc_7_payment_one_day_late_does_not_cure():
    """R-ACC-7/R-ACC-8: the same payment value-dated 9 Apr is too late: no lapse; accelerated on 9 Apr
    (recorded Fri 11 Apr) for everything unpaid on 9 Apr, 1000.00 - 100.00 = 900.00."""
    out = simulate(scenario(preset="etela-karjala", actions=[notice("2025-03-11"), pay("2025-04-09", "100.00")],
                            run_until="2025-04-30"))
    assert of(out, "AccelerationLapsed") == []
    acc = only(out, "LoanAccelerated")
    assert (acc["effective_date"], acc["recorded_on"], acc["accelerated_amount"]) == \
        ("2025-04-09", "2025-04-11", "900.00")
    assert out["balance"]["status"] == "accelerated"


def test_r_acc_7_penalty_interest_still_owed_does_not_prevent_the_cure():
    """R-ACC-7: paying exactly the delayed 100.00 on 1 Apr leaves penalty interest on instalment 1
    unpaid (100.00 x 10.5 % x 50/365 = 1.44) and on instalment 2; the notice still lapses."""
    out = simulate(scenario(preset="etela-karjala", actions=[notice("2025-03-11"), pay("2025-04-01", "100.00")],
                            run_until="2025-04-01"))
    assert only(out, "AccelerationLapsed")["effective_date"] == "2025-04-01"
    # 1.44 on instalment 1 (settled 1 Apr) + 100.00 x 10.5 % x 22/365 = 0.63 on instalment 2: 2.07 in all.
    assert out["balance"]["penalty_interest_outstanding"] == "2.07"


def test_r_acc_7_cure_completed_by_a_second_payment_takes_its_value_date():
    """R-ACC-7: 60.00 on 20 Mar and 40.00 on 1 Apr pay instalment 1: lapsed effective 1 Apr (the value
    date of the payment that completed the cure), not on the first payment's date."""
    out = simulate(scenario(preset="etela-karjala",
                            actions=[notice("2025-03-11"), pay("2025-03-20", "60.00"), pay("2025-04-01", "40.00")],
                            run_until="2025-04-30"))
    lapsed = only(out, "AccelerationLapsed")
    assert (lapsed["effective_date"], lapsed["recorded_on"]) == ("2025-04-01", "2025-04-01")
    assert of(out, "LoanAccelerated") == []


def test_r_acc_7_partial_payment_does_not_cure():
    """R-ACC-7: 99.99 by the cure deadline leaves 0.01 of instalment 1 unpaid: no lapse."""
    out = simulate(scenario(preset="etela-karjala", actions=[notice("2025-03-11"), pay("2025-04-08", "99.99")],
                            run_until="2025-04-30"))
    assert of(out, "AccelerationLapsed") == []
    assert len(of(out, "LoanAccelerated")) == 1


# --- R-ACC-8: the acceleration takes effect -------------------------------------------------


@pytest.mark.parametrize("lag, recorded_on", [
    (0, "2025-04-09"),  # lag 0: on E itself
    (1, "2025-04-10"),
    (2, "2025-04-11"),  # the default
    (3, "2025-04-14"),  # Sat 12 and Sun 13 Apr are not banking days
])
def test_r_acc_8_recorded_after_the_settlement_lag(lag, recorded_on):
    """R-ACC-8: E = cure deadline 8 Apr + 1 = Wed 9 Apr; recorded on the lag-th banking day after E."""
    out = simulate(scenario(preset="etela-karjala", overrides={"acceleration_settlement_lag_banking_days": lag},
                            actions=[notice("2025-03-11")], run_until="2025-04-30"))
    acc = only(out, "LoanAccelerated")
    assert (acc["effective_date"], acc["recorded_on"]) == ("2025-04-09", recorded_on)


def test_r_acc_8_lag_skips_easter_holidays():
    """R-ACC-8/R-DATE-3: notice 19 Mar -> cure deadline 16 Apr -> E = Thu 17 Apr. Good Friday 18 Apr,
    the weekend and Easter Monday 21 Apr are not banking days: 22 Apr, 23 Apr -> recorded 23 Apr."""
    out = simulate(scenario(preset="etela-karjala", actions=[notice("2025-03-19")], run_until="2025-04-30"))
    acc = only(out, "LoanAccelerated")
    assert (acc["effective_date"], acc["recorded_on"], acc["accelerated_amount"]) == \
        ("2025-04-17", "2025-04-23", "1000.00")


def test_r_acc_8_accelerated_amount_is_everything_unpaid():
    """R-ACC-8: 150.00 paid on 10 Feb (instalment 1 and half of 2). On 11 May [2, 3] = 150.00 is
    delayed a month (branch b); notice 11 May, 28 days -> Sun 8 Jun, moved to the next banking day
    (R-ACC-6): cure deadline Mon 9 Jun, E = Tue 10 Jun, recorded on the 2nd banking day after, Thu
    12 Jun. Accelerated: 1000.00 - 150.00 = 850.00,
    all of it overdue afterwards."""
    out = simulate(scenario(preset="etela-karjala", actions=[pay("2025-02-10", "150.00"), notice("2025-05-11")],
                            run_until="2025-06-30"))
    n = only(out, "NoticeSent", kind="acceleration")
    assert (n["instalments"], n["delayed_amount"], n["takes_effect_on"]) == ([2, 3], "150.00", "2025-06-10")
    acc = only(out, "LoanAccelerated")
    assert (acc["effective_date"], acc["recorded_on"], acc["accelerated_amount"]) == \
        ("2025-06-10", "2025-06-12", "850.00")
    balance = out["balance"]
    assert (balance["status"], balance["overdue_amount"], balance["principal_outstanding"]) == \
        ("accelerated", "850.00", "850.00")
    assert balance["next_due_date"] is None and balance["notice_pending"] is False


def test_r_acc_8_no_instalment_events_reminders_or_conditions_after_acceleration():
    """R-ACC-8: kittila notice 11 Mar (14 days) -> E = 26 Mar, recorded Fri 28 Mar. Up to 30 Jun,
    nothing of InstalmentFellDue, InstalmentLate, reminders or AccelerationConditionsMet is recorded
    after it, although instalments 3-5 fall due in that time."""
    out = simulate(scenario(preset="kittila", actions=[notice("2025-03-11")], run_until="2025-06-30"))
    acc = only(out, "LoanAccelerated")
    assert (acc["effective_date"], acc["recorded_on"], acc["accelerated_amount"]) == \
        ("2025-03-26", "2025-03-28", "1000.00")
    after = [e for e in out["events"] if e["version"] > acc["version"]]
    banned = [e for e in after if e["type"] in ("InstalmentFellDue", "InstalmentLate", "AccelerationConditionsMet")
              or (e["type"] == "NoticeSent" and e["kind"] == "reminder")]
    assert banned == []
    # The check can fail: before the acceleration these events were recorded.
    assert of(out, "NoticeSent", kind="reminder") and of(out, "InstalmentLate")
    balance = out["balance"]
    assert (balance["status"], balance["overdue_amount"], balance["principal_outstanding"]) == \
        ("accelerated", "1000.00", "1000.00")


def test_r_acc_8_late_arriving_cure_payment_lapses_the_acceleration():
    """R-ACC-8: notice 11 Mar (etela-karjala), cure deadline 8 Apr, LoanAccelerated recorded 11 Apr.
    A payment value-dated 8 Apr arrives on 14 Apr (recorded after LoanAccelerated) and completes the
    cure: AccelerationLapsed effective 8 Apr; the acceleration never took effect."""
    out = simulate(scenario(preset="etela-karjala",
                            actions=[notice("2025-03-11"), pay("2025-04-14", "100.00", value_date="2025-04-08")],
                            run_until="2025-05-31"))
    acc, lapsed = only(out, "LoanAccelerated"), only(out, "AccelerationLapsed")
    payment = only(out, "PaymentReceived")
    assert acc["version"] < payment["version"] < lapsed["version"]
    assert lapsed["effective_date"] == "2025-04-08"
    balance = out["balance"]
    # Instalments 2-4 (deadlines 10 Mar, 10 Apr, 12 May) are overdue again as instalments, not accelerated.
    assert (balance["status"], balance["overdue_amount"], balance["principal_outstanding"]) == \
        ("late", "300.00", "900.00")
    # Never took effect: instalment 5 (10 Jun) is outside the run; instalment 4 fell due on 10 May as usual.
    only(out, "InstalmentFellDue", instalment=4, effective_date="2025-05-10")


# --- R-ACC-9: automatic notice -------------------------------------------------------------


def test_r_acc_9_auto_notice_sent_on_the_day_conditions_are_met():
    """R-ACC-9: with auto_acceleration_notice the run for 11 Mar records the conditions and sends the
    notice itself (28 days: cure deadline 8 Apr)."""
    out = simulate(scenario(overrides={"auto_acceleration_notice": True}, run_until="2025-03-31"))
    acm = only(out, "AccelerationConditionsMet")
    n = only(out, "NoticeSent", kind="acceleration")
    assert acm["effective_date"] == n["effective_date"] == n["recorded_on"] == "2025-03-11"
    assert acm["version"] < n["version"]
    assert (n["instalments"], n["delayed_amount"], n["cure_deadline"]) == ([1], "100.00", "2025-04-08")


def test_r_acc_9_without_the_override_no_notice_is_sent():
    """R-ACC-9: by default the loan only qualifies (work queue); no notice is sent by the scheduler."""
    out = simulate(scenario(run_until="2025-03-31"))
    assert acm_dates(out) == ["2025-03-11"]
    assert of(out, "NoticeSent", kind="acceleration") == []
