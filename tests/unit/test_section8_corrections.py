"""Issue 12, §8 as the Act says it: cures rest on money (R-ACC-7), the cure deadline moves off
holidays (R-ACC-6), thresholds are compared exactly (R-ACC-3, see test_acceleration.py), a hardship
bars the effect (R-ACC-10, see test_hardship_during_notice.py) and terms changes never reach back
(R-TERMS-1). Whole histories through `simulate` (the production domain and servicing).

Default policy: no reminders, 28-day notices, lag 2 banking days, statutory penalty interest.
Base loan 1000.00 at 100.00 a month from Mon 10 Feb 2025; one instalment is 10 % (branch a).
"""
from __future__ import annotations

import copy

import pytest

from application.simulation import simulate
from tests.support.scenarios import of, only

RATES = [{"from": "2025-01-01", "rate": "3.50"}, {"from": "2025-07-01", "rate": "2.50"},
         {"from": "2026-01-01", "rate": "2.50"}]
LOAN = {"loan_id": "L-8", "borrower_id": "B-8", "purpose": "rent arrears", "granted_on": "2025-01-15",
        "principal": "1000.00", "first_due_date": "2025-02-10", "instalment_amount": "100.00"}


def scenario(actions, *, run_until: str, **loan) -> dict:
    return {"name": "issue 12", "policy": {"preset": "default"}, "reference_rates": copy.deepcopy(RATES),
            "loan": dict(LOAN, **loan), "actions": list(actions), "run_until": run_until}


def pay(on: str, pid: str, amount: str, value_date: str | None = None) -> dict:
    return {"on": on, "type": "payment", "payment_id": pid, "amount": amount, "value_date": value_date or on}


def reverse(on: str, pid: str) -> dict:
    return {"on": on, "type": "payment_reversal", "payment_id": pid, "reason": "returned by the bank"}


def notice(on: str) -> dict:
    return {"on": on, "type": "acceleration_notice", "decided_by": "sw-1"}


def terms(on: str, from_instalment: int, amount: str) -> dict:
    return {"on": on, "type": "terms_change", "from_instalment": from_instalment, "instalment_amount": amount,
            "decided_by": "dm-1"}


def types(out: dict, *names: str) -> list[tuple]:
    return [(e["type"], e["effective_date"], e["recorded_on"]) for e in out["events"] if e["type"] in names]


# --- R-ACC-6: the cure deadline on a holiday ----------------------------------------------------------

# Granted 15 Aug 2025, first due Wed 10 Sep: instalments 1-2 are delayed a month on Thu 27 Nov.
# A notice that day: 28 days -> Thu 25 Dec (Christmas Day); Boxing Day and the weekend follow, so
# the cure deadline is Mon 29 Dec and the acceleration would take effect on Tue 30 Dec.
HOLIDAY = {"granted_on": "2025-08-15", "first_due_date": "2025-09-10"}


def test_r_acc_6_cure_deadline_on_christmas_day_moves_to_the_next_banking_day():
    out = simulate(scenario([notice("2025-11-27")], run_until="2025-11-27", **HOLIDAY))
    sent = only(out, "NoticeSent", kind="acceleration")
    assert (sent["instalments"], sent["period_days"], sent["cure_deadline"], sent["takes_effect_on"]) == (
        [1, 2], 28, "2025-12-29", "2025-12-30")


def test_r_acc_6_paid_on_the_next_banking_day_after_a_holiday_deadline_cures():
    """Issue 12, case 5: paid on Mon 29 Dec, in time; the old rule accelerated."""
    out = simulate(scenario([notice("2025-11-27"), pay("2025-12-29", "p", "200.00")], run_until="2026-01-31",
                            **HOLIDAY))
    assert types(out, "AccelerationLapsed", "LoanAccelerated") == [("AccelerationLapsed", "2025-12-29", "2025-12-29")]


def test_r_acc_6_paid_a_day_after_the_moved_deadline_is_too_late():
    out = simulate(scenario([notice("2025-11-27"), pay("2025-12-30", "p", "200.00")], run_until="2026-01-31",
                            **HOLIDAY))
    # E = Tue 30 Dec; banking days after it: Wed 31 Dec, (New Year's Day) Fri 2 Jan.
    assert types(out, "AccelerationLapsed", "LoanAccelerated") == [("LoanAccelerated", "2025-12-30", "2026-01-02")]


# --- R-ACC-7: a cure rests on money actually received ----------------------------------------------------

# Instalment 1 unpaid: a notice on Tue 11 Mar (branch a, [1], 100.00), 28 days -> Tue 8 Apr; E = 9 Apr,
# recorded on Fri 11 Apr when not cured.


def test_r_acc_7_a_reversed_cure_makes_the_notice_pending_again_and_it_takes_effect():
    """Issue 12, case 2: the cure's money is returned by the bank after the deadline."""
    out = simulate(scenario([notice("2025-03-11"), pay("2025-03-20", "cure", "100.00"), reverse("2025-04-20", "cure")],
                            run_until="2025-05-31"))
    assert types(out, "AccelerationLapsed", "AccelerationLapseRevoked", "LoanAccelerated") == [
        ("AccelerationLapsed", "2025-03-20", "2025-03-20"),
        ("AccelerationLapseRevoked", "2025-04-20", "2025-04-20"),
        ("LoanAccelerated", "2025-04-09", "2025-04-20")]  # R-ACC-8 from there: E as notified, the lag long past
    assert out["balance"]["status"] == "accelerated"


