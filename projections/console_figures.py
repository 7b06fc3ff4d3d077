"""The portfolio figures the console's charts draw: capital in use, grants by month and overdue
amounts by age, from the running totals the read model keeps per organiser (projections/
portfolio_sums.py), a few dozen rows whatever the number of loans."""
from __future__ import annotations

import datetime as dt

from projections import portfolio_sums as sums

AGES = ("1-30", "31-60", "61-90", "over_90")


def months_from(first: dt.date, months: int = 12) -> list[str]:
    y, m, keys = first.year, first.month, []
    for _ in range(months):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return keys


def capital_and_grants(store, tenant: str, first: dt.date, months: int = 12) -> tuple[int, list[tuple[str, int, int]]]:
    """Principal outstanding of the open loans (cents), and (YYYY-MM, count, principal in cents) for
    `months` months from `first`'s month, empty months too."""
    keys = months_from(first, months)
    found = {r["item"][len("granted:"):]: (int(r["n"]), int(r["amount"]))
             for r in sums.items(store, tenant, f"granted:{keys[0]}", f"granted:{keys[-1]}")}
    in_use = sum(int(r["amount"]) for r in sums.items(store, tenant, "in_use", "in_use"))
    return in_use, [(k, *found.get(k, (0, 0))) for k in keys]


def overdue_by_age(store, tenant: str, today: dt.date) -> dict[str, int]:
    """Unpaid overdue amounts (cents) by days past their deadline, as the API's portfolio counts them."""
    ages = dict.fromkeys(AGES, 0)
    for r in sums.items(store, tenant, "overdue:", "overdue:~"):
        days = (today - dt.date.fromisoformat(r["item"][len("overdue:"):])).days
        ages["1-30" if days <= 30 else "31-60" if days <= 60 else "61-90" if days <= 90 else "over_90"] += int(
            r["amount"])
    return ages
