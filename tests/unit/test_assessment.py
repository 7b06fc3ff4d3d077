"""The assessment (R-APP-2 … R-APP-4): capacity month by month, the plan, the grounds with figures.

Every expected figure is worked out by hand in the test's docstring and written as a literal.
Base household (as application-format.md's worked example): one adult, salary 1650.00, housing
620.00 + health 30.00, norm 560.00 for the first adult, children 300.00 (0–6) / 380.00 (7–17),
other adult 400.00; policy etela-karjala (500.00 … 3000.00, deviation 10 %, total debt 3000.00,
60 months), assessed 2 Mar 2026, first due date 10 Apr 2026.
"""
from __future__ import annotations

import copy
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.applications import parse_application
from domain.assessment import assess
from domain.errors import DomainError
from domain.policy import make_policy
from domain.rates import ReferenceRates

NORM = {"source": "organiser's decision 12/2026", "first_adult": "560.00", "other_adult": "400.00",
        "children": [{"from_age": 0, "to_age": 6, "amount": "300.00"},
                     {"from_age": 7, "to_age": 17, "amount": "380.00"}]}
RATES = ReferenceRates.from_json([{"from": "2026-01-01", "rate": "2.00"}])
ON = dt.date(2026, 3, 2)
BASE = {
    "applicant": "B-1", "purpose": "home purchases", "requested_amount": "2400.00", "first_due_date": "2026-04-10",
    "household": {"adults": 1, "children": []},
    "incomes": [{"kind": "salary", "amount": "1650.00"}],
    "expenses": [{"kind": "housing", "amount": "620.00"}, {"kind": "health", "amount": "30.00"}],
    "debts": [], "assets": [], "open_social_loans": 0, "debt_adjustment_ongoing": False,
}


def policy(**overrides):
    return make_policy("etela-karjala", {"living_cost_norm": NORM, **overrides})


def run(edit=None, on=ON, **policy_overrides) -> dict:
    raw = copy.deepcopy(BASE)
    if edit:
        edit(raw)
    return assess(parse_application(raw), policy(**policy_overrides), RATES, on).to_json()


def codes(result, key="grounds"):
    return {g["code"] for g in result[key]}


def month(result, label):
    return next(m for m in result["capacity"]["by_month"] if m["month"] == label)["amount"]


def incomes(*items):
    return lambda a: a.update(incomes=list(items))


# --- capacity and the proposed plan (R-APP-2, R-APP-3) ------------------------------------------------


def test_r_app_3_worked_example_of_the_format():
    """1650.00 + 94.88 − 650.00 − (560.00 + 380.00 for a child aged 10) = 154.88; 2400/15 = 160.00
    does not fit, 2400/16 = 150.00 does: 16 months, 10 Apr 2026 … 10 Jul 2027."""
    def edit(a):
        a["household"]["children"] = [{"born": "2015-05-01"}]
        a["incomes"].append({"kind": "child_benefit", "amount": "94.88", "to": "2033-04"})
    out = run(edit, saving_months=12)
    assert out["capacity"]["minimum"] == "154.88"
    assert out["plan"]["term_months"] == 16
    assert (out["plan"]["instalment_amount"], out["plan"]["largest_instalment"]) == ("150.00", "150.00")
    assert (out["plan"]["first_due_date"], out["plan"]["last_due_date"]) == ("2026-04-10", "2027-07-10")
    assert out["plan"]["fits"] is True
    assert out["grounds"] == [] and out["warnings"] == []
    assert len(out["capacity"]["by_month"]) == 16


def test_r_app_3_capacity_exactly_equal_to_the_instalment_fits():
    """1740.00 − 650.00 − 940.00 = 150.00 = 2400.00 / 16: the 16-month plan fits exactly."""
    def edit(a):
        a["household"]["children"] = [{"born": "2015-05-01"}]
        a["incomes"] = [{"kind": "salary", "amount": "1740.00"}]
    out = run(edit)
    assert out["capacity"]["minimum"] == "150.00"
    assert (out["plan"]["term_months"], out["plan"]["largest_instalment"]) == (16, "150.00")


