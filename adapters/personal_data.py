"""Borrowers' personal data, kept out of the events: name, personal identity code, address and
language live in their own table keyed by borrower_id, and can be erased when retention ends
while the loan's events (which carry only borrower_id) stay intact as evidence."""
from __future__ import annotations

import datetime as dt
import json

from stdnum.exceptions import ValidationError
from stdnum.fi import hetu

from domain.errors import DomainError, invalid

SCHEMA = """CREATE TABLE IF NOT EXISTS luotto_borrowers (
    tenant TEXT NOT NULL, borrower_id TEXT NOT NULL, name TEXT, identity_code TEXT, address TEXT,
    language TEXT, updated_at TEXT NOT NULL, erased_at TEXT, PRIMARY KEY (tenant, borrower_id))"""
LANGUAGES = ("fi", "sv")


def check_identity_code(code: str) -> str:
    """A Finnish personal identity code (henkilötunnus), with the century signs of 2023 too."""
    try:
        return hetu.validate(code)
    except ValidationError as e:
        raise invalid(f"identity_code is not a valid Finnish personal identity code: {e}",
                      field="identity_code") from None


class Borrowers:
    def __init__(self, store):
        self.store = store

    def setup(self) -> None:
        with self.store.transaction() as tx:
            tx.execute(SCHEMA)

    def put(self, tenant: str, borrower_id: str, *, name: str, identity_code: str, address: list[str],
            language: str) -> dict:
        if language not in LANGUAGES:
            raise invalid(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}", field="language")
        row = {"tenant": tenant, "borrower_id": borrower_id, "name": name,
               "identity_code": check_identity_code(identity_code), "address": json.dumps(address),
               "language": language, "updated_at": dt.datetime.now(dt.timezone.utc).isoformat()}
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM luotto_borrowers WHERE tenant = :tenant AND borrower_id = :borrower_id", row)
            tx.execute("INSERT INTO luotto_borrowers (tenant, borrower_id, name, identity_code, address, language, "
                       "updated_at) VALUES (:tenant, :borrower_id, :name, :identity_code, :address, :language, "
                       ":updated_at)", row)
        return self.get(tenant, borrower_id)

    def get(self, tenant: str, borrower_id: str) -> dict:
        with self.store.transaction() as tx:
            row = tx.execute("SELECT * FROM luotto_borrowers WHERE tenant = :tenant AND borrower_id = :borrower_id",
                             {"tenant": tenant, "borrower_id": borrower_id}).one()
        if row is None:
            raise DomainError("not_found", f"borrower {borrower_id!r} has no personal data here", field="borrower_id")
        return {k: (json.loads(v) if k == "address" and v else v) for k, v in row.items() if k != "tenant"}

    def erase(self, tenant: str, borrower_id: str) -> dict:
        """Retention ended: keep the key and the time of erasure, drop everything that identifies."""
        self.get(tenant, borrower_id)
        with self.store.transaction() as tx:
            tx.execute("UPDATE luotto_borrowers SET name = NULL, identity_code = NULL, address = NULL, "
                       "language = NULL, erased_at = :now WHERE tenant = :tenant AND borrower_id = :borrower_id",
                       {"tenant": tenant, "borrower_id": borrower_id,
                        "now": dt.datetime.now(dt.timezone.utc).isoformat()})
        return self.get(tenant, borrower_id)
