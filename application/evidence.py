"""Evidence over the whole store: verify every loan's hash chain (R-EVID-2) and every snapshot (R-DATA-8)."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
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


# The most snapshot state one read brings in (a single bigger row is read alone). The grant register's
# snapshots grow with the organiser, one per 100 loans each as big as the register was (about 150 bytes a
# loan), so all of them together grow with the square of its loans: 7 MB at 3,000 loans, about 77 MB at
# 10,000, and every process's migration reads them all (R-MIG-4).
SNAPSHOT_PAGE_BYTES = 4 << 20
SNAPSHOT_KEYS_PAGE = 1000


def all_snapshots(service) -> Iterator[StoredEvent]:
    """Every stored snapshot row, read straight from its table (PostgreSQL, SQLite or memory), in the
    order of its key, a page at a time: the keys and sizes of SNAPSHOT_KEYS_PAGE rows, then their rows a run
    of keys at a time within SNAPSHOT_PAGE_BYTES. No transaction stays open between rows."""
    recorder = service.snapshots.recorder if service.snapshots is not None else None
    if recorder is None:
        return
    if hasattr(recorder, "_stored_events"):  # in memory
        yield from list(recorder._stored_events)
        return
    datastore, table = recorder.datastore, recorder.events_table_name
    if hasattr(datastore, "schema"):  # PostgreSQL
        table = f'"{datastore.schema}"."{table}"'
    mark = "%s" if hasattr(datastore, "schema") else "?"
    key = "(originator_id, originator_version)"
    after: tuple = ()
    while True:
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT originator_id, originator_version, length(state) AS size FROM {table} "
                           + (f"WHERE {key} > ({mark}, {mark}) " if after else "")
                           + f"ORDER BY originator_id, originator_version LIMIT {SNAPSHOT_KEYS_PAGE}", after)
            keys = [(r["originator_id"], r["originator_version"], r["size"]) for r in cursor.fetchall()]
        start = 0
        while start < len(keys):
            end, size = start + 1, keys[start][2]
            while end < len(keys) and size + keys[end][2] <= SNAPSHOT_PAGE_BYTES:
                size, end = size + keys[end][2], end + 1
            with datastore.transaction(commit=False) as cursor:
                cursor.execute(f"SELECT originator_id, originator_version, topic, state FROM {table} WHERE {key} >= "
                               f"({mark}, {mark}) AND {key} <= ({mark}, {mark}) ORDER BY originator_id, "
                               "originator_version", keys[start][:2] + keys[end - 1][:2])
                rows = cursor.fetchall()
            for r in rows:
                yield StoredEvent(originator_id=UUID(str(r["originator_id"])),
                                  originator_version=r["originator_version"], topic=r["topic"], state=bytes(r["state"]))
            del rows
            start = end
        if len(keys) < SNAPSHOT_KEYS_PAGE:
            return
        after = keys[-1][:2]


def verify_snapshots(service) -> tuple[int, list[str]]:
    """R-DATA-8: every snapshot carries a valid MAC and equals the aggregate folded from the events
    it summarises; returns (snapshots checked, problems)."""
    problems, checked = [], 0
    for stored in all_snapshots(service):
        checked += 1
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
    return checked, problems
