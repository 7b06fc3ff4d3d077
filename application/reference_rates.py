"""The reference rates the service computes with (R-PEN-4): given (a scenario, a test), or the
shipped table with the rates an administrator recorded over it (domain.rate_table), re-read at
most every REFRESH_SECONDS so that every process sees a new rate soon without a query per read."""
from __future__ import annotations

import datetime as dt
import time

from eventsourcing.application import AggregateNotFoundError

from domain.rate_table import RATE_TABLE_ID, RateTable
from domain.rates import ReferenceRates, shipped_rates

REFRESH_SECONDS = 10.0


class RateSource:
    def __init__(self, service, fixed: ReferenceRates | None = None):
        self.service, self.fixed = service, fixed
        self._shipped = shipped_rates()
        self._table, self._version, self._checked = self._shipped, 0, float("-inf")

    def current(self) -> ReferenceRates:
        if self.fixed is not None:
            return self.fixed
        if time.monotonic() - self._checked > REFRESH_SECONDS:
            self.refresh()
        return self._table

    def refresh(self) -> None:
        if self.fixed is not None:
            return
        try:
            table = self.service.repository.get(RATE_TABLE_ID)
        except AggregateNotFoundError:
            table = None
        version = table.version if table is not None else 0
        if version != self._version:
            self._table, self._version = (table.over(self._shipped) if table else self._shipped), version
        self._checked = time.monotonic()

    def known_at(self, instant: dt.datetime) -> ReferenceRates:
        """R-PEN-4: the rates as known at an instant (only rates recorded up to it)."""
        if self.fixed is not None:
            return self.fixed
        version = None
        for event in self.service.events.get(RATE_TABLE_ID):
            if event.timestamp > instant:
                break
            version = event.originator_version
        if version is None:
            return self._shipped
        return self.service.repository.get(RATE_TABLE_ID, version=version).over(self._shipped)

    def record(self, *, starts: dt.date, rate: str, source: str, recorded_by: str,
               correction_reason: str | None = None):
        """Record a half-year's rate (an administrator's decision); answers the service's Written."""
        def change() -> list:
            try:
                table = self.service.repository.get(RATE_TABLE_ID)
            except AggregateNotFoundError:
                table = RateTable.open()
            changed = table.record(starts=starts, rate=rate, source=source, recorded_by=recorded_by,
                                   correction_reason=correction_reason)
            return [table] if changed else []
        written = self.service.write(change)
        self._checked = float("-inf")
        return written

    def listing(self) -> list[dict]:
        current = self.current()
        recorded = set()
        if self.fixed is None:
            try:
                recorded = set(self.service.repository.get(RATE_TABLE_ID).rates)
            except AggregateNotFoundError:
                pass
        return [{"from": e.starts.isoformat(), "rate": str(e.rate), "source": e.source,
                 "recorded": e.starts.isoformat() in recorded} for e in current.entries]
