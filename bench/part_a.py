"""(a) Payments through the HTTP API per second (p50/p99) against a no-op endpoint in the same server.

The bench server (bench/server.py: the real app + GET /bench/noop) runs as a subprocess on a fresh
database, with a `luotto projections follow` process beside it keeping the read models current, as
deploy/ runs them (BENCH_A_READ_MODEL=thread: a thread in the server instead, as `make run` does).
Loans are granted through POST /v1/loans, then for each client kind ROUNDS pairs of windows are
measured on the same connections layout, alternating: no-op, POST /v1/payments (distinct
payment_ids, amount 1.00, loans round-robin), no-op, ... After each payments window the bench
waits for the read models to catch up, so its projection work does not land in the next window.
Rates are requests over the windows' seconds added up.
"""
from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import replace

import httpx

from bench.common import (CpuWindow, api_headers, bench_server, count_rows, env_float, env_int, log, percentile,
                          settings_for, today)
from bench.load import Job, LoadResult, run_load

TENANT = "b"


def config() -> dict:
    import os

    return {
        "loans": env_int("BENCH_A_LOANS", 200),
        "seconds": env_float("BENCH_A_SECONDS", 15.0),  # per kind, split over ROUNDS alternating windows
        "rounds": env_int("BENCH_A_ROUNDS", 3),
        "processes": env_int("BENCH_A_PROCESSES", 4),
        "threads": env_int("BENCH_A_THREADS", 2),  # processes x threads = 8 connections
        "clients": [c.strip() for c in os.environ.get("BENCH_A_CLIENTS", "raw,httpx").split(",") if c.strip()],
        "service_payments": env_int("BENCH_A_SERVICE_PAYMENTS", 500),  # diagnostic, 0 = skip
        "read_model": os.environ.get("BENCH_A_READ_MODEL", "process"),  # or "thread" (see bench_server)
    }


def grant_over_http(base_url: str, n: int, headers: dict) -> tuple[list[str], list[float]]:
    on = today()
    ids, took = [], []
    with httpx.Client(base_url=base_url, headers=headers, timeout=30.0) as client:
        for i in range(n):
            loan_id = f"A-{i:05d}"
            body = {"loan_id": loan_id, "borrower_id": f"borrower-{i:05d}", "purpose": "bench",
                    "principal": "1000.00", "granted_on": on.isoformat(),
                    "first_due_date": (on + dt.timedelta(days=20)).isoformat(), "instalment_amount": "50.00",
                    "decided_by": "bench"}
            t = time.perf_counter()
            response = client.post("/v1/loans", json=body)
            took.append(time.perf_counter() - t)
            if response.status_code != 201:
                raise RuntimeError(f"grant {loan_id} answered {response.status_code}: {response.text[:300]}")
            ids.append(loan_id)
            if (i + 1) % 100 == 0:
                log(f"(a) granted {i + 1}/{n} loans over HTTP")
    return ids, took


def read_model_lag(info) -> tuple[int, int]:
    """(events stored, read-model position) straight from the database."""
    with info.connect(autocommit=True) as conn:
        stored = conn.execute("SELECT COALESCE(MAX(notification_id), 0) FROM luotto_events").fetchone()[0]
        row = conn.execute("SELECT position FROM luotto_tracking WHERE projection = 'read_model'").fetchone()
    return stored, row[0] if row else 0


def wait_for_read_model(info, timeout: float = 120.0) -> float:
    t0 = time.monotonic()
    while True:
        stored, position = read_model_lag(info)
        if position >= stored or time.monotonic() - t0 > timeout:
            return time.monotonic() - t0
        time.sleep(0.1)


def _window(job: Job, cfg: dict, server, dbname: str, label: str) -> tuple[LoadResult, CpuWindow]:
    conns = cfg["processes"] * cfg["threads"]
    log(f"(a) {label}: {cfg['seconds']:.0f} s, {cfg['processes']} processes x {cfg['threads']} threads = "
        f"{conns} connections, client {job.client}")
    window = CpuWindow(server.pid, dbname, server.worker.pid if server.worker else None)
    result = run_load(job, processes=cfg["processes"], threads=cfg["threads"], duration=cfg["seconds"],
                      cpu_window=window)
    bad = {s: n for s, n in result.statuses.items() if not (isinstance(s, int) and 200 <= s < 300)}
    log(f"(a) {label}: {len(result.latencies)} requests, {result.rate:,.0f} req/s, "
        f"p50 {percentile(result.latencies, 50) * 1000:.1f} ms, p99 {percentile(result.latencies, 99) * 1000:.1f} ms"
        f"{f', NOT 2xx: {bad}' if bad else ''}")
    log(f"(a) {label}: {window.describe(result.client_cpu)}; server CPU per request "
        f"{window.server / max(len(result.latencies), 1) * 1000:.2f} ms")
    for e in result.errors[:3]:
        log(f"(a) {label}: error sample: {e}")
    return result, window


