"""Find (or start) a real PostgreSQL for the tests, and give each run its own database.

Rules, in order (see the team's testing guide):

1. ``LUOTTO_TEST_DATABASE_URL`` (a libpq URL such as
   ``postgresql://postgres@127.0.0.1:5432/test``). When it is set it is the
   only candidate: if nothing answers there, that is an error, not a reason to
   quietly use some other server.
2. A server at 127.0.0.1:5432, user ``postgres`` (trust auth).
3. A throwaway cluster made with the installed ``initdb``/``pg_ctl`` (found on
   PATH or under /usr/lib/postgresql/*/bin) in a temporary folder, on a free
   port, stopped and removed when the returned server is stopped.

When none of these works, :func:`find_server` raises :class:`NoPostgresError`
with a plain message; the test fixtures turn that into a failure, never a skip.

Public API::

    find_server() -> PostgresServer                 # the rules above
    start_throwaway_cluster() -> PostgresServer     # rule 3 only; call .stop()
    fresh_database(server) -> ctx[DatabaseInfo]     # CREATE DATABASE ... / DROP
    fresh_schema(info) -> ctx[DatabaseInfo]         # CREATE SCHEMA ... / DROP
    eventsourcing_env(info, schema=None) -> dict[str, str]
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = [
    "DATABASE_PREFIX",
    "ENV_VAR",
    "DatabaseInfo",
    "NoPostgresError",
    "PostgresServer",
    "eventsourcing_env",
    "find_server",
    "fresh_database",
    "fresh_schema",
    "start_throwaway_cluster",
]

ENV_VAR = "LUOTTO_TEST_DATABASE_URL"
LOCAL_HOST = "127.0.0.1"
LOCAL_PORT = 5432
LOCAL_USER = "postgres"
DATABASE_PREFIX = "luotto_test"
CONNECT_TIMEOUT = 3  # seconds, for probing and admin connections
_ADMIN_DBNAMES = ("postgres", "test", "template1")
_CLUSTER_OS_USER = "postgres"  # who runs initdb/pg_ctl when we are root


class NoPostgresError(RuntimeError):
    """No PostgreSQL could be found or started. The message says why, plainly."""


# --------------------------------------------------------------------------- #
# Connection info
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class DatabaseInfo:
    """Where one test database lives. ``schema`` is None for the default (public)."""

    host: str
    port: int
    dbname: str
    user: str
    password: str = ""
    schema: str | None = None

    @property
    def dsn(self) -> str:
        """libpq key=value string; with a schema, ``search_path`` points at it."""
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "connect_timeout": CONNECT_TIMEOUT,
        }
        if self.password:
            params["password"] = self.password
        if self.schema:
            params["options"] = f"-csearch_path={self.schema}"
        return make_conninfo(**params)

    def with_schema(self, schema: str | None) -> DatabaseInfo:
        return replace(self, schema=schema)

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn, **kwargs)


@dataclass
class PostgresServer:
    """A reachable PostgreSQL server and how it was found.

    ``source`` is ``"env"`` (LUOTTO_TEST_DATABASE_URL), ``"local"``
    (127.0.0.1:5432) or ``"throwaway"`` (a cluster we started; ``stop()``
    stops it and deletes its folder). ``stop()`` is a no-op for the others.
    """

    host: str
    port: int
    user: str
    password: str = ""
    admin_dbname: str = "postgres"
    source: str = "local"
    data_dir: Path | None = None
    _cluster: _ThrowawayCluster | None = field(default=None, repr=False, compare=False)

    @property
    def admin_dsn(self) -> str:
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.admin_dbname,
            "user": self.user,
            "connect_timeout": CONNECT_TIMEOUT,
        }
        if self.password:
            params["password"] = self.password
        return make_conninfo(**params)

    def admin_connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.admin_dsn, autocommit=True)

    def describe(self) -> str:
        where = f"{self.user}@{self.host}:{self.port}"
        if self.source == "env":
            return f"{where} (from {ENV_VAR})"
        if self.source == "throwaway":
            return f"{where} (throwaway cluster in {self.data_dir})"
        return f"{where} (local server)"

    def stop(self) -> None:
        if self._cluster is not None:
            self._cluster.stop()

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- #
# Finding a server
# --------------------------------------------------------------------------- #


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _server_from_connection(
    conn: psycopg.Connection[Any], source: str, admin_dbname: str
) -> PostgresServer:
    info = conn.info
    return PostgresServer(
        host=info.host,  # the effective host (a socket folder for Unix sockets)
        port=int(info.port),
        user=info.user,
        password=info.password or "",
        admin_dbname=admin_dbname,
        source=source,
    )


def _server_from_url(url: str) -> PostgresServer:
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise NoPostgresError(f"{ENV_VAR} is not a valid libpq URL ({exc}).") from None
    params.setdefault("connect_timeout", CONNECT_TIMEOUT)
    try:
        with psycopg.connect(**params) as conn:
            return _server_from_connection(conn, "env", conn.info.dbname)
    except psycopg.Error as exc:
        raise NoPostgresError(
            f"{ENV_VAR} is set to {_redact(url)}, but PostgreSQL there cannot be "
            f"used: {str(exc).strip()}"
        ) from None


def _probe_local() -> tuple[PostgresServer | None, str]:
    """(server, "") when 127.0.0.1:5432 answers as user postgres, else (None, why)."""
    why = "no answer"
    for dbname in _ADMIN_DBNAMES:
        try:
            with psycopg.connect(
                host=LOCAL_HOST,
                port=LOCAL_PORT,
                user=LOCAL_USER,
                dbname=dbname,
                connect_timeout=CONNECT_TIMEOUT,
            ) as conn:
                return _server_from_connection(conn, "local", dbname), ""
        except psycopg.OperationalError as exc:
            why = " ".join(str(exc).split()) or repr(exc)
            if f'database "{dbname}" does not exist' in str(exc):
                continue  # try the next maintenance database
            break
    return None, why


def find_server() -> PostgresServer:
    """The PostgreSQL to use, by the rules in this module's docstring.

    The caller owns the result: call ``stop()`` (or use it as a context
    manager) so a throwaway cluster is stopped and removed.
    """
    url = os.environ.get(ENV_VAR, "").strip()
    if url:
        return _server_from_url(url)

    server, local_why = _probe_local()
    if server is not None:
        return server

    try:
        return start_throwaway_cluster()
    except NoPostgresError as exc:
        throwaway_why = str(exc)

    raise NoPostgresError(
        "No PostgreSQL is available for the tests, so they fail (they are never "
        "skipped).\n"
        f"  - {ENV_VAR} is not set.\n"
        f"  - Nothing usable at {LOCAL_USER}@{LOCAL_HOST}:{LOCAL_PORT}: {local_why}\n"
        f"  - A throwaway cluster could not be started: {throwaway_why}\n"
        f"Fix one of these: set {ENV_VAR}=postgresql://USER@HOST:PORT/DB, "
        f"run PostgreSQL on {LOCAL_HOST}:{LOCAL_PORT} with user {LOCAL_USER}, "
        "or install the PostgreSQL server binaries (initdb, pg_ctl)."
    )


# --------------------------------------------------------------------------- #
# Throwaway cluster
# --------------------------------------------------------------------------- #


def _find_pg_bindir() -> Path | None:
    """A folder holding both initdb and pg_ctl: PATH first, then the newest
    /usr/lib/postgresql/*/bin."""
    initdb = shutil.which("initdb")
    if initdb:
        for candidate in (Path(initdb).parent, Path(initdb).resolve().parent):
            if (candidate / "pg_ctl").exists():
                return candidate

    def version(path: str) -> tuple[int, ...]:
        digits = re.findall(r"\d+", Path(path).parent.name)
        return tuple(int(d) for d in digits)

    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if os.access(Path(bindir) / "initdb", os.X_OK) and os.access(
            Path(bindir) / "pg_ctl", os.X_OK
        ):
            return Path(bindir)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCAL_HOST, 0))
        return int(sock.getsockname()[1])


def _world_traversable(path: Path) -> bool:
    for part in [path, *path.parents]:
        if not part.stat().st_mode & stat.S_IXOTH:
            return False
    return True


class _ThrowawayCluster:
    """initdb + pg_ctl in a temporary folder. As root, runs them as ``postgres``
    (initdb refuses to run as root) via runuser, or su when runuser is missing."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.base: Path | None = None
        self.data_dir: Path | None = None
        self.port: int | None = None
        self._run_as: list[str] | None = None  # prefix for running as another user
        self._su = False
        self._lock = threading.Lock()
        self._started = False

    # -- running commands ---------------------------------------------------
    def _prepare_user(self) -> tuple[int, int] | None:
        """(uid, gid) to own the folder when we must switch user, else None."""
        if os.geteuid() != 0:
            return None
        try:
            entry = pwd.getpwnam(_CLUSTER_OS_USER)
        except KeyError:
            raise NoPostgresError(
                f"running as root, and initdb refuses to run as root, but there is no "
                f"'{_CLUSTER_OS_USER}' OS user to run it as"
            ) from None
        runuser = shutil.which("runuser")
        su = shutil.which("su")
        if runuser:
            self._run_as = [runuser, "-u", _CLUSTER_OS_USER, "--"]
        elif su:
            self._run_as = [su, _CLUSTER_OS_USER, "-s", "/bin/sh", "-c"]
            self._su = True
        else:
            raise NoPostgresError(
                "running as root, and initdb refuses to run as root, but neither "
                "runuser nor su is available to switch to the "
                f"'{_CLUSTER_OS_USER}' user"
            )
        return entry.pw_uid, entry.pw_gid

    def _run(self, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._run_as is not None:
            cmd = [*self._run_as, shlex.join(cmd)] if self._su else [*self._run_as, *cmd]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        return subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=str(self.base),
            check=False,
        )

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> None:
        owner = self._prepare_user()
        base_dir = Path(tempfile.gettempdir())
        if owner is not None and not _world_traversable(base_dir):
            base_dir = Path("/tmp")
        self.base = Path(tempfile.mkdtemp(prefix="luotto-pg-", dir=base_dir))
        _live_clusters.add(self)
        try:
            self._start(owner)
        except BaseException:
            self.stop()
            raise

    def _start(self, owner: tuple[int, int] | None) -> None:
        assert self.base is not None
        if owner is not None:
            os.chown(self.base, *owner)
        self.data_dir = self.base / "data"
        log = self.base / "postgres.log"

        init = self._run(
            [
                str(self.bindir / "initdb"),
                "-D", str(self.data_dir),
                "-U", LOCAL_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            timeout=60,
        )
        if init.returncode != 0:
            raise NoPostgresError(
                f"initdb failed (exit {init.returncode}): "
                f"{(init.stderr or init.stdout).strip()[-800:]}"
            )
        # Settings for a disposable, local-only, fast cluster. Appended as root
        # keeps the file's owner.
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                "\n# luotto throwaway test cluster\n"
                f"listen_addresses = '{LOCAL_HOST}'\n"
                "unix_socket_directories = ''\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "max_connections = 100\n"
            )

        last_error = ""
        for _attempt in range(3):  # the free port can be taken before we bind it
            port = _free_port()
            started = self._run(
                [
                    str(self.bindir / "pg_ctl"),
                    "start",
                    "-D", str(self.data_dir),
                    "-l", str(log),
                    "-o", f"-p {port}",
                    "-w",
                    "-t", "30",
                ],
                timeout=45,
            )
            if started.returncode == 0:
                self.port = port
                self._started = True
                return
            last_error = (started.stderr or started.stdout).strip()
            with contextlib.suppress(OSError):
                last_error += "\n" + log.read_text(errors="replace")[-800:]
        raise NoPostgresError(f"pg_ctl start failed: {last_error[-1200:]}")

    def stop(self) -> None:
        with self._lock:
            if self._started and self.data_dir is not None:
                self._started = False
                for mode in ("fast", "immediate"):
                    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
                        res = self._run(
                            [
                                str(self.bindir / "pg_ctl"),
                                "stop",
                                "-D", str(self.data_dir),
                                "-m", mode,
                                "-w",
                                "-t", "15",
                            ],
                            timeout=20,
                        )
                        if res.returncode == 0:
                            break
            if self.base is not None:
                shutil.rmtree(self.base, ignore_errors=True)
                self.base = None
            _live_clusters.discard(self)


_live_clusters: set[_ThrowawayCluster] = set()


@atexit.register
def _stop_leftover_clusters() -> None:  # backstop if a caller forgot stop()
    for cluster in list(_live_clusters):
        cluster.stop()


def start_throwaway_cluster() -> PostgresServer:
    """Start a private cluster on a free 127.0.0.1 port (trust auth, user
    ``postgres``). Call ``stop()`` on the result (or use ``with``) to stop it
    and delete its folder. Raises NoPostgresError when it cannot be done."""
    bindir = _find_pg_bindir()
    if bindir is None:
        raise NoPostgresError(
            "initdb and pg_ctl were not found on PATH or under /usr/lib/postgresql/*/bin"
        )
    cluster = _ThrowawayCluster(bindir)
    cluster.start()
    assert cluster.port is not None
    return PostgresServer(
        host=LOCAL_HOST,
        port=cluster.port,
        user=LOCAL_USER,
        password="",
        admin_dbname="postgres",
        source="throwaway",
        data_dir=cluster.data_dir,
        _cluster=cluster,
    )


