"""Shared helpers: logging, percentiles, the bench server subprocess, CPU accounting, grants."""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
HELSINKI = ZoneInfo("Europe/Helsinki")
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Seconds are counted from the bench's start, also in the processes it spawns (they inherit this).
_T0 = float(os.environ.setdefault("BENCH_STARTED_AT", repr(time.time())))


def log(message: str) -> None:
    """A progress line on stderr, stamped with seconds since the bench started."""
    print(f"[bench {time.time() - _T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def today() -> dt.date:
    """The business date the server will use (Container.today: Europe/Helsinki)."""
    return dt.datetime.now(dt.timezone.utc).astimezone(HELSINKI).date()


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list (p in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-p * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(info) -> str:
    """postgresql://user[:password]@host:port/db for LUOTTO_DATABASE_URL."""
    auth = info.user + (f":{info.password}" if info.password else "")
    return f"postgresql://{auth}@{info.host}:{info.port}/{info.dbname}"


# One Ed25519 seed per bench run for LUOTTO_SIGNING_KEY, so that no process of the bench creates
# the default key file under var/ (spawned processes inherit it through the environment).
SIGNING_KEY = os.environ.setdefault("BENCH_SIGNING_KEY", base64.b64encode(os.urandom(32)).decode())


def settings_for(info, tenants: dict[str, dict], **extra):
    from adapters.settings import Settings

    return Settings(database_url=database_url(info), tenants=tenants, signing_key=SIGNING_KEY, **extra)


def api_headers(info, tenants: dict[str, dict], roles: dict[str, list[str]]) -> dict[tuple[str, str], dict]:
    """Request headers per (tenant, role): X-Tenant, and when the app authenticates callers, an API
    key of that organiser and role (created through the app's own ApiKeys on this database).

    Run it before the server starts: it also creates the tables, and two processes building a
    Container at once on one database collide in the DDL (see part (c))."""
    from application.container import Container

    container = Container.build(settings_for(info, tenants))
    out = {}
    try:
        auth = getattr(container, "auth", None)
        for tenant, wanted in roles.items():
            for role in wanted:
                headers = {"X-Tenant": tenant}
                if auth is not None:
                    headers["Authorization"] = "Bearer " + _api_key(info, auth, tenant, role)
                out[(tenant, role)] = headers
    finally:
        container.close()
    return out


_API_KEY_FALLBACK: list[str] = []


def _api_key(info, auth, tenant: str, role: str) -> str:
    """ApiKeys.create, or, when that fails, the same row written directly (key lk_<id>_<secret>,
    only the secret's SHA-256 stored), so the server authenticates the bench like any caller."""
    import hashlib
    import secrets

    try:
        return auth.api_keys.create(tenant, role, f"bench {role}")
    except Exception as e:  # noqa: BLE001 - reported, then worked around
        if not _API_KEY_FALLBACK:
            log(f"ApiKeys.create failed ({type(e).__name__}: {e}); inserting the key rows directly")
        _API_KEY_FALLBACK.append(str(e))
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    with info.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO luotto_api_keys (key_id, tenant, role, name, sha256, created_at) "
                     "VALUES (%s, %s, %s, %s, %s, %s)",
                     (key_id, tenant, role, f"bench {role}", hashlib.sha256(secret.encode()).hexdigest(),
                      dt.datetime.now(dt.timezone.utc).isoformat()))
    return f"lk_{key_id}_{secret}"


# --------------------------------------------------------------------------- #
# CPU accounting from /proc (who is busy: server, clients, PostgreSQL)
# --------------------------------------------------------------------------- #


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (its threads included), in seconds; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def postgres_pids(dbname: str | None = None) -> list[int]:
    """Local postgres processes: with `dbname`, only the backends connected to that database plus
    the server's own auxiliary processes (WAL writer, checkpointer, ...), not other databases'
    backends (other test runs may share the server)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm", encoding="ascii") as f:
                if f.read().strip() != "postgres":
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                title = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        is_backend = "(" in title or "[local]" in title  # "postgres: user db 127.0.0.1(port) idle"
        if dbname is None or not is_backend or f" {dbname} " in title:
            pids.append(int(entry))
    return pids


def postgres_cpu_seconds(dbname: str | None = None) -> float:
    """CPU of the local postgres processes (see postgres_pids). Backends that exit in between are
    lost, which is why the benches keep their connections open while measuring."""
    return sum(proc_cpu_seconds(p) for p in postgres_pids(dbname))


def machine_cpu() -> tuple[float, float]:
    """(busy seconds, total seconds) summed over all CPUs, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


@dataclass
class CpuWindow:
    """CPU used by the server, PostgreSQL and the whole machine over a measured window."""

    server_pid: int | None = None
    dbname: str | None = None
    worker_pid: int | None = None  # the projection worker, when it runs beside the server

    def __enter__(self) -> "CpuWindow":
        self.t0 = time.monotonic()
        self.server0 = proc_cpu_seconds(self.server_pid) if self.server_pid else 0.0
        self.worker0 = proc_cpu_seconds(self.worker_pid) if self.worker_pid else 0.0
        self.pg0 = postgres_cpu_seconds(self.dbname)
        self.busy0, self.total0 = machine_cpu()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.monotonic() - self.t0
        self.server = (proc_cpu_seconds(self.server_pid) if self.server_pid else 0.0) - self.server0
        self.worker = (proc_cpu_seconds(self.worker_pid) if self.worker_pid else 0.0) - self.worker0
        self.pg = max(0.0, postgres_cpu_seconds(self.dbname) - self.pg0)
        busy1, total1 = machine_cpu()
        self.machine_busy = (busy1 - self.busy0) / max(total1 - self.total0, 1e-9)

    def describe(self, clients: float = 0.0, own: float = 0.0) -> str:
        """CPU seconds per wall second (1.00 = one core busy). `own`: the bench process's own CPU
        over the window when it did the work itself. "others" is what the rest of the machine
        (other jobs sharing it) used meanwhile: the figures are only comparable when it is small."""
        ours = self.server + self.worker + clients + own + self.pg
        others = max(0.0, self.machine_busy * len(os.sched_getaffinity(0)) - ours / self.wall)
        parts = []
        if self.server_pid:
            parts.append(f"server {self.server / self.wall:.2f}")
        if self.worker_pid:
            parts.append(f"projection worker {self.worker / self.wall:.2f}")
        if clients:
            parts.append(f"clients {clients / self.wall:.2f}")
        if own:
            parts.append(f"bench process {own / self.wall:.2f}")
        parts.append(f"postgres {self.pg / self.wall:.2f}")
        parts.append(f"others {others:.2f}")
        return "cores used: " + ", ".join(parts)


# --------------------------------------------------------------------------- #
# The bench server subprocess (bench/server.py)
# --------------------------------------------------------------------------- #


class BenchServer:
    def __init__(self, proc: subprocess.Popen, port: int):
        self.proc, self.port = proc, port
        self.base_url = f"http://127.0.0.1:{port}"
        self.worker: subprocess.Popen | None = None  # `luotto projections follow`, when it runs apart

    @property
    def pid(self) -> int:
        return self.proc.pid


@contextmanager
def bench_server(info, tenants: dict[str, dict], *, read_model: str = "process",
                 startup_timeout: float = 60.0) -> Iterator[BenchServer]:
    """Start `python -m bench.server` on a free port against `info`'s database; stop it after.

    read_model "process": the read models are kept current by a `luotto projections follow` process
    beside the server, as deploy/compose.yaml runs them (the API runs `--no-read-model`); "thread":
    by a thread inside the server, as `luotto serve` alone (make run) does.

    The server's own output (its structured request log, one line a request) goes to a temporary
    file, as it would to a log file in production, not into the bench's progress lines; errors
    found in it are reported when the server stops."""
    import tempfile

    import httpx

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUOTTO_")}
    env.update({"LUOTTO_DATABASE_URL": database_url(info), "LUOTTO_PORT": str(port),
                "LUOTTO_HOST": "127.0.0.1", "LUOTTO_TENANTS": json.dumps(tenants),
                "LUOTTO_SIGNING_KEY": SIGNING_KEY, "BENCH_READ_MODEL": read_model})
    output = tempfile.NamedTemporaryFile(prefix="luotto-bench-server-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "bench.server"], cwd=str(ROOT), env=env, stdout=output,
                            stderr=subprocess.STDOUT)
    server = BenchServer(proc, port)
    ok = False
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"bench server exited with code {proc.returncode} during startup")
            try:
                if httpx.get(f"{server.base_url}/bench/noop", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"bench server did not answer within {startup_timeout:.0f} s")
            time.sleep(0.1)
        log(f"bench server pid {proc.pid} listening on {server.base_url} (its log: {output.name})")
        if read_model == "process":
            server.worker = subprocess.Popen([str(Path(sys.executable).with_name("luotto")), "projections", "follow"],
                                             cwd=str(ROOT), env=env, stdout=output, stderr=subprocess.STDOUT)
            log(f"projection worker pid {server.worker.pid} (luotto projections follow)")
        yield server
        ok = True
    finally:
        if server.worker is not None and server.worker.poll() is None:
            server.worker.send_signal(signal.SIGINT)
            try:
                server.worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.worker.kill()
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on SIGINT
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        output.close()
        _report_server_log(output.name, keep=not ok)


