"""Issue 13: what a value from outside may look like (domain/values.py), and the grant date's floor."""
from __future__ import annotations

import datetime as dt

import pytest

from domain.errors import DomainError
from domain.loan import Decision, Loan
from domain.policy import make_policy
from domain.rates import shipped_rates
from domain.values import (ACT_IN_FORCE, LATEST_DAY, check_day, check_identifier, check_text, identifier_problem,
                           text_problem)

D = dt.date.fromisoformat
NOON = dt.datetime(2025, 1, 1, 10, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("bad", ["1\x000016", "tab\there", "bell\x07", "del\x7f", "c1\x85", "lone \ud800",
                                 "line\u2028sep", "private \ue000"])
def test_text_with_a_control_character_or_a_lone_surrogate_is_not_printable(bad):
    assert text_problem(bad) is not None
    with pytest.raises(DomainError) as e:
        check_text(bad, "purpose", max_length=200)
    assert e.value.code == "invalid_request" and e.value.field == "purpose"


@pytest.mark.parametrize("good", ["Pesukone", "Mäkinen Åsa", "rent arrears (2025)", "Kotikatu 1\u00a0B", "😀", ""])
def test_printable_unicode_is_text(good):
    assert text_problem(good) is None


def test_multiline_text_may_hold_line_breaks_and_tabs_but_no_other_control():
    assert text_problem("first line\r\n\tsecond", multiline=True) is None
    assert text_problem("nul\x00", multiline=True) is not None


def test_text_longer_than_its_limit_is_refused():
    with pytest.raises(DomainError, match="longer than 10"):
        check_text("x" * 11, "name", max_length=10)


@pytest.mark.parametrize("good", ["L-1", "fuzz-loan", "2025.03:A_1", "a" * 64])
def test_safe_identifiers(good):
    assert identifier_problem(good) is None


@pytest.mark.parametrize("bad", ["", "-L", "..\\evil", 'a"b', "a b", "L/1", "a" * 65, "Ä", "L\x00", "x;rm"])
def test_identifiers_outside_the_safe_alphabet_are_refused(bad):
    with pytest.raises(DomainError) as e:
        check_identifier(bad, "loan_id")
    assert e.value.field == "loan_id"


def test_payment_ids_may_hold_a_slash_as_bank_archive_ids_do():
    assert identifier_problem("20250303-B000/2", payment=True) is None
    assert identifier_problem("20250303-B000/2") is not None


@pytest.mark.parametrize("day", [D("2002-12-31"), D("0001-01-01"), D("9999-12-31"), LATEST_DAY + dt.timedelta(1)])
def test_r_date_1_days_outside_the_served_window_are_refused(day):
    with pytest.raises(DomainError) as e:
        check_day(day, "on")
    assert e.value.rule == "R-DATE-1" and e.value.field == "on"


def test_r_date_1_the_window_runs_from_the_act_to_2199():
    assert check_day(ACT_IN_FORCE, "on") == D("2003-01-01")
    assert check_day(LATEST_DAY, "on") == D("2199-12-31")


def _grant(granted_on: dt.date, first_due: dt.date) -> Loan:
    return Loan.grant(tenant="t", loan_id="L-1", borrower_id="B-1", purpose="rent", principal=120000,
                      granted_on=granted_on, first_due_date=first_due, policy=make_policy("default"),
                      decision=Decision("dm"), recorded_at=NOON, term_months=12)


def test_r_date_1_no_loan_is_granted_before_the_act_came_into_force():
    with pytest.raises(DomainError) as e:
        _grant(D("2002-12-31"), D("2003-01-31"))
    assert (e.value.rule, e.value.field) == ("R-DATE-1", "granted_on")


def test_r_pen_4_a_loan_granted_in_2019_has_balances_from_the_shipped_rates():
    """Issue 13 item 2: a grant dated 2019-06-01 was recorded, then every read of it failed with
    MissingRate (the table started in 2020). Rates now reach back to 2003."""
    loan = _grant(D("2019-06-01"), D("2019-07-01"))
    balance = loan.books(shipped_rates()).balance(D("2021-01-01"))
    assert balance["status"] == "late" and balance["overdue_amount"] == "1200.00"
