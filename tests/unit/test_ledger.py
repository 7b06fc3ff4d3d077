"""The ledger: allocation (R-PAY-1/3/4/5), penalty interest (R-PEN-1..3) and waivers (R-WAIVE-1).

Two levels: `domain.ledger.position` on hand-made plans and movements (the fold itself), and
whole loan histories through `application.simulation.simulate` (the production commands and the
daily servicing on an in-memory store).

Figures are computed by hand below. Reference rates used throughout (RATES):
  2025-01-01 3.50 %  -> penalty rate 10.50 %  (R-PEN-1: reference + 7 pp)
  2025-07-01 2.50 %  -> penalty rate  9.50 %
Actual/365 (R-PEN-3): 100.00 EUR at 10.50 % accrues 10000 * 0.105 / 365 = 2.876712... cents a day.
"""
from __future__ import annotations

import functools
import datetime as dt

import pytest

from domain.ledger import Movement, position
from domain.rates import ReferenceRates
from domain.schedule import Instalment, build_plan
from application.simulation import simulate
from tests.support.scenarios import RATE_ROWS, kittila_scenario, of, payment

D = dt.date.fromisoformat

RATES = ReferenceRates.from_json(RATE_ROWS)

# Three instalments of 100.00 due Mon 10 Feb, Mon 10 Mar, Thu 10 Apr 2025 (all banking days).
PLAN3 = build_plan(30000, D("2025-02-10"), instalment_amount=10000)


# --- helpers -------------------------------------------------------------------------------------


def pay(on: str, cents: int, seq: int = 1) -> Movement:
    return Movement(D(on), seq, "payment", cents)


def pos_of(movements, as_of: str, plan=PLAN3, rates=RATES, accelerated_on: str | None = None):
    return position(plan, list(movements), as_of=D(as_of), rates=rates,
                    accelerated_on=D(accelerated_on) if accelerated_on else None)


def paid(p) -> dict[int, int]:
    """Principal paid per instalment number, in cents."""
    return {i.number: i.paid for i in p.instalments}


scenario = functools.partial(kittila_scenario, run_until="2025-03-31")


def events_of(out: dict, kind: str) -> list[dict]:
    return of(out, kind)


# --- R-PAY-3: allocation order -------------------------------------------------------------------


def test_r_pay_3_overdue_before_penalty_before_paying_ahead():
    """R-PAY-3: on 20 Mar instalments 1 and 2 are overdue; 201.00 pays them, then 1.00 of penalty,
    and nothing goes ahead to instalment 3."""
    # Penalty accrued by 20 Mar: inst 1 38 days (10 Feb -> 20 Mar), inst 2 10 days: 48 * 2.8767 = 138.08 c.
    p = pos_of([pay("2025-03-20", 20100)], "2025-03-20")
    assert paid(p) == {1: 10000, 2: 10000, 3: 0}
    assert p.penalty_paid == 100
    assert p.penalty_accrued == 138
    assert p.penalty_outstanding == 38
    assert p.overpayment == 0


def test_r_pay_3_partial_payment_goes_to_the_oldest_overdue_first():
    """R-PAY-3(1): 150.00 on 20 Mar: instalment 1 fully, instalment 2 half, no penalty, nothing ahead."""
    p = pos_of([pay("2025-03-20", 15000)], "2025-03-20")
    assert paid(p) == {1: 10000, 2: 5000, 3: 0}
    assert p.penalty_paid == 0


def test_r_pay_3_oldest_due_date_first_not_lowest_number():
    """R-PAY-3(1)/(3) go by due date: here instalment 2 is due before instalment 1."""
    plan = [Instalment(1, D("2025-03-10"), 10000), Instalment(2, D("2025-02-10"), 10000),
            Instalment(3, D("2025-04-10"), 10000)]
    overdue_only = pos_of([pay("2025-02-20", 5000)], "2025-02-20", plan=plan)
    assert paid(overdue_only) == {1: 0, 2: 5000, 3: 0}
    ahead = pos_of([pay("2025-01-20", 15000)], "2025-01-20", plan=plan)
    assert paid(ahead) == {1: 5000, 2: 10000, 3: 0}


