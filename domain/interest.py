"""Regular interest (Act §6(3), rule book section 7a): the loan's terms and the rate on a day.

Rates are in ten-thousandths of a percent (domain.rates RATE_UNIT) and interest is accrued
exactly as an integer numerator over DENOMINATOR (Actual/365, R-INT-2, as R-PEN-3), rounded
half-up once where the rules say (R-INT-3).
"""
from __future__ import annotations

import bisect
from datetime import timedelta
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from domain.dates import Date
from domain.errors import DomainError, invalid
from domain.money import Cents, divide_half_up
from domain.rates import DENOMINATOR, RATE_UNIT, MissingRate, ReferenceRates

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
    return base * _RateTable.of(terms, rates).units(after, through)


class _RateTable:
    """Cumulative rate units of `terms` under a reference-rate table, so that the units of any run
    of days are one subtraction (a ledger fold asks for many)."""

    def __init__(self, terms: InterestTerms, rates: ReferenceRates):
        self.starts, self.per_day, self.before = [], [], []
        total = 0
        for i, entry in enumerate(rates.entries):
            start = entry.starts.toordinal()
            self.starts.append(start)
            self.per_day.append(terms.units(entry.units))
            self.before.append(total)
            if i + 1 < len(rates.entries):
                total += (rates.entries[i + 1].starts.toordinal() - start) * self.per_day[-1]

    @staticmethod
    @lru_cache(maxsize=256)
    def of(terms: InterestTerms, rates: ReferenceRates) -> "_RateTable":
        return _RateTable(terms, rates)

    def _cumulative(self, ordinal: int) -> int:
        """Units of every day from the table's first up to and including `ordinal`."""
        i = bisect.bisect_right(self.starts, ordinal) - 1
        return 0 if i < 0 else self.before[i] + (ordinal - self.starts[i] + 1) * self.per_day[i]

    def units(self, after: Date, through: Date) -> int:
        """Units of the days after `after` up to and including `through`."""
        if not self.starts or after.toordinal() + 1 < self.starts[0]:
            raise MissingRate(f"R-PEN-4: no reference rate is known for {Date.fromordinal(after.toordinal() + 1)}")
        return self._cumulative(through.toordinal()) - self._cumulative(after.toordinal())


@dataclass(frozen=True)
class InterestAccrual:
    """A loan's regular interest as the ledger accrues it: its terms, the reference rates, the day
    after which it runs (the grant, or the disbursement, R-INT-2) and the free months' days on
    which nothing accrues (R-INT-6: after the original due date up to and including the new one)."""

    terms: InterestTerms
    rates: ReferenceRates
    starts: Date
    free: tuple[tuple[Date, Date], ...] = ()

    def numerator(self, base: Cents, after: Date, through: Date) -> int:
        whole = numerator(self.terms, self.rates, base, after, through)
        for free_after, free_through in self.free:
            lo, hi = max(after, free_after), min(through, free_through)
            if lo < hi:
                whole -= numerator(self.terms, self.rates, base, lo, hi)
        return whole


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


PENALTY_LEGAL_BASIS = Date(2023, 8, 1)  # Act §6(4) (956/2022) in force: R-PEN-6


def penalty_basis(policy, granted_on: Date, agreed_on: Date | None,
                  rates: ReferenceRates) -> tuple[ReferenceRates | None, Date | None]:
    """R-PEN-6: (the rates penalty interest accrues at, or None for none; the last day on which none
    accrues yet). No penalty interest for a day before 1 Aug 2023; a contract made before that day
    accrues it only from an amendment that added the term; an organiser may switch it off."""
    if not policy.penalty_interest:
        return None, None
    floor = PENALTY_LEGAL_BASIS - timedelta(days=1)
    if granted_on < PENALTY_LEGAL_BASIS:
        if agreed_on is None:
            return None, None
        floor = max(floor, agreed_on - timedelta(days=1))
    return rates, floor