def test_r_app_3_one_cent_less_capacity_needs_a_longer_plan():
    """149.99 < 150.00: 16 months no longer fit; 17 months: 2400.00/17 = 141.17, the last takes
    2400.00 − 16 × 141.17 = 141.28 (R-SCHED-2), which fits 149.99."""
    out = run(incomes({"kind": "salary", "amount": "1359.99"}))  # 1359.99 − 650.00 − 560.00 = 149.99
    assert out["capacity"]["minimum"] == "149.99"
    assert (out["plan"]["term_months"], out["plan"]["instalment_amount"], out["plan"]["largest_instalment"]) == \
        (17, "141.17", "141.28")


def test_r_app_2_child_crossing_an_age_band_mid_plan():
    """Child born 15 Aug 2019: aged 6 on 1 Aug 2026 (norm 560.00 + 300.00), 7 on 1 Sep 2026 (+ 380.00).
    Capacity 1650.00 − 650.00 − 860.00 = 140.00 Apr–Aug, then 60.00. 720.00 in 5 months needs
    144.00 > 140.00; 6 … 11 months reach September (60.00) and need more than 60.00 (11: 65.45);
    12 months need 60.00 ≤ 60.00."""
    def edit(a):
        a["household"]["children"] = [{"born": "2019-08-15"}]
        a["requested_amount"] = "720.00"
    out = run(edit)
    assert (month(out, "2026-08"), month(out, "2026-09")) == ("140.00", "60.00")
    assert out["capacity"]["minimum"] == "60.00"
    assert (out["plan"]["term_months"], out["plan"]["instalment_amount"]) == (12, "60.00")
    assert codes(out) == set()


def test_r_app_2_a_child_older_than_the_last_band_counts_as_an_other_adult():
    """Born 2 Jun 2008: still 17 on 1 Jun 2026 (380.00), 18 on 1 Jul 2026 (other adult 400.00).
    Capacity 1650.00 − 650.00 − 940.00 = 60.00 until June, then 40.00; 2400.00 at 40.00 = 60 months."""
    def edit(a):
        a["household"]["children"] = [{"born": "2008-06-02"}]
    out = run(edit)
    assert (month(out, "2026-06"), month(out, "2026-07")) == ("60.00", "40.00")
    assert (out["plan"]["term_months"], out["capacity"]["minimum"]) == (60, "40.00")


def test_r_app_2_a_birthday_on_the_first_day_of_the_month_counts_that_month():
    """Born 1 Jun 2008: 18 on 1 Jun 2026 itself, so June already counts an other adult (40.00)."""
    out = run(lambda a: a["household"].update(children=[{"born": "2008-06-01"}]))
    assert (month(out, "2026-05"), month(out, "2026-06")) == ("60.00", "40.00")


def test_r_app_2_a_child_not_yet_born_is_not_counted():
    """Born 20 Apr 2026: not yet born on 1 Apr (norm 560.00), aged 0 on 1 May (560.00 + 300.00)."""
    def edit(a):
        a["household"]["children"] = [{"born": "2026-04-20"}]
        a["requested_amount"] = "500.00"
    out = run(edit, max_term_months=3)
    assert (month(out, "2026-04"), month(out, "2026-05")) == ("440.00", "140.00")


def test_r_app_2_income_ending_mid_plan():
    """Child benefit 94.88 to 2026-06: 154.88 Apr–Jun, then 1650.00 − 650.00 − 940.00 = 60.00.
    40 months need 60.00 ≤ 60.00; 39 need 61.53 (last 2400.00 − 38 × 61.53 = 61.86) > 60.00."""
    def edit(a):
        a["household"]["children"] = [{"born": "2015-05-01"}]
        a["incomes"].append({"kind": "child_benefit", "amount": "94.88", "to": "2026-06"})
    out = run(edit, saving_months=12)
    assert (month(out, "2026-06"), month(out, "2026-07")) == ("154.88", "60.00")
    assert (out["plan"]["term_months"], out["plan"]["instalment_amount"], out["plan"]["largest_instalment"]) == \
        (40, "60.00", "60.00")
    assert out["capacity"]["minimum"] == "60.00"
    assert codes(out) == set()  # 60.00 × 12 = 720.00 < 2400.00: no can_save