def test_r_pay_3_full_allocation_order_with_overpayment():
    """R-PAY-3(1..4): 310.00 on 20 Mar = 200.00 overdue + 1.38 penalty + 100.00 ahead + 8.62 overpaid."""
    p = pos_of([pay("2025-03-20", 31000)], "2025-03-20")
    assert paid(p) == {1: 10000, 2: 10000, 3: 10000}
    assert p.penalty_paid == 138  # 48 * 2.876712 = 138.08 c
    assert p.overpayment == 862
    assert p.owed == 0


def test_r_pay_3_paying_ahead_in_due_date_order_when_nothing_is_overdue():
    """R-PAY-3(3): before any deadline, 150.00 pays instalment 1 and half of 2; nothing is overpaid."""
    p = pos_of([pay("2025-01-20", 15000)], "2025-01-20")
    assert paid(p) == {1: 10000, 2: 5000, 3: 0}
    assert p.overpayment == 0
    assert p.penalty_accrued == 0


def test_r_pay_3_overpayment_only_when_nothing_is_owed():
    """R-PAY-3(4): owed on 20 Mar is 300.00 + 1.38 penalty = 301.38; a cent less leaves a cent owed
    and no overpayment, the exact figure leaves nothing, a cent more is a 0.01 overpayment."""
    short = pos_of([pay("2025-03-20", 30137)], "2025-03-20")
    assert (short.overpayment, short.owed, short.principal_outstanding) == (0, 1, 1)
    exact = pos_of([pay("2025-03-20", 30138)], "2025-03-20")
    assert (exact.overpayment, exact.owed) == (0, 0)
    over = pos_of([pay("2025-03-20", 30139)], "2025-03-20")
    assert (over.overpayment, over.owed) == (1, 0)


def test_r_pay_3_penalty_is_only_taken_up_to_the_value_date():
    """R-PAY-3(2): penalty accrued up to V, not beyond: paying inst 1 on 20 Feb (10 days late) takes
    10 * 2.8767 = 28.77 -> 0.29 of penalty and the rest goes ahead."""
    p = pos_of([pay("2025-02-20", 15000)], "2025-02-20")
    assert p.penalty_paid == 29
    assert paid(p) == {1: 10000, 2: 4971, 3: 0}


# --- R-DATE-4 with R-PAY-3: the effective deadline itself is on time -----------------------------

# Instalment 1 due Mon 10 Mar (deadline 10 Mar); instalment 2 due Sat 10 May 2025 (deadline Mon 12 May).
PLAN_SAT = [Instalment(1, D("2025-03-10"), 10000), Instalment(2, D("2025-05-10"), 10000)]


def test_r_pay_3_payment_on_the_effective_deadline_is_on_time():
    """R-DATE-4/R-PAY-3: instalment 2 (due Sat 10 May) paid on Mon 12 May accrues no penalty and is
    not overdue on 12 May; it is overdue on 13 May if unpaid."""
    on_time = pos_of([pay("2025-03-10", 10000), pay("2025-05-12", 10000, seq=2)], "2025-05-12", plan=PLAN_SAT)
    assert on_time.penalty_accrued == 0
    assert on_time.owed == 0
    unpaid = [pay("2025-03-10", 10000)]
    assert pos_of(unpaid, "2025-05-12", plan=PLAN_SAT).overdue() == []
    assert pos_of(unpaid, "2025-05-12", plan=PLAN_SAT).overdue_amount == 0
    assert [i.number for i in pos_of(unpaid, "2025-05-13", plan=PLAN_SAT).overdue()] == [2]