# --------------------------------------------------------------------------- #
# Per-run databases and per-test schemas
# --------------------------------------------------------------------------- #


def _drop_database(conn: psycopg.Connection[Any], dbname: str) -> None:
    ident = sql.Identifier(dbname)
    try:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
    except psycopg.errors.SyntaxError:  # PostgreSQL < 13
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(ident))


@contextlib.contextmanager
def fresh_database(
    server: PostgresServer, prefix: str = DATABASE_PREFIX
) -> Iterator[DatabaseInfo]:
    """Create ``<prefix>_<pid>_<random hex>`` on ``server``, yield its info, drop it.

    The name is unique per process and call, so concurrent runs never share data.
    """
    dbname = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        with server.admin_connect() as conn:
            # template0: nobody is ever connected to it, so concurrent runs
            # cannot block each other ("source database is being accessed").
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                    sql.Identifier(dbname)
                )
            )
    except psycopg.Error as exc:
        raise NoPostgresError(
            f"could not create test database {dbname} on {server.describe()}: "
            f"{str(exc).strip()}"
        ) from None
    try:
        yield DatabaseInfo(
            host=server.host,
            port=server.port,
            dbname=dbname,
            user=server.user,
            password=server.password,
        )
    finally:
        with server.admin_connect() as conn:
            _drop_database(conn, dbname)


