"""End-to-end fixtures: a REAL `luotto serve --no-scheduler` process, spoken to over loopback HTTP.

    LuottoServer(database_url, log_dir, schema=None)   one server process; .start(), .stop(), .kill(),
                                                       .client(tenant) -> httpx.Client, .pid, .base_url
    server_factory   (function) callable(database_url, schema=None) -> started LuottoServer; every server
                                it started is stopped (SIGTERM, then SIGKILL) at teardown
    sqlite_url       (function) sqlite:////<tmp>/luotto.sqlite, a fresh file
    pg_url(info)     the LUOTTO_DATABASE_URL of a tests.support.postgres.DatabaseInfo
    helsinki_today() the business date the server uses (Europe/Helsinki)
    next_tenth(d)    the first 10th of a month strictly after d (kittila due_day, R-SCHED-3)
    NoServerErrors   an httpx response hook that fails the test on any 5xx ("never a 5xx")

Every loop here is bounded; the only traffic is to 127.0.0.1.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from tests.support.auth import TestIssuer
import pytest

LUOTTO = Path(sys.executable).parent / "luotto"
TENANTS = {"t1": {"preset": "kittila"}, "t2": {"preset": "etela-karjala"}}
READY_TIMEOUT = 20.0  # seconds until GET /openapi.json must answer
STOP_TIMEOUT = 10.0  # seconds a SIGTERM gets before SIGKILL
HELSINKI = ZoneInfo("Europe/Helsinki")


def helsinki_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).astimezone(HELSINKI).date()


def next_tenth(day: dt.date) -> dt.date:
    """The first 10th strictly after `day` (always within a month, so within R-SCHED-3's 3 months)."""
    if day.day < 10:
        return day.replace(day=10)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return dt.date(year, month, 10)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_url(info) -> str:
    """postgresql://user:password@host:port/dbname for a DatabaseInfo (schema goes in its own variable)."""
    auth = quote(info.user, safe="") + (":" + quote(info.password, safe="") if info.password else "")
    return f"postgresql://{auth}@{info.host}:{info.port}/{quote(info.dbname, safe='')}"


class NoServerErrors:
    """httpx response hook: every answer is recorded; a 5xx fails the calling test at once."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int, str | None]] = []  # method, path, status, error code

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        code = None
        if response.status_code >= 400:
            try:
                code = response.json().get("code")
            except (ValueError, AttributeError):
                code = None
        self.seen.append((response.request.method, response.request.url.path, response.status_code, code))
        if response.status_code >= 500:
            raise AssertionError(f"server error {response.status_code} for {response.request.method} "
                                 f"{response.request.url}: {response.text[:500]}")


class LuottoServer:
    """One `luotto serve --no-scheduler` process on a free loopback port."""

    def __init__(self, database_url: str, log_dir: Path, schema: str | None = None) -> None:
        self.issuer = TestIssuer(log_dir / "oidc")
        self.database_url = database_url
        self.schema = schema
        self.log_dir = log_dir
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LUOTTO_", "POSTGRES_"))}
        env.update({
            "LUOTTO_DATABASE_URL": self.database_url,
            "LUOTTO_HOST": "127.0.0.1",
            "LUOTTO_PORT": str(self.port),
            "LUOTTO_TENANTS": json.dumps(TENANTS),
            "PYTHONUNBUFFERED": "1",
            "LUOTTO_LOG_FORMAT": "console",
            "LUOTTO_DOCS": "public",  # the tests (and the fuzzer) read /openapi.json
            **self.issuer.settings_env(),
        })
        if self.schema:
            env["LUOTTO_POSTGRES_SCHEMA"] = self.schema
        return env

    def start(self) -> "LuottoServer":
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = free_port()
        self.starts += 1
        self.log_path = self.log_dir / f"luotto-serve-{self.port}-{self.starts}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([str(LUOTTO), "serve", "--no-scheduler"], env=self.env(),
                                         cwd=str(self.log_dir), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        last = "no answer"
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    pytest.fail(f"luotto serve exited with {self.proc.returncode} before answering:\n{self.log()}",
                                pytrace=False)
                try:
                    if client.get("/openapi.json").status_code == 200:
                        return
                    last = "non-200 answer"
                except httpx.HTTPError as exc:
                    last = repr(exc)
                time.sleep(0.1)
        self.kill()
        pytest.fail(f"luotto serve did not answer GET /openapi.json within {READY_TIMEOUT}s ({last}):\n"
                    f"{self.log()}", pytrace=False)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:] if self.log_path else ""
        except OSError:
            return ""

    def client(self, tenant: str | None = "t1", hook: NoServerErrors | None = None,
               timeout: float = 15.0, roles: list[str] | None = None) -> httpx.Client:
        """A client authenticated by an OIDC token for `tenant` (all roles unless given); None: no token."""
        headers = self.issuer.headers(tenant, roles) if tenant else {}
        hooks = {"response": [hook]} if hook is not None else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, event_hooks=hooks)

    def kill(self) -> None:
        """SIGKILL, as a crash would; waits until the process is gone."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL when it does not exit in time."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., LuottoServer]]:
    servers: list[LuottoServer] = []

    def start(database_url: str, schema: str | None = None) -> LuottoServer:
        server = LuottoServer(database_url, tmp_path, schema)
        servers.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in servers:
            try:
                server.stop()
            finally:
                server.kill()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'luotto.sqlite'}"


# --- helpers shared by the load tests (crash recovery, fault) ------------------------------------

LOAD_PRINCIPAL = "5000.00"  # kittila max_loan_amount; far above what a bounded load of 1.00s can pay


def payment_body(payment_id: str, loan_id: str) -> dict:
    return {"payment_id": payment_id, "amount": "1.00", "loan_id": loan_id}


def json_or_text(response: httpx.Response) -> dict | None:
    try:
        return response.json()
    except ValueError:
        return {"text": response.text[:300]}


def grant_load_loan(server: "LuottoServer", loan_id: str, purpose: str) -> str:
    """A kittila loan big enough that the load's payments never repay it."""
    today = helsinki_today()
    with server.client("t1") as client:
        granted = client.post("/v1/loans", json={
            "loan_id": loan_id, "borrower_id": f"{loan_id}-borrower", "purpose": purpose,
            "principal": LOAD_PRINCIPAL, "granted_on": today.isoformat(),
            "first_due_date": next_tenth(today).isoformat(), "term_months": 50, "decided_by": "caseworker 7"})
    assert granted.status_code == 201, granted.text
    return granted.json()["loan_id"]



def all_events(client: httpx.Client, loan_id: str) -> list[dict]:
    """Every event of a loan: GET /v1/loans/{id}/events pages (at most 1000 a page, issue 13)."""
    events: list[dict] = []
    after = 0
    while after is not None:
        response = client.get(f"/v1/loans/{loan_id}/events", params={"after_version": after})
        assert response.status_code == 200, response.text
        page = response.json()
        events += page["events"]
        after = page["next_after_version"]
    return events


# The console's browser tests (test_console_browser*.py): one headless Debian Chromium per module and
# a fresh page per test (tests/e2e/console_support.py); only built for a test that asks for them.
@pytest.fixture(scope="module")
def browser():
    from tests.e2e.console_support import launched_chromium

    yield from launched_chromium()


@pytest.fixture
def page(browser):
    from tests.e2e.console_support import watched_page

    yield from watched_page(browser)