def _report_server_log(path: str, keep: bool) -> None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return
    bad = [ln for ln in lines if '"level": "error"' in ln or "[error" in ln or "Traceback" in ln
           or '"status": 5' in ln or "status=5" in ln]
    for ln in lines:
        if ln.startswith("gc generation"):  # bench/server.py's garbage-collection summary
            log(f"bench server {ln.strip()}")
    log(f"bench server log: {len(lines)} lines, {len(bad)} with errors" + (f"; first: {bad[0].strip()[:300]}"
                                                                              if bad else ""))
    if keep or bad:
        log(f"bench server log kept at {path}; its last lines:")
        for ln in lines[-15:]:
            print("    " + ln.rstrip()[:300], file=sys.stderr)
    else:
        os.unlink(path)


# --------------------------------------------------------------------------- #
# Grants through the application service
# --------------------------------------------------------------------------- #


def grant_loans(service, tenant: str, loan_ids: Iterable[str], *, principal: int, granted_on: dt.date,
                first_due_date: dt.date, instalment_amount: int, every: int = 0, label: str = "") -> list[float]:
    """Grant loans one by one through LoanService.grant; returns each grant's seconds."""
    from domain.loan import Decision

    decision = Decision("bench", "benchmark grant")
    took = []
    for n, loan_id in enumerate(loan_ids, 1):
        t = time.perf_counter()
        service.grant(tenant=tenant, loan_id=loan_id, borrower_id=f"borrower-{loan_id}", purpose="bench",
                      principal=principal, granted_on=granted_on, first_due_date=first_due_date,
                      instalment_amount=instalment_amount, decision=decision)
        took.append(time.perf_counter() - t)
        if every and n % every == 0:
            log(f"{label}granted {n} loans (last {every}: {sum(took[-every:]) / every * 1000:.1f} ms/grant)")
    return took


def count_rows(info, table: str) -> int | None:
    """Rows in `table`, or None when the table does not exist (the app may not have it)."""
    import psycopg

    with info.connect(autocommit=True) as conn:
        try:
            return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        except psycopg.errors.UndefinedTable:
            return None


def machine_description(pg_version: str | None = None) -> dict[str, str]:
    model = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            kib = int(f.readline().split()[1])
            mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    out = {"nproc": str(len(os.sched_getaffinity(0))), "cpu": model, "ram": mem,
           "python": platform.python_version(), "os": f"{platform.system()} {platform.release()}"}
    if pg_version:
        out["postgresql"] = pg_version
    return out


def speed_reference() -> float:
    """Microseconds for `sum(range(10000))`, best of five: this VM's speed changes by up to 2x
    from hour to hour (the host's load), so each part records it beside its figures."""
    import timeit

    return min(timeit.repeat("sum(range(10000))", number=200, repeat=5)) / 200 * 1e6
