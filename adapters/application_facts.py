"""Applications' facts in the personal-data store (R-APP-1, R-DATA-1): versioned and erasable.

Incomes, debts, creditors and the household are a social-welfare client's personal data, so they
never enter the event stream. Each version of an application's facts is one row of
`luotto_application_facts`, with a random salt of its own; the events record only the version and
`sha256(salt || canonical JSON)` (`facts_hash`), so the evidence can prove what a decision rested on
while the facts exist, and nobody can confirm guessed facts from the events once they are erased
(the salt goes with them). The assessment made of a version is kept beside it, hashed the same way.

Erasure (R-DATA-4, same rules as borrowers): every version of every application that names the
borrower, as applicant or co-applicant, is deleted and a tombstone without facts takes its place.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os

from domain.errors import DomainError
from domain.evidence import canonical_json

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS luotto_application_facts (
        tenant TEXT NOT NULL, application_id TEXT NOT NULL, facts_hash TEXT NOT NULL, version INTEGER NOT NULL,
        applicant TEXT NOT NULL, co_applicant TEXT, facts TEXT, salt TEXT, assessment TEXT, recorded_at TEXT NOT NULL,
        erased_at TEXT, PRIMARY KEY (tenant, application_id, facts_hash))""",
    "CREATE INDEX IF NOT EXISTS luotto_application_facts_applicant ON luotto_application_facts (tenant, applicant)",
    "CREATE INDEX IF NOT EXISTS luotto_application_facts_co ON luotto_application_facts (tenant, co_applicant)",
]
# A row is named by its own salted hash: a version stored by a write that then lost a race (or
# crashed) is never recorded and names nothing; the version recorded names its own row.
_KEY = "tenant = :tenant AND application_id = :application_id AND facts_hash = :facts_hash"


def salted_hash(salt_hex: str, value) -> str:
    return hashlib.sha256(bytes.fromhex(salt_hex) + canonical_json(value).encode("utf-8")).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


class ApplicationFacts:
    def __init__(self, store):
        self.store = store

    def setup(self) -> None:
        with self.store.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement)

    def put(self, tenant: str, application_id: str, version: int, *, applicant: str, co_applicant: str | None,
            facts: dict) -> str:
        """Store one version of the facts under a fresh salt; returns the salted hash the event records."""
        salt = os.urandom(32).hex()
        facts_hash = salted_hash(salt, facts)
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO luotto_application_facts (tenant, application_id, facts_hash, version, applicant, "
                       "co_applicant, facts, salt, recorded_at) VALUES (:tenant, :application_id, :facts_hash, "
                       ":version, :applicant, :co_applicant, :facts, :salt, :now)",
                       {"tenant": tenant, "application_id": application_id, "facts_hash": facts_hash,
                        "version": version, "applicant": applicant, "co_applicant": co_applicant,
                        "facts": canonical_json(facts), "salt": salt, "now": _now()})
        return facts_hash

    def row(self, tenant: str, application_id: str, facts_hash: str) -> dict | None:
        with self.store.transaction() as tx:
            return tx.execute(f"SELECT * FROM luotto_application_facts WHERE {_KEY}",
                              {"tenant": tenant, "application_id": application_id, "facts_hash": facts_hash}).one()

    def get(self, tenant: str, application_id: str, facts_hash: str) -> dict | None:
        """The facts an event names; None once erased (R-DATA-2) or never stored."""
        found = self.row(tenant, application_id, facts_hash)
        return json.loads(found["facts"]) if found is not None and found["facts"] is not None else None

    def verify(self, tenant: str, application_id: str, facts_hash: str) -> bool | None:
        """Whether the stored facts still hash to what the event recorded (None: erased)."""
        found = self.row(tenant, application_id, facts_hash)
        if found is None or found["facts"] is None:
            return None
        return salted_hash(found["salt"], json.loads(found["facts"])) == facts_hash

    def put_assessment(self, tenant: str, application_id: str, facts_hash: str, assessment: dict) -> str:
        """Keep the assessment of a version beside its facts; its salted hash for the event."""
        params = {"tenant": tenant, "application_id": application_id, "facts_hash": facts_hash,
                  "assessment": canonical_json(assessment)}
        with self.store.transaction() as tx:
            tx.execute(f"UPDATE luotto_application_facts SET assessment = :assessment WHERE {_KEY}", params)
            stored = tx.execute(f"SELECT salt FROM luotto_application_facts WHERE {_KEY}", params).one()
        if stored is None or stored["salt"] is None:
            raise DomainError("not_found", f"application {application_id}: these facts are not stored (erased?)",
                              field="application_id")
        return salted_hash(stored["salt"], assessment)

    def assessment(self, tenant: str, application_id: str, facts_hash: str) -> dict | None:
        found = self.row(tenant, application_id, facts_hash)
        return json.loads(found["assessment"]) if found and found["assessment"] else None

    def erase(self, tenant: str, borrower_id: str) -> int:
        """Every version of every application naming the borrower: deleted, a tombstone in its place."""
        params = {"tenant": tenant, "borrower_id": borrower_id, "now": _now()}
        who = "tenant = :tenant AND (applicant = :borrower_id OR co_applicant = :borrower_id)"
        with self.store.transaction() as tx:
            rows = tx.execute(f"SELECT application_id, facts_hash, version, applicant, co_applicant FROM "
                              f"luotto_application_facts WHERE {who} AND erased_at IS NULL", params).all()
            tx.execute(f"DELETE FROM luotto_application_facts WHERE {who} AND erased_at IS NULL", params)
            for row in rows:
                tx.execute("INSERT INTO luotto_application_facts (tenant, application_id, facts_hash, version, "
                           "applicant, co_applicant, recorded_at, erased_at) VALUES (:tenant, :application_id, "
                           ":facts_hash, :version, :applicant, :co_applicant, :now, :now)", {**params, **row})
        self.store.forget_deleted()
        return len(rows)
