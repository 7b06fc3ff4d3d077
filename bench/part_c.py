"""(c) GET /v1/loans/{id} latency with 10,000 loans stored.

Grants are serialised per organiser, so the loans are spread over TENANTS organisers and granted
through the application service (api.deps.Container, no HTTP) by several processes at once, each
taking whole organisers. The read model is then brought up to date in this process (timed, as a
diagnostic), so the server starts with nothing to project; once the projection worker beside the
server is idle, GET /v1/loans/{random id} is measured through the running bench server, first with
one connection (one caller: the request's own latency), then with 4 concurrent connections (the
2-core server saturated: each request also waits for the others).
"""
from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import time

from bench.common import (CpuWindow, api_headers, bench_server, count_rows, env_int, grant_loans, log,
                          percentile, proc_cpu_seconds, settings_for, today)
from bench.load import Job, run_load


def config() -> dict:
    nproc = len(os.sched_getaffinity(0))
    return {
        "loans": env_int("BENCH_C_LOANS", 10000),
        "tenants": env_int("BENCH_C_TENANTS", 10),
        "grant_processes": env_int("BENCH_C_GRANT_PROCESSES", 2 * nproc),
        "requests": env_int("BENCH_C_REQUESTS", 2000),
        # (processes, threads) per measured load: one caller alone (the service time), then four
        # at once (the 2-core server saturated: latency includes queueing behind the others).
        "loads": [tuple(int(x) for x in load.split("x")) for load in
                  os.environ.get("BENCH_C_LOADS", "1x1,2x2").split(",") if load.strip()],
        "clients": [c.strip() for c in os.environ.get("BENCH_C_CLIENTS", "raw,httpx").split(",") if c.strip()],
    }


def _tenants(n: int) -> dict[str, dict]:
    return {f"c{i:02d}": {"preset": "default"} for i in range(n)}


class SetupReads:
    """Stands in for the read model during the setup grants only.

    LoanService.grant brings the whole read model up to date (ReadModel.catch_up) inside every grant;
    with several processes granting at once they all project each other's events and queue on the
    read model's tracking row. Measured in part (b) and reported; here it would make the 10,000-grant
    setup take minutes. Answering "no loan is known" makes R-PORT-1 count every registered loan at
    its full principal, the strictest reading, and the default policy has no amount limits, so the
    recorded events are the same.
    """

    def catch_up(self, *args, **kwargs) -> int:
        return 0

    def outstanding_of(self, tenant: str, loan_ids: list[str]) -> dict:
        return {}

    def repaid_principal(self, tenant: str) -> int:
        return 0


def _grant_worker(info, tenants: list[str], per_tenant: dict[str, int], results, startup) -> None:
    """One process: grant every loan of its organisers, organiser after organiser."""
    from application.container import Container

    with startup:  # one Container.build at a time: concurrent ones collide (see grant_all)
        container = Container.build(settings_for(info, {t: {"preset": "default"} for t in tenants}))
    for attribute in ("read_model", "outstanding"):  # whichever the service uses for R-PORT-1
        if getattr(container.service, attribute, None) is not None:
            setattr(container.service, attribute, SetupReads())
    on = today()
    try:
        for tenant in tenants:
            ids = [f"{tenant}-{i:05d}" for i in range(per_tenant[tenant])]
            took = grant_loans(container.service, tenant, ids, principal=100000, granted_on=on,
                               first_due_date=on + dt.timedelta(days=20), instalment_amount=5000)
            tail = took[-100:]
            log(f"(c) pid {os.getpid()}: {tenant} granted {len(ids)} loans, {sum(took):.1f} s, first 100 "
                f"{sum(took[:100]) / max(len(took[:100]), 1) * 1000:.1f} ms/grant, last 100 "
                f"{sum(tail) / max(len(tail), 1) * 1000:.1f} ms/grant")
            results.put((tenant, ids, took))
    finally:
        container.close()


def grant_all(info, cfg: dict) -> tuple[list[tuple[str, str]], list[float], float]:
    tenants = list(_tenants(cfg["tenants"]))
    per_tenant = {t: cfg["loans"] // len(tenants) + (1 if i < cfg["loans"] % len(tenants) else 0)
                  for i, t in enumerate(tenants)}
    workers = max(1, min(cfg["grant_processes"], len(tenants)))
    # Create the tables and open the organisers' registers once, before the workers start, and let
    # the workers build their containers one at a time: processes running Container.build at once
    # on one database collide in its DDL (CREATE TABLE IF NOT EXISTS: UniqueViolation on pg_type;
    # CREATE OR REPLACE FUNCTION: "tuple concurrently updated"), see the report.
    from application.container import Container

    Container.build(settings_for(info, _tenants(cfg["tenants"]))).close()
    log(f"(c) granting {cfg['loans']} loans over {len(tenants)} organisers with {workers} processes")
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    startup = ctx.Lock()
    procs = [ctx.Process(target=_grant_worker, args=(info, tenants[k::workers], per_tenant, results, startup))
             for k in range(workers)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    pairs, took = [], []
    for _ in tenants:
        while True:
            try:
                tenant, ids, times = results.get(timeout=5)
                break
            except Exception:  # noqa: BLE001 - queue.Empty: check the workers are alive
                if any(p.exitcode not in (0, None) for p in procs) or not any(p.is_alive() for p in procs):
                    raise RuntimeError("(c) a grant process died; see its traceback above") from None
        pairs.extend((tenant, i) for i in ids)
        took.extend(times)
    wall = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=30)
        if p.exitcode not in (0, None):
            raise RuntimeError(f"(c) grant process exited with {p.exitcode}")
    log(f"(c) {len(pairs)} loans granted in {wall:.1f} s = {len(pairs) / wall:,.0f} grants/s")
    return pairs, took, wall


