"""Regular interest (rule book section 7a, R-INT-1 … 8) and penalty interest's legal basis (R-PEN-6).

Figures by hand. Unless a test says otherwise: reference rate 3.95 % all of 2025, a fixed rate of
3.65 % (under the cap), so one day's interest is exactly 0.0001 × the base, and one day's penalty
interest (3.95 + 7 = 10.95 %) is 0.0003 × the overdue principal. The loan: 1000.00 granted Mon 20 Jan
2025, four instalments of 250.00 due Fri 14 Feb, Fri 14 Mar, Mon 14 Apr and Wed 14 May (all banking
days), as in spec/scenarios-interest/interest-fixed-example.json.
"""
from __future__ import annotations

import copy
import datetime as dt

import pytest

from domain.errors import DomainError
from domain.interest import InterestTerms, on_time_interest_parts
from domain.rates import ReferenceRates
from application.simulation import simulate
from tests.support.scenarios import of, only

RATES = [{"from": "2025-01-01", "rate": "3.95"}, {"from": "2025-07-01", "rate": "3.95"}]
LOAN = {"loan_id": "L-I", "borrower_id": "B-I", "purpose": "appliances", "granted_on": "2025-01-20",
        "principal": "1000.00", "first_due_date": "2025-02-14", "instalment_amount": "250.00",
        "interest": {"kind": "fixed", "rate": "3.65"}}


def scenario(actions=(), *, run_until: str, rates=RATES, policy=None, **loan) -> dict:
    return {"name": "interest", "policy": policy or {"preset": "default"}, "reference_rates": copy.deepcopy(rates),
            "loan": dict(LOAN, **loan), "actions": list(actions), "run_until": run_until}


def pay(on: str, pid: str, amount: str) -> dict:
    return {"on": on, "type": "payment", "payment_id": pid, "amount": amount, "value_date": on}


def fell_due(out: dict) -> list[tuple]:
    return [(e["instalment"], e["principal_part"], e["interest_part"], e["amount"]) for e in of(out, "InstalmentFellDue")]


# --- R-INT-1: terms at grant --------------------------------------------------------------------------


@pytest.mark.parametrize("interest, code, field", [
    ({"kind": "fixed", "rate": "3.96"}, "limit_exceeded", "interest.rate"),  # above 3.95 on the grant date
    ({"kind": "reference", "margin": "0.10"}, "limit_exceeded", "loan.interest.margin"),
    ({"kind": "fixed", "rate": "3.655"}, "invalid_request", "loan.interest.rate"),
    ({"kind": "fixed", "rate": 3.5}, "invalid_request", "loan.interest.rate"),
    ({"kind": "monthly"}, "invalid_request", "loan.interest.kind"),
])
def test_r_int_1_terms_above_the_cap_or_malformed_are_refused(interest, code, field):
    from application.service import LoanService
    from domain.loan import Decision
    from domain.policy import make_policy

    service = LoanService(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, rates=ReferenceRates.from_json(RATES))
    service.configure_tenant("t", make_policy())
    with pytest.raises(DomainError) as refused:
        service.grant(tenant="t", loan_id="L", borrower_id="B", purpose="p", principal=100000,
                      granted_on=dt.date(2025, 1, 20), first_due_date=dt.date(2025, 2, 14), instalment_amount=25000,
                      decision=Decision("dm"), interest=InterestTerms.from_json(interest, "loan.interest"))
    assert (refused.value.code, refused.value.rule, refused.value.field) == (code, "R-INT-1", field)


def test_r_int_1_a_fixed_rate_is_capped_by_the_reference_rate_every_day():
    """Fixed 3.65 %, the reference rate falls to 2.00 % on 1 Jul. Granted 20 Jun, one instalment of
    1000.00 due Mon 21 Jul: 10 days at 3.65 % (1.00) + 21 days at 2.00 % (1000 × 0.02 / 365 × 21 =
    1.150684…) = 2.150684… → 2.15."""
    out = simulate(scenario(granted_on="2025-06-20", first_due_date="2025-07-21", instalment_amount="1000.00",
                            run_until="2025-07-21",
                            rates=[{"from": "2025-01-01", "rate": "3.95"}, {"from": "2025-07-01", "rate": "2.00"}]))
    assert fell_due(out) == [(1, "1000.00", "2.15", "1002.15")]