def test_r_pay_3_instalment_on_its_deadline_is_paid_after_penalty_not_before():
    """R-PAY-3: on Mon 12 May instalment 1 is overdue (63 days) but instalment 2 is not: 100.50 pays
    instalment 1, then the remaining 0.50 goes to its penalty (1.81 owed), none to instalment 2."""
    p = pos_of([pay("2025-05-12", 10050)], "2025-05-12", plan=PLAN_SAT)
    # Had instalment 2 been treated as overdue, the 0.50 would have gone to it before the penalty.
    assert paid(p) == {1: 10000, 2: 0}
    assert p.penalty_paid == 50
    assert p.penalty_accrued == 181  # 10 Mar -> 12 May = 63 days; 63 * 2.876712 = 181.23 c


# --- R-PAY-3 after acceleration, R-PEN-2 on the accelerated amount ----------------------------


def test_r_pay_3_after_acceleration_the_whole_accelerated_amount_comes_first():
    """R-PAY-3(1): accelerated on 15 Mar, 300.00 on 20 Mar pays all principal before any penalty."""
    accelerated = pos_of([pay("2025-03-20", 30000)], "2025-03-20", accelerated_on="2025-03-15")
    assert paid(accelerated) == {1: 10000, 2: 10000, 3: 10000}
    assert accelerated.penalty_paid == 0
    # R-PEN-2: inst 3 (deadline 10 Apr) accrues from the acceleration date: 15 Mar -> 20 Mar = 5 days;
    # inst 1 38 days, inst 2 10 days: 53 * 2.876712 = 152.47 c.
    assert accelerated.penalty_outstanding == 152
    # The same money without acceleration: 200.00 overdue, 1.38 penalty, 98.62 ahead.
    plain = pos_of([pay("2025-03-20", 30000)], "2025-03-20")
    assert paid(plain) == {1: 10000, 2: 10000, 3: 9862}
    assert plain.penalty_paid == 138


def test_r_pay_3_accelerated_amount_is_overdue_before_its_deadlines():
    """R-PAY-3(1): once accelerated, every unpaid instalment is overdue (overdue_amount = all)."""
    p = pos_of([], "2025-03-20", accelerated_on="2025-03-15")
    assert p.overdue_amount == 30000
    # The day before it takes effect only instalments 1 and 2 (deadlines 10 Feb, 10 Mar) are overdue.
    assert pos_of([], "2025-03-14", accelerated_on="2025-03-15").overdue_amount == 20000


# --- R-PEN-1..3: penalty interest figures -----------------------------------------------------

ONE = [Instalment(1, D("2025-02-10"), 100000)]  # one instalment of 1000.00 due Mon 10 Feb 2025


def test_r_pen_3_exact_figure_actual_365_reference_plus_7():
    """R-PEN-1/2/3: 1000.00 due 10 Feb paid 20 Mar: 38 days at 10.50 %:
    100000 * 0.105 * 38 / 365 = 1093.15 c -> 10.93.
    (Actual/360 would give 11.08, 39 days 11.22, 37 days 10.64, the bare reference rate 3.64.)"""
    p = pos_of([pay("2025-03-20", 100000)], "2025-03-20", plan=ONE)
    assert p.penalty_accrued == 1093
    assert p.penalty_outstanding == 1093  # all 1000.00 went to the overdue principal first


def test_r_pen_2_days_are_value_date_minus_effective_deadline():
    """R-PEN-2: no accrual on the deadline itself; one day's accrual the day after.
    Due Sat 10 May (deadline Mon 12 May): 1000.00 paid Tue 13 May = 1 day = 28.77 c -> 0.29."""
    plan = [Instalment(1, D("2025-05-10"), 100000)]
    assert pos_of([], "2025-05-12", plan=plan).penalty_accrued == 0
    assert pos_of([pay("2025-05-13", 100000)], "2025-05-13", plan=plan).penalty_accrued == 29
    # Accrual stops once paid: still 0.29 a month later.
    assert pos_of([pay("2025-05-13", 100000)], "2025-06-13", plan=plan).penalty_accrued == 29


