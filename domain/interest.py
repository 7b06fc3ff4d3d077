"""Regular interest (Act §6(3), rule book section 7a): the loan's terms and the rate on a day.

Rates are in ten-thousandths of a percent (domain.rates RATE_UNIT) and interest is accrued
exactly as an integer numerator over DENOMINATOR (Actual/365, R-INT-2, as R-PEN-3), rounded
half-up once where the rules say (R-INT-3).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from domain.dates import Date
from domain.errors import DomainError, invalid
from domain.money import Cents, divide_half_up
from domain.rates import DENOMINATOR, RATE_UNIT, ReferenceRates

KINDS = ("none", "fixed", "reference")


@dataclass(frozen=True)
class InterestTerms:
    """R-INT-1: `none`, a fixed annual rate (capped by the reference rate every day), or the
    reference rate plus a margin ≤ 0 (never below zero)."""

    kind: str = "none"
    rate: Decimal | None = None  # fixed: percent a year
    margin: Decimal = Decimal(0)  # reference: percentage points, ≤ 0

    @property
    def charged(self) -> bool:
        return self.kind != "none"

    def units(self, reference_units: int) -> int:
        """The annual rate in RATE_UNITs on a day whose reference rate is `reference_units`."""
        if self.kind == "fixed":
            return min(int(self.rate * RATE_UNIT), reference_units)
        if self.kind == "reference":
            return max(0, reference_units + int(self.margin * RATE_UNIT))
        return 0

    def to_json(self) -> dict | None:
        if self.kind == "fixed":
            return {"kind": "fixed", "rate": str(self.rate)}
        if self.kind == "reference":
            return {"kind": "reference", "margin": str(self.margin)}
        return None

    @classmethod
    def from_json(cls, data: dict | None, field: str = "interest") -> "InterestTerms":
        """Validated terms from `null`, {"kind": "none"}, {"kind": "fixed", "rate": "2.50"} or
        {"kind": "reference", "margin": "-0.50"}; rates with at most two decimals."""
        if data is None:
            return cls()
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            raise invalid(f"{field}.kind must be one of {', '.join(KINDS)}, got {data!r}", rule="R-INT-1",
                          field=f"{field}.kind")
        kind = data["kind"]
        allowed = {"none": {"kind"}, "fixed": {"kind", "rate"}, "reference": {"kind", "margin"}}[kind]
        for key in data:
            if key not in allowed:
                raise invalid(f"{field}.{key}: unknown field for interest kind {kind}", rule="R-INT-1",
                              field=f"{field}.{key}")
        if kind == "fixed":
            rate = _percent(data.get("rate"), f"{field}.rate")
            if rate < 0:
                raise invalid(f"{field}.rate must not be negative, got {data.get('rate')!r}", rule="R-INT-1",
                              field=f"{field}.rate")
            return cls("fixed", rate=rate)
        if kind == "reference":
            margin = _percent(data.get("margin", "0.00"), f"{field}.margin")
            if margin > 0:
                raise DomainError("limit_exceeded", f"{field}.margin {margin} would charge more than the reference "
                                  f"rate (Act §6(3) caps interest at the Interest Act §12 reference rate): the "
                                  f"margin must be 0.00 or less", rule="R-INT-1", field=f"{field}.margin")
            return cls("reference", margin=margin)
        return cls()


def _percent(raw: object, field: str) -> Decimal:
    try:
        value = Decimal(raw) if isinstance(raw, str) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise invalid(f"{field} must be a percentage with at most two decimals as a string such as \"2.50\", "
                      f"got {raw!r}", rule="R-INT-1", field=field)
    return value


def check_cap(terms: InterestTerms, granted_on: Date, rates: ReferenceRates, field: str = "interest") -> None:
    """R-INT-1: a fixed rate above the reference rate in force on the grant date is refused."""
    if terms.kind != "fixed":
        return
    cap = rates.reference_on(granted_on)
    if terms.rate > cap:
        raise DomainError("limit_exceeded", f"{field}.rate {terms.rate} % exceeds the reference rate {cap} % in "
                          f"force on {granted_on} (Act §6(3), Interest Act §12)", rule="R-INT-1",
                          field=f"{field}.rate")


def numerator(terms: InterestTerms, rates: ReferenceRates, base: Cents, after: Date, through: Date) -> int:
    """Exact interest on `base` for the days after `after` up to and including `through`, over DENOMINATOR."""
    if not terms.charged or base <= 0 or through <= after:
        return 0
    return base * sum(days * terms.units(ref) for days, ref in rates.periods(after, through))


def on_time_interest_parts(terms: InterestTerms, rates: ReferenceRates, principal: Cents, start: Date,
                           parts: list[tuple[Date, Cents]]) -> list[Cents]:
    """Each instalment's interest part when every instalment is paid on its due date (R-INT-2/3):
    period n runs from the day after the previous due date (for n = 1, after `start`) up to and
    including due date n, on the principal less the principal parts already due and paid."""
    out, base, previous = [], principal, start
    for due, part in parts:
        out.append(divide_half_up(numerator(terms, rates, base, previous, due), DENOMINATOR))
        base, previous = base - part, due
    return out
