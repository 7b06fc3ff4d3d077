"""A service clock the test moves: 10:00 UTC (12:00 in Helsinki) of the current business day,
a microsecond later on each call so that recording instants stay distinct and ordered."""
from __future__ import annotations

import datetime as dt


class Clock:
    def __init__(self, day: dt.date):
        self.day, self.tick = day, 0

    def __call__(self) -> dt.datetime:
        self.tick += 1
        return dt.datetime.combine(self.day, dt.time(10), tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=self.tick)