def test_r_pen_2_each_part_accrues_until_the_day_it_is_paid():
    """R-PEN-2: 1000.00 due 10 Feb, 500.00 paid 20 Feb (10 days) and 500.00 on 2 Mar (20 days):
    50000 * 0.105 * (10 + 20) / 365 = 431.51 c -> 4.32 (not 1000.00 for 20 days = 11.51)."""
    p = pos_of([pay("2025-02-20", 50000), pay("2025-03-02", 50000, seq=2)], "2025-03-31", plan=ONE)
    assert p.principal_outstanding == 0
    assert p.penalty_accrued == 432
    assert p.penalty_paid == 0  # each payment went to the overdue principal first


def test_r_pen_3_rounded_once_on_the_total_not_per_instalment():
    """R-PEN-3: two instalments, each paid 5 days late, each accrue 5 * 2.876712 = 14.38 c.
    Rounded per instalment: 0.14 + 0.14 = 0.28; rounded once on the total 28.77 c -> 0.29
    (rounded per day it would be 5 * 0.03 * 2 = 0.30)."""
    moves = [pay("2025-02-15", 10000), pay("2025-03-15", 10000, seq=2)]
    # 10 Feb -> 15 Feb and 10 Mar -> 15 Mar: 5 days each.
    p = pos_of(moves, "2025-03-31")
    assert paid(p) == {1: 10000, 2: 10000, 3: 0}
    assert p.penalty_accrued == 29
    # Instalment 1 alone was 14.38 c -> 0.14, so a per-instalment sum would be 0.28.
    assert pos_of(moves[:1], "2025-02-28").penalty_accrued == 14
    # Shown while instalment 2 is still unpaid 5 days after its deadline: the same 0.29.
    assert pos_of(moves[:1], "2025-03-15").penalty_accrued == 29


def test_r_pen_3_rounded_once_whole_history():
    """R-PEN-3 through the simulator: the same two 5-day delays show 0.29 accrued, not 0.28."""
    out = simulate(scenario([payment("2025-02-15", "p1", "100.00"), payment("2025-03-15", "p2", "100.00")]))
    assert out["balance"]["penalty_interest_accrued"] == "0.29"
    assert out["balance"]["penalty_interest_outstanding"] == "0.29"
    assert out["balance"]["principal_outstanding"] == "100.00"


def test_r_pen_1_rate_changes_at_the_half_year_boundary():
    """R-PEN-1: 1000.00 due Tue 10 Jun 2025 paid Thu 10 Jul: 11..30 Jun = 20 days at 10.50 %,
    1..10 Jul = 10 days at 9.50 %: 100000 * (20*0.105 + 10*0.095) / 365 = 835.62 c -> 8.36.
    (All at 10.50 % would be 8.63, all at 9.50 % 7.81.)"""
    plan = [Instalment(1, D("2025-06-10"), 100000)]
    assert pos_of([pay("2025-07-10", 100000)], "2025-07-10", plan=plan).penalty_accrued == 836
    # Unpaid, shown on 10 Jul: the same figure, accrued as if paid that day.
    assert pos_of([], "2025-07-10", plan=plan).penalty_accrued == 836


def test_r_pen_1_half_year_boundary_through_the_simulator():
    """R-PEN-1: the same 8.36 over a whole history (loan of 1000.00, first and only instalment 10 Jun)."""
    out = simulate(scenario([payment("2025-07-10", "p1", "1000.00")], run_until="2025-07-31",
                            granted_on="2025-05-20", principal="1000.00", first_due_date="2025-06-10",
                            instalment_amount="1000.00"))
    b = out["balance"]
    assert b["penalty_interest_accrued"] == "8.36"
    assert b["penalty_interest_outstanding"] == "8.36"  # the 1000.00 went to the overdue principal first
    assert b["principal_outstanding"] == "0.00"


def test_r_pen_1_no_penalty_without_rates_in_the_ledger():
    """R-PEN-1: rates=None (policy without penalty interest) accrues nothing."""
    p = pos_of([pay("2025-03-20", 30000)], "2025-03-20", rates=None)
    assert p.penalty_accrued == 0
    assert paid(p) == {1: 10000, 2: 10000, 3: 10000}