@pytest.mark.parametrize("margin, first_interest", [
    ("-0.30", "2.50"),  # 3.95 - 0.30 = 3.65 %: 25 days × 0.10
    ("-3.95", "0.00"),  # 0 %
    ("-5.00", "0.00"),  # never below zero
])
def test_r_int_1_a_reference_rate_with_a_margin(margin, first_interest):
    out = simulate(scenario(interest={"kind": "reference", "margin": margin}, run_until="2025-02-14"))
    assert fell_due(out)[0][2] == first_interest


def test_r_int_1_the_policy_sets_the_default_terms():
    loan = dict(LOAN)
    del loan["interest"]
    out = simulate({"name": "policy default", "policy": {"preset": "default", "overrides": {
        "regular_interest": {"kind": "fixed", "rate": "3.65"}}}, "reference_rates": RATES, "loan": loan,
        "actions": [], "run_until": "2025-02-14"})
    assert fell_due(out) == [(1, "250.00", "2.50", "252.50")]
    assert only(out, "LoanGranted")["interest"] == {"kind": "fixed", "rate": "3.65"}


def test_an_interest_free_loan_records_zero_interest_parts():
    loan = dict(LOAN)
    del loan["interest"]
    out = simulate({"name": "interest-free", "policy": {"preset": "default"}, "reference_rates": RATES, "loan": loan,
                    "actions": [], "run_until": "2025-02-14"})
    assert fell_due(out) == [(1, "250.00", "0.00", "250.00")]
    assert (out["balance"]["interest_due"], out["balance"]["interest_accrued"]) == ("0.00", "0.00")


# --- R-INT-2/3: accrual on the base, interest parts fixed on the due date ---------------------------


def test_r_int_3_interest_parts_when_paid_on_time():
    """Every instalment paid on its due date: the base falls by 250.00 after each.
    1: 25 d × 1000 = 2.50; 2: 28 d × 750 = 2.10; 3: 31 d × 500 = 1.55; 4: 30 d × 250 = 0.75."""
    out = simulate(scenario([pay("2025-02-14", "p1", "252.50"), pay("2025-03-14", "p2", "252.10"),
                             pay("2025-04-14", "p3", "251.55"), pay("2025-05-14", "p4", "250.75")],
                            run_until="2025-05-20"))
    assert fell_due(out) == [(1, "250.00", "2.50", "252.50"), (2, "250.00", "2.10", "252.10"),
                             (3, "250.00", "1.55", "251.55"), (4, "250.00", "0.75", "250.75")]
    assert of(out, "LoanRepaid")[0]["effective_date"] == "2025-05-14"
    assert out["balance"]["interest_paid"] == "6.90" and out["balance"]["payoff_amount"] == "0.00"
    # The assessment's estimate (domain.interest) agrees with the ledger when paid on time.
    parts = on_time_interest_parts(InterestTerms.from_json(LOAN["interest"]), ReferenceRates.from_json(RATES), 100000,
                                   dt.date(2025, 1, 20), [(dt.date(2025, m, 14), 25000) for m in (2, 3, 4, 5)])
    assert parts == [250, 210, 155, 75]


def test_r_int_2_an_overdue_principal_part_leaves_the_base():
    """Instalment 1 unpaid: from 15 Feb the base is 750.00, so instalment 2's interest is 28 × 750 =
    2.10; instalment 1 accrues penalty instead (never both)."""
    out = simulate(scenario(run_until="2025-03-14"))
    assert fell_due(out)[1] == (2, "250.00", "2.10", "252.10")
    # Penalty on 250.00 for 28 days (15 Feb .. 14 Mar) at 0.0003 a day = 2.10.
    assert out["balance"]["penalty_interest_outstanding"] == "2.10"
    assert (out["balance"]["interest_due"], out["balance"]["overdue_amount"]) == ("4.60", "252.50")


