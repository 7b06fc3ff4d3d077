"""Group commit (adapters.group_commit): concurrent callers share a write, each gets its own answer."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from adapters.group_commit import GroupCommit


class Recorder:
    def __init__(self, delay: float = 0.0, fail_on: set[int] = frozenset()):
        self.batches: list[list[int]] = []
        self.delay, self.fail_on = delay, fail_on
        self.inside = 0
        self.overlap = False
        self.lock = threading.Lock()

    def write(self, items: list[int]) -> list:
        with self.lock:
            self.inside += 1
            self.overlap |= self.inside > 1
        time.sleep(self.delay)
        self.batches.append(list(items))
        with self.lock:
            self.inside -= 1
        return [ValueError(f"item {i} refused") if i in self.fail_on else i * 10 for i in items]


def test_a_lone_caller_writes_its_own_item_at_once():
    recorder = Recorder()
    commits = GroupCommit(recorder.write)
    assert commits.submit(7) == 70
    assert recorder.batches == [[7]]


def test_concurrent_callers_share_batches_and_each_gets_its_own_outcome():
    recorder = Recorder(delay=0.02, fail_on={13})
    commits = GroupCommit(recorder.write)

    def call(i: int):
        try:
            return commits.submit(i)
        except ValueError as e:
            return str(e)

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(call, range(40)))
    assert results == [("item 13 refused" if i == 13 else i * 10) for i in range(40)]
    written = sorted(i for batch in recorder.batches for i in batch)
    assert written == list(range(40))  # each item written exactly once
    assert len(recorder.batches) < 40  # some shared a transaction
    assert not recorder.overlap  # one writer at a time


def test_a_failing_write_fails_every_caller_of_that_batch_and_only_them():
    calls = []

    def write(items):
        calls.append(list(items))
        if len(calls) == 1:
            raise ConnectionError("database down")
        return items

    commits = GroupCommit(write)
    with pytest.raises(ConnectionError):
        commits.submit(1)
    assert commits.submit(2) == 2


def test_batches_are_capped():
    recorder = Recorder(delay=0.01)
    commits = GroupCommit(recorder.write, max_batch=3)
    with ThreadPoolExecutor(12) as pool:
        assert list(pool.map(commits.submit, range(24))) == [i * 10 for i in range(24)]
    assert max(len(b) for b in recorder.batches) <= 3


def test_a_write_answering_the_wrong_number_of_outcomes_is_an_error_not_a_silent_loss():
    commits = GroupCommit(lambda items: [])
    with pytest.raises(RuntimeError, match="0 outcomes for 1 items"):
        commits.submit(1)


def test_coroutines_wait_on_the_event_loop_and_share_batches_with_threads():
    import asyncio

    recorder = Recorder(delay=0.01, fail_on={5})
    commits = GroupCommit(recorder.write)

    async def calls():
        async def one(i):
            try:
                return await commits.asubmit(i)
            except ValueError as e:
                return str(e)
        return await asyncio.gather(*(one(i) for i in range(30)))

    assert asyncio.run(calls()) == [("item 5 refused" if i == 5 else i * 10) for i in range(30)]
    assert sorted(i for b in recorder.batches for i in b) == list(range(30))
    assert len(recorder.batches) < 30


def test_a_caller_that_cannot_be_answered_does_not_stop_the_writer():
    """A coroutine whose event loop closed before its answer came: the writer logs it and goes on."""
    import asyncio

    recorder = Recorder(delay=0.05)
    commits = GroupCommit(recorder.write)
    loop = asyncio.new_event_loop()
    task = loop.create_task(commits.asubmit(1))
    loop.run_until_complete(asyncio.sleep(0.01))  # queued; the writer is still writing it
    task.cancel()
    loop.close()  # its answer now has nowhere to go
    answers = []
    later = threading.Thread(target=lambda: answers.append(commits.submit(2)), daemon=True)
    later.start()
    later.join(timeout=10)  # a dead writer would leave it waiting for ever
    assert answers == [20]
    assert sorted(i for b in recorder.batches for i in b) == [1, 2]
