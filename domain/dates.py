"""Calendar rules: month arithmetic (R-DATE-2), Finnish banking days (R-DATE-3), deadlines (R-DATE-4)."""
from __future__ import annotations

import calendar
import datetime as dt
import re
from functools import lru_cache

# The class itself, not the holidays.Finland lazy loader: its first use would import every
# country's module (~0.1 s) inside whichever request or run first needs a banking day.
from holidays.countries.finland import Finland

Date = dt.date

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_date(value: object, field: str) -> Date:
    from domain.errors import invalid

    try:
        if isinstance(value, str) and _ISO_DATE.match(value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise invalid(f"{field} must be a valid date YYYY-MM-DD, got {value!r}", rule="R-DATE-1", field=field)


@lru_cache(maxsize=65536)  # pure, and every fold of every plan asks again for the same few dates
def add_months(d: Date, n: int) -> Date:
    """Same day of month n months later, clamped to the month's last day."""
    months = d.year * 12 + (d.month - 1) + n
    year, month = divmod(months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(d.day, last))


@lru_cache(maxsize=None)
def _finnish_holidays(year: int) -> frozenset[Date]:
    # holidays.Finland lists Midsummer Eve and Christmas Eve, which banks keep closed too;
    # its extra entries (Easter Sunday, Whit Sunday, All Saints' Day) always fall on weekends.
    return frozenset(Finland(years=year).keys())


def is_banking_day(d: Date) -> bool:
    return d.weekday() < 5 and d not in _finnish_holidays(d.year)


def next_banking_day_on_or_after(d: Date) -> Date:
    while not is_banking_day(d):
        d += dt.timedelta(days=1)
    return d


@lru_cache(maxsize=65536)
def effective_deadline(due: Date) -> Date:
    """A payment value-dated on or before this date is on time (R-DATE-4)."""
    return next_banking_day_on_or_after(due)


def banking_days_after(d: Date, n: int) -> Date:
    """The n-th banking day after d; n == 0 is d itself (R-ACC-8 settlement lag)."""
    while n > 0:
        d += dt.timedelta(days=1)
        if is_banking_day(d):
            n -= 1
    return d


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)
