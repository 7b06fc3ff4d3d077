"""Statistics for the organisers' reports (THL's survey, the §10a state-grant report): the pure parts.

Classifications that the read model (projections/statistics.py) stores instead of personal data: an
age band instead of a birth date, a household type instead of the household, a purpose class
instead of the purpose's free text. Small cells are suppressed (R-STAT-2) and the percentiles are
defined here once (R-STAT-3), so the organiser view and the national view count alike.
"""
from __future__ import annotations

import datetime as dt
import math

# R-STAT-2: a cell counting fewer people than this is not shown (count and euros both withheld).
SUPPRESS_BELOW = 5
AGE_BANDS = ((18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, None))
# The purpose classes a grant may carry (LoanGranted.purpose_class); the purpose itself is free
# text, sealed (R-DATA-2), and never counted.
PURPOSE_CLASSES = ("debt_restructuring", "housing", "household_goods", "vehicle", "health", "education",
                   "other")
UNKNOWN = "unknown"
# The century signs of a Finnish identity code (1800s, 1900s, 2000s; those of 2023 too).
_CENTURY = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900,
            "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}


def birth_date(identity_code: str | None) -> dt.date | None:
    """The birth date in a (validated) Finnish identity code, or None when there is none."""
    if not identity_code or len(identity_code) != 11 or identity_code[6] not in _CENTURY:
        return None
    try:
        day, month, year = int(identity_code[0:2]), int(identity_code[2:4]), int(identity_code[4:6])
        return dt.date(_CENTURY[identity_code[6]] + year, month, day)
    except ValueError:
        return None


def age_band(born: dt.date | None, on: dt.date) -> str:
    """The borrower's age band on the grant date: "18-24" … "65+", or "unknown"."""
    if born is None:
        return UNKNOWN
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    for low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return f"{low}+" if high is None else f"{low}-{high}"
    return UNKNOWN  # under 18: not a band of the survey


def household_type(household: dict | None) -> str:
    """From an application's `household` (adults, children): single, single_parent, couple,
    couple_with_children, other (three or more adults), or unknown (no application's facts)."""
    if not isinstance(household, dict) or not isinstance(household.get("adults"), int):
        return UNKNOWN
    adults, children = household["adults"], len(household.get("children") or [])
    if adults == 1:
        return "single_parent" if children else "single"
    if adults == 2:
        return "couple_with_children" if children else "couple"
    return "other" if adults > 2 else UNKNOWN


def purpose_class(value: str | None) -> str:
    return value if value in PURPOSE_CLASSES else UNKNOWN


def median(values: list[int]) -> float | None:
    """R-STAT-3: the middle value; of an even count, the mean of the two middle ones."""
    if not values:
        return None
    ordered, n = sorted(values), len(values)
    middle = n // 2
    return float(ordered[middle]) if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: list[int], p: int) -> int | None:
    """R-STAT-3: nearest rank, the smallest value with at least p % of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1]


def suppressed(cells: dict[str, dict]) -> dict[str, dict]:
    """R-STAT-2: each cell {"count", "euros"} under SUPPRESS_BELOW shows neither (None, with
    `suppressed: true`); a cell of 0 is not a person and is shown."""
    out = {}
    for key, cell in sorted(cells.items()):
        if 0 < cell["count"] < SUPPRESS_BELOW:
            out[key] = {**{k: None for k in cell}, "suppressed": True}
        else:
            out[key] = {**cell, "suppressed": False}
    return out


def share(part: int, whole: int) -> str | None:
    """part / whole as a percentage with two decimals (ROUND_HALF_UP), or None of nothing."""
    if whole <= 0:
        return None
    hundredths = (part * 10000 * 2 + whole) // (2 * whole)
    return f"{hundredths // 100}.{hundredths % 100:02d}"
