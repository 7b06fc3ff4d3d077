"""Locks across every process and replica: one servicing run at a time (architecture: servicing
runs), and one process changing the schema at a time when several start together.

PostgreSQL: a session advisory lock held on a dedicated connection for the whole run.
SQLite: an exclusive file lock beside the database file. In memory: a process lock.
"""
from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_process_locks: dict[str, threading.Lock] = {}


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def servicing_lock(env: dict[str, str]) -> Iterator[bool]:
    """Yields True when this process holds the lock, False when another one does (do not wait)."""
    with exclusive(env, "servicing", wait=False) as held:
        yield held


@contextmanager
def exclusive(env: dict[str, str], name: str, *, wait: bool) -> Iterator[bool]:
    """A named lock across processes; with `wait` it blocks until held (schema changes at start)."""
    module = env.get("PERSISTENCE_MODULE")
    if module == "eventsourcing.postgres":
        import psycopg

        conn = psycopg.connect(host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                               password=env.get("POSTGRES_PASSWORD") or None, dbname=env["POSTGRES_DBNAME"],
                               autocommit=True)
        key = _key(f"luotto-{name}/{env.get('POSTGRES_SCHEMA', 'public')}")
        try:
            if wait:
                conn.execute("SELECT pg_advisory_lock(%s)", (key,))
                held = True
            else:
                held = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]
            yield held
            if held:  # at once: a closed session releases it too, but only once the server has noticed,
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))  # and a run right after would skip
        finally:
            conn.close()  # ends the session, which releases the lock even after a crash mid-run
    elif module == "eventsourcing.sqlite":
        with open(f"{env['SQLITE_DBNAME']}.{name}.lock", "a+") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
    else:
        lock = _process_locks.setdefault(name, threading.Lock())
        held = lock.acquire(blocking=wait)
        try:
            yield held
        finally:
            if held:
                lock.release()