@contextlib.contextmanager
def fresh_schema(info: DatabaseInfo, prefix: str = "t") -> Iterator[DatabaseInfo]:
    """Create a new schema in ``info``'s database, yield info with it, drop it (CASCADE)."""
    schema = f"{prefix}_{secrets.token_hex(6)}"
    base = info.with_schema(None)
    with base.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield info.with_schema(schema)
    finally:
        with base.connect(autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )


# --------------------------------------------------------------------------- #
# eventsourcing
# --------------------------------------------------------------------------- #


def eventsourcing_env(info: DatabaseInfo, schema: str | None = None) -> dict[str, str]:
    """Environment for ``Application(env=...)`` to persist in ``info``'s database.

    Names as read by eventsourcing 9.5.6 (``eventsourcing/postgres.py``,
    ``BasePostgresFactory``). ``schema`` defaults to ``info.schema``; the
    schema must already exist (eventsourcing creates tables, not schemas).

    POSTGRES_PASSWORD is always present: eventsourcing raises when the key is
    missing, while an empty value is accepted (libpq then treats it as no
    password). The pool is kept small (eventsourcing's default is 5 connections
    opened per application, plus 10 overflow) so suites that build many
    applications do not exhaust ``max_connections``.
    """
    schema = schema if schema is not None else info.schema
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": info.dbname,
        "POSTGRES_HOST": info.host,
        "POSTGRES_PORT": str(info.port),
        "POSTGRES_USER": info.user,
        "POSTGRES_PASSWORD": info.password or "",
        "CREATE_TABLE": "y",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "4",
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env
