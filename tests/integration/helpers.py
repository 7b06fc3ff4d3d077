"""Shared helpers for tests/integration/test_service_store.py and test_read_model.py.

`stack` is a fixture parametrised over the two real stores: a fresh PostgreSQL schema
(`pg_schema`) and a temporary SQLite file. It hands out containers built exactly like
`luotto serve` builds them (`api.deps.Container.build(Settings(...))`), with an injectable
fixed clock swapped in, and closes all of them before the schema is dropped.

Import the fixture into a test module with `from tests.integration.helpers import stack`.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from adapters.persistence import eventsourcing_env
from adapters.settings import Settings
from application.container import Container
from application.service import LoanService, Written
from domain.loan import Decision, loan_uuid
from domain.money import parse_amount
from domain.policy import make_policy

HELSINKI = ZoneInfo("Europe/Helsinki")
TENANT = "t1"
DEFAULT_TENANTS = {TENANT: {"preset": "etela-karjala"}}
D = dt.date.fromisoformat


# --------------------------------------------------------------------------------------- #
# Clock
# --------------------------------------------------------------------------------------- #


class Clock:
    """A fixed, injectable clock: the instant it is set to, plus one microsecond per call
    (so events recorded in one command still have increasing timestamps). Thread-safe."""

    def __init__(self, instant: dt.datetime | None = None):
        self._lock = threading.Lock()
        self._tick = 0
        self._at = instant or noon(D("2025-01-15"))

    def set(self, instant: dt.datetime) -> None:
        assert instant.tzinfo is not None
        with self._lock:
            self._at, self._tick = instant.astimezone(dt.timezone.utc), 0

    def set_day(self, day: dt.date) -> None:
        """Noon Helsinki time of `day` (the business date a process reading this clock sees)."""
        self.set(noon(day))

    def __call__(self) -> dt.datetime:
        with self._lock:
            self._tick += 1
            return self._at + dt.timedelta(microseconds=self._tick)


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=HELSINKI).astimezone(dt.timezone.utc)


# --------------------------------------------------------------------------------------- #
# The two stores
# --------------------------------------------------------------------------------------- #


@dataclass
class Stack:
    """One backend (PostgreSQL schema or SQLite file) and every process-like object opened on it."""

    kind: str
    database_url: str
    postgres_schema: str | None = None
    _opened: list[Any] = field(default_factory=list)

    def settings(self, tenants: dict | None = None) -> Settings:
        # Pool size 1: a test opens up to ~20 "processes" on one server (max_connections 100).
        return Settings(database_url=self.database_url, postgres_schema=self.postgres_schema,
                        tenants=tenants or DEFAULT_TENANTS, postgres_pool_size=1, read_wait_seconds=5.0)

    def cli_environment(self, monkeypatch, folder, tenants: dict | None = None) -> None:
        """The LUOTTO_* environment a `luotto` command run in this test reads its settings from."""
        monkeypatch.setenv("LUOTTO_DATABASE_URL", self.database_url)
        if self.postgres_schema:
            monkeypatch.setenv("LUOTTO_POSTGRES_SCHEMA", self.postgres_schema)
        monkeypatch.setenv("LUOTTO_TENANTS", json.dumps(tenants or DEFAULT_TENANTS))
        monkeypatch.setenv("LUOTTO_POSTGRES_POOL_SIZE", "1")
        monkeypatch.setenv("LUOTTO_SIGNING_KEY_FILE", str(folder / "key"))
        monkeypatch.setenv("LUOTTO_NOTICE_STORE", str(folder / "notices"))

    def container(self, clock: Clock | None = None, tenants: dict | None = None) -> Container:
        """A process as `luotto serve` wires it: Container.build(settings), then the fixed clock."""
        c = Container.build(self.settings(tenants))
        self._opened.append(c)
        if clock is not None:
            c.service.clock = clock
        return c

    def bare_service(self, clock: Clock, tenants: dict | None = None) -> LoanService:
        """Another process's LoanService on the same database, wired like Container.build() minus the
        read model (for commands that never consult it, such as post_payment)."""
        settings = self.settings(tenants)
        service = LoanService(eventsourcing_env(settings), clock=clock)
        self._opened.append(service)
        for tenant, spec in settings.tenants.items():
            service.configure_tenant(tenant, make_policy(spec.get("preset", "default"), spec.get("overrides")))
        return service

    def close_all(self) -> None:
        while self._opened:
            self._opened.pop().close()


def _postgres_url(info) -> str:
    auth = quote(info.user, safe="") + (":" + quote(info.password, safe="") if info.password else "")
    return f"postgresql://{auth}@{info.host}:{info.port}/{quote(info.dbname, safe='')}"


@pytest.fixture(params=[pytest.param("sqlite", id="sqlite"),
                        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)])
def stack(request: pytest.FixtureRequest, tmp_path) -> Iterator[Stack]:
    if request.param == "postgres":
        info = request.getfixturevalue("pg_schema")  # a fresh schema, dropped after this fixture
        s = Stack("postgres", _postgres_url(info), info.schema)
    else:
        s = Stack("sqlite", f"sqlite:///{tmp_path / 'luotto.sqlite'}")
    try:
        yield s
    finally:
        s.close_all()


# --------------------------------------------------------------------------------------- #
# Commands and reads
# --------------------------------------------------------------------------------------- #


def grant(service: LoanService, loan_id: str, borrower_id: str, principal: str = "1200.00", *,
          granted_on: dt.date = D("2025-01-15"), first_due_date: dt.date = D("2025-02-15"),
          instalment_amount: str = "100.00", tenant: str = TENANT) -> Written:
    return service.grant(tenant=tenant, loan_id=loan_id, borrower_id=borrower_id, purpose="rent arrears",
                         principal=parse_amount(principal, "principal"), granted_on=granted_on,
                         first_due_date=first_due_date,
                         instalment_amount=parse_amount(instalment_amount, "instalment_amount"),
                         decision=Decision("sw-1", "integration test"))


def pay(service: LoanService, payment_id: str, amount: str, on: dt.date, *, value_date: dt.date | None = None,
        loan_id: str | None = None, reference: str | None = None, tenant: str = TENANT) -> Written:
    return service.post_payment(tenant=tenant, payment_id=payment_id, amount=parse_amount(amount, "amount"),
                                value_date=value_date or on, on=on, loan_id=loan_id, reference=reference)


def loan_events(service: LoanService, loan_id: str, tenant: str = TENANT) -> list:
    """Every stored event of the loan, in recorded order (read straight from the event store)."""
    return list(service.events.get(loan_uuid(tenant, loan_id)))


def events_of(service: LoanService, loan_id: str, type_name: str, tenant: str = TENANT) -> list:
    return [e for e in loan_events(service, loan_id, tenant) if type(e).__name__ == type_name]


def table_rows(container: Container, table: str) -> list[dict]:
    """All rows of a read-model table in a stable order."""
    order = {"luotto_loans": "tenant, loan_id", "luotto_unallocated": "tenant, payment_id",
             "luotto_tracking": "projection"}[table]
    with container.read_model.store.transaction() as tx:
        return tx.execute(f"SELECT * FROM {table} ORDER BY {order}").all()


# --------------------------------------------------------------------------------------- #
# Concurrency
# --------------------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Outcome:
    value: Any = None
    error: BaseException | None = None


def run_together(calls: list[Callable[[], Any]], timeout: float = 60.0) -> list[Outcome]:
    """Run every call in its own thread, all released at once by a barrier; one Outcome per call."""
    barrier = threading.Barrier(len(calls), timeout=timeout)

    def run(call: Callable[[], Any]) -> Outcome:
        barrier.wait()
        try:
            return Outcome(value=call())
        except BaseException as e:  # noqa: BLE001 - reported to the test
            return Outcome(error=e)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [f.result(timeout=timeout) for f in futures]
