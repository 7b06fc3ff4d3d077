"""Who read or changed which loan's data, when (the Finnish client data act's access log).

Append-only: the table refuses UPDATE and DELETE through triggers, and auditors read it through
the API. Rows are written after the response is known, so refused requests are logged too.
Rows are written by a group commit (adapters.group_commit): all those queued meanwhile in one
transaction; each request waits (on the event loop) until its row is committed.
"""
from __future__ import annotations

import datetime as dt

from adapters.group_commit import GroupCommit

SCHEMA = {
    "sqlite": [
        """CREATE TABLE IF NOT EXISTS luotto_access_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, subject TEXT NOT NULL, via TEXT NOT NULL,
            tenant TEXT NOT NULL, loan_id TEXT, method TEXT NOT NULL, endpoint TEXT NOT NULL,
            status INTEGER NOT NULL, request_id TEXT)""",
        "CREATE TRIGGER IF NOT EXISTS luotto_access_log_no_update BEFORE UPDATE ON luotto_access_log "
        "BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS luotto_access_log_no_delete BEFORE DELETE ON luotto_access_log "
        "BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END",
    ],
    "postgres": [
        """CREATE TABLE IF NOT EXISTS luotto_access_log (
            id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, subject TEXT NOT NULL, via TEXT NOT NULL,
            tenant TEXT NOT NULL, loan_id TEXT, method TEXT NOT NULL, endpoint TEXT NOT NULL,
            status INTEGER NOT NULL, request_id TEXT)""",
        """CREATE OR REPLACE FUNCTION luotto_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'the access log is append-only'; END $$""",
        """CREATE OR REPLACE TRIGGER luotto_access_log_append_only BEFORE UPDATE OR DELETE ON luotto_access_log
           FOR EACH ROW EXECUTE FUNCTION luotto_access_log_append_only()""",
    ],
}
COLUMNS = {"at": "text", "subject": "text", "via": "text", "tenant": "text", "loan_id": "text", "method": "text",
           "endpoint": "text", "status": "integer", "request_id": "text"}
CREATE_INDEX = "CREATE INDEX IF NOT EXISTS luotto_access_log_loan ON luotto_access_log (tenant, loan_id, at)"


class AccessLog:
    def __init__(self, store):
        self.store = store
        self._commits: GroupCommit[dict, None] = GroupCommit(self._insert, max_batch=500, name="access-log")

    def setup(self) -> None:
        with self.store.transaction() as tx:
            for statement in SCHEMA[self.store.dialect] + [CREATE_INDEX]:
                tx.execute(statement)

    async def arecord(self, **fields) -> None:
        """Log one access; returns once the row is committed (raises if it could not be)."""
        await self._commits.asubmit(_row(**fields))

    def record(self, **fields) -> None:
        """The same, from a thread."""
        self._commits.submit(_row(**fields))

    def _insert(self, rows: list[dict]) -> list[None]:
        self.store.append("luotto_access_log", COLUMNS, rows)
        return [None] * len(rows)

    def query(self, tenant: str, *, loan_id: str | None = None, subject: str | None = None, since: str | None = None,
              limit: int = 100) -> list[dict]:
        where = ["tenant = :tenant"] + [f"{k} = :{k}" for k, v in (("loan_id", loan_id), ("subject", subject)) if v]
        if since:
            where.append("at >= :since")
        with self.store.transaction() as tx:
            return tx.execute(f"SELECT * FROM luotto_access_log WHERE {' AND '.join(where)} ORDER BY id DESC "
                              "LIMIT :limit", {"tenant": tenant, "loan_id": loan_id, "subject": subject,
                                               "since": since, "limit": limit}).all()


def _row(*, subject: str, via: str, tenant: str, loan_id: str | None, method: str, endpoint: str, status: int,
         request_id: str | None) -> dict:
    return {"at": dt.datetime.now(dt.timezone.utc).isoformat(), "subject": subject, "via": via, "tenant": tenant,
            "loan_id": loan_id, "method": method, "endpoint": endpoint, "status": status, "request_id": request_id}