def test_r_app_2_from_and_to_months_are_inclusive():
    """Unemployment benefit 1400.00 to 2026-04, salary 1650.00 from 2026-05, a course 100.00 from
    2026-06 to 2026-08. Capacity: Apr 1400.00 − 650.00 − 560.00 = 190.00; May 440.00; Jun–Aug
    340.00; Sep 440.00. 1000.00 in 5 months needs 200.00 > 190.00; in 6 months 166.66 (last
    1000.00 − 5 × 166.66 = 166.70) ≤ 190.00."""
    def edit(a):
        a["requested_amount"] = "1000.00"
        a["incomes"] = [{"kind": "unemployment", "amount": "1400.00", "to": "2026-04"},
                        {"kind": "salary", "amount": "1650.00", "from": "2026-05"}]
        a["expenses"].append({"kind": "course", "amount": "100.00", "from": "2026-06", "to": "2026-08"})
    out = run(edit)
    assert [m["amount"] for m in out["capacity"]["by_month"]] == \
        ["190.00", "440.00", "340.00", "340.00", "340.00", "440.00"]
    assert (out["plan"]["term_months"], out["plan"]["instalment_amount"], out["plan"]["largest_instalment"]) == \
        (6, "166.66", "166.70")
    assert out["capacity"]["minimum"] == "190.00"


def test_r_app_2_debts_not_paid_off_by_the_loan_are_deducted():
    """A 50.00 monthly payment of a debt the loan leaves: 1650.00 − 650.00 − 560.00 − 50.00 = 390.00;
    the debt paid off by the loan (180.00 a month) is not deducted."""
    def edit(a):
        a["requested_amount"] = "780.00"
        a["debts"] = [{"amount": "600.00", "monthly_payment": "50.00", "paid_off_by_loan": False},
                      {"amount": "780.00", "monthly_payment": "180.00", "paid_off_by_loan": True}]
    out = run(edit)
    assert out["capacity"]["by_month"][0]["debt_payments"] == "50.00"
    assert out["capacity"]["minimum"] == "390.00"
    assert out["plan"]["term_months"] == 2  # 390.00 each


def test_r_app_3_requested_plan_that_does_not_fit():
    """The worked example's household (154.88) asking for 200.00 a month: 12 instalments of 200.00,
    fits false, no_payment_capacity with the figures."""
    def edit(a):
        a["household"]["children"] = [{"born": "2015-05-01"}]
        a["incomes"].append({"kind": "child_benefit", "amount": "94.88"})
        a["requested_instalment"] = "200.00"
    out = run(edit)
    assert (out["plan"]["term_months"], out["plan"]["instalment_amount"], out["plan"]["fits"]) == (12, "200.00", False)
    assert out["plan"]["requested"] is True
    [ground] = out["grounds"]
    assert ground["code"] == "no_payment_capacity"
    assert ground["figures"]["capacity"] == "154.88" and ground["figures"]["largest_instalment"] == "200.00"


def test_r_app_3_requested_term_that_fits():
    """20 months: 2400.00/20 = 120.00 ≤ 154.88; capacity over those 20 months."""
    def edit(a):
        a["household"]["children"] = [{"born": "2015-05-01"}]
        a["incomes"].append({"kind": "child_benefit", "amount": "94.88"})
        a["requested_term_months"] = 20
    out = run(edit)
    assert (out["plan"]["term_months"], out["plan"]["instalment_amount"], out["plan"]["fits"]) == (20, "120.00", True)
    assert out["capacity"]["months"] == 20 and out["grounds"] == []


