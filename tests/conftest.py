"""Fixtures for integration tests against a real PostgreSQL.

How the server is found: see tests/support/postgres.py. When no PostgreSQL can
be found or started, every test that asks for it FAILS with a plain message;
PostgreSQL tests are never skipped.

Fixtures:
    pg_server    (session)  PostgresServer: host, port, user, password,
                            admin_dbname, admin_dsn, source
    pg_database  (session)  DatabaseInfo of this run's own database:
                            host, port, dbname, user, password, schema=None, dsn
    pg_schema    (function) the same DatabaseInfo with ``schema`` set to a new
                            schema made for this test (dropped afterwards)
    make_pg_schema (function) callable returning further fresh schemas, for
                            tests that need more than one
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import pytest

from tests.support.postgres import (
    DatabaseInfo,
    NoPostgresError,
    PostgresServer,
    find_server,
    fresh_database,
    fresh_schema,
)

_used: dict[str, str] = {}


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    problem = None
    try:
        server = find_server()
    except NoPostgresError as exc:
        problem = str(exc)
    if problem is not None:  # outside the except: no chained traceback noise
        pytest.fail(problem, pytrace=False)
    with server:  # stops and removes a throwaway cluster at session end
        _used["server"] = server.describe()
        yield server


@pytest.fixture(scope="session")
def pg_database(pg_server: PostgresServer) -> Iterator[DatabaseInfo]:
    cm = fresh_database(pg_server)
    problem = None
    try:
        info = cm.__enter__()
    except NoPostgresError as exc:
        problem = str(exc)
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    _used["database"] = info.dbname
    try:
        yield info
    finally:
        cm.__exit__(None, None, None)


@pytest.fixture
def make_pg_schema(pg_database: DatabaseInfo) -> Iterator[Callable[[], DatabaseInfo]]:
    with contextlib.ExitStack() as stack:
        yield lambda: stack.enter_context(fresh_schema(pg_database))


@pytest.fixture
def pg_schema(make_pg_schema: Callable[[], DatabaseInfo]) -> DatabaseInfo:
    return make_pg_schema()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _used:
        terminalreporter.write_line(
            f"PostgreSQL: {_used.get('server')}, "
            f"run database {_used.get('database', '-')} (dropped)"
        )