def test_r_pen_1_no_penalty_when_policy_penalty_interest_is_null():
    """R-PEN-1: override penalty_interest null: instalments late for weeks accrue nothing."""
    acts = [payment("2025-03-20", "p1", "200.00")]
    without = simulate(scenario(acts, overrides={"penalty_interest": None}))["balance"]
    assert without["penalty_interest_accrued"] == "0.00"
    assert without["penalty_interest_outstanding"] == "0.00"
    assert without["principal_outstanding"] == "100.00"
    assert without["overdue_amount"] == "0.00"
    # The same history with the statutory default does accrue (1.38 by 20 Mar, all unpaid).
    statutory = simulate(scenario(acts))["balance"]
    assert statutory["penalty_interest_outstanding"] == "1.38"


# --- R-PAY-4: value-date order, back-dated payments and reversals --------------------------------


def test_r_pay_4_value_date_order_not_recorded_order():
    """R-PAY-4: a payment value-dated 10 Feb but recorded after one value-dated 20 Mar is applied first.
    By value date: 10 Feb pays inst 1 on time; 20 Mar pays inst 2 10 days late (28.77 c -> 0.29)."""
    back_dated_recorded_last = [pay("2025-03-20", 10000, seq=1), pay("2025-02-10", 10000, seq=2)]
    p = pos_of(back_dated_recorded_last, "2025-03-31")
    assert paid(p) == {1: 10000, 2: 10000, 3: 0}
    assert p.penalty_accrued == 29
    in_order = pos_of([pay("2025-02-10", 10000, seq=1), pay("2025-03-20", 10000, seq=2)], "2025-03-31")
    assert (paid(in_order), in_order.penalty_accrued) == (paid(p), p.penalty_accrued)


def test_r_pay_4_back_dated_payment_re_allocates_later_payments():
    """R-PAY-4 over a history: p2 (20 Mar) is recorded first, then p1 value-dated 10 Feb arrives 25 Mar.
    Before p1: p2 paid the overdue inst 1, inst 2 unpaid; penalty on 24 Mar: inst 1 38 days + inst 2
    14 days = 52 * 2.876712 = 149.59 c -> 1.50. After p1 the result equals value-date order."""
    late = [payment("2025-03-20", "p2", "100.00"), payment("2025-03-25", "p1", "100.00", "2025-02-10")]
    in_order = [payment("2025-02-10", "p1", "100.00"), payment("2025-03-20", "p2", "100.00")]

    before = simulate(scenario(late[:1], run_until="2025-03-24"))["balance"]
    assert (before["overdue_amount"], before["penalty_interest_outstanding"]) == ("100.00", "1.50")

    got = simulate(scenario(late))["balance"]
    want = simulate(scenario(in_order))["balance"]
    assert got == want
    assert got["status"] == "current"
    assert got["principal_outstanding"] == "100.00"
    assert got["overdue_amount"] == "0.00"
    assert got["penalty_interest_outstanding"] == "0.29"  # inst 2 paid 10 days late


def test_r_pay_4_reversal_removes_the_payment_and_re_allocates():
    """R-PAY-4: p1 (10 Feb) and p2 (10 Mar) paid on time; p1 is reversed on 15 Mar. p2 now pays the
    overdue inst 1 on 10 Mar (28 days late: 80.55 c) and inst 2 is unpaid from 11 Mar; on 31 Mar it has
    accrued 21 days (60.41 c): total 140.96 c -> 1.41, nothing of it paid."""
    acts = [payment("2025-02-10", "p1", "100.00"), payment("2025-03-10", "p2", "100.00"),
            {"on": "2025-03-15", "type": "payment_reversal", "payment_id": "p1", "reason": "returned by bank"}]
    out = simulate(scenario(acts))
    b = out["balance"]
    assert len(events_of(out, "PaymentReversed")) == 1
    assert b["status"] == "late"
    assert b["principal_paid"] == "100.00"
    assert b["principal_outstanding"] == "200.00"
    assert b["overdue_amount"] == "100.00"
    assert b["penalty_interest_accrued"] == "1.41"
    assert b["penalty_interest_paid"] == "0.00"
    # Without the reversal nothing would be late.
    assert simulate(scenario(acts[:2]))["balance"]["overdue_amount"] == "0.00"


