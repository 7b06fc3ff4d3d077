"""SQL storage beside the events (read models, keys, access log, personal data, outbox, digests), on
PostgreSQL (psycopg pool) or SQLite, with one dialect of SQL.

Queries are written with `:name` parameters; on PostgreSQL they become `%(name)s`. Dates are
ISO strings and booleans integers, so the same statements run on both.
"""
from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

def append_only(tx: "Tx", table: str) -> None:
    """Triggers that refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) on `table` for every role."""
    message = f"{table} is append-only (R-DATA-8)"
    if tx.dialect == "postgres":
        tx.execute("""CREATE OR REPLACE FUNCTION luotto_refuse_record_change() RETURNS trigger LANGUAGE plpgsql
                      AS $$ BEGIN RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only (R-DATA-8)';
                      END $$""")
        tx.execute(f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION luotto_refuse_record_change()")
        tx.execute(f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION luotto_refuse_record_change()")
        return
    for action in ("UPDATE", "DELETE"):
        tx.execute(f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE {action} ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
_PARAM = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


class SqlStore:
    """A connection factory plus `transaction()`; each user creates its own tables."""

    dialect = ""

    @contextmanager
    def transaction(self) -> Iterator["Tx"]:
        raise NotImplementedError

    def append(self, table: str, columns: dict[str, str], rows: list[dict]) -> None:
        """Append `rows` to `table`, all or none; `columns` maps each column to its SQL type."""
        if rows:
            with self.transaction() as tx:
                tx.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                               f"({', '.join(':' + column for column in columns)})", rows)

    def forget_deleted(self) -> None:
        """After an erasure: leave no copy of deleted rows in files this store controls."""

    def close(self) -> None:
        pass


class Tx:
    def __init__(self, cursor: Any, dialect: str):
        self.cursor, self.dialect = cursor, dialect

    def execute(self, sql: str, params: dict | None = None, *, prepare: bool | None = None) -> "Tx":
        """`prepare=False`: never a server-side prepared statement (psycopg prepares a query it has
        run five times; PostgreSQL may then keep a generic plan made from stale table statistics)."""
        if self.dialect == "postgres":
            self.cursor.execute(_PARAM.sub(r"%(\1)s", sql), params or {}, prepare=prepare)
        else:
            self.cursor.execute(sql, params or {})
        return self

    def executemany(self, sql: str, rows: list[dict]) -> None:
        if self.dialect == "postgres":
            sql = _PARAM.sub(r"%(\1)s", sql)
        if rows:
            self.cursor.executemany(sql, rows)

    def all(self) -> list[dict]:
        names = [d[0] for d in self.cursor.description]
        return [dict(zip(names, row)) for row in self.cursor.fetchall()]

    def one(self) -> dict | None:
        rows = self.all()
        return rows[0] if rows else None


class SQLiteStore(SqlStore):
    dialect = "sqlite"

    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # Deleted and overwritten content is zeroed, not left in free space (R-DATA-2).
            conn.execute("PRAGMA secure_delete=ON")
            self._local.conn = conn
        return conn

    def forget_deleted(self) -> None:
        """Copy the write-ahead log into the database and empty it: the log still holds the pages
        as they were before the erasure. A reader holding an old snapshot can delay it; retried."""
        conn = self._connection()
        for _ in range(50):
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return
            time.sleep(0.05)
        raise RuntimeError("the SQLite write-ahead log could not be emptied after an erasure: a reader held it")

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        conn = self._connection()
        cursor = conn.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield Tx(cursor, self.dialect)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")


class PostgresStore(SqlStore):
    dialect = "postgres"

    def __init__(self, conninfo: str, schema: str | None = None, size: int = 2):
        from psycopg_pool import ConnectionPool

        options = {"options": f"-c search_path={schema}"} if schema else {}
        self.pool = ConnectionPool(conninfo, min_size=1, max_size=size, kwargs=options, open=True)
        self._append_conn: psycopg.Connection | None = None
        self._append_lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield Tx(cursor, self.dialect)

    def append(self, table: str, columns: dict[str, str], rows: list[dict]) -> None:
        """One prepared INSERT over one array per column, committed on its own (a single statement
        is atomic): one round trip where a pooled transaction takes three plus the pool's checkout,
        half the client CPU (the access log writes one such batch per request or fewer). On a
        connection of its own, made again once it is lost."""
        if not rows:
            return
        arrays = ", ".join(f"%s::{sql_type}[]" for sql_type in columns.values())
        sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
        with self._append_lock:
            if self._append_conn is None or self._append_conn.closed or self._append_conn.broken:
                self._append_conn = psycopg.connect(self.pool.conninfo, autocommit=True, **self.pool.kwargs)
            self._append_conn.execute(sql, [[row[column] for row in rows] for column in columns], prepare=True)

    def close(self) -> None:
        with self._append_lock:
            if self._append_conn is not None:
                self._append_conn.close()
        self.pool.close()


def store_for(env: dict[str, str]) -> SqlStore:
    """The read-model store beside the event store the eventsourcing env points at."""
    module = env.get("PERSISTENCE_MODULE")
    if module == "eventsourcing.sqlite":
        return SQLiteStore(env["SQLITE_DBNAME"])
    if module == "eventsourcing.postgres":
        from psycopg.conninfo import make_conninfo

        conninfo = make_conninfo(host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                                 password=env.get("POSTGRES_PASSWORD") or None, dbname=env["POSTGRES_DBNAME"])
        return PostgresStore(conninfo, env.get("POSTGRES_SCHEMA"))
    # In memory: a private SQLite file that lives as long as the process.
    import tempfile

    return SQLiteStore(tempfile.mkstemp(prefix="luotto-read-model-", suffix=".sqlite")[1])