def catch_up(info, cfg: dict) -> dict:
    from application.container import Container

    container = Container.build(settings_for(info, _tenants(cfg["tenants"])))
    try:
        with info.connect(autocommit=True) as conn:
            total = conn.execute("SELECT COALESCE(MAX(notification_id), 0) FROM luotto_events").fetchone()[0]
        log(f"(c) read model catching up on {total} events")
        last = [time.monotonic()]

        def progress(position: int, of: int) -> None:
            if time.monotonic() - last[0] > 5:
                last[0] = time.monotonic()
                log(f"(c) read model at {position}/{of}")

        t = time.perf_counter()
        cpu0 = time.process_time()
        n = container.read_model.catch_up(progress)
        wall, own = time.perf_counter() - t, time.process_time() - cpu0
    finally:
        container.close()
    log(f"(c) read model caught up on {n} events in {wall:.1f} s = {n / wall:,.0f} events/s "
        f"({own / max(n, 1) * 1000:.2f} ms Python CPU per event)")
    return {"events": n, "wall": wall, "cpu_per_event": own / max(n, 1)}


def wait_until_idle(pid: int, label: str, timeout: float = 300.0) -> None:
    """Until the process uses under 3 % of a core over half a second."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        before = proc_cpu_seconds(pid)
        time.sleep(0.5)
        if proc_cpu_seconds(pid) - before < 0.015:
            log(f"{label} idle after {time.monotonic() - t0:.1f} s")
            return
    log(f"{label} still busy after {timeout:.0f} s; measuring anyway")


def run(pg, info) -> dict:
    cfg = config()
    pairs, grant_times, grant_wall = grant_all(info, cfg)
    rm = catch_up(info, cfg)
    grant_times.sort()
    rows = [{"part": "c", "measure": f"setup: {len(pairs)} grants via LoanService, {cfg['tenants']} organisers, "
                                     f"{min(cfg['grant_processes'], cfg['tenants'])} processes",
             "value": f"{len(pairs) / grant_wall:,.0f} grants/s",
             "p50": f"{percentile(grant_times, 50) * 1000:.1f} ms", "p99": f"{percentile(grant_times, 99) * 1000:.1f} ms",
             "errors": 0, "cpu": f"{grant_wall:.0f} s in all"},
            {"part": "c", "measure": "setup: read model catch-up (diagnostic)",
             "value": f"{rm['events'] / rm['wall']:,.0f} events/s", "errors": 0,
             "cpu": f"{rm['events']} events in {rm['wall']:.0f} s, {rm['cpu_per_event'] * 1000:.2f} ms Python CPU per event"}]
    tenants = _tenants(cfg["tenants"])
    headers = api_headers(info, tenants, {t: ["caseworker"] for t in tenants})
    with bench_server(info, tenants) as server:
        if server.worker is not None:
            wait_until_idle(server.worker.pid, "(c) projection worker")  # its first pass over the outbox
        for client, (processes, threads) in ((c, load) for load in cfg["loads"] for c in cfg["clients"]):
            conns = processes * threads
            log(f"(c) GET /v1/loans/{{id}}: {cfg['requests']} requests over {conns} connections, client {client}")
            window = CpuWindow(server.pid, info.dbname, server.worker.pid if server.worker else None)
            logged0 = count_rows(info, "luotto_access_log")
            result = run_load(Job("get_loan", server.base_url, loans=tuple(pairs), client=client, seed=7 + conns,
                                  headers={t: headers[(t, "caseworker")] for t in tenants}),
                              processes=processes, threads=threads, requests=cfg["requests"],
                              cpu_window=window)
            lat = result.latencies
            p50, p99 = percentile(lat, 50) * 1000, percentile(lat, 99) * 1000
            bad = len(lat) - result.ok
            log(f"(c) GET [{client}]: {len(lat)} requests, {result.rate:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                f"max {lat[-1] * 1000:.1f} ms{f', {bad} NOT 2xx: {result.errors[:2]}' if bad else ''}")
            log(f"(c) GET [{client}]: {window.describe(result.client_cpu)}; server CPU per request "
                f"{window.server / max(len(lat), 1) * 1000:.2f} ms")
            if logged0 is not None:
                logged = count_rows(info, "luotto_access_log") - logged0
                sent = len(lat) + result.warmup_requests
                log(f"(c) GET [{client}]: {logged} access-log rows written for {sent} requests (warm-up included)")
            rows.append({"part": "c", "measure": f"GET /v1/loans/{{id}}, {len(pairs)} loans stored, {conns} "
                                                 f"connection{'s' if conns > 1 else ''} [{client}]",
                         "value": f"{result.rate:,.0f} req/s", "p50": f"{p50:.1f} ms", "p99": f"{p99:.1f} ms",
                         "target": "p99 < 20 ms", "met": p99 < 20 and bad == 0, "errors": bad,
                         "cpu": window.describe(result.client_cpu).replace("cores used: ", "")
                         + f"; server CPU/request {window.server / max(len(lat), 1) * 1000:.2f} ms"})
    return {"rows": rows, "config": cfg}
