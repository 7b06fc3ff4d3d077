"""Read-your-writes (`?min_position=`) without holding a worker thread per waiting read.

A waiting read awaits a future on the event loop. One poller task per process follows the read
models for all of them: it asks for the position (and, when behind, processes a batch itself, as
the read path always has) on one worker thread at a time, then wakes every read whose position has
been reached. A position beyond the event store's head can never be reached by waiting (no write
has it yet), so such a read is answered at once, marked stale, as is one still behind when its
wait ends. 45 concurrent waiting reads therefore cost one query per poll, not 45 threads.
"""
from __future__ import annotations

import asyncio

import structlog
from starlette.concurrency import run_in_threadpool

log = structlog.get_logger("luotto.fresh")


class PositionWatch:
    def __init__(self, read_model, poll_seconds: float = 0.05):
        self.read_model = read_model
        self.poll_seconds = poll_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: list[tuple[int, asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    async def wait(self, position: int, timeout: float) -> bool:
        """True once the read models include `position`; False (stale) when they do not within
        `timeout` seconds or when no write has that position yet."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests start one per client): start afresh
            self._loop, self._waiters, self._task = loop, [], None
        future = loop.create_future()
        waiter = (position, future)
        self._waiters.append(waiter)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._follow())
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except asyncio.TimeoutError:
            return False
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    async def _follow(self) -> None:
        while self._waiters:
            target = max(position for position, _ in self._waiters)
            try:
                reached, head = await run_in_threadpool(self._step, target)
            except Exception:  # noqa: BLE001 - the database may be away: the waits time out as stale
                log.exception("read_position_poll_failed")
                reached, head = 0, None
            for position, future in list(self._waiters):
                if future.done():
                    continue
                if position <= reached:
                    future.set_result(True)
                elif head is not None and position > head:
                    future.set_result(False)
            if any(not future.done() for _, future in self._waiters):
                await asyncio.sleep(self.poll_seconds)
            else:
                return

    def _step(self, target: int) -> tuple[int, int]:
        """(the read models' position, the event store's head), after one batch if behind."""
        position = self.read_model.position()
        if position < target:
            self.read_model.run_once()
            position = self.read_model.position()
        return position, self.read_model.service.recorder.max_notification_id() or 0
