"""Running totals per organiser for the console's portfolio charts (issue 21): capital in use, grants
by month and unpaid overdue amounts by deadline, kept in luotto_portfolio_sums as the read model
writes each loan's row, so that the page reads a few dozen rows instead of the organiser's every loan.

Each loan row contributes (count, cents) to a few items; writing a row adds the new row's
contribution and takes back the one of the row it replaces, in the same transaction (a rebuild
empties the table with the others and adds every loan again). The writers of luotto_loans are
serialised (the follower's claim locks the tracking row; retry_set_aside takes the same lock), and
the replaced rows are read under that lock, so no contribution is taken back twice."""
from __future__ import annotations

import json
from collections import defaultdict

CLOSED = ("repaid", "waived", "written_off")
TABLE = ("CREATE TABLE IF NOT EXISTS luotto_portfolio_sums (tenant TEXT NOT NULL, item TEXT NOT NULL, "
         "n BIGINT NOT NULL, amount BIGINT NOT NULL, PRIMARY KEY (tenant, item))")
ADD = ("INSERT INTO luotto_portfolio_sums (tenant, item, n, amount) VALUES (:tenant, :item, :n, :amount) "
       "ON CONFLICT (tenant, item) DO UPDATE SET n = luotto_portfolio_sums.n + excluded.n, "
       "amount = luotto_portfolio_sums.amount + excluded.amount")
COLUMNS = "tenant, loan_id, version, status, principal, principal_outstanding, overdue_amount, overdue_items, granted_on"
CHUNK = 500


def contribution(row: dict) -> dict[str, tuple[int, int]]:
    """What one loan row adds: `in_use` (open loans, principal outstanding), `granted:YYYY-MM`
    (loans granted that month, principal), `overdue:YYYY-MM-DD` (overdue items, unpaid)."""
    out = {f"granted:{row['granted_on'][:7]}": (1, int(row["principal"]))}
    if row["status"] not in CLOSED:
        out["in_use"] = (1, int(row["principal_outstanding"]))
    if int(row["overdue_amount"]) > 0:
        for deadline, unpaid in json.loads(row["overdue_items"]):
            n, amount = out.get(f"overdue:{deadline}", (0, 0))
            out[f"overdue:{deadline}"] = (n + 1, amount + int(unpaid))
    return out


def lock(tx, projection: str) -> None:
    """Wait for any other writer of the read model (the follower's claim updates this row)."""
    tx.execute("UPDATE luotto_tracking SET position = position WHERE projection = :name", {"name": projection})


def record(tx, rows: list[dict]) -> None:
    """Before `rows` are upserted into luotto_loans (UPSERT_LOAN, which replaces a row only by one
    of the same or a later version): move the sums from the rows they replace to them."""
    if not rows:
        return
    ids: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        ids[row["tenant"]].append(row["loan_id"])
    lock_rows = " FOR UPDATE" if tx.dialect == "postgres" else ""
    old: dict[tuple[str, str], dict] = {}
    for tenant, loan_ids in ids.items():
        for i in range(0, len(loan_ids), CHUNK):
            part = loan_ids[i:i + CHUNK]
            params = {f"l{j}": lid for j, lid in enumerate(part)}
            # Never prepared: a generic plan made while luotto_loans was small (autovacuum off, or not yet
            # analysed after a bulk load) scans the whole table, once per batch; planned each time, the
            # lookup is the primary key's (bench d catch-up at 100,000 loans: 1,471 -> 2,212 events/s).
            found = tx.execute(f"SELECT {COLUMNS} FROM luotto_loans WHERE tenant = :tenant AND loan_id IN "
                               f"({', '.join(':' + k for k in params)}){lock_rows}", {"tenant": tenant, **params},
                               prepare=False).all()
            old.update({(r["tenant"], r["loan_id"]): r for r in found})
    delta: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        before = old.get((row["tenant"], row["loan_id"]))
        if before is not None and int(before["version"]) > int(row["version"]):
            continue  # the upsert keeps the later row: nothing moves
        for sign, source in ((1, row), (-1, before)):
            for item, (n, amount) in (contribution(source) if source is not None else {}).items():
                d = delta[(row["tenant"], item)]
                d[0] += sign * n
                d[1] += sign * amount
    changes = [{"tenant": t, "item": item, "n": n, "amount": a} for (t, item), (n, a) in delta.items() if n or a]
    tx.executemany(ADD, changes)
    if changes:  # items nothing counts any more (a deadline paid, a loan repaid) are not kept
        tx.execute("DELETE FROM luotto_portfolio_sums WHERE n = 0 AND amount = 0")


def items(store, tenant: str, low: str, high: str) -> list[dict]:
    """The organiser's items from `low` to `high` (inclusive), in order."""
    with store.transaction() as tx:
        return tx.execute("SELECT item, n, amount FROM luotto_portfolio_sums WHERE tenant = :tenant AND "
                          "item >= :low AND item <= :high ORDER BY item",
                          {"tenant": tenant, "low": low, "high": high}).all()