def test_r_sched_3_a_requested_plan_longer_than_max_term_months_is_refused():
    def edit(a):
        a["requested_instalment"] = "39.99"  # 61 instalments
    with pytest.raises(DomainError) as caught:
        run(edit)
    assert (caught.value.rule, caught.value.field) == ("R-SCHED-3", "application.requested_instalment")


def test_r_app_3_no_plan_fits_plan_is_null():
    """Capacity 1240.00 − 650.00 − 560.00 = 30.00; 60 months need 2400.00/60 = 40.00 > 30.00:
    no plan; the capacity is the minimum over 60 months."""
    out = run(incomes({"kind": "salary", "amount": "1240.00"}))
    assert out["plan"] is None
    assert out["capacity"]["minimum"] == "30.00" and out["capacity"]["months"] == 60
    [ground] = out["grounds"]
    assert ground["code"] == "no_payment_capacity"
    assert (ground["figures"]["term_months"], ground["figures"]["largest_instalment"]) == (60, "40.00")


def test_r_app_2_negative_capacity_is_not_clamped():
    """1000.00 − 650.00 − 560.00 = −210.00."""
    out = run(incomes({"kind": "salary", "amount": "1000.00"}), saving_months=12)
    assert out["capacity"]["minimum"] == "-210.00"
    assert out["plan"] is None and codes(out) == {"no_payment_capacity"}  # −2520.00 saved in 12 months: no can_save


# --- grounds (R-APP-4) ---------------------------------------------------------------------------------


def rich(a):
    a["incomes"] = [{"kind": "salary", "amount": "5000.00"}]  # capacity 3790.00


def test_r_app_4_amount_above_maximum_within_the_deviation_is_a_warning():
    """3000.00 × 1.10 = 3300.00: 3300.00 is tolerated with a warning."""
    out = run(lambda a: (rich(a), a.update(requested_amount="3300.00")))
    assert codes(out) == set() and codes(out, "warnings") == {"amount_above_maximum"}
    assert out["warnings"][0]["figures"]["tolerated_up_to"] == "3300.00"


def test_r_app_4_amount_above_maximum_beyond_the_deviation_is_a_ground_not_a_warning():
    out = run(lambda a: (rich(a), a.update(requested_amount="3300.01")))
    assert codes(out) == {"amount_above_maximum"} and out["warnings"] == []
    assert out["grounds"][0]["figures"]["requested_amount"] == "3300.01"


def test_r_app_4_amount_below_minimum():
    out = run(lambda a: (rich(a), a.update(requested_amount="499.99")))
    assert codes(out) == {"amount_below_minimum"}
    assert out["grounds"][0]["figures"] == {"requested_amount": "499.99", "min_loan_amount": "500.00"}


def test_r_app_4_total_debt_limit_counts_every_declared_debt_not_the_requested_loan():
    """2400.00 + 600.00 = 3000.00 is not above 3000.00; + 0.01 is."""
    def debts(extra):
        return lambda a: (rich(a), a.update(debts=[
            {"amount": "2400.00", "monthly_payment": "0.00", "paid_off_by_loan": True},
            {"amount": extra, "monthly_payment": "0.00", "paid_off_by_loan": True}]))
    assert codes(run(debts("600.00"))) == set()
    out = run(debts("600.01"))
    assert codes(out) == {"total_debt_limit"}
    assert out["grounds"][0]["figures"] == {"total_debt": "3000.01", "max_total_debt_of_applicant": "3000.00"}


def test_r_app_4_open_loan():
    out = run(lambda a: (rich(a), a.update(open_social_loans=1)))
    assert codes(out) == {"open_loan"}
    assert codes(run(lambda a: (rich(a), a.update(open_social_loans=1)), one_open_loan_per_borrower=False)) == set()