def test_r_acc_7_reversed_before_the_deadline_leaves_the_borrower_the_rest_of_the_window():
    out = simulate(scenario([notice("2025-03-11"), pay("2025-03-20", "cure", "100.00"), reverse("2025-03-25", "cure"),
                             pay("2025-04-08", "again", "100.00")], run_until="2025-05-31"))
    assert types(out, "AccelerationLapsed", "AccelerationLapseRevoked", "LoanAccelerated") == [
        ("AccelerationLapsed", "2025-03-20", "2025-03-20"),
        ("AccelerationLapseRevoked", "2025-03-25", "2025-03-25"),
        ("AccelerationLapsed", "2025-04-08", "2025-04-08")]


def test_r_acc_8_after_a_revoked_cure_a_late_arriving_cure_still_lapses_the_acceleration():
    out = simulate(scenario([notice("2025-03-11"), pay("2025-03-20", "cure", "100.00"), reverse("2025-04-20", "cure"),
                             pay("2025-04-25", "late", "100.00", value_date="2025-04-07")], run_until="2025-05-31"))
    assert types(out, "AccelerationLapsed", "AccelerationLapseRevoked", "LoanAccelerated")[-1] == (
        "AccelerationLapsed", "2025-04-07", "2025-04-25")
    assert out["balance"]["status"] != "accelerated"


def test_r_acc_7_payments_adding_up_to_the_notified_amount_cure_however_allocated():
    """p1 paid instalment 1; a notice on 11 Apr lists instalment 2 (100.00). 100.00 paid on 20 Apr
    cures it. When p1 is then reversed, the ledger re-allocates the 20 Apr payment to the older
    instalment 1 and instalment 2 is unpaid again, but the payments from the notice day to the
    deadline still add up to the notified amount: the cure stands."""
    out = simulate(scenario([pay("2025-02-10", "p1", "100.00"), notice("2025-04-11"), pay("2025-04-20", "cure", "100.00"),
                             reverse("2025-04-25", "p1")], run_until="2025-06-30"))
    assert only(out, "NoticeSent", kind="acceleration")["instalments"] == [2]
    assert types(out, "AccelerationLapsed", "AccelerationLapseRevoked", "LoanAccelerated") == [
        ("AccelerationLapsed", "2025-04-20", "2025-04-20")]


def test_r_acc_7_penalty_interest_still_owed_does_not_prevent_the_cure():
    out = simulate(scenario([notice("2025-03-11"), pay("2025-04-08", "cure", "100.00")], run_until="2025-05-31"))
    assert types(out, "AccelerationLapsed", "LoanAccelerated") == [("AccelerationLapsed", "2025-04-08", "2025-04-08")]
    assert out["balance"]["penalty_interest_outstanding"] != "0.00"


# --- R-TERMS-1: a change of terms never reaches back ---------------------------------------------------


@pytest.mark.parametrize("on, from_instalment", [("2025-03-10", 2), ("2025-03-11", 2), ("2025-04-01", 1)])
def test_r_terms_1_an_instalment_already_due_cannot_be_changed(on, from_instalment):
    """Issue 12, case 3: instalment 2 falls due on Mon 10 Mar; from that day on it is due."""
    out = simulate(scenario([terms(on, from_instalment, "50.00")], run_until="2025-04-30"))
    [rejection] = out["rejections"]
    assert (rejection["code"], rejection["rule"], rejection["field"]) == ("not_eligible", "R-TERMS-1",
                                                                          "from_instalment")
    assert of(out, "RepaymentTermsChanged") == []


def test_r_terms_1_the_next_instalment_not_yet_due_can_be_changed():
    out = simulate(scenario([terms("2025-03-10", 3, "50.00")], run_until="2025-03-10"))
    assert out["rejections"] == []
    # 800.00 in instalments 3.. at 50.00: 16 instalments from 10 Apr 2025, the last due 10 Jul 2026.
    assert out["balance"]["maturity_date"] == "2026-07-10"


def test_r_terms_1_only_the_principal_still_unpaid_is_re_planned():
    """250.00 paid on 10 Feb: instalment 1 and 150.00 ahead (instalment 2 and half of 3). A change
    from instalment 3 on 20 Feb to 50.00 re-plans the 750.00 still unpaid in 3..10: 15 instalments,
    the last due 10 Jun 2026 (re-planning the 800.00 of planned amounts would give 16, to 10 Jul); the 50.00
    paid ahead stays in instalment 3, which leaves 50.00 to pay on its due date."""
    out = simulate(scenario([pay("2025-02-10", "p", "250.00"), terms("2025-02-20", 3, "50.00"),
                             pay("2025-04-10", "q", "50.00")], run_until="2025-04-30"))
    change = only(out, "RepaymentTermsChanged")
    amounts = [row["amount"] for row in change["instalments"]]
    assert (len(amounts), amounts[0], set(amounts[1:])) == (15, "100.00", {"50.00"})
    assert out["balance"]["maturity_date"] == "2026-06-10"
    assert only(out, "InstalmentFellDue", instalment=3)["amount"] == "100.00"
    assert of(out, "InstalmentLate") == []  # 50.00 on 10 Apr was all instalment 3 still asked for
    assert out["balance"]["principal_outstanding"] == "700.00"
