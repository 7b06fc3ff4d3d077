"""Who read or changed whose data, when, and in which role (the Client Data Act's access log, R-DATA-5).

One row per request and per loan or borrower whose data the answer held or the request changed
(a list view writes one row for each loan it shows), with the caller, the caller's roles, the
organiser, the endpoint and the status. Refused requests are logged too. `processed()` answers a
client's question "who processed my data" for one borrower and a period.

Append-only for everyone: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL, which
has no row trigger for it), so neither the application's database role nor the schema owner
edits it without first switching a trigger off; deploy/roles.sql grants the application only
SELECT and INSERT. Rows are written by a group commit (adapters.group_commit): all those queued
meanwhile in one transaction; each request waits (on the event loop) until its rows are committed.
"""
from __future__ import annotations

import datetime as dt

from adapters.group_commit import GroupCommit

_REFUSE = "the access log is append-only"
SCHEMA = {
    "sqlite": [
        """CREATE TABLE IF NOT EXISTS luotto_access_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, subject TEXT NOT NULL, via TEXT NOT NULL,
            tenant TEXT NOT NULL, loan_id TEXT, method TEXT NOT NULL, endpoint TEXT NOT NULL,
            status INTEGER NOT NULL, request_id TEXT, borrower_id TEXT, roles TEXT)""",
        f"CREATE TRIGGER IF NOT EXISTS luotto_access_log_no_update BEFORE UPDATE ON luotto_access_log "
        f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END",
        f"CREATE TRIGGER IF NOT EXISTS luotto_access_log_no_delete BEFORE DELETE ON luotto_access_log "
        f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END",
    ],
    "postgres": [
        """CREATE TABLE IF NOT EXISTS luotto_access_log (
            id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, subject TEXT NOT NULL, via TEXT NOT NULL,
            tenant TEXT NOT NULL, loan_id TEXT, method TEXT NOT NULL, endpoint TEXT NOT NULL,
            status INTEGER NOT NULL, request_id TEXT, borrower_id TEXT, roles TEXT)""",
        f"""CREATE OR REPLACE FUNCTION luotto_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$""",
        """CREATE OR REPLACE TRIGGER luotto_access_log_append_only BEFORE UPDATE OR DELETE ON luotto_access_log
           FOR EACH ROW EXECUTE FUNCTION luotto_access_log_append_only()""",
        """CREATE OR REPLACE TRIGGER luotto_access_log_no_truncate BEFORE TRUNCATE ON luotto_access_log
           FOR EACH STATEMENT EXECUTE FUNCTION luotto_access_log_append_only()""",
    ],
}
ADDED = {"borrower_id": "TEXT", "roles": "TEXT"}  # columns a log made by an older version lacks
COLUMNS = {"at": "text", "subject": "text", "via": "text", "tenant": "text", "loan_id": "text", "method": "text",
           "endpoint": "text", "status": "integer", "request_id": "text", "borrower_id": "text", "roles": "text"}
INDEXES = ["CREATE INDEX IF NOT EXISTS luotto_access_log_loan ON luotto_access_log (tenant, loan_id, at)",
           "CREATE INDEX IF NOT EXISTS luotto_access_log_borrower ON luotto_access_log (tenant, borrower_id, at)"]


class AccessLog:
    def __init__(self, store):
        self.store = store
        # An item is one request's rows, committed with whatever other requests queued meanwhile.
        self._commits: GroupCommit[list[dict], None] = GroupCommit(self._insert_requests, max_batch=500,
                                                                    name="access-log")

    def setup(self) -> None:
        with self.store.transaction() as tx:
            tx.execute(SCHEMA[self.store.dialect][0])
            for column, sql_type in ADDED.items():
                if self.store.dialect == "postgres":
                    tx.execute(f"ALTER TABLE luotto_access_log ADD COLUMN IF NOT EXISTS {column} {sql_type}")
                elif column not in {r["name"] for r in tx.execute("PRAGMA table_info(luotto_access_log)").all()}:
                    tx.execute(f"ALTER TABLE luotto_access_log ADD COLUMN {column} {sql_type}")
            for statement in SCHEMA[self.store.dialect][1:] + INDEXES:
                tx.execute(statement)

    async def arecord(self, **fields) -> None:
        """Log one access; returns once the row is committed (raises if it could not be)."""
        await self._commits.asubmit([_row(**fields)])

    async def arecord_many(self, rows: list[dict]) -> None:
        """Log one request's accesses (one row per loan or borrower it concerned), all or none."""
        await self._commits.asubmit([_row(**fields) for fields in rows])

    def record(self, **fields) -> None:
        """The same, from a thread."""
        self._commits.submit([_row(**fields)])

    def _insert_requests(self, requests: list[list[dict]]) -> list[None]:
        self._insert([row for rows in requests for row in rows])
        return [None] * len(requests)

    def _insert(self, rows: list[dict]) -> None:
        self.store.append("luotto_access_log", COLUMNS, [{c: row.get(c) for c in COLUMNS} for row in rows])

    def query(self, tenant: str, *, loan_id: str | None = None, subject: str | None = None, since: str | None = None,
              borrower_id: str | None = None, until: str | None = None, limit: int = 100,
              offset: int = 0) -> list[dict]:
        where = ["tenant = :tenant"] + [f"{k} = :{k}" for k, v in (("loan_id", loan_id), ("subject", subject),
                                                                   ("borrower_id", borrower_id)) if v]
        if since:
            where.append("at >= :since")
        if until:
            where.append("at < :until")
        with self.store.transaction() as tx:
            return tx.execute(f"SELECT * FROM luotto_access_log WHERE {' AND '.join(where)} ORDER BY id DESC "
                              "LIMIT :limit OFFSET :offset",
                              {"tenant": tenant, "loan_id": loan_id, "subject": subject, "borrower_id": borrower_id,
                               "since": since, "until": until, "limit": limit, "offset": offset}).all()

    def processed(self, tenant: str, borrower_id: str, loan_ids: list[str], since: str, until: str) -> list[dict]:
        """Every logged read or change of the borrower's data, or of one of their loans, in [since,
        until), oldest first. Rows of an older version name only the loan: matched by loan_id."""
        params = {"tenant": tenant, "borrower_id": borrower_id, "since": since, "until": until}
        loans = ""
        if loan_ids:
            params.update({f"loan{i}": lid for i, lid in enumerate(loan_ids)})
            loans = f" OR (borrower_id IS NULL AND loan_id IN ({', '.join(f':loan{i}' for i in range(len(loan_ids)))}))"
        with self.store.transaction() as tx:
            return tx.execute(f"SELECT * FROM luotto_access_log WHERE tenant = :tenant AND at >= :since AND "
                              f"at < :until AND (borrower_id = :borrower_id{loans}) ORDER BY id", params).all()


def _row(*, subject: str, via: str, tenant: str, loan_id: str | None, method: str, endpoint: str, status: int,
         request_id: str | None, borrower_id: str | None = None, roles: str | None = None) -> dict:
    return {"at": dt.datetime.now(dt.timezone.utc).isoformat(), "subject": subject, "via": via, "tenant": tenant,
            "loan_id": loan_id, "method": method, "endpoint": endpoint, "status": status, "request_id": request_id,
            "borrower_id": borrower_id, "roles": roles}