def test_r_app_4_not_resident_only_when_both_the_home_and_the_area_are_known():
    area = ["Lappeenranta", "Imatra"]
    away = run(lambda a: (rich(a), a.update(home_municipality="Kouvola")), municipalities=area)
    assert codes(away) == {"not_resident"}
    assert codes(run(lambda a: (rich(a), a.update(home_municipality="imatra")), municipalities=area)) == set()
    assert codes(run(lambda a: (rich(a), a.update(home_municipality="Kouvola")))) == set()
    assert codes(run(rich, municipalities=area)) == set()


def test_r_app_4_can_save_when_capacity_times_saving_months_reaches_the_amount():
    """Capacity 1760.00 − 650.00 − 560.00 = 550.00 (2400.00 → 5 months of 480.00); 550.00 × 4 =
    2200.00 < 2400.00; 550.00 × 5 = 2750.00 ≥ 2400.00."""
    edit = incomes({"kind": "salary", "amount": "1760.00"})
    assert codes(run(edit, saving_months=4)) == set()
    out = run(edit, saving_months=5)
    assert codes(out) == {"can_save"}
    assert out["grounds"][0]["figures"] == {"capacity": "550.00", "saving_months": 5, "savings": "2750.00",
                                            "requested_amount": "2400.00"}
    assert codes(run(edit)) == set()  # no saving_months in the policy: no can_save


def test_r_app_4_can_save_boundary_exactly_equal():
    """200.00 × 12 = 2400.00 ≥ 2400.00."""
    assert "can_save" in codes(run(incomes({"kind": "salary", "amount": "1410.00"}), saving_months=12))


def test_r_app_4_unsettled_debts_remain_only_when_some_are_paid_off_and_some_not():
    paid = {"amount": "1000.00", "monthly_payment": "100.00", "paid_off_by_loan": True}
    left = {"amount": "500.00", "monthly_payment": "20.00", "paid_off_by_loan": False}
    out = run(lambda a: (rich(a), a.update(debts=[paid, left])))
    assert codes(out) == {"unsettled_debts_remain"}
    assert out["grounds"][0]["figures"] == {"debts_paid_off": 1, "paid_off_amount": "1000.00",
                                            "debts_remaining": 1, "remaining_amount": "500.00"}
    assert codes(run(lambda a: (rich(a), a.update(debts=[paid])))) == set()
    assert codes(run(lambda a: (rich(a), a.update(debts=[left])))) == set()


def test_r_app_4_debt_adjustment_ongoing():
    assert codes(run(lambda a: (rich(a), a.update(debt_adjustment_ongoing=True)))) == {"debt_adjustment_ongoing"}


def test_r_app_4_several_grounds_together():
    """Capacity −210.00, 3500.00 requested, an open loan and debt adjustment ongoing."""
    def edit(a):
        a.update(requested_amount="3500.00", open_social_loans=1, debt_adjustment_ongoing=True)
        a["incomes"] = [{"kind": "salary", "amount": "1000.00"}]
    assert codes(run(edit)) == {"no_payment_capacity", "amount_above_maximum", "open_loan", "debt_adjustment_ongoing"}


# --- interest (R-INT via domain/interest.py) -------------------------------------------------------------


