"""Borrowers' personal data, in one erasable place (R-DATA-1, R-DATA-2).

Name, personal identity code, address and language live in `luotto_borrowers`, keyed by
borrower_id; the key that seals the borrower's free text and letters (adapters.sealing) lives in
`luotto_borrower_keys`. Events carry only borrower_id and ciphertext, so erasing these two rows
erases the person everywhere while the loan's events stay intact as evidence.

On SQLite, deleted and overwritten rows must not linger in the file's free space or its
write-ahead log: every connection of the store runs with `secure_delete` (adapters.sql_store), and
an erasure ends with a WAL checkpoint that truncates the log.
"""
from __future__ import annotations

import base64
import datetime as dt
import json

from stdnum.exceptions import ValidationError
from stdnum.fi import hetu

from adapters.sealing import new_key
from domain.errors import DomainError, invalid

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS luotto_borrowers (
        tenant TEXT NOT NULL, borrower_id TEXT NOT NULL, name TEXT, identity_code TEXT, address TEXT,
        language TEXT, updated_at TEXT NOT NULL, erased_at TEXT, PRIMARY KEY (tenant, borrower_id))""",
    """CREATE TABLE IF NOT EXISTS luotto_borrower_keys (
        tenant TEXT NOT NULL, borrower_id TEXT NOT NULL, key TEXT NOT NULL, created_at TEXT NOT NULL,
        PRIMARY KEY (tenant, borrower_id))""",
]
LANGUAGES = ("fi", "sv")
_WHERE = "tenant = :tenant AND borrower_id = :borrower_id"


def check_identity_code(code: str) -> str:
    """A Finnish personal identity code (henkilötunnus), with the century signs of 2023 too."""
    try:
        return hetu.validate(code)
    except ValidationError as e:
        raise invalid(f"identity_code is not a valid Finnish personal identity code: {e}",
                      field="identity_code") from None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


class Borrowers:
    def __init__(self, store):
        self.store = store

    def setup(self) -> None:
        with self.store.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement)

    def put(self, tenant: str, borrower_id: str, *, name: str, identity_code: str, address: list[str],
            language: str) -> dict:
        if language not in LANGUAGES:
            raise invalid(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}", field="language")
        row = {"tenant": tenant, "borrower_id": borrower_id, "name": name,
               "identity_code": check_identity_code(identity_code), "address": json.dumps(address),
               "language": language, "updated_at": _now()}
        with self.store.transaction() as tx:
            tx.execute(f"DELETE FROM luotto_borrowers WHERE {_WHERE}", row)
            tx.execute("INSERT INTO luotto_borrowers (tenant, borrower_id, name, identity_code, address, language, "
                       "updated_at) VALUES (:tenant, :borrower_id, :name, :identity_code, :address, :language, "
                       ":updated_at)", row)
        return self.get(tenant, borrower_id)

    def find(self, tenant: str, borrower_id: str) -> dict | None:
        with self.store.transaction() as tx:
            row = tx.execute(f"SELECT * FROM luotto_borrowers WHERE {_WHERE}",
                             {"tenant": tenant, "borrower_id": borrower_id}).one()
        if row is None:
            return None
        return {k: (json.loads(v) if k == "address" and v else v) for k, v in row.items() if k != "tenant"}

    def get(self, tenant: str, borrower_id: str) -> dict:
        found = self.find(tenant, borrower_id)
        if found is None:
            raise DomainError("not_found", f"borrower {borrower_id!r} has no personal data here", field="borrower_id")
        return found

    # --- the sealing key ---------------------------------------------------------------------

    def key(self, tenant: str, borrower_id: str, *, create: bool = False) -> bytes | None:
        """The borrower's sealing key; with `create`, made on first use. Never cached: a process
        must not go on sealing or opening with a key another process has erased."""
        params = {"tenant": tenant, "borrower_id": borrower_id}
        with self.store.transaction() as tx:
            row = tx.execute(f"SELECT key FROM luotto_borrower_keys WHERE {_WHERE}", params).one()
            if row is None and create:
                fresh = base64.b64encode(new_key()).decode("ascii")
                tx.execute("INSERT INTO luotto_borrower_keys (tenant, borrower_id, key, created_at) VALUES "
                           "(:tenant, :borrower_id, :key, :now) ON CONFLICT (tenant, borrower_id) DO NOTHING",
                           {**params, "key": fresh, "now": _now()})
                row = tx.execute(f"SELECT key FROM luotto_borrower_keys WHERE {_WHERE}", params).one()
        return base64.b64decode(row["key"]) if row else None

    # --- erasure -----------------------------------------------------------------------------

    def erase(self, tenant: str, borrower_id: str) -> dict:
        """Drop everything that identifies the borrower and the key that opens their sealed text;
        keep borrower_id and the time of erasure (so a later request can be answered)."""
        params = {"tenant": tenant, "borrower_id": borrower_id, "now": _now()}
        with self.store.transaction() as tx:
            had_key = tx.execute(f"SELECT 1 AS x FROM luotto_borrower_keys WHERE {_WHERE}", params).one()
            had_row = tx.execute(f"SELECT 1 AS x FROM luotto_borrowers WHERE {_WHERE}", params).one()
            if had_key is None and had_row is None:
                raise DomainError("not_found", f"borrower {borrower_id!r} has no personal data here",
                                  field="borrower_id")
            tx.execute(f"DELETE FROM luotto_borrower_keys WHERE {_WHERE}", params)
            # The row goes and a tombstone without personal data comes in its place: an UPDATE
            # would keep the old values in the same page until it is rewritten.
            tx.execute(f"DELETE FROM luotto_borrowers WHERE {_WHERE}", params)
            tx.execute("INSERT INTO luotto_borrowers (tenant, borrower_id, updated_at, erased_at) VALUES "
                       "(:tenant, :borrower_id, :now, :now)", params)
        self.store.forget_deleted()
        return self.get(tenant, borrower_id)
