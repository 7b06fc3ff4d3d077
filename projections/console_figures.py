"""The portfolio figures the console's charts draw, aggregated in SQL over the balances read model
(luotto_loans): capital in use, overdue amounts by age, and grants by month. Only loans with
something overdue are read row by row (their overdue items are a JSON list)."""
from __future__ import annotations

import datetime as dt
import json

CLOSED = ("repaid", "waived", "written_off")
AGES = ("1-30", "31-60", "61-90", "over_90")


def capital_in_use(store, tenant: str) -> int:
    """Principal outstanding of the open loans, in cents."""
    with store.transaction() as tx:
        row = tx.execute("SELECT COALESCE(SUM(principal_outstanding), 0) AS n FROM luotto_loans WHERE tenant = :tenant"
                         " AND status NOT IN ('repaid', 'waived', 'written_off')", {"tenant": tenant}).one()
    return int(row["n"])


def overdue_by_age(store, tenant: str, today: dt.date) -> dict[str, int]:
    """Unpaid overdue amounts (cents) by days past their deadline, as the API's portfolio counts them."""
    ages = dict.fromkeys(AGES, 0)
    with store.transaction() as tx:
        rows = tx.execute("SELECT overdue_items FROM luotto_loans WHERE tenant = :tenant AND overdue_amount > 0",
                          {"tenant": tenant}).all()
    for r in rows:
        for deadline, unpaid in json.loads(r["overdue_items"]):
            days = (today - dt.date.fromisoformat(deadline)).days
            ages["1-30" if days <= 30 else "31-60" if days <= 60 else "61-90" if days <= 90 else "over_90"] += unpaid
    return ages


def grants_by_month(store, tenant: str, first: dt.date, months: int = 12) -> list[tuple[str, int, int]]:
    """(YYYY-MM, count, principal in cents) for `months` months from `first`'s month, empty months too."""
    start = first.replace(day=1)
    keys = []
    y, m = start.year, start.month
    for _ in range(months):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    with store.transaction() as tx:
        rows = tx.execute("SELECT SUBSTR(granted_on, 1, 7) AS month, COUNT(*) AS n, SUM(principal) AS total "
                          "FROM luotto_loans WHERE tenant = :tenant AND granted_on >= :since AND granted_on < :until "
                          "GROUP BY SUBSTR(granted_on, 1, 7)",
                          {"tenant": tenant, "since": f"{keys[0]}-01", "until": _after(keys[-1])}).all()
    found = {r["month"]: (int(r["n"]), int(r["total"])) for r in rows}
    return [(k, *found.get(k, (0, 0))) for k in keys]


def _after(month: str) -> str:
    y, m = int(month[:4]), int(month[5:])
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return f"{y:04d}-{m:02d}-01"
