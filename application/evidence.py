"""Evidence over the whole store: verify every loan's hash chain (R-EVID-2) and every snapshot (R-DATA-8)."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.application import project_aggregate
from eventsourcing.persistence import StoredEvent

from adapters.eventsourcing_internals.repository import _current as current_shape
from adapters.eventsourcing_internals.snapshots import ForgedSnapshot
from domain.events import LoanEvent, LoanGranted
from domain.evidence import ChainCheck
from projections.follower import scan


@dataclass(frozen=True)
class BrokenLink:
    loan: str
    version: int
    reason: str
    notification_id: int | None = None

    def __str__(self) -> str:
        where = f" (notification {self.notification_id})" if self.notification_id else ""
        return f"loan {self.loan}: version {self.version}: {self.reason}{where}"


def verify_store(service, progress: Callable[[int, int], None] | None = None,
                 batch: int = 1000) -> tuple[int, list[BrokenLink]]:
    """Recompute every loan's chain from the stored events alone; returns (loans, broken links)."""
    checks: dict = {}
    undecodable: list[BrokenLink] = []
    total = service.recorder.max_notification_id() or 0
    for notifications in scan(service, size=batch):
        for notification in notifications:
            is_loan = notification.topic.startswith("domain.events:")
            try:
                event = service.mapper.to_domain_event(notification)
            except Exception as e:  # noqa: BLE001 - an unreadable row is itself evidence of tampering
                if is_loan:
                    undecodable.append(BrokenLink(str(notification.originator_id), notification.originator_version,
                                                  f"stored event cannot be decoded: {type(e).__name__}",
                                                  notification.id))
                    checks.setdefault(notification.originator_id, ChainCheck()).broken = (
                        notification.originator_version, "cannot be decoded")
                continue
            if isinstance(event, (LoanEvent, LoanGranted)):
                checks.setdefault(event.originator_id, ChainCheck()).feed(event)
        if progress:
            progress(notifications[-1].id, total)
    broken = [BrokenLink(str(loan), *check.broken) for loan, check in checks.items() if check.broken]
    reported = {(b.loan, b.version) for b in undecodable}
    return len(checks), undecodable + [b for b in broken if (b.loan, b.version) not in reported]


def all_snapshots(service) -> list[StoredEvent]:
    """Every stored snapshot row, read straight from its table (PostgreSQL, SQLite or memory)."""
    recorder = service.snapshots.recorder if service.snapshots is not None else None
    if recorder is None:
        return []
    if hasattr(recorder, "_stored_events"):  # in memory
        return list(recorder._stored_events)
    datastore, table = recorder.datastore, recorder.events_table_name
    if hasattr(datastore, "schema"):  # PostgreSQL
        table = f'"{datastore.schema}"."{table}"'
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT originator_id, originator_version, topic, state FROM {table}")
        rows = cursor.fetchall()
    return [StoredEvent(originator_id=UUID(str(r["originator_id"])), originator_version=r["originator_version"],
                        topic=r["topic"], state=bytes(r["state"])) for r in rows]


def verify_snapshots(service) -> tuple[int, list[str]]:
    """R-DATA-8: every snapshot carries a valid MAC and equals the aggregate folded from the events
    it summarises; returns (snapshots checked, problems)."""
    problems, rows = [], all_snapshots(service)
    for stored in rows:
        where = f"snapshot of {stored.originator_id} at version {stored.originator_version}"
        try:
            snapshot = service.snapshot_mapper.to_domain_event(stored)
        except ForgedSnapshot as e:
            problems.append(f"{where}: {e} (ignored when loading)")
            continue
        if not current_shape(snapshot):
            continue  # of an older state shape: never used when loading (adapters.eventsourcing_internals.repository)
        events = list(service.events.get(stored.originator_id, lte=stored.originator_version))
        folded = project_aggregate(None, events) if events else None
        if folded is None or folded.version != stored.originator_version:
            problems.append(f"{where}: the events do not reach that version")
            continue
        fresh = type(snapshot).take(folded)
        encode = service.snapshot_mapper.transcoder.encode
        if snapshot.topic != fresh.topic or json.loads(encode(snapshot.state)) != json.loads(encode(fresh.state)):
            problems.append(f"{where}: it differs from the state its events give")
    return len(rows), problems
