"""(i) Statistics and the journal with 100,000 loans of one organiser on PostgreSQL (issue 19).

Target: the statistics "answer in well under a second at 100,000 loans" (R-STAT-1, a read model).
Here: p95 under 1 s for each answer (JSON, CSV, XLSX, the national view, the journal).

1. Seed, in bulk through `service.save` (BATCH aggregates per transaction, as parts (d) and (h) do;
   no grant register, no personal data): LOANS loans granted over YEARS years before today, each
   of 500.00-2,400.00 in 50.00 instalments, a purpose class in turn, and up to PAYMENTS monthly
   payments of 50.00 on its due dates (those not after today), one loan in WRITTEN_OFF written
   off after them; APPLICATIONS loan applications received over the same years, 60 % granted and
   35 % rejected (market credit available) 0-29 days later, 5 % open (ApplicationCase events
   recorded directly, the assessment skipped: the statistics count only received/decided).
2. The statistics read model catches up from zero (timed: events/s, the rebuild an upgrade does).
3. Timed: through the app in this process (TestClient over the ASGI app, no network: the server's
   time incl. the access log), REQUESTS times each, with an API key of the role the route needs:
   GET /v1/statistics for the last full year (JSON, CSV, XLSX), for all YEARS years (JSON), the
   national view for the year (admin), and the journal for the last 30 days (finance: every seeded
   change was recorded today, so that is one entry per value day of the three years). p50/p95/p99.
"""
from __future__ import annotations

import datetime as dt
import time

from bench.common import api_headers, env_int, log, percentile, settings_for, today

TENANT = "i"
TENANTS = {TENANT: {"preset": "default", "overrides": {"capital_limit": "900000000.00"}}}


def config() -> dict:
    return {"loans": env_int("BENCH_I_LOANS", 100_000), "applications": env_int("BENCH_I_APPLICATIONS", 100_000),
            "payments": env_int("BENCH_I_PAYMENTS", 3), "years": env_int("BENCH_I_YEARS", 3),
            "written_off": env_int("BENCH_I_WRITTEN_OFF", 50), "batch": env_int("BENCH_I_BATCH", 500),
            "requests": env_int("BENCH_I_REQUESTS", 50)}


def _months(day: dt.date, n: int) -> dt.date:
    from domain.dates import add_months

    return add_months(day, n)


def seed(container, cfg: dict, day: dt.date) -> dict:
    from domain import case_events as cev
    from domain.case import ApplicationCase
    from domain.loan import Decision, Loan
    from domain.statistics import PURPOSE_CLASSES

    service = container.service
    policy, rates, recorded_at = service.policy(TENANT), service.rates, service.clock()
    decision = Decision("bench", "benchmark grant (bulk seed)")
    span = 365 * cfg["years"]
    batch = []
    t0 = time.perf_counter()

    def flush(force: bool = False) -> None:
        nonlocal batch
        if batch and (force or len(batch) >= cfg["batch"]):
            service.save(*batch)
            batch = []

    for j in range(cfg["loans"]):
        granted_on = day - dt.timedelta(days=40 + (j * 7919) % span)
        first_due = granted_on + dt.timedelta(days=30)
        loan = Loan.grant(tenant=TENANT, loan_id=f"I-{j:06d}", borrower_id=f"borrower-{j:06d}", purpose="bench",
                          principal=50_000 + (j % 20) * 10_000, granted_on=granted_on, first_due_date=first_due,
                          policy=policy, decision=decision, recorded_at=recorded_at, instalment_amount=5_000,
                          rates=rates, purpose_class=PURPOSE_CLASSES[j % len(PURPOSE_CLASSES)])
        last = granted_on
        for k in range(cfg["payments"]):
            value = _months(first_due, k)
            if value > day:
                break
            loan.receive_payment(payment_id=f"I-{j:06d}-{k}", amount=5_000, value_date=value, on=value,
                                 recorded_at=recorded_at, rates=rates)
            last = value
        if cfg["written_off"] and j % cfg["written_off"] == 0:
            loan.write_off(on=last + dt.timedelta(days=1), recorded_at=recorded_at, rates=rates, decision=decision)
        batch.append(loan)
        flush()
        if (j + 1) % 20_000 == 0:
            log(f"(i) seeded {j + 1:,}/{cfg['loans']:,} loans ({time.perf_counter() - t0:.0f} s)")
    flush(force=True)
    loans_wall = time.perf_counter() - t0
    t1 = time.perf_counter()
    for j in range(cfg["applications"]):
        received = day - dt.timedelta(days=40 + (j * 104729) % span)
        case = ApplicationCase.receive(tenant=TENANT, application_id=f"A-{j:06d}", kind="loan",
                                       applicant=f"applicant-{j:06d}", co_applicant=None, facts_hash="0" * 64,
                                       on=received, by="bench", recorded_at=recorded_at)
        share = j % 20
        if share < 19:  # 12 of 20 granted, 7 rejected, 1 open
            granted = share < 12
            case._record(cev.ApplicationDecided, on=received + dt.timedelta(days=j % 30), by="bench",
                         recorded_at=recorded_at, outcome="granted" if granted else "rejected", decided_by="bench",
                         grounds=[] if granted else ["market_credit_available"], reasons="", override_reasons=None,
                         legal_basis="bench", facts_version=1, facts_hash="0" * 64, terms={}, loan_id=None,
                         loan_version=None, letters=[])
        batch.append(case)
        flush()
    flush(force=True)
    apps_wall = time.perf_counter() - t1
    log(f"(i) seeded {cfg['loans']:,} loans in {loans_wall:.0f} s and {cfg['applications']:,} applications in "
        f"{apps_wall:.0f} s")
    return {"loans_wall": loans_wall, "apps_wall": apps_wall}


