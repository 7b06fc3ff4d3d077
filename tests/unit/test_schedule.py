"""Repayment plan (rule book section 5): R-SCHED-1 due dates, R-SCHED-2 amounts, R-SCHED-3 refusals."""
import datetime as dt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.policy import make_policy
from domain.schedule import build_plan, check_plan, describe


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def amounts(plan) -> list[int]:
    return [i.amount for i in plan]


def check(plan, *, granted_on: str, first_due: str, preset: str = "default", overrides: dict | None = None):
    check_plan(plan, granted_on=d(granted_on), first_due_date=d(first_due),
               policy=make_policy(preset, overrides))


def refused_plan(plan, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        check(plan, **kwargs)
    assert caught.value.code == "invalid_request"
    assert caught.value.rule == "R-SCHED-3"
    return caught.value


# --- R-SCHED-1 due dates -------------------------------------------------------------------------


def test_r_sched_1_due_dates_counted_from_first_due_date_not_chained():
    # Chained clamping would give 28 Feb, 28 Mar, 28 Apr...; counted from 31 Jan it keeps month-ends.
    plan = build_plan(130000, d("2025-01-31"), term_months=13)
    assert [i.due_date.isoformat() for i in plan] == [
        "2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31", "2025-06-30", "2025-07-31",
        "2025-08-31", "2025-09-30", "2025-10-31", "2025-11-30", "2025-12-31", "2026-01-31",
    ]


def test_r_sched_1_leap_year_february():
    plan = build_plan(30000, d("2024-01-30"), term_months=3)
    assert [i.due_date for i in plan] == [d("2024-01-30"), d("2024-02-29"), d("2024-03-30")]


def test_r_sched_1_instalments_numbered_1_to_n():
    plan = build_plan(100000, d("2025-02-10"), instalment_amount=30000)
    assert [i.number for i in plan] == [1, 2, 3, 4]
    assert [i.due_date for i in plan] == [d("2025-02-10"), d("2025-03-10"), d("2025-04-10"), d("2025-05-10")]


def test_r_date_4_instalment_deadline_is_next_banking_day():
    # 31 May 2025 is a Saturday: on time until Monday 2 June (R-DATE-4).
    plan = build_plan(20000, d("2025-05-31"), term_months=2)
    assert plan[0].deadline == d("2025-06-02")
    assert plan[1].deadline == d("2025-06-30")  # Monday, a banking day
    assert describe(plan)[0] == {"instalment": 1, "due_date": "2025-05-31", "deadline": "2025-06-02",
                                 "amount": "100.00"}


# --- R-SCHED-2 amounts -------------------------------------------------------------------------


def test_r_sched_2_instalment_amount_last_is_smaller_remainder():
    # 1000.00 at 300.00 a month: 300 + 300 + 300 + 100
    assert amounts(build_plan(100000, d("2025-02-10"), instalment_amount=30000)) == [30000, 30000, 30000, 10000]


def test_r_sched_2_instalment_amount_exact_division_has_no_zero_instalment():
    assert amounts(build_plan(90000, d("2025-02-10"), instalment_amount=30000)) == [30000, 30000, 30000]


def test_r_sched_2_instalment_amount_remainder_of_one_cent():
    assert amounts(build_plan(90001, d("2025-02-10"), instalment_amount=30000)) == [30000, 30000, 30000, 1]


def test_r_sched_2_instalment_amount_larger_than_principal_is_one_instalment():
    assert amounts(build_plan(10000, d("2025-02-10"), instalment_amount=30000)) == [10000]


@given(each=st.integers(min_value=1, max_value=500_000), full=st.integers(min_value=0, max_value=120),
       rest=st.integers(min_value=0, max_value=499_999))
def test_r_sched_2_instalment_amount_property(each, full, rest):
    principal = each * full + rest % each
    assume(principal > 0)
    plan = amounts(build_plan(principal, d("2025-02-10"), instalment_amount=each))
    assert len(plan) == full + (1 if rest % each else 0)
    assert sum(plan) == principal
    assert all(a == each for a in plan[:-1])
    assert 0 < plan[-1] <= each  # the remainder is never larger than the others


@pytest.mark.parametrize(
    ("principal", "term", "expected"),
    [
        (100000, 3, [33333, 33333, 33334]),  # 1000.00 / 3 = 333.33 rounded down; last takes the rest
        (10000, 3, [3333, 3333, 3334]),
        (100, 7, [14, 14, 14, 14, 14, 14, 16]),  # 1.00 / 7 = 0.14; last 1.00 - 0.84 = 0.16
        (120000, 12, [10000] * 12),
        (50000, 1, [50000]),
    ],
)
def test_r_sched_2_term_months(principal, term, expected):
    assert amounts(build_plan(principal, d("2025-02-10"), term_months=term)) == expected


@given(principal=st.integers(min_value=60, max_value=10_000_000), term=st.integers(min_value=1, max_value=60))
def test_r_sched_2_term_months_property(principal, term):
    plan = amounts(build_plan(principal, d("2025-02-10"), term_months=term))
    assert len(plan) == term
    assert sum(plan) == principal
    assert all(a == principal // term for a in plan[:-1])  # rounded down to the cent


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"instalment_amount": 10000, "term_months": 3}, {"instalment_amount": 0}, {"instalment_amount": -100},
     {"term_months": 0}, {"term_months": 4}],  # 0.03 over 4 months leaves instalments of 0.00
)
def test_r_sched_2_invalid_plan_shape_refused(kwargs):
    with pytest.raises(DomainError) as caught:
        build_plan(3, d("2025-02-10"), **kwargs)
    assert caught.value.code == "invalid_request"
    assert caught.value.rule == "R-SCHED-2"


