"""The one reader of the application's notification log: a tracking position per follower, batches
after it, and a claim that moves the position only from where the batch began, so that two
runners (threads, processes, replicas) never both apply one batch. The read models, the notices'
outbox and any other derived record follow the log with one of these; `scan` reads it once
through (verify, digests, reports) without a position.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Batch:
    before: int  # the position it starts after
    last: int  # the position a claim moves to (past notifications of other topics too)
    notifications: list


class AlreadyClaimed(Exception):
    """Another runner applied this batch first."""


class Follower:
    def __init__(self, service, store, name: str, *, topics: list[str] | None = None, batch: int = 500):
        self.service, self.store, self.name, self.topics, self.size = service, store, name, topics, batch

    def position(self) -> int:
        with self.store.transaction() as tx:
            row = tx.execute("SELECT position FROM luotto_tracking WHERE projection = :name",
                             {"name": self.name}).one()
        return row["position"] if row else 0

    def next(self) -> Batch | None:
        """The notifications after the position, or None when there are none. With topics, the
        batch reaches up to the newest notification read first, so that the position moves past
        the others' events even when none of them is of these topics."""
        before = self.position()
        recorder = self.service.recorder
        if self.topics is None:
            found = recorder.select_notifications(start=before + 1, limit=self.size)
            return Batch(before, found[-1].id, found) if found else None
        newest = recorder.max_notification_id() or before  # read first: nothing slips past
        if newest <= before:
            return None
        found = recorder.select_notifications(start=before + 1, limit=self.size, stop=newest, topics=self.topics)
        return Batch(before, found[-1].id if len(found) == self.size else newest, found)

    def claim(self, tx, batch: Batch) -> None:
        """In the caller's transaction, with what the batch derived: move the position from
        `batch.before` to `batch.last`, or raise AlreadyClaimed when another runner did."""
        if batch.before == 0:
            tx.execute("INSERT INTO luotto_tracking (projection, position) VALUES (:name, 0) "
                       "ON CONFLICT (projection) DO NOTHING", {"name": self.name})
        moved = tx.execute("UPDATE luotto_tracking SET position = :last WHERE projection = :name AND position = "
                           ":before", {"last": batch.last, "name": self.name, "before": batch.before})
        if moved.cursor.rowcount != 1:
            raise AlreadyClaimed(self.name)


def scan(service, *, start: int = 1, stop: int | None = None, topics: list[str] | None = None,
         size: int = 1000) -> Iterator[list]:
    """The log from `start` (up to `stop`), in batches, read once without a tracking position."""
    while True:
        found = service.recorder.select_notifications(start=start, limit=size, stop=stop, topics=topics or ())
        if not found:
            return
        yield found
        start = found[-1].id + 1
