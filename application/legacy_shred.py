"""Shredding personal text that events recorded before sealing hold in clear (R-DATA-2, legacy).

Events recorded before free text was sealed (application.personal_text) may hold a name, an
identity code or health details in clear: an appeal's appellant and grounds, a decision's reasons.
Erasing the key does not reach them. `luotto shred-legacy TENANT BORROWER` is the audited way to
remove them, run by the schema owner with the services stopped (their caches hold the old chain
heads), and only when the borrower may be erased (R-DATA-4):

1. every such value of the borrower's loans is replaced by "[shredded]" (typed text only: what
   the scheduler wrote, a lapse's reason and a bank return's reason are the system's own text);
2. the hash chain is recomputed from the first changed event on (R-EVID-1), the rows are
   rewritten with the immutability triggers switched off for that one transaction, and the
   loan's snapshots (which hold the old head) are removed;
3. a statement naming each loan's old and new chain head, the versions and fields shredded, who
   and when, is signed with the digest key and kept in `luotto_shred_statements` (append-only).
   Digests signed before name the old heads; the statement is what links them to the new chain.
"""
from __future__ import annotations

import getpass
import json

from adapters.sealing import is_sealed
from adapters.signing import verify_signature
from application.erasure import loans_of, refusal
from application.personal_text import SEALED_FIELDS
from domain.evidence import GENESIS, canonical_json, chain_hash, event_payload
from adapters.sql_store import append_only

MARKER = "[shredded]"
SYSTEM_EVENTS = ("AccelerationLapsed", "AccelerationLapseRevoked")
SCHEMA = """CREATE TABLE IF NOT EXISTS luotto_shred_statements (
    tenant TEXT NOT NULL, borrower_id TEXT NOT NULL, at TEXT NOT NULL, statement TEXT NOT NULL)"""


def _typed(event, field: str) -> bool:
    value = getattr(event, field, None)
    if not isinstance(value, str) or not value or is_sealed(value) or value == MARKER:
        return False
    if type(event).__name__ in SYSTEM_EVENTS or getattr(event, "decided_by", None) == "scheduler":
        return False
    return not (type(event).__name__ == "PaymentReversed" and value.startswith("bank return "))


def _rewritten(events: list) -> tuple[list, dict]:
    """The loan's events with typed clear text replaced and the chain recomputed from the first
    change on; and {version: [fields]} of what was replaced."""
    changed, out, head = {}, [], GENESIS
    for event in events:
        fields = [f for f in SEALED_FIELDS if _typed(event, f)]
        if fields:
            changed[event.originator_version] = fields
        if changed:  # from the first change on, every hash follows from the new previous one
            draft = type(event)(**{**vars(event), **{f: MARKER for f in fields}})
            event = type(event)(**{**vars(draft), "hash": chain_hash(head, event_payload(draft))})
        out.append(event)
        head = event.hash
    return out, changed


def _write(service, loan_uuid, events: list, first: int) -> None:
    """Rewrite the rows from version `first` on, triggers off for this transaction only."""
    recorder = service.recorder
    datastore, table = recorder.datastore, recorder.events_table_name
    stored = [service.mapper.to_stored_event(e) for e in events if e.originator_version >= first]
    snapshots = service.snapshots.recorder.events_table_name if service.snapshots else None
    if hasattr(datastore, "schema"):  # PostgreSQL: the owner may switch its own triggers off
        qualified = f'"{datastore.schema}"."{table}"'
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(f"ALTER TABLE {qualified} DISABLE TRIGGER luotto_events_immutable")
            for s in stored:
                cursor.execute(f"UPDATE {qualified} SET state = %s WHERE originator_id = %s AND "
                               "originator_version = %s", (s.state, s.originator_id, s.originator_version))
            cursor.execute(f"ALTER TABLE {qualified} ENABLE TRIGGER luotto_events_immutable")
            if snapshots:
                cursor.execute(f'DELETE FROM "{datastore.schema}"."{snapshots}" WHERE originator_id = %s',
                               (loan_uuid,))
        return
    from adapters import immutability

    with datastore.transaction(commit=True) as cursor:
        cursor.execute("PRAGMA secure_delete=ON")  # the old text is zeroed, not left in free space
        cursor.execute("DROP TRIGGER IF EXISTS luotto_events_no_update")
        for s in stored:
            cursor.execute(f"UPDATE {table} SET state = ? WHERE originator_id = ? AND originator_version = ?",
                           (s.state, s.originator_id.hex, s.originator_version))  # stored as hex there
        if snapshots:
            cursor.execute(f"DELETE FROM {snapshots} WHERE originator_id = ?", (loan_uuid.hex,))
    immutability.install(service)


def shred(container, tenant: str, borrower_id: str, *, by: str | None = None) -> dict:
    """Shred the borrower's legacy clear text; returns the signed statement (also stored)."""
    problem = refusal(container, tenant, borrower_id, container.today())
    if problem is not None:
        raise problem
    service, loans = container.service, []
    for loan_id in loans_of(service, tenant, borrower_id):
        loan = service.loan(tenant, loan_id)
        events = list(service.events.get(loan.id))
        rewritten, changed = _rewritten(events)
        if not changed:
            continue
        _write(service, loan.id, rewritten, min(changed))
        if service.repository.cache is not None:  # this process's copy holds the old head
            try:
                service.repository.cache.get(loan.id, evict=True)
            except KeyError:
                pass
        with container.read_model.store.transaction() as tx:
            tx.execute("UPDATE luotto_loans SET head = :head WHERE tenant = :tenant AND loan_id = :loan_id",
                       {"head": rewritten[-1].hash, "tenant": tenant, "loan_id": loan_id})
        loans.append({"loan_id": loan_id, "loan_uuid": str(loan.id), "old_head": events[-1].hash,
                      "new_head": rewritten[-1].hash, "fields": {str(v): f for v, f in sorted(changed.items())}})
    container.read_model.store.forget_deleted()  # SQLite: the write-ahead log still holds the old rows
    statement = {"statement": "luotto legacy shred (R-DATA-2)", "tenant": tenant, "borrower_id": borrower_id,
                 "at": service.clock().isoformat(), "by": by or getpass.getuser(), "marker": MARKER, "loans": loans}
    statement.update(public_key=container.signer.public_key,
                     signature=container.signer.sign(canonical_json(statement).encode()))
    with container.read_model.store.transaction() as tx:
        tx.execute(SCHEMA)
        append_only(tx, "luotto_shred_statements")
        tx.execute("INSERT INTO luotto_shred_statements (tenant, borrower_id, at, statement) VALUES "
                   "(:tenant, :borrower_id, :at, :statement)",
                   {"tenant": tenant, "borrower_id": borrower_id, "at": statement["at"],
                    "statement": json.dumps(statement, ensure_ascii=False)})
    return statement


def statement_verifies(statement: dict) -> bool:
    body = {k: v for k, v in statement.items() if k not in ("public_key", "signature")}
    return verify_signature(statement["public_key"], statement["signature"], canonical_json(body).encode())


