"""Reference rates (R-PEN-4) and the statutory penalty rate (R-PEN-1), in exact integer units.

Rates are held in ten-thousandths of a percent so that penalty interest can be accrued
exactly with integers (R-PEN-3) and rounded once.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property
from importlib import resources

from domain.dates import Date, parse_date
from domain.errors import invalid

RATE_UNIT = 10_000  # units per percentage point
PENALTY_MARGIN = 7 * RATE_UNIT  # Interest Act §4: reference rate + 7 percentage points
# Per-day accrual of `cents` at `units`: cents * units / DENOMINATOR (Actual/365 fixed, R-PEN-3).
DENOMINATOR = 100 * RATE_UNIT * 365


@dataclass(frozen=True)
class ReferenceRate:
    starts: Date
    rate: Decimal  # percent
    source: str = ""

    @property
    def units(self) -> int:
        return int(self.rate * RATE_UNIT)


class MissingRate(Exception):
    pass


@dataclass(frozen=True)
class ReferenceRates:
    """A table of half-year reference rates; a day's rate is the latest entry starting on or before it."""

    entries: tuple[ReferenceRate, ...]

    def __post_init__(self):
        object.__setattr__(self, "entries", tuple(sorted(self.entries, key=lambda e: e.starts)))

    def reference_on(self, day: Date) -> Decimal:
        """The reference rate in force on a day, in percent."""
        return self._entry(day).rate

    def penalty_units(self, day: Date) -> int:
        return self._entry(day).units + PENALTY_MARGIN

    def _entry(self, day: Date) -> ReferenceRate:
        found = None
        for entry in self.entries:
            if entry.starts <= day:
                found = entry
            else:
                break
        if found is None:
            raise MissingRate(f"R-PEN-4: no reference rate is known for {day.isoformat()}")
        return found

    def __hash__(self) -> int:
        return self._hash

    @cached_property
    def _hash(self) -> int:
        # Once per table: every interest figure looks its rate table up by (terms, rates)
        # (domain.interest._RateTable.of), and hashing the entries each time was half a daily run.
        return hash(self.entries)

    def __getstate__(self) -> dict:
        # Not the cached hash: a string's hash differs from process to process.
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    @cached_property
    def _segments(self) -> tuple[tuple[int, int, int], ...]:
        """(first day ordinal, units per day, cumulative units before that day) per entry."""
        out, total = [], 0
        for i, entry in enumerate(self.entries):
            start = entry.starts.toordinal()
            out.append((start, entry.units + PENALTY_MARGIN, total))
            if i + 1 < len(self.entries):
                total += (self.entries[i + 1].starts.toordinal() - start) * (entry.units + PENALTY_MARGIN)
        return tuple(out)

    def _cumulative(self, ordinal: int) -> int:
        """Sum of the penalty rate units of every day from the table's start up to and including `ordinal`."""
        segments = self._segments
        if ordinal < segments[0][0]:
            return 0
        lo, hi = 0, len(segments) - 1
        while lo < hi:  # the last segment starting on or before ordinal
            mid = (lo + hi + 1) // 2
            if segments[mid][0] <= ordinal:
                lo = mid
            else:
                hi = mid - 1
        start, units, before = segments[lo]
        return before + (ordinal - start + 1) * units

    def rate_days(self, after: Date, through: Date) -> int:
        """Σ penalty rate units of the days after `after` up to and including `through` (R-PEN-2)."""
        if through <= after:
            return 0
        first_needed = after.toordinal() + 1
        if not self.entries or first_needed < self._segments[0][0]:
            raise MissingRate(f"R-PEN-4: no reference rate is known for {dt.date.fromordinal(first_needed)}")
        return self._cumulative(through.toordinal()) - self._cumulative(after.toordinal())

    def periods(self, after: Date, through: Date) -> list[tuple[int, int]]:
        """The days after `after` up to and including `through`, as (days, reference rate units) per
        half-year entry: what a day count by rate needs (R-INT-2)."""
        if through <= after:
            return []
        if not self.entries or after + dt.timedelta(days=1) < self.entries[0].starts:
            raise MissingRate(f"R-PEN-4: no reference rate is known for {after + dt.timedelta(days=1)}")
        out, day = [], after
        for i, entry in enumerate(self.entries):
            end = self.entries[i + 1].starts - dt.timedelta(days=1) if i + 1 < len(self.entries) else through
            if end <= day:
                continue
            stop = min(end, through)
            out.append(((stop - day).days, entry.units))
            day = stop
            if day >= through:
                break
        return out

    def to_json(self) -> list[dict]:
        return [{"from": e.starts.isoformat(), "rate": str(e.rate), "source": e.source} for e in self.entries]

    @classmethod
    def from_json(cls, rows: list, field: str = "reference_rates", source: str = "") -> "ReferenceRates":
        if not isinstance(rows, list) or not rows:
            raise invalid(f"{field} must be a non-empty list of {{from, rate}}", rule="R-PEN-4", field=field)
        entries = []
        for i, row in enumerate(rows):
            where = f"{field}[{i}]"
            if not isinstance(row, dict):
                raise invalid(f"{where} must be an object with from and rate", rule="R-PEN-4", field=where)
            starts = parse_date(row.get("from"), f"{where}.from")
            raw = row.get("rate")
            try:
                rate = Decimal(raw) if isinstance(raw, str) else None
            except InvalidOperation:
                rate = None
            if rate is None or not rate.is_finite() or rate < 0 or rate != rate.quantize(Decimal("0.0001")):
                raise invalid(f"{where}.rate must be a percentage as a decimal string, got {raw!r}",
                              rule="R-PEN-4", field=f"{where}.rate")
            entries.append(ReferenceRate(starts, rate, str(row.get("source") or row.get("derived") or source)))
        return cls(tuple(entries))


def shipped_rates() -> ReferenceRates:
    data = json.loads(resources.files("domain").joinpath("data/reference_rates.json").read_text())
    return ReferenceRates.from_json(data["rates"], source=data["source"])