def test_r_int_interest_bearing_plan_with_a_fixed_rate():
    """1200.00 at a fixed 2.00 % (the reference rate is 2.00 %), granted 2 Mar 2026 (as assessed),
    capacity 1412.00 − 650.00 − 560.00 = 202.00. Interest of instalment 1: 39 days (3 Mar … 10 Apr)
    on 1200.00: 1200.00 × 2 % × 39 / 365 = 2.564 → 2.56. Six months: 200.00 + 2.56 = 202.56 > 202.00.
    Seven: 1200.00/7 = 171.42 (last 1200.00 − 6 × 171.42 = 171.48); instalment 1 = 171.42 + 2.56
    = 173.98 (the largest); the last: 30 days (11 Sep … 10 Oct) on 171.48 = 0.28 → 171.76."""
    def edit(a):
        a["requested_amount"] = "1200.00"
        a["incomes"] = [{"kind": "salary", "amount": "1412.00"}]
        a["interest"] = {"kind": "fixed", "rate": "2.00"}
    out = run(edit)
    plan = out["plan"]
    assert (plan["term_months"], plan["instalment_amount"], plan["largest_instalment"]) == (7, "171.42", "173.98")
    assert plan["instalments"][0] == {"instalment": 1, "due_date": "2026-04-10", "principal": "171.42",
                                      "interest": "2.56", "amount": "173.98"}
    assert plan["instalments"][-1]["interest"] == "0.28" and plan["instalments"][-1]["amount"] == "171.76"
    assert plan["interest"] == {"kind": "fixed", "rate": "2.00"}


def test_r_int_1_interest_null_takes_the_policys_default_terms():
    """The organiser charges the reference rate (2.00 %): the fixed-rate example's figures again."""
    def edit(a):
        a["requested_amount"] = "1200.00"
        a["incomes"] = [{"kind": "salary", "amount": "1412.00"}]
    plan = run(edit, regular_interest={"kind": "reference", "margin": "0.00"})["plan"]
    assert (plan["term_months"], plan["largest_instalment"]) == (7, "173.98")
    assert plan["interest"] == {"kind": "reference", "margin": "0.00"}
    assert run(edit)["plan"]["term_months"] == 6  # interest-free: 200.00 ≤ 202.00


def test_r_int_1_a_fixed_rate_above_the_reference_rate_is_refused():
    with pytest.raises(DomainError) as caught:
        run(lambda a: a.update(interest={"kind": "fixed", "rate": "2.01"}))
    assert (caught.value.code, caught.value.field) == ("limit_exceeded", "application.interest.rate")


# --- input -------------------------------------------------------------------------------------------------


def test_r_app_2_without_a_norm_the_assessment_names_policy_living_cost_norm():
    with pytest.raises(DomainError) as caught:
        assess(parse_application(copy.deepcopy(BASE)), make_policy("etela-karjala"), RATES, ON)
    assert caught.value.field == "policy.living_cost_norm"


@pytest.mark.parametrize(("edit", "field"), [
    (lambda a: a.update(extra=1), "application.extra"),
    (lambda a: a.update(requested_amount=2400), "application.requested_amount"),
    (lambda a: a.update(requested_amount="24.001"), "application.requested_amount"),
    (lambda a: a.update(first_due_date="2026-02-30"), "application.first_due_date"),
    (lambda a: a["incomes"][0].update(to="2026-13"), "application.incomes[0].to"),
    (lambda a: a["incomes"][0].update({"from": "2026-5"}), "application.incomes[0].from"),
    (lambda a: a["incomes"][0].update({"from": "2026-06", "to": "2026-05"}), "application.incomes[0].to"),
    (lambda a: a["expenses"][1].update(amount=30.0), "application.expenses[1].amount"),
    (lambda a: a["household"].update(adults=0), "application.household.adults"),
    (lambda a: a["household"].update(children=[{"born": "2015-02-29"}]), "application.household.children[0].born"),
    (lambda a: a["household"].update(pets=1), "application.household.pets"),
    (lambda a: a.update(debts=[{"amount": "1.00", "paid_off_by_loan": "yes"}]),
     "application.debts[0].paid_off_by_loan"),
    (lambda a: a.pop("applicant"), "application.applicant"),
    (lambda a: a.update(requested_instalment="100.00", requested_term_months=12), "application.requested_term_months"),
    (lambda a: a.update(requested_term_months=0), "application.requested_term_months"),
    (lambda a: a.update(interest={"kind": "monthly"}), "application.interest.kind"),
    (lambda a: a.update(first_due_date="9999-11-10"), "application.first_due_date"),
])
def test_r_app_1_invalid_facts_are_refused_naming_the_field(edit, field):
    with pytest.raises(DomainError) as caught:
        run(edit)
    assert caught.value.field == field


