"""The access log's writer (adapters.access_log) on both real stores: concurrent requests' rows are
committed together, every row exactly once, each request answered only after its row's commit,
and a failed write reaches every request of that batch."""
from __future__ import annotations

import asyncio
import threading
import time

import psycopg
import pytest

from tests.integration.helpers import stack  # noqa: F401 - fixture


def _fields(i: int) -> dict:
    return {"subject": f"user-{i}", "via": "api_key", "tenant": "t1", "loan_id": f"L{i % 3}", "method": "GET",
            "endpoint": "/v1/loans/{loan_id}", "status": 200, "request_id": f"req-{i}"}


def test_concurrent_requests_share_transactions_and_every_row_is_there_once(stack):
    log = stack.container().access_log
    transactions = []
    real_insert = log._commits._write

    def slow_insert(rows):  # a slower disk: requests pile up behind the writer
        transactions.append(len(rows))
        time.sleep(0.02)
        return real_insert(rows)

    log._commits._write = slow_insert

    async def requests():
        await asyncio.gather(*(log.arecord(**_fields(i)) for i in range(60)))
        # The sync form, from threads, goes through the same writer.
        threads = [threading.Thread(target=log.record, kwargs=_fields(i)) for i in range(60, 70)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    asyncio.run(requests())
    rows = log.query("t1", limit=1000)
    assert sorted(r["request_id"] for r in rows) == sorted(f"req-{i}" for i in range(70))
    assert sum(transactions) == 70
    assert len(transactions) < 20


def test_a_request_is_answered_only_after_its_row_is_committed(stack):
    log = stack.container().access_log
    seen = []

    async def one():
        await log.arecord(**_fields(1))
        seen.extend(r["request_id"] for r in log.query("t1"))  # read on another connection

    asyncio.run(one())
    assert seen == ["req-1"]


def test_a_failed_write_fails_the_requests_of_that_batch(stack):
    log = stack.container().access_log

    def broken(rows):
        raise ConnectionError("database went away")

    log._commits._write = broken
    with pytest.raises(ConnectionError):
        asyncio.run(log.arecord(**_fields(1)))
    with pytest.raises(ConnectionError):
        log.record(**_fields(2))


def test_a_batch_is_written_as_given_all_or_nothing(stack):
    """SqlStore.append (on PostgreSQL one INSERT over arrays on a connection of its own): every
    field arrives as given, a missing loan_id as NULL; a batch with a bad row writes none of its
    rows, and the next batch is written."""
    log = stack.container().access_log
    rows = [{**_fields(i), "loan_id": None if i == 2 else f"L{i}", "status": 200 + i,
             "at": f"2026-01-01T00:00:0{i}+00:00"} for i in range(5)]
    log._insert(rows[:3])
    with pytest.raises(Exception):
        log._insert([rows[3], {**rows[4], "subject": None}])
    log._insert(rows[3:])
    stored = sorted(log.query("t1"), key=lambda r: r["request_id"])
    assert [{k: r[k] for k in rows[0]} for r in stored] == rows


@pytest.mark.parametrize("stack", ["postgres"], indirect=True)
def test_a_lost_connection_fails_its_batch_and_the_next_batch_reconnects(stack):
    """PostgreSQL keeps the log's connection between batches; when the server drops it (a restart,
    an idle timeout), that batch's requests get the error and the next batch opens a new one."""
    log = stack.container().access_log
    log._insert([{**_fields(1), "at": "2026-01-01T00:00:01+00:00"}])
    with log.store.transaction() as tx:
        tx.execute("SELECT pg_terminate_backend(:pid)", {"pid": log.store._append_conn.info.backend_pid})
    with pytest.raises(psycopg.OperationalError):
        log._insert([{**_fields(2), "at": "2026-01-01T00:00:02+00:00"}])
    log._insert([{**_fields(3), "at": "2026-01-01T00:00:03+00:00"}])
    assert sorted(r["request_id"] for r in log.query("t1")) == ["req-1", "req-3"]
