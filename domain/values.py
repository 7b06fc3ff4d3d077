"""What a value from outside may look like before the rules see it: texts, identifiers and dates.

The API's request schemas, the bank-file import and the simulator check their input with these,
so that nothing a caller sends can reach a store or a calculation that cannot hold it: PostgreSQL
text cannot hold NUL, UTF-8 cannot hold a lone surrogate, a log line or a file name must not be
split by a control character, and date arithmetic overflows beyond year 9999.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

from domain.errors import invalid

# The Act 1133/2002 came into force on 1 January 2003: no social credit was granted before it, and
# the shipped reference rates (R-PEN-4) start on that day.
ACT_IN_FORCE = dt.date(2003, 1, 1)
# Far enough for any plan (60 months + free months + extensions) and any what-if horizon, and far
# from year 9999, where date arithmetic overflows.
LATEST_DAY = dt.date(2199, 12, 31)

# Identifiers (loan, borrower, payment ids) end up in URLs, file names, zip entries, log lines and
# SQL keys: letters, digits and . _ : - only, starting with a letter or digit; payment ids may also
# hold '/' (a bank's archive id "entry/n").
ID_MAX = 64
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
PAYMENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"
_ID = re.compile(ID_PATTERN)
_PAYMENT_ID = re.compile(PAYMENT_ID_PATTERN)

# Characters no text may hold: controls (C0, DEL, C1), lone surrogates, private use, unassigned
# code points, and the line and paragraph separators.
_REFUSED = {"Cc", "Cs", "Co", "Cn", "Zl", "Zp"}
# Multi-line free text (reasons, grounds) may hold line breaks and tabs, nothing else of the above.
_LINE_BREAKS = frozenset("\n\r\t")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` is not printable text (None: it is)."""
    for i, ch in enumerate(value):
        if multiline and ch in _LINE_BREAKS:
            continue
        if unicodedata.category(ch) in _REFUSED:
            return f"character {i + 1} (U+{ord(ch):04X}) is not printable text"
    return None


def check_text(value: str, field: str, *, max_length: int, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise invalid(f"{field} must be text", field=field)
    if len(value) > max_length:
        raise invalid(f"{field} is longer than {max_length} characters", field=field)
    problem = text_problem(value, multiline=multiline)
    if problem:
        raise invalid(f"{field}: {problem}", field=field)
    return value


def identifier_problem(value: str, *, payment: bool = False) -> str | None:
    if (_PAYMENT_ID if payment else _ID).match(value):
        return None
    allowed = "letters, digits and . _ : -" + (" /" if payment else "")
    return f"must be 1-{ID_MAX} characters of {allowed}, starting with a letter or a digit"


def check_identifier(value: str, field: str, *, payment: bool = False) -> str:
    problem = identifier_problem(value, payment=payment) if isinstance(value, str) else "must be text"
    if problem:
        raise invalid(f"{field} {problem}", field=field)
    return value


def day_problem(value: dt.date) -> str | None:
    if not ACT_IN_FORCE <= value <= LATEST_DAY:
        return f"{value.isoformat()} is outside {ACT_IN_FORCE.isoformat()}..{LATEST_DAY.isoformat()}"
    return None


def check_day(value: dt.date, field: str) -> dt.date:
    """R-DATE-1: a business date the rules can serve."""
    problem = day_problem(value)
    if problem:
        raise invalid(f"{field} {problem}", rule="R-DATE-1", field=field)
    return value
