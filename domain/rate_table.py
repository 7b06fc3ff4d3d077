"""Reference rates as data (R-PEN-4): the half-year rates an administrator records, with their source.

One aggregate for the whole installation (the Interest Act §12 rate is national). The rates in
force are the shipped table (domain/data/reference_rates.json) with the recorded ones over it;
a replay as known at an instant uses the recorded rates known then (only the events recorded up to
it), so a calculation is never changed afterwards by a rate that was not known when it was made.
"""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation

from eventsourcing.domain import Aggregate

from domain.errors import invalid
from domain.rates import ReferenceRate, ReferenceRates

RATE_TABLE_ID = uuid.uuid5(uuid.UUID("0b7d8a4e-5f0c-4b8e-8c1e-6a7f0d9e2b31"), "reference-rates")


class RateTable(Aggregate):
    class Opened(Aggregate.Created):
        pass

    class RateRecorded(Aggregate.Event):
        starts: dt.date
        rate: str
        source: str
        recorded_by: str
        correction_reason: str | None

        def apply(self, table: "RateTable") -> None:
            table.rates = {**table.rates, self.starts.isoformat(): {"rate": self.rate, "source": self.source}}

    def __init__(self) -> None:
        self.rates: dict[str, dict] = {}

    @classmethod
    def open(cls) -> "RateTable":
        return cls._create(cls.Opened, id=RATE_TABLE_ID)

    def record(self, *, starts: dt.date, rate: str, source: str, recorded_by: str,
               correction_reason: str | None = None) -> bool:
        """R-PEN-4: a half-year's rate from its published source; False when already recorded as given.
        A different rate for a half-year already recorded is a correction and needs its reason."""
        if (starts.month, starts.day) not in ((1, 1), (7, 1)):
            raise invalid(f"from must be the first day of a half-year (1 January or 1 July), got {starts}",
                          rule="R-PEN-4", field="from")
        value = parse_rate(rate)
        if not source.strip():
            raise invalid("source must name where the rate was published", rule="R-PEN-4", field="source")
        known = self.rates.get(starts.isoformat())
        if known is not None and Decimal(known["rate"]) == value:
            return False
        if known is not None and not correction_reason:
            raise invalid(f"the rate from {starts} is recorded as {known['rate']} %; give correction_reason to "
                          f"correct it", rule="R-PEN-4", field="correction_reason")
        self.trigger_event(self.RateRecorded, starts=starts, rate=str(value), source=source,
                           recorded_by=recorded_by, correction_reason=correction_reason)
        return True

    def over(self, shipped: ReferenceRates) -> ReferenceRates:
        """The shipped table with the recorded rates over it."""
        entries = {e.starts: e for e in shipped.entries}
        for starts, row in self.rates.items():
            day = dt.date.fromisoformat(starts)
            entries[day] = ReferenceRate(day, Decimal(row["rate"]), row["source"])
        return ReferenceRates(tuple(entries.values()))


def parse_rate(raw: object) -> Decimal:
    try:
        value = Decimal(raw) if isinstance(raw, str) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0 or value > 100 or value != value.quantize(Decimal("0.01")):
        raise invalid(f"rate must be a percentage from 0.00 to 100.00 with at most two decimals, as a string, "
                      f"got {raw!r}", rule="R-PEN-4", field="rate")
    return value