# --- R-PAY-5: payoff ----------------------------------------------------------------------------


def test_r_pay_5_payoff_is_principal_plus_penalty_and_no_fee():
    """R-PAY-5: nothing paid, on 20 Mar payoff = 300.00 + penalty 48 days * 2.876712 = 1.38 -> 301.38;
    paying exactly that on that day repays the loan without any overpayment or residue."""
    b = simulate(scenario(run_until="2025-03-20"))["balance"]
    assert b["payoff_amount"] == "301.38"
    assert b["principal_outstanding"] == "300.00"
    assert b["penalty_interest_outstanding"] == "1.38"

    out = simulate(scenario([payment("2025-03-20", "p1", "301.38")], run_until="2025-03-20"))
    paid_off = out["balance"]
    assert paid_off["status"] == "repaid"
    assert paid_off["payoff_amount"] == "0.00"
    assert paid_off["overpayment"] == "0.00"
    assert paid_off["principal_paid"] == "300.00"
    assert paid_off["penalty_interest_paid"] == "1.38"
    assert [e["effective_date"] for e in events_of(out, "LoanRepaid")] == ["2025-03-20"]


def test_r_pay_5_early_payoff_before_any_due_date_is_the_principal():
    """R-PAY-5 (Act §7): paying off on 20 Jan, before any due date, costs the principal and nothing more."""
    b = simulate(scenario(run_until="2025-01-20"))["balance"]
    assert b["payoff_amount"] == "300.00"
    out = simulate(scenario([payment("2025-01-20", "p1", "300.00")], run_until="2025-01-31"))
    assert out["balance"]["status"] == "repaid"
    assert out["balance"]["overpayment"] == "0.00"


# --- R-PAY-1: payment identity, and refusals of bad payments -------------------------------------


def test_r_pay_1_same_payment_id_same_content_is_a_no_op():
    """R-PAY-1: the same payment posted twice is counted once and is not refused."""
    acts = [payment("2025-02-10", "p1", "100.00"), payment("2025-02-10", "p1", "100.00"),
            payment("2025-02-12", "p1", "100.00", "2025-02-10")]
    out = simulate(scenario(acts, run_until="2025-02-28"))
    assert out["rejections"] == []
    assert len(events_of(out, "PaymentReceived")) == 1
    assert out["balance"]["principal_paid"] == "100.00"
    assert out["balance"]["overpayment"] == "0.00"


@pytest.mark.parametrize("second", [
    payment("2025-02-11", "p1", "100.01", "2025-02-10"),  # different amount
    payment("2025-02-11", "p1", "100.00", "2025-02-11"),  # different value date
])
def test_r_pay_1_same_payment_id_different_content_is_a_conflict(second):
    """R-PAY-1: a different payment under a known payment_id is refused with payment_conflict."""
    out = simulate(scenario([payment("2025-02-10", "p1", "100.00"), second], run_until="2025-02-28"))
    assert [(r["action_index"], r["code"]) for r in out["rejections"]] == [(1, "payment_conflict")]
    assert len(events_of(out, "PaymentReceived")) == 1
    assert out["balance"]["principal_paid"] == "100.00"


@pytest.mark.parametrize("amount", ["0.00", "0", "-5.00", "-100.00"])
def test_r_pay_1_zero_or_negative_amount_is_invalid_request(amount):
    """R-MONEY-1/R-PAY-1: a zero or negative payment is refused (invalid_request), nothing recorded."""
    out = simulate(scenario([payment("2025-02-10", "p1", amount)], run_until="2025-02-10"))
    assert [(r["action_index"], r["code"]) for r in out["rejections"]] == [(0, "invalid_request")]
    assert events_of(out, "PaymentReceived") == []