def test_r_pay_5_r_int_4_payoff_at_any_date_costs_nothing_else():
    """On Sat 1 Mar: 1000.00 + 25 d × 1000 (2.50) + 15 d × 1000 (1.50) = 1004.00; paid that day,
    the loan is repaid."""
    first = simulate(scenario(run_until="2025-03-01"))
    assert first["balance"]["payoff_amount"] != "1004.00"  # instalment 1 is overdue: penalty too
    out = simulate(scenario([pay("2025-02-14", "p1", "252.50"), pay("2025-03-01", "off", "751.65")],
                            run_until="2025-03-31"))
    # After instalment 1: 750.00 + 15 days × 750 × 0.0001 (1.125 → 1.13) = 751.13; 0.52 is overpaid.
    assert out["balance"]["status"] == "repaid" and out["balance"]["overpayment"] == "0.52"
    assert of(out, "LoanRepaid")[0]["effective_date"] == "2025-03-01"


# --- R-INT-6: free months cost nothing ---------------------------------------------------------------


def test_r_int_6_no_interest_on_the_days_a_free_month_moves_an_instalment_by():
    """Instalment 1 paid; free month from instalment 2 (14 Mar → 14 Apr). Instalment 2's period is
    15 Feb .. 14 Apr, but 15 Mar .. 14 Apr are free: 28 × 750 = 2.10, as without the free month."""
    out = simulate(scenario([pay("2025-02-14", "p1", "252.50"),
                             {"on": "2025-02-20", "type": "free_months", "months": 1, "from_instalment": 2,
                              "decided_by": "dm"}], run_until="2025-04-14"))
    assert fell_due(out) == [(1, "250.00", "2.50", "252.50"), (2, "250.00", "2.10", "252.10")]


# --- R-INT-7: acceleration ---------------------------------------------------------------------------


def test_r_int_7_accelerated_amount_includes_interest_to_the_effective_date_and_then_stops():
    """Nothing paid. Instalment 1 (250.00) is a month late on 15 Mar (branch a: principal only);
    notice Mon 17 Mar, 28 days → Mon 14 Apr, E = Tue 15 Apr, recorded Thu 17 Apr. Interest parts
    fixed by then: 2.50, 2.10 (28 × 750), 1.55 (31 × 500); the current period on 15 Apr: one day on
    250.00 = 0.025 → 0.03. Accelerated: 1000.00 + 2.50 + 2.10 + 1.55 + 0.03 = 1006.18."""
    out = simulate(scenario([{"on": "2025-03-17", "type": "acceleration_notice", "decided_by": "sw"}],
                            run_until="2025-05-31"))
    met = only(out, "AccelerationConditionsMet")
    assert (met["effective_date"], met["delayed_amount"], met["branch"]) == ("2025-03-15", "250.00", "a")
    acc = only(out, "LoanAccelerated")
    assert (acc["effective_date"], acc["recorded_on"], acc["accelerated_amount"]) == (
        "2025-04-15", "2025-04-17", "1006.18")
    assert out["balance"]["interest_accrued"] == "0.00" and out["balance"]["status"] == "accelerated"
    assert out["balance"]["overdue_amount"] == "1006.18"


# --- R-INT-8: exemptions -----------------------------------------------------------------------------


def test_r_int_8_partial_exemption_takes_penalty_then_interest_then_principal_from_the_end():
    """Instalment 1 unpaid. On Sat 1 Mar, a partial exemption of 10.00: penalty 15 d × 250 × 0.0003 =
    1.125 → 1.13; interest 2.50 (instalment 1) + 15 d × 750 × 0.0001 = 1.125 → 1.13; the rest, 5.24,
    from instalment 4's principal. Instalment 2's interest part on 14 Mar: (15 × 750 + 13 × 744.76) ×
    0.0001 = 2.093188 → 2.09, less the 1.13 already taken = 0.96."""
    out = simulate(scenario([{"on": "2025-03-01", "type": "waiver", "kind": "partial", "amount": "10.00",
                              "decided_by": "dm"}], run_until="2025-03-14"))
    assert fell_due(out)[1] == (2, "250.00", "0.96", "250.96")
    balance = out["balance"]
    assert (balance["principal_waived"], balance["principal_outstanding"]) == ("5.24", "994.76")


# --- R-PEN-6: penalty interest's legal basis in time ------------------------------------------------

OLD = {"granted_on": "2023-06-15", "first_due_date": "2023-07-10", "instalment_amount": "100.00",
       "principal": "1000.00"}
