"""Group commit: concurrent callers are written together, each answered only after the commit.

A caller adds its item to a queue and tries to become the writer. The writer takes every item
queued so far (up to `max_batch`) and writes them with one call, in one transaction; callers who
queued meanwhile wait for that writer and are then answered, or write the next batch themselves.
No thread of its own: a lone caller writes its own item at once, at no extra delay. Under load
many commands share one transaction, so the per-transaction costs (the event table's lock, the
commit's WAL flush, round trips) are paid once per batch (architecture.md, "Performance").
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Slot(Generic[Item]):
    __slots__ = ("item", "outcome", "done")

    def __init__(self, item: Item) -> None:
        self.item, self.outcome, self.done = item, None, False


class GroupCommit(Generic[Item, Result]):
    """`write(items)` returns one outcome per item, in order: a result, or the exception to raise
    in that item's caller. An exception out of `write` itself is raised in every caller of the batch."""

    def __init__(self, write: Callable[[list[Item]], Sequence[Result | BaseException]], max_batch: int = 100):
        self._write, self._max_batch = write, max_batch
        self._queue: list[_Slot] = []
        self._queue_lock = threading.Lock()
        self._writer = threading.Lock()

    def submit(self, item: Item) -> Result:
        slot = _Slot(item)
        with self._queue_lock:
            self._queue.append(slot)
        while not slot.done:
            with self._writer:
                if slot.done:
                    break
                with self._queue_lock:
                    batch, self._queue = self._queue[:self._max_batch], self._queue[self._max_batch:]
                self._write_batch(batch)
        if isinstance(slot.outcome, BaseException):
            raise slot.outcome
        return slot.outcome

    def _write_batch(self, batch: list[_Slot]) -> None:
        try:
            outcomes = list(self._write([slot.item for slot in batch]))
            if len(outcomes) != len(batch):
                raise RuntimeError(f"group commit: {len(outcomes)} outcomes for {len(batch)} items")
        except BaseException as e:  # noqa: BLE001 - every caller of the batch gets it
            outcomes = [e] * len(batch)
        for slot, outcome in zip(batch, outcomes):
            slot.outcome, slot.done = outcome, True