def _merge(windows: list[tuple[LoadResult, CpuWindow]]) -> tuple[LoadResult, CpuWindow]:
    """Several windows of one kind as one: their requests, seconds and CPU added up."""
    result, first = LoadResult(), windows[0][1]
    cpu = CpuWindow(first.server_pid, first.dbname, first.worker_pid)
    cpu.wall = cpu.server = cpu.worker = cpu.pg = cpu.machine_busy = 0.0
    for r, w in windows:
        result.latencies.extend(r.latencies)
        result.statuses.update(r.statuses)
        result.errors.extend(r.errors)
        result.wall += r.wall
        result.client_cpu += r.client_cpu
        result.warmup_requests += r.warmup_requests
        cpu.machine_busy += w.machine_busy * w.wall
        cpu.wall += w.wall
        cpu.server += w.server
        cpu.worker += w.worker
        cpu.pg += w.pg
    cpu.machine_busy /= max(cpu.wall, 1e-9)
    result.latencies.sort()
    return result, cpu


def run(pg, info) -> dict:
    cfg = config()
    rows, notes = [], []
    tenants = {TENANT: {"preset": "default"}}
    headers = api_headers(info, tenants, {TENANT: ["decision_maker", "payment_system"]})
    with bench_server(info, tenants, read_model=cfg["read_model"]) as server:
        loans, grant_times = grant_over_http(server.base_url, cfg["loans"], headers[(TENANT, "decision_maker")])
        grant_times.sort()
        log(f"(a) grants over HTTP: p50 {percentile(grant_times, 50) * 1000:.1f} ms, "
            f"p99 {percentile(grant_times, 99) * 1000:.1f} ms")
        wait_for_read_model(info)
        for client in cfg["clients"]:
            stored_before, _ = read_model_lag(info)
            logged0 = count_rows(info, "luotto_access_log")
            run_id = f"{client}-{uuid.uuid4().hex[:8]}"
            noop_job = Job("noop", server.base_url, client=client)
            pay_job = Job("payment", server.base_url, tenant=TENANT, loans=tuple(loans), run_id=run_id, client=client,
                          headers={TENANT: headers[(TENANT, "payment_system")]})
            # Alternating windows (no-op, payments, no-op, ...): a change in the machine's speed
            # during the part touches both kinds alike.
            windows: dict[str, list] = {"noop": [], "payment": []}
            for r in range(cfg["rounds"]):
                part = {**cfg, "seconds": cfg["seconds"] / cfg["rounds"]}
                windows["noop"].append(_window(noop_job, part, server, info.dbname, f"no-op [{client}] {r + 1}"))
                windows["payment"].append(_window(replace(pay_job, run_id=f"{run_id}-{r}"), part, server, info.dbname,
                                                  f"payments [{client}] {r + 1}"))
                if r < cfg["rounds"] - 1:
                    wait_for_read_model(info)  # its projection work must not land in the next no-op window
            noop, noop_cpu = _merge(windows["noop"])
            pay, pay_cpu = _merge(windows["payment"])
            stored, position = read_model_lag(info)
            events = stored - stored_before
            sent = pay.ok + pay.warmup_requests
            caught_up = wait_for_read_model(info)
            if logged0 is not None:
                log(f"(a) payments [{client}]: {count_rows(info, 'luotto_access_log') - logged0} access-log rows "
                    f"written for {sent} payments")
            with info.connect(autocommit=True) as conn:  # xmin: the id of the transaction that wrote the row
                transactions = conn.execute("SELECT COUNT(DISTINCT xmin::text) FROM luotto_events "
                                            "WHERE notification_id > %s", (stored_before,)).fetchone()[0]
            log(f"(a) payments [{client}]: {transactions} transactions wrote them (group commit: "
                f"{sent / max(transactions, 1):.1f} payments per transaction)")
            log(f"(a) payments [{client}]: {events} events stored ({events / max(sent, 1):.2f} per payment, warm-up included); "
                f"read model was {stored - position} events behind at the end, caught up {caught_up:.1f} s later")
            ratio = pay.rate / noop.rate if noop.rate else 0.0
            for name, r, w in ((f"no-op GET /bench/noop [{client}]", noop, noop_cpu),
                               (f"POST /v1/payments [{client}]", pay, pay_cpu)):
                rows.append({"part": "a", "measure": name, "value": f"{r.rate:,.0f} req/s",
                             "p50": f"{percentile(r.latencies, 50) * 1000:.1f} ms",
                             "p99": f"{percentile(r.latencies, 99) * 1000:.1f} ms",
                             "target": "", "errors": len(r.latencies) - r.ok,
                             "cpu": w.describe(r.client_cpu).replace("cores used: ", "")
                             + f"; server CPU/request {w.server / max(len(r.latencies), 1) * 1000:.2f} ms"})
            rows.append({"part": "a", "measure": f"payments / no-op [{client}]", "value": f"{ratio * 100:.1f} %",
                         "p50": "", "p99": "", "target": "≥ 25 %", "met": ratio >= 0.25, "errors": "",
                         "cpu": ""})
            notes.append(f"payments [{client}]: read model {stored - position} events behind at window end, "
                         f"caught up in {caught_up:.1f} s")
    if cfg["service_payments"]:
        rows.append(service_only(info, loans, cfg["service_payments"]))
    return {"rows": rows, "notes": notes, "config": cfg}


