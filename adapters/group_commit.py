"""Group commit: concurrent callers are written together, each answered only after the commit.

One writer thread takes every item queued so far (up to `max_batch`) and writes them with one
call, in one transaction; items queued meanwhile go into the next batch. Callers wait for their
own item's outcome: threads with `submit`, coroutines with `asubmit` (on the event loop, without a
worker thread of their own). Under load many commands share one transaction, so the
per-transaction costs (the event table's lock, the commit's WAL flush, round trips) are paid
once per batch (architecture.md, "Performance"); a lone caller is written at once.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import structlog

log = structlog.get_logger("luotto.group_commit")
Item = TypeVar("Item")
Result = TypeVar("Result")
Settle = Callable[[object], None]  # called on the writer thread with the result or the exception


class GroupCommit(Generic[Item, Result]):
    """`write(items)` returns one outcome per item, in order: a result, or the exception to raise
    in that item's caller. An exception out of `write` itself is raised in every caller of the batch."""

    def __init__(self, write: Callable[[list[Item]], Sequence[Result | BaseException]], max_batch: int = 100,
                 name: str = "group-commit"):
        self._write, self._max_batch, self._name = write, max_batch, name
        self._queue: list[tuple[Item, Settle]] = []
        self._wake = threading.Condition()
        self._writer: threading.Thread | None = None

    def submit(self, item: Item) -> Result:
        done, outcome = threading.Event(), []
        self._enqueue(item, lambda result: (outcome.append(result), done.set()))
        done.wait()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]

    async def asubmit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._enqueue(item, lambda result: loop.call_soon_threadsafe(_settle, future, result))
        return await future

    def _enqueue(self, item: Item, settle: Settle) -> None:
        with self._wake:
            self._queue.append((item, settle))
            if self._writer is None or not self._writer.is_alive():  # first use, or a forked child
                self._writer = threading.Thread(target=self._write_forever, name=self._name, daemon=True)
                self._writer.start()
            self._wake.notify()

    def _write_forever(self) -> None:
        while True:
            with self._wake:
                while not self._queue:
                    self._wake.wait()
                batch, self._queue = self._queue[:self._max_batch], self._queue[self._max_batch:]
            try:
                outcomes = list(self._write([item for item, _ in batch]))
                if len(outcomes) != len(batch):
                    raise RuntimeError(f"group commit: {len(outcomes)} outcomes for {len(batch)} items")
            except BaseException as e:  # noqa: BLE001 - every caller of the batch gets it
                outcomes = [e] * len(batch)
            for (_, settle), outcome in zip(batch, outcomes):
                try:
                    settle(outcome)
                except Exception:  # noqa: BLE001 - e.g. the caller's event loop has closed: the others still wait
                    log.exception("group_commit_answer_lost", writer=self._name)


def _settle(future: asyncio.Future, outcome: object) -> None:
    if future.done():  # the caller was cancelled meanwhile (its item was still written)
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
