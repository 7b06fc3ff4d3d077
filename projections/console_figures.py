"""The portfolio figures the console's charts draw, aggregated in SQL over the balances read model
(luotto_loans): capital in use and grants by month in one pass over the organiser's loans, and
overdue amounts by age from only the loans with something overdue (a partial index finds them;
their overdue items, JSON lists, are summed by deadline in the database)."""
from __future__ import annotations

import datetime as dt

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
    with store.transaction() as tx:
        rows = tx.execute(
            "SELECT CASE WHEN granted_on >= :since THEN SUBSTR(granted_on, 1, 7) END AS month, COUNT(*) AS n, "
            "SUM(principal) AS total, SUM(CASE WHEN status NOT IN ('repaid', 'waived', 'written_off') "
            "THEN principal_outstanding ELSE 0 END) AS in_use FROM luotto_loans WHERE tenant = :tenant "
            "GROUP BY CASE WHEN granted_on >= :since THEN SUBSTR(granted_on, 1, 7) END",
            {"tenant": tenant, "since": f"{keys[0]}-01"}).all()
    found = {r["month"]: (int(r["n"]), int(r["total"])) for r in rows if r["month"] in keys}
    return sum(int(r["in_use"] or 0) for r in rows), [(k, *found.get(k, (0, 0))) for k in keys]


# The overdue items of the loans with something overdue, summed by deadline inside the database.
BY_DEADLINE = {
    "postgres": "SELECT item->>0 AS deadline, SUM((item->>1)::bigint) AS unpaid FROM luotto_loans, "
                "json_array_elements(overdue_items::json) AS item WHERE tenant = :tenant AND overdue_amount > 0 "
                "GROUP BY item->>0",
    "sqlite": "SELECT json_extract(item.value, '$[0]') AS deadline, SUM(json_extract(item.value, '$[1]')) AS unpaid "
              "FROM luotto_loans, json_each(luotto_loans.overdue_items) AS item WHERE tenant = :tenant AND "
              "overdue_amount > 0 GROUP BY json_extract(item.value, '$[0]')",
}


def overdue_by_age(store, tenant: str, today: dt.date) -> dict[str, int]:
    """Unpaid overdue amounts (cents) by days past their deadline, as the API's portfolio counts them."""
    ages = dict.fromkeys(AGES, 0)
    with store.transaction() as tx:
        rows = tx.execute(BY_DEADLINE[store.dialect], {"tenant": tenant}).all()
    for r in rows:
        days = (today - dt.date.fromisoformat(r["deadline"])).days
        ages["1-30" if days <= 30 else "31-60" if days <= 60 else "61-90" if days <= 90 else "over_90"] += int(
            r["unpaid"])
    return ages