def test_r_pay_1_value_date_after_the_action_day_is_refused():
    """R-PAY-1/R-DATE-1: a payment posted on 10 Feb value-dated 11 Feb is refused (invalid_request)."""
    out = simulate(scenario([payment("2025-02-10", "p1", "100.00", "2025-02-11")], run_until="2025-02-11"))
    assert [(r["action_index"], r["code"], r["field"]) for r in out["rejections"]] == [
        (0, "invalid_request", "value_date")]
    assert events_of(out, "PaymentReceived") == []


# --- R-WAIVE-1: exemptions -----------------------------------------------------------------------


def test_r_waive_1_partial_takes_penalty_then_principal_from_the_last_instalment():
    """R-WAIVE-1: 151.38 waived on 20 Mar: 1.38 penalty (48 days * 2.876712 c), then 100.00 of inst 3
    and 50.00 of inst 2; inst 1 untouched."""
    p = pos_of([Movement(D("2025-03-20"), 1, "waiver_partial", 15138)], "2025-03-20")
    assert p.penalty_waived == 138
    assert p.penalty_outstanding == 0
    assert {i.number: i.waived for i in p.instalments} == {1: 0, 2: 5000, 3: 10000}
    assert p.principal_outstanding == 15000


def test_r_waive_1_partial_smaller_than_penalty_takes_only_penalty():
    """R-WAIVE-1: 1.00 waived on 20 Mar (penalty 1.38 owed) reduces the penalty only."""
    p = pos_of([Movement(D("2025-03-20"), 1, "waiver_partial", 100)], "2025-03-20")
    assert (p.penalty_waived, p.penalty_outstanding, p.principal_waived) == (100, 38, 0)


def test_r_waive_1_partial_through_the_simulator():
    """R-WAIVE-1: a partial exemption of 51.38 on 20 Mar: penalty 1.38 first, then 50.00 of principal
    taken from instalment 3 (not overdue), so the overdue amount stays 200.00."""
    acts = [{"on": "2025-03-20", "type": "waiver", "kind": "partial", "amount": "51.38", "decided_by": "sw-1"}]
    out = simulate(scenario(acts, run_until="2025-03-20"))
    b = out["balance"]
    assert out["rejections"] == []
    assert b["penalty_interest_outstanding"] == "0.00"
    assert b["principal_waived"] == "50.00"
    assert b["principal_outstanding"] == "250.00"
    assert b["overdue_amount"] == "200.00"
    assert [(e["kind"], e["amount"]) for e in events_of(out, "PaymentWaived")] == [("partial", "51.38")]


def test_r_waive_1_full_waiver_closes_the_loan():
    """R-WAIVE-1: inst 1 paid; full exemption on 20 Mar of everything owed: 200.00 principal +
    penalty on inst 2, 10 days = 28.77 c -> 0.29: 200.29. Status waived; principal = paid + waived +
    outstanding (300.00 = 100.00 + 200.00 + 0.00); nothing falls due afterwards."""
    acts = [payment("2025-02-10", "p1", "100.00"),
            {"on": "2025-03-20", "type": "waiver", "kind": "full", "decided_by": "sw-1"}]
    out = simulate(scenario(acts, run_until="2025-05-31"))
    b = out["balance"]
    assert out["rejections"] == []
    assert [(e["kind"], e["amount"]) for e in events_of(out, "PaymentWaived")] == [("full", "200.29")]
    assert b["status"] == "waived"
    assert (b["principal_paid"], b["principal_waived"], b["principal_outstanding"]) == ("100.00", "200.00", "0.00")
    to_cents = lambda s: int(s.replace(".", ""))  # noqa: E731
    assert to_cents(b["principal"]) == sum(to_cents(b[k]) for k in
                                           ("principal_paid", "principal_waived", "principal_outstanding"))
    assert b["payoff_amount"] == "0.00"
    assert b["penalty_interest_outstanding"] == "0.00"
    assert [e["instalment"] for e in events_of(out, "InstalmentFellDue")] == [1, 2]  # not 3 (10 Apr)