# --- R-SCHED-3 refusals -----------------------------------------------------------------------


def test_r_sched_3_plan_of_max_term_months_allowed():
    check(build_plan(6000, d("2025-02-10"), instalment_amount=100), granted_on="2025-01-15", first_due="2025-02-10")


def test_r_sched_3_plan_longer_than_max_term_months_refused():
    plan = build_plan(6001, d("2025-02-10"), instalment_amount=100)  # 60 × 1.00 + 0.01 = 61 instalments
    assert len(plan) == 61
    error = refused_plan(plan, granted_on="2025-01-15", first_due="2025-02-10")
    # section 3: the error names the limit, its value and the figure that broke it
    assert "max_term_months" in error.message and "60" in error.message and "61" in error.message


def test_r_sched_3_max_term_months_override():
    plan = build_plan(130000, d("2025-02-10"), term_months=13)
    check(plan, granted_on="2025-01-15", first_due="2025-02-10", overrides={"max_term_months": 13})
    error = refused_plan(plan, granted_on="2025-01-15", first_due="2025-02-10", overrides={"max_term_months": 12})
    assert "12" in error.message and "13" in error.message


@pytest.mark.parametrize(
    ("granted", "latest_allowed", "first_refused"),
    [
        ("2025-01-15", "2025-04-15", "2025-04-16"),
        ("2025-01-31", "2025-04-30", "2025-05-01"),  # 3 months after 31 Jan is 30 Apr (R-DATE-2)
        ("2024-11-30", "2025-02-28", "2025-03-01"),
        ("2025-10-20", "2026-01-20", "2026-01-21"),  # across a year end
    ],
)
def test_r_sched_3_first_due_date_at_most_3_months_after_grant(granted, latest_allowed, first_refused):
    plan_ok = build_plan(30000, d(latest_allowed), term_months=3)
    check(plan_ok, granted_on=granted, first_due=latest_allowed)  # exactly 3 months: allowed
    plan_late = build_plan(30000, d(first_refused), term_months=3)
    error = refused_plan(plan_late, granted_on=granted, first_due=first_refused)
    assert error.field == "first_due_date"


def test_r_sched_3_first_due_date_soon_after_grant_allowed():
    check(build_plan(30000, d("2025-01-16"), term_months=3), granted_on="2025-01-15", first_due="2025-01-16")


def test_r_sched_3_kittila_first_due_date_on_the_10th_allowed():
    plan = build_plan(30000, d("2025-02-10"), term_months=3)
    check(plan, granted_on="2025-01-15", first_due="2025-02-10", preset="kittila")


@pytest.mark.parametrize("first_due", ["2025-02-09", "2025-02-11", "2025-02-28", "2025-03-01"])
def test_r_sched_3_kittila_first_due_date_not_on_the_10th_refused(first_due):
    plan = build_plan(30000, d(first_due), term_months=3)
    error = refused_plan(plan, granted_on="2025-01-15", first_due=first_due, preset="kittila")
    assert error.field == "first_due_date"
    assert "10" in error.message


def test_r_sched_3_default_policy_takes_due_day_from_the_loan():
    # due_day "from the loan's first due date": any day is fine under the default and etela-karjala presets.
    plan = build_plan(30000, d("2025-02-11"), term_months=3)
    check(plan, granted_on="2025-01-15", first_due="2025-02-11")
    check(plan, granted_on="2025-01-15", first_due="2025-02-11", preset="etela-karjala")


def test_r_sched_3_kittila_max_term_months_60():
    plan = build_plan(6100, d("2025-02-10"), instalment_amount=100)  # 61 instalments
    error = refused_plan(plan, granted_on="2025-01-15", first_due="2025-02-10", preset="kittila")
    assert "max_term_months" in error.message