def _timed(client, url: str, headers: dict, n: int) -> tuple[list[float], int]:
    for _ in range(3):  # warm: caches as in a running server
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
    times = []
    size = 0
    for _ in range(n):
        t = time.perf_counter()
        answer = client.get(url, headers=headers)
        times.append(time.perf_counter() - t)
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
        size = len(answer.content)
    times.sort()
    return times, size


def run(pg, info) -> dict:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from application.container import Container

    cfg = config()
    day = today()
    headers = api_headers(info, TENANTS, {TENANT: ["auditor", "admin", "finance"]})
    settings = settings_for(info, TENANTS)
    container = Container.build(settings)
    rows = []
    try:
        seeded = seed(container, cfg, day)
        newest = container.service.recorder.max_notification_id() or 0
        t0 = time.perf_counter()
        n = container.statistics.catch_up()
        wall = time.perf_counter() - t0
        log(f"(i) statistics caught up on {newest:,} notifications ({n:,} counted) in {wall:.0f} s "
            f"= {newest / wall:,.0f} notifications/s")
        with info.connect(autocommit=True) as conn:
            sizes = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                     for t in ("luotto_stat_loans", "luotto_stat_cases", "luotto_stat_capital", "luotto_stat_days",
                               "luotto_stat_books", "luotto_stat_facts")}
            conn.execute("ANALYZE")  # autovacuum is off on this server: plans as a maintained database has
        log(f"(i) read-model rows: {sizes}")
        rows.append({"part": "i", "measure": f"setup: {cfg['loans']:,} loans (≤ {cfg['payments']} payments each), "
                                             f"{cfg['applications']:,} applications, statistics caught up from zero",
                     "value": f"{newest / wall:,.0f} notifications/s", "errors": 0,
                     "cpu": f"{newest:,} notifications in {wall:.0f} s; seeding {seeded['loans_wall']:.0f} + "
                            f"{seeded['apps_wall']:.0f} s; rows {sizes}"})
        year_end = dt.date(day.year - 1, 12, 31)
        year = f"from={year_end.year}-01-01&to={year_end.isoformat()}"
        everything = f"from={(day - dt.timedelta(days=365 * cfg['years'] + 60)).isoformat()}&to={day.isoformat()}"
        # Every seeded change was recorded today, so the journal's days are today's (one entry per value day).
        month = f"from={(day - dt.timedelta(days=30)).isoformat()}&to={day.isoformat()}"
        asks = [("GET /v1/statistics, a year, JSON", f"/v1/statistics?{year}", "auditor"),
                ("GET /v1/statistics, a year, CSV", f"/v1/statistics?{year}&format=csv", "auditor"),
                ("GET /v1/statistics, a year, XLSX", f"/v1/statistics?{year}&format=xlsx", "auditor"),
                (f"GET /v1/statistics, all {cfg['years']} years, JSON", f"/v1/statistics?{everything}", "auditor"),
                ("GET /v1/statistics/national, a year (admin)", f"/v1/statistics/national?{year}", "admin"),
                ("GET /v1/books/journal, the last 30 days (finance)", f"/v1/books/journal?{month}", "finance")]
        app = create_app(settings, container)
        with TestClient(app, base_url="https://bench") as client:
            for name, url, role in asks:
                times, size = _timed(client, url, headers[(TENANT, role)], cfg["requests"])
                p50, p95, p99 = (percentile(times, p) * 1000 for p in (50, 95, 99))
                rows.append({"part": "i", "measure": f"{name}, {cfg['loans']:,} loans stored", "value":
                             f"p95 {p95:.0f} ms", "p50": f"{p50:.0f} ms", "p99": f"{p99:.0f} ms",
                             "target": "p95 < 1 s", "met": p95 < 1000, "errors": 0, "cpu": f"{size:,} bytes"})
                log(f"(i) {name}: p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms ({size:,} bytes)")
    finally:
        container.close()
    return {"rows": rows, "notes": [f"server time in-process (TestClient over the ASGI app, no network), "
                                    f"{cfg['requests']} requests per answer after 3 warm-up requests"]}
