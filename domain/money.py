"""Euros as integer cents (R-MONEY-1) with half-up rounding where the rules ask for it (R-MONEY-2)."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from domain.errors import invalid

Cents = int

_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$")


def parse_amount(value: object, field: str, *, positive: bool = True) -> Cents:
    """Parse a decimal string such as "123.45" into cents.

    JSON numbers are refused on purpose: a float may already have lost the cent.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        raise invalid(f"{field} must be a decimal string such as \"123.45\", got {value!r}",
                      rule="R-MONEY-1", field=field)
    if not _AMOUNT.match(value):
        raise invalid(f"{field} must be a non-negative euro amount with at most two decimals, got {value!r}",
                      rule="R-MONEY-1", field=field)
    cents = int(Decimal(value) * 100)
    if positive and cents <= 0:
        raise invalid(f"{field} must be greater than zero, got {value!r}", rule="R-MONEY-1", field=field)
    return cents


def format_cents(cents: Cents) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def round_half_up(value: Decimal) -> Cents:
    """Round an exact amount of cents to a whole cent, half away from zero (R-MONEY-2)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def divide_half_up(numerator: int, denominator: int) -> Cents:
    """Exact integer division rounded half-up, for non-negative operands."""
    return (2 * numerator + denominator) // (2 * denominator)
