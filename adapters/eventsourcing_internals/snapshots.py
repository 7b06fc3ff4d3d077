"""Snapshots that cannot be forged through the database (R-DATA-8).

A snapshot stands in for the events up to its version: a forged one would change every replay
while the hash chain of the events still verifies. So each snapshot is stored with an HMAC over
its aggregate id, version, topic and state, keyed by a secret derived from the digest signing key
(adapters.signing), which is not in the database: the application's database role can still
insert rows into the snapshot table (taking snapshots is its job), but not one that is accepted.
A snapshot whose tag does not verify, or one made by an older version without a tag, is ignored
(logged and counted): the aggregate is folded from its events instead, which is always right.
`luotto verify` reports such snapshots, and checks every accepted one against the events it
summarises (application.evidence.verify_snapshots).
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator
from typing import Any

import structlog
from eventsourcing.persistence import EventStore, Mapper, StoredEvent
from prometheus_client import Counter

log = structlog.get_logger("luotto.snapshots")
MAGIC = b"LUOTTO-SNAPSHOT-MAC-1\n"
REJECTED = Counter("luotto_snapshots_rejected_total", "Snapshots ignored because their MAC does not verify")


class ForgedSnapshot(Exception):
    """The snapshot's tag is missing or wrong."""


def _tag(key: bytes, stored: StoredEvent, state: bytes) -> bytes:
    head = f"{stored.originator_id}\x1f{stored.originator_version}\x1f{stored.topic}\x1f".encode()
    return hmac.new(key, head + state, hashlib.sha256).digest()


class SignedSnapshotMapper(Mapper):
    def __init__(self, transcoder: Any, key: bytes):
        super().__init__(transcoder)
        self.key = key

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        stored = super().to_stored_event(domain_event)
        return StoredEvent(originator_id=stored.originator_id, originator_version=stored.originator_version,
                           topic=stored.topic, state=MAGIC + _tag(self.key, stored, stored.state) + stored.state)

    def verified(self, stored: StoredEvent) -> StoredEvent:
        state = bytes(stored.state)
        if not state.startswith(MAGIC):
            raise ForgedSnapshot("no MAC (made by an older version, or inserted by hand)")
        tag, body = state[len(MAGIC):len(MAGIC) + 32], state[len(MAGIC) + 32:]
        if not hmac.compare_digest(tag, _tag(self.key, stored, body)):
            raise ForgedSnapshot("the MAC does not verify")
        return StoredEvent(originator_id=stored.originator_id, originator_version=stored.originator_version,
                           topic=stored.topic, state=body)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return super().to_domain_event(self.verified(stored_event))


class VerifiedSnapshotStore(EventStore):
    """The library's snapshot store, leaving out snapshots whose MAC does not verify."""

    def get(self, originator_id: Any, *, gt: int | None = None, lte: int | None = None, desc: bool = False,
            limit: int | None = None) -> Iterator[Any]:
        for stored in self.recorder.select_events(originator_id=originator_id, gt=gt, lte=lte, desc=desc,
                                                  limit=limit):
            try:
                yield self.mapper.to_domain_event(stored)
            except ForgedSnapshot as e:
                REJECTED.inc()
                log.error("snapshot_rejected", aggregate=str(stored.originator_id),
                          version=stored.originator_version, reason=str(e))


def drop_unverifiable(snapshots: EventStore | None, rows: Iterable[StoredEvent]) -> int:
    """`luotto migrate` (as the owner): remove the snapshots among `rows` whose MAC does not verify
    with this key: made by an older version without one, or under a signing key since rotated.
    They would be ignored anyway (they are only a cache); each removal is logged, so one forged
    meanwhile still leaves a trace. Returns how many were removed."""
    recorder = getattr(snapshots, "recorder", None)
    datastore, table = getattr(recorder, "datastore", None), getattr(recorder, "events_table_name", None)
    if datastore is None or table is None:
        return 0  # in memory: nothing outlives the process
    bad = []  # the keys only: the rows come a page at a time (application.evidence.all_snapshots)
    for stored in rows:
        try:
            snapshots.mapper.verified(stored)
        except ForgedSnapshot as e:
            log.warning("snapshot_removed", aggregate=str(stored.originator_id), version=stored.originator_version,
                        reason=str(e))
            bad.append((stored.originator_id, stored.originator_version))
    if not bad:
        return 0
    postgres = hasattr(datastore, "schema")
    qualified = f'"{datastore.schema}"."{table}"' if postgres else table
    mark = "%s" if postgres else "?"
    with datastore.transaction(commit=True) as cursor:
        for originator_id, version in bad:
            cursor.execute(f"DELETE FROM {qualified} WHERE originator_id = {mark} AND originator_version = {mark}",
                           (originator_id if postgres else originator_id.hex, version))
    return len(bad)
