"""Money rules: R-MONEY-1 (decimal strings, integer cents, refusals) and R-MONEY-2 (half-up rounding)."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.money import divide_half_up, format_cents, parse_amount, round_half_up


def refused(value, field="amount", **kwargs) -> DomainError:
    """Parse `value` expecting a refusal; return the error for further checks."""
    with pytest.raises(DomainError) as caught:
        parse_amount(value, field, **kwargs)
    return caught.value


# --- R-MONEY-1: accepted input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("123.45", 12345),
        ("0.01", 1),  # smallest positive amount
        ("1.00", 100),
        ("10.10", 1010),
        ("5000.00", 500000),
        ("999999999999.99", 99999999999999),  # large amounts stay exact (a float would not)
    ],
)
def test_r_money_1_decimal_string_becomes_integer_cents(text, cents):
    result = parse_amount(text, "amount")
    assert result == cents
    assert type(result) is int  # never float, never Decimal


def test_r_money_1_zero_allowed_only_when_not_required_positive():
    # Non-payment fields (e.g. a policy figure) may be zero when positive=False.
    assert parse_amount("0.00", "amount", positive=False) == 0


@given(st.integers(min_value=1, max_value=10**14 - 1))
def test_r_money_1_format_and_parse_round_trip(cents):
    text = format_cents(cents)
    assert text.count(".") == 1 and len(text.split(".")[1]) == 2  # exactly two decimals out
    assert parse_amount(text, "amount") == cents


def test_r_money_1_format_cents_two_decimals():
    assert format_cents(0) == "0.00"
    assert format_cents(5) == "0.05"
    assert format_cents(12345) == "123.45"
    assert format_cents(-12345) == "-123.45"


# --- R-MONEY-1: refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [123, 123.45, 0.1, 100.0, True, False, None, ["1.00"], {"amount": "1.00"}],
    ids=["int", "float", "float-0.1", "float-whole", "true", "false", "null", "list", "object"],
)
def test_r_money_1_non_string_refused(value):
    # JSON numbers (int/float) and booleans are refused: a float may already have lost the cent.
    error = refused(value, field="payment.amount")
    assert error.code == "invalid_request"
    assert error.field == "payment.amount"
    assert "payment.amount" in error.message


@pytest.mark.parametrize("text", ["1.234", "0.001", "100.000", "123.456"])
def test_r_money_1_more_than_two_decimals_refused(text):
    error = refused(text)
    assert error.code == "invalid_request"
    assert error.field == "amount"


@pytest.mark.parametrize("text", ["-1.00", "-0.01", "-100"])
def test_r_money_1_negative_refused(text):
    error = refused(text)
    assert error.code == "invalid_request"
    assert error.field == "amount"


@pytest.mark.parametrize("text", ["-1.00", "-0.01"])
def test_r_money_1_negative_refused_even_when_zero_allowed(text):
    assert refused(text, positive=False).code == "invalid_request"


@pytest.mark.parametrize("text", ["0.00", "0", "0.0"])
def test_r_money_1_zero_payment_refused(text):
    error = refused(text, field="amount")
    assert error.code == "invalid_request"
    assert error.field == "amount"
    assert "amount" in error.message


@pytest.mark.parametrize(
    "text",
    ["", "abc", "1,00", "1 000.00", " 1.00", "1.00 ", "1e2", "NaN", "Infinity", "12.3.4", "€1.00"],
)
def test_r_money_1_non_numeric_string_refused(text):
    error = refused(text, field="instalment_amount")
    assert error.code == "invalid_request"
    assert error.field == "instalment_amount"
    assert "instalment_amount" in error.message


def test_r_money_1_error_carries_rule_id():
    error = refused(1.5, field="amount")
    assert error.rule == "R-MONEY-1"
    assert error.as_dict()["code"] == "invalid_request"
    assert error.as_dict()["field"] == "amount"


# --- R-MONEY-2: ROUND_HALF_UP to the cent ------------------------------------------------------


@pytest.mark.parametrize(
    ("exact_cents", "rounded"),
    [
        ("2.5", 3),  # half goes up (banker's rounding would give 2)
        ("0.5", 1),  # banker's rounding would give 0
        ("3.5", 4),
        ("2.4999", 2),  # just below half goes down
        ("2.5001", 3),
        ("2.0", 2),
        ("-2.5", -3),  # half away from zero
        ("-2.4", -2),
    ],
)
def test_r_money_2_round_half_up(exact_cents, rounded):
    assert round_half_up(Decimal(exact_cents)) == rounded


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 2, 3), (7, 2, 4), (5, 4, 1), (7, 4, 2), (6, 4, 2), (1, 3, 0), (2, 3, 1), (0, 7, 0)],
)
def test_r_money_2_divide_half_up(numerator, denominator, expected):
    # 5/2 = 2.5 -> 3; 5/4 = 1.25 -> 1; 7/4 = 1.75 -> 2; 6/4 = 1.5 -> 2; 2/3 = 0.67 -> 1
    assert divide_half_up(numerator, denominator) == expected