def service_only(info, loans: list[str], n: int) -> dict:
    """Diagnostic: LoanService.post_payment called directly in this process (no HTTP, no read-model
    thread, server stopped), one at a time: what one payment costs in Python and in PostgreSQL, and
    how many SQL statements it sends."""
    import psycopg

    from application.container import Container

    container = Container.build(settings_for(info, {TENANT: {"preset": "default"}}))
    service, on = container.service, today()
    counts = {"statements": 0}
    originals = (psycopg.Cursor.execute, psycopg.Cursor.executemany)

    def execute(self, *args, **kwargs):
        counts["statements"] += 1
        return originals[0](self, *args, **kwargs)

    def executemany(self, *args, **kwargs):
        counts["statements"] += 1
        return originals[1](self, *args, **kwargs)

    def pay(i: int) -> None:
        service.post_payment(tenant=TENANT, payment_id=f"svc-{i}", amount=100, value_date=on, on=on,
                             loan_id=loans[i % len(loans)])

    try:
        for i in range(20):  # warm-up: pool connections, prepared statements
            pay(i)
        log(f"(a) service only: {n} payments through LoanService.post_payment in this process, one at a time")
        psycopg.Cursor.execute, psycopg.Cursor.executemany = execute, executemany
        took = []
        with CpuWindow(None, info.dbname) as window:
            cpu0 = time.process_time()
            for i in range(20, 20 + n):
                t = time.perf_counter()
                pay(i)
                took.append(time.perf_counter() - t)
            own = time.process_time() - cpu0
        with CpuWindow(None, info.dbname) as rm_window:
            cpu0 = time.process_time()
            t = time.perf_counter()
            projected = container.read_model.catch_up()
            rm_wall = time.perf_counter() - t
            rm_own = time.process_time() - cpu0
    finally:
        psycopg.Cursor.execute, psycopg.Cursor.executemany = originals
        container.close()
    took.sort()
    rate = n / sum(took)
    detail = (f"{own / n * 1000:.2f} ms Python CPU + {window.pg / n * 1000:.2f} ms PostgreSQL CPU and "
              f"{counts['statements'] / n:.1f} SQL statements per payment")
    log(f"(a) service only: {rate:,.0f} payments/s, p50 {percentile(took, 50) * 1000:.1f} ms, "
        f"p99 {percentile(took, 99) * 1000:.1f} ms; {detail}; {window.describe(own=own)}")
    rm_detail = (f"read model: {projected} events of those payments projected in {rm_wall:.2f} s, "
                 f"{rm_own / (n + 20) * 1000:.2f} ms Python CPU + {rm_window.pg / (n + 20) * 1000:.2f} ms PostgreSQL CPU "
                 f"per payment")
    log(f"(a) service only: {rm_detail}")
    detail += "; " + rm_detail
    return {"part": "a", "measure": "post_payment in-process, 1 thread (diagnostic)",
            "value": f"{rate:,.0f} payments/s", "p50": f"{percentile(took, 50) * 1000:.1f} ms",
            "p99": f"{percentile(took, 99) * 1000:.1f} ms", "errors": 0,
            "cpu": window.describe(own=own).replace("cores used: ", "") + f"; {detail}"}