# --- properties ----------------------------------------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=400_000).map(lambda c: f"{c // 100}.{c % 100:02d}")
months = st.integers(min_value=0, max_value=71).map(lambda k: f"{2026 + (3 + k) // 12}-{(3 + k) % 12 + 1:02d}")
items = st.lists(st.fixed_dictionaries({"amount": amounts}, optional={"from": months, "to": months}), max_size=4) \
    .map(lambda xs: [x if x.get("from", "") <= x.get("to", "9999") else {"amount": x["amount"]} for x in xs])
births = st.dates(min_value=dt.date(2006, 1, 1), max_value=dt.date(2027, 12, 31)).map(lambda d: {"born": d.isoformat()})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(incomes_=items, expenses=items, children=st.lists(births, max_size=3),
       requested=st.integers(min_value=50_000, max_value=330_000), fixed=st.booleans())
def test_r_app_3_property_the_proposed_term_is_the_shortest_that_fits(incomes_, expenses, children, requested, fixed):
    """The proposed plan fits and the plan one month shorter does not; with no plan, no term up to
    max_term_months fits; the minimum is the lowest month shown; the plan adds up to the amount."""
    def edit(a):
        a.update(incomes=incomes_, expenses=expenses, requested_amount=f"{requested // 100}.{requested % 100:02d}")
        a["household"]["children"] = children
        if fixed:
            a["interest"] = {"kind": "fixed", "rate": "1.50"}
    out = run(edit)
    cents = [int(m["amount"].replace(".", "")) for m in out["capacity"]["by_month"]]
    assert int(out["capacity"]["minimum"].replace(".", "")) == min(cents)
    plan = out["plan"]

    def fits(n):
        shorter = run(lambda a: (edit(a), a.update(requested_term_months=n)))
        return shorter["plan"]["fits"]
    if plan is None:
        assert len(cents) == 60 and not any(fits(n) for n in range(1, 61))
        return
    assert plan["fits"] and int(plan["largest_instalment"].replace(".", "")) <= min(cents)
    assert sum(int(i["principal"].replace(".", "")) for i in plan["instalments"]) == requested
    assert not any(fits(n) for n in range(1, plan["term_months"]))  # one month shorter (or less) never fits


json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True) |
                           st.text(max_size=12) | st.sampled_from(["2026-05", "0000-01", "9999-12", "1.00", "0.00",
                                                                    "999999999999.99", "2026-04-10", "0001-01-01",
                                                                    "9999-12-31"]) |
                           st.sampled_from([{"kind": "fixed", "rate": "1.00"}, {"kind": "reference", "margin": "-0.50"},
                                            [{"born": "0001-01-01"}, {"born": "9999-12-31"}],
                                            [{"amount": "1.00", "from": "0000-01", "to": "9999-12"}]]),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                        max_size=3), max_leaves=6)
paths = st.sampled_from([("requested_amount",), ("first_due_date",), ("household",), ("household", "adults"),
                         ("household", "children"), ("incomes",), ("expenses",), ("debts",), ("assets",),
                         ("interest",), ("requested_instalment",), ("requested_term_months",),
                         ("open_social_loans",), ("home_municipality",), ("applicant",), ("co_applicant",)])


@settings(max_examples=300, deadline=None)
@given(changes=st.lists(st.tuples(paths, json_values), min_size=1, max_size=3),
       on=st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_r_app_1_property_any_json_is_assessed_or_refused_naming_a_field(changes, on):
    """Never an exception other than a refusal (which becomes a 422 or exit 2) for any facts."""
    raw = copy.deepcopy(BASE)
    for path, value in changes:
        target = raw
        for key in path[:-1]:
            target = target if not isinstance(target.get(key), dict) else target[key]
        target[path[-1]] = value
    try:
        assess(parse_application(raw), policy(), RATES, on)
    except DomainError as e:
        assert e.field
