"""eventsourcing on a real PostgreSQL, and the test-database plumbing itself."""

from __future__ import annotations

import socket
import time
from typing import Callable, Iterator
from uuid import UUID

import psycopg
import pytest
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event

from tests.support.postgres import (
    ENV_VAR,
    DatabaseInfo,
    NoPostgresError,
    PostgresServer,
    eventsourcing_env,
    find_server,
    fresh_database,
    fresh_schema,
    start_throwaway_cluster,
)

pytestmark = pytest.mark.postgres


class Note(Aggregate):
    @event("Created")
    def __init__(self, text: str) -> None:
        self.text = text

    @event("Edited")
    def edit(self, text: str) -> None:
        self.text = text


class Notes(Application[UUID]):
    def create(self, text: str) -> UUID:
        note = Note(text)
        self.save(note)
        return note.id

    def edit(self, note_id: UUID, text: str) -> None:
        note: Note = self.repository.get(note_id)
        note.edit(text)
        self.save(note)

    def text(self, note_id: UUID) -> str:
        note: Note = self.repository.get(note_id)
        return note.text


@pytest.fixture
def open_app() -> Iterator[Callable[[DatabaseInfo], Notes]]:
    """Build Notes apps on a given database/schema; all are closed at teardown
    (before the schema fixtures drop their schemas)."""
    apps: list[Notes] = []

    def _open(info: DatabaseInfo) -> Notes:
        app = Notes(env=eventsourcing_env(info))
        apps.append(app)
        return app

    yield _open
    for app in apps:
        app.close()


def _tables(info: DatabaseInfo) -> set[str]:
    with info.connect() as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (info.schema or "public",),
        ).fetchall()
    return {r[0] for r in rows}


def test_env_names_match_eventsourcing(pg_schema: DatabaseInfo) -> None:
    env = eventsourcing_env(pg_schema)
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert env["POSTGRES_DBNAME"] == pg_schema.dbname
    assert env["POSTGRES_SCHEMA"] == pg_schema.schema
    assert env["POSTGRES_PORT"] == str(pg_schema.port)
    assert "POSTGRES_PASSWORD" in env  # eventsourcing raises when the key is missing
    assert "POSTGRES_SCHEMA" not in eventsourcing_env(pg_schema.with_schema(None))
    assert eventsourcing_env(pg_schema, schema="other")["POSTGRES_SCHEMA"] == "other"


def test_save_and_reload_aggregate(
    pg_schema: DatabaseInfo, open_app: Callable[[DatabaseInfo], Notes]
) -> None:
    writer = open_app(pg_schema)
    note_id = writer.create("hello")
    writer.edit(note_id, "hello, world")

    # A second application instance only shares the database, not memory.
    reader = open_app(pg_schema)
    assert reader.text(note_id) == "hello, world"
    reloaded: Note = reader.repository.get(note_id)
    assert reloaded.version == 2
    assert "notes_events" in _tables(pg_schema)
    assert pg_schema.dbname.startswith("luotto_test_")


def test_notifications_are_read_in_order(
    pg_schema: DatabaseInfo, open_app: Callable[[DatabaseInfo], Notes]
) -> None:
    app = open_app(pg_schema)
    first = app.create("one")
    second = app.create("two")
    app.edit(first, "one, edited")

    notifications = app.recorder.select_notifications(start=1, limit=10)
    assert [n.id for n in notifications] == [1, 2, 3]
    assert [(n.originator_id, n.originator_version) for n in notifications] == [
        (first, 1),
        (second, 1),
        (first, 2),
    ]
    assert notifications[0].topic.endswith("Note.Created")
    assert notifications[2].topic.endswith("Note.Edited")

    # Paging and the application-level notification log agree.
    assert [n.id for n in app.recorder.select_notifications(start=2, limit=10)] == [2, 3]
    assert [n.id for n in app.notification_log.select(start=1, limit=2)] == [1, 2]
    assert app.recorder.max_notification_id() == 3


def test_schemas_are_isolated(
    pg_schema: DatabaseInfo,
    make_pg_schema: Callable[[], DatabaseInfo],
    open_app: Callable[[DatabaseInfo], Notes],
) -> None:
    other = make_pg_schema()
    assert other.schema != pg_schema.schema
    assert other.dbname == pg_schema.dbname

    app_a = open_app(pg_schema)
    app_b = open_app(other)
    a_id = app_a.create("only in A")

    with pytest.raises(AggregateNotFoundError):
        app_b.repository.get(a_id)
    assert app_b.recorder.select_notifications(start=1, limit=10) == []

    b_id = app_b.create("only in B")
    assert [n.originator_id for n in app_a.recorder.select_notifications(1, 10)] == [a_id]
    assert [n.originator_id for n in app_b.recorder.select_notifications(1, 10)] == [b_id]
    # Same table name, two schemas.
    assert "notes_events" in _tables(pg_schema)
    assert "notes_events" in _tables(other)


def test_schema_is_dropped_after_use(pg_database: DatabaseInfo) -> None:
    with fresh_schema(pg_database) as info:
        name = info.schema
        with info.connect(autocommit=True) as conn:
            conn.execute("CREATE TABLE t (x int)")  # lands in the schema (search_path)
        assert _tables(info) == {"t"}
    with pg_database.connect() as conn:
        row = conn.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,)
        ).fetchone()
    assert row is None


def test_run_database_is_private_and_dropped(pg_server: PostgresServer) -> None:
    with fresh_database(pg_server) as one, fresh_database(pg_server) as two:
        assert one.dbname != two.dbname
        assert one.dbname.startswith("luotto_test_")
        with one.connect() as conn:
            conn.execute("SELECT 1")
    with pg_server.admin_connect() as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname IN (%s, %s)",
            (one.dbname, two.dbname),
        ).fetchall()
    assert left == []


def test_url_from_environment_is_used(
    pg_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = (
        f"postgresql://{pg_server.user}@/{pg_server.admin_dbname}"
        f"?host={pg_server.host}&port={pg_server.port}"
    )
    monkeypatch.setenv(ENV_VAR, url)
    with find_server() as server:
        assert server.source == "env"
        assert server.port == pg_server.port
        with server.admin_connect() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)


def test_unreachable_url_from_environment_fails_plainly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv(ENV_VAR, f"postgresql://postgres:secret@127.0.0.1:{port}/x")
    with pytest.raises(NoPostgresError) as excinfo:
        find_server()
    message = str(excinfo.value)
    assert ENV_VAR in message and "cannot be used" in message
    assert "secret" not in message


def test_throwaway_cluster() -> None:
    started = time.monotonic()
    server = start_throwaway_cluster()
    try:
        assert server.source == "throwaway"
        assert server.data_dir is not None and server.data_dir.is_dir()
        with server.admin_connect() as conn:
            assert conn.execute("SHOW port").fetchone() == (str(server.port),)
        with fresh_database(server) as db, fresh_schema(db) as info:
            writer = Notes(env=eventsourcing_env(info))
            reader = Notes(env=eventsourcing_env(info))
            try:
                note_id = writer.create("on a throwaway cluster")
                assert reader.text(note_id) == "on a throwaway cluster"
            finally:
                writer.close()
                reader.close()
    finally:
        server.stop()
    assert not server.data_dir.parent.exists()  # the temp folder is gone
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.admin_dsn).close()
    assert time.monotonic() - started < 20