RATES_2023 = [{"from": "2023-01-01", "rate": "3.65"}, {"from": "2023-07-01", "rate": "3.65"},
              {"from": "2024-01-01", "rate": "3.65"}]  # penalty 10.65 %


@pytest.mark.parametrize("agreed_on, penalty", [
    (None, "0.00"),  # a contract from before 1 Aug 2023 without an amendment: none, ever (KHO:2022:62)
    # From 1 Sep 2023 to 30 Sep: instalments 1 and 2 (deadlines 10 Jul, 10 Aug) 30 days each, instalment 3
    # (due Sun 10 Sep, deadline Mon 11 Sep) 19 days: 79 × 100 × 0.1065 / 365 = 2.305… → 2.31.
    ("2023-09-01", "2.31"),
])
def test_r_pen_6_no_penalty_before_the_amendment_that_added_the_term(agreed_on, penalty):
    loan = {**OLD, "interest": None}
    if agreed_on:
        loan["penalty_interest_agreed_on"] = agreed_on
    out = simulate(scenario(run_until="2023-09-30", rates=RATES_2023, **loan))
    assert out["balance"]["penalty_interest_accrued"] == penalty


def test_r_pen_6_a_contract_from_1_august_2023_accrues_from_the_deadline():
    """Granted 1 Aug 2023: instalment 1 due Mon 11 Sep, unpaid: 19 days to 30 Sep = 100 × 0.1065 × 19 /
    365 = 0.554… → 0.55."""
    out = simulate(scenario(run_until="2023-09-30", rates=RATES_2023, granted_on="2023-08-01",
                            first_due_date="2023-09-11", instalment_amount="100.00", interest=None))
    assert out["balance"]["penalty_interest_accrued"] == "0.55"


def test_r_pen_6_an_organiser_may_switch_penalty_interest_off():
    out = simulate(scenario(run_until="2025-05-31", policy={"preset": "default",
                                                            "overrides": {"penalty_interest": "none"}}))
    assert out["balance"]["penalty_interest_accrued"] == "0.00"


def test_r_pen_6_the_amendment_cannot_predate_the_act():
    from application.simulation import ScenarioError

    with pytest.raises((ScenarioError, DomainError)) as refused:
        simulate(scenario(run_until="2023-09-30", rates=RATES_2023, **{**OLD, "interest": None,
                                                                      "penalty_interest_agreed_on": "2023-07-01"}))
    assert "penalty_interest_agreed_on" in str(refused.value)


# --- R-INT-2: interest runs from disbursement -----------------------------------------------------------


def test_r_int_2_interest_runs_from_the_disbursement_when_the_loan_records_one():
    """Paid out on Mon 3 Feb (not on the grant day, 20 Jan): instalment 1's period is 4 .. 14 Feb,
    11 days × 1000 × 0.0001 = 1.10 (2.50 from the grant). A transfer returned by the bank and paid
    out again on 7 Feb moves the start to 7 Feb: 7 days = 0.70."""
    from application.service import LoanService
    from domain.loan import Decision
    from domain.policy import make_policy

    def loan_after(*transfers):
        service = LoanService(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, rates=ReferenceRates.from_json(RATES))
        service.configure_tenant("t", make_policy())
        service.grant(tenant="t", loan_id="L", borrower_id="B", purpose="p", principal=100000,
                      granted_on=dt.date(2025, 1, 20), first_due_date=dt.date(2025, 2, 14), instalment_amount=25000,
                      decision=Decision("dm"), interest=InterestTerms.from_json(LOAN["interest"]))
        loan = service.loan("t", "L")
        for transfer_id, day, returned in transfers:
            loan.record_disbursement(transfer_id=transfer_id, payee="creditor-1", amount=100000, on=day,
                                     recorded_at=dt.datetime.now(dt.timezone.utc), returned=returned)
        return loan.books(service.rates).position(dt.date(2025, 2, 14)).instalment(1).interest

    assert loan_after() == 250
    assert loan_after(("T-1", dt.date(2025, 2, 3), False)) == 110
    assert loan_after(("T-1", dt.date(2025, 2, 3), False), ("T-1", dt.date(2025, 2, 5), True),
                      ("T-2", dt.date(2025, 2, 7), False)) == 70
