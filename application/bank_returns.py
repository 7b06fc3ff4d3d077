"""Returns in a bank file posted by a caller that may not reverse payments (R-DATA-6).

A payment system may post payments, and a bank file of them, but it may not reverse a payment:
`POST /v1/payments/{id}/reversal` needs the finance role, and so does the same effect through a
bank file. When a payment system posts a file with returns (camt.054 RvslInd / DBIT / RtrInf, KTL
correction records), the payments in it are imported as usual and each return waits here until
finance applies it (exactly as an import by finance would have) or sets it aside. The queue keeps
what applying needs and not the payer's name.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json

from adapters.bankfiles import BankEntry
from domain.errors import DomainError
from domain.money import format_cents

SCHEMA = """CREATE TABLE IF NOT EXISTS luotto_pending_returns (
    tenant TEXT NOT NULL, return_id TEXT NOT NULL, source TEXT NOT NULL, entry TEXT NOT NULL,
    status TEXT NOT NULL, queued_at TEXT NOT NULL, queued_by TEXT NOT NULL, decided_at TEXT, decided_by TEXT,
    outcome TEXT, PRIMARY KEY (tenant, return_id))"""
_DATES = ("value_date", "booking_date")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def _entry_json(entry: BankEntry) -> str:
    fields = dataclasses.asdict(entry)
    fields.update({k: fields[k].isoformat() if fields[k] else None for k in _DATES}, debtor=None)
    return json.dumps(fields, sort_keys=True)


def _entry(text: str) -> BankEntry:
    fields = json.loads(text)
    fields.update({k: dt.date.fromisoformat(fields[k]) if fields[k] else None for k in _DATES},
                  original_ids=tuple(fields["original_ids"]))
    return BankEntry(**fields)


class PendingReturns:
    def __init__(self, store):
        self.store = store

    def setup(self) -> None:
        with self.store.transaction() as tx:
            tx.execute(SCHEMA)

    def add(self, tenant: str, entry: BankEntry, source: str, queued_by: str) -> bool:
        """Queue a return; False if this return (by the bank's archive id) is queued already."""
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO luotto_pending_returns (tenant, return_id, source, entry, status, queued_at, "
                       "queued_by) VALUES (:tenant, :return_id, :source, :entry, 'pending', :now, :by) "
                       "ON CONFLICT (tenant, return_id) DO NOTHING",
                       {"tenant": tenant, "return_id": entry.payment_id, "source": source,
                        "entry": _entry_json(entry), "now": _now(), "by": queued_by})
            return tx.cursor.rowcount == 1

    def list(self, tenant: str, *, status: str | None = "pending", limit: int = 100, offset: int = 0) -> list[dict]:
        where = "tenant = :tenant" + (" AND status = :status" if status else "")
        with self.store.transaction() as tx:
            rows = tx.execute(f"SELECT * FROM luotto_pending_returns WHERE {where} ORDER BY queued_at, return_id "
                              "LIMIT :limit OFFSET :offset",
                              {"tenant": tenant, "status": status, "limit": limit, "offset": offset}).all()
        return [_shown(r) for r in rows]

    def decide(self, service, tenant: str, return_id: str, *, apply: bool, decided_by: str, on: dt.date) -> dict:
        """Apply the return as a finance import would (application.payment_files), or set it aside."""
        from application.payment_files import ImportReport, apply_return

        with self.store.transaction() as tx:
            row = tx.execute("SELECT * FROM luotto_pending_returns WHERE tenant = :tenant AND return_id = :rid",
                             {"tenant": tenant, "rid": return_id}).one()
        if row is None:
            raise DomainError("not_found", f"no return {return_id!r} is queued", field="return_id")
        if row["status"] != "pending":
            return _shown(row)
        outcome: dict = {"applied": False}
        if apply:
            report = ImportReport(tenant)
            apply_return(service, tenant, on, row["source"], report, _entry(row["entry"]))
            kind = next(k for k in ("reversed", "duplicates", "rejected") if report.tallies.get(k))
            outcome = {"applied": kind != "rejected", "result": kind, **getattr(report, kind)[0],
                       "position": report.position}
        with self.store.transaction() as tx:
            tx.execute("UPDATE luotto_pending_returns SET status = :status, decided_at = :now, decided_by = :by, "
                       "outcome = :outcome WHERE tenant = :tenant AND return_id = :rid AND status = 'pending'",
                       {"status": "applied" if apply else "set_aside", "now": _now(), "by": decided_by,
                        "outcome": json.dumps(outcome), "tenant": tenant, "rid": return_id})
            row = tx.execute("SELECT * FROM luotto_pending_returns WHERE tenant = :tenant AND return_id = :rid",
                             {"tenant": tenant, "rid": return_id}).one()
        return _shown(row)


def _shown(row: dict) -> dict:
    entry = json.loads(row["entry"])
    return {"return_id": row["return_id"], "status": row["status"], "source": row["source"],
            "amount": format_cents(entry["amount"]), "reference": entry["reference"], "booking_date": entry["booking_date"],
            "original_ids": entry["original_ids"], "queued_at": row["queued_at"], "queued_by": row["queued_by"],
            "decided_at": row["decided_at"], "decided_by": row["decided_by"],
            "outcome": json.loads(row["outcome"]) if row["outcome"] else None}
