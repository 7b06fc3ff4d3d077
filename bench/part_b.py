"""(b) Events appended per second by the application service in bulk, against plain INSERTs.

1. Through api.deps.Container (the real LoanService on PostgreSQL) grant N loans, granted 40 days
   ago with the first instalment due 20 days ago, so that `run_servicing("b", first_due_date)`
   records exactly one event per loan (InstalmentFellDue #1; the deadline has not passed on that
   date and the default policy sends no reminders). Measure events recorded per second of that run
   (service_many saves 100 loans per transaction), and how much of it was spent in save().
2. On the same server, in the same run: a table shaped exactly like eventsourcing's stored-events
   table (the DDL of eventsourcing.postgres: originator_id uuid, originator_version bigint, topic
   text, state bytea, notification_id bigserial, primary key and unique notification index), rows
   sized like the run's events (average topic and state length read from the real table), inserted
   with psycopg `executemany`, BATCH rows per transaction, one connection. Also the same with the
   recorder's own per-transaction statements added (SET LOCAL lock_timeout, LOCK TABLE ... IN
   EXCLUSIVE MODE, NOTIFY), to show what the table lock itself costs.
3. Diagnostic: how fast the read model projects those events (ReadModel.catch_up).
"""
from __future__ import annotations

import datetime as dt
import os
import time
import uuid

from bench.common import CpuWindow, env_int, grant_loans, log, percentile, settings_for, today

TENANT = "b"


def config() -> dict:
    return {"loans": env_int("BENCH_B_LOANS", 1000), "plain_rows": env_int("BENCH_B_PLAIN_ROWS", 20000),
            "batch": env_int("BENCH_B_BATCH", 100)}


def servicing_run(info, n: int) -> dict:
    from api.deps import Container

    container = Container.build(settings_for(info, {TENANT: {"preset": "default"}}))
    service = container.service
    try:
        granted_on = today() - dt.timedelta(days=40)
        first_due = granted_on + dt.timedelta(days=20)
        log(f"(b) granting {n} loans through LoanService.grant (granted {granted_on}, first due {first_due})")
        t = time.perf_counter()
        grant_times = grant_loans(service, TENANT, [f"B-{i:06d}" for i in range(n)], principal=100000,
                                  granted_on=granted_on, first_due_date=first_due, instalment_amount=5000,
                                  every=max(n // 4, 1), label="(b) ")
        grant_wall = time.perf_counter() - t
        log(f"(b) {n} grants in {grant_wall:.1f} s")
        # The server's read-model thread keeps the read model (and the servicing agenda) current; here
        # nothing runs it, so bring it up to date first: the run below then does only its own work.
        rm_grants = _catch_up(container, "grants")
        with info.connect(autocommit=True) as conn:
            before = conn.execute("SELECT COALESCE(MAX(notification_id), 0) FROM luotto_events").fetchone()[0]

        saves = {"seconds": 0.0, "calls": 0}
        original_save = service.save

        def timed_save(*aggregates, **kwargs):  # instance attribute: measures, changes nothing
            t0 = time.perf_counter()
            try:
                return original_save(*aggregates, **kwargs)
            finally:
                saves["seconds"] += time.perf_counter() - t0
                saves["calls"] += 1

        service.save = timed_save
        log(f"(b) run_servicing({TENANT!r}, {first_due}) over {n} loans")
        with CpuWindow(None, info.dbname) as window:
            cpu0 = time.process_time()
            t = time.perf_counter()
            summary = service.run_servicing(TENANT, first_due)
            wall = time.perf_counter() - t
            own = time.process_time() - cpu0
        del service.save
        events = summary["events_recorded"]
        if summary["failures"]:
            log(f"(b) servicing failures: {summary['failures'][:3]}")
        with info.connect(autocommit=True) as conn:
            stored, avg_state, avg_topic, topics = conn.execute(
                "SELECT COUNT(*), AVG(octet_length(state)), AVG(length(topic)), "
                "string_agg(DISTINCT topic, ', ') FROM luotto_events WHERE notification_id > %s",
                (before,)).fetchone()
            topic = conn.execute("SELECT topic FROM luotto_events WHERE notification_id > %s "
                                 "GROUP BY topic ORDER BY COUNT(*) DESC LIMIT 1", (before,)).fetchone()[0]
        log(f"(b) run recorded {events} events on {summary['loans_examined']} loans in {wall:.2f} s = "
            f"{events / wall:,.0f} events/s; save() {saves['calls']} calls, {saves['seconds']:.2f} s "
            f"({saves['seconds'] / wall * 100:.0f} % of the run)")
        log(f"(b) {window.describe(own=own)}")
        log(f"(b) stored rows since the run began: {stored} ({topics}); average state {float(avg_state):.0f} bytes, "
            f"topic {float(avg_topic):.0f} chars")

        rm_run = _catch_up(container, "the run's events")
        return {"events": events, "wall": wall, "save_seconds": saves["seconds"], "save_calls": saves["calls"],
                "window": window, "own": own, "avg_state": int(round(float(avg_state))), "topic": topic,
                "rm_grants": rm_grants, "rm_run": rm_run, "grant_times": grant_times, "grant_wall": grant_wall}
    finally:
        container.close()


def _catch_up(container, what: str) -> dict:
    """Diagnostic: ReadModel.catch_up timed in this process (nothing else projects meanwhile)."""
    t = time.perf_counter()
    cpu0 = time.process_time()
    projected = container.read_model.catch_up()
    wall, own = time.perf_counter() - t, time.process_time() - cpu0
    rate = projected / wall if wall else 0.0
    log(f"(b) read model caught up on {projected} events ({what}) in {wall:.2f} s = {rate:,.0f} events/s "
        f"({own / max(projected, 1) * 1000:.2f} ms Python CPU per event)")
    return {"events": projected, "wall": wall, "rate": rate, "cpu_per_event": own / max(projected, 1)}


PLAIN_DDL = """CREATE TABLE {table} (
    originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text, state bytea,
    notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"""


def plain_inserts(info, rows: int, batch: int, state_size: int, topic: str, *, lock: bool) -> dict:
    """executemany INSERTs into an events-shaped table, `batch` rows per transaction."""
    table = "bench_plain_locked" if lock else "bench_plain"
    with info.connect(autocommit=True) as conn:
        conn.execute(PLAIN_DDL.format(table=table))
        conn.execute(f"CREATE UNIQUE INDEX {table}_notification_id ON {table} (notification_id ASC)")
    insert = f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)"
    state = os.urandom(state_size)
    data = [(uuid.uuid4(), 1, topic, state) for _ in range(rows)]
    with info.connect() as conn, CpuWindow(None, info.dbname) as window:
        cpu0 = time.process_time()
        t = time.perf_counter()
        with conn.cursor() as cur:
            for start in range(0, rows, batch):
                with conn.transaction():
                    if lock:
                        cur.execute("SET LOCAL lock_timeout = '5s'")
                        cur.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
                        cur.execute(f"NOTIFY {table}")
                    cur.executemany(insert, data[start:start + batch])
        wall = time.perf_counter() - t
        own = time.process_time() - cpu0
    with info.connect(autocommit=True) as conn:
        count = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        conn.execute(f"DROP TABLE {table}")
    assert count == rows, (count, rows)
    label = "plain executemany" + (" + LOCK TABLE/NOTIFY" if lock else "")
    log(f"(b) {label}: {rows} rows of {state_size} bytes, {batch} per transaction, in {wall:.2f} s = "
        f"{rows / wall:,.0f} rows/s; {window.describe(own=own)}")
    return {"rate": rows / wall, "window": window, "own": own}


def run(pg, info) -> dict:
    cfg = config()
    app = servicing_run(info, cfg["loans"])
    plain = plain_inserts(info, cfg["plain_rows"], cfg["batch"], app["avg_state"], app["topic"], lock=False)
    locked = plain_inserts(info, cfg["plain_rows"], cfg["batch"], app["avg_state"], app["topic"], lock=True)
    app_rate = app["events"] / app["wall"]
    ratio = app_rate / plain["rate"]

    def cpu(window, own) -> str:
        return window.describe(own=own).replace("cores used: ", "")

    took = app["grant_times"]
    first, last = took[:100], took[-100:]
    ordered = sorted(took)
    rows = [
        {"part": "b", "measure": f"setup: {len(took)} grants via LoanService.grant, 1 organiser, 1 process",
         "value": f"{len(took) / app['grant_wall']:,.0f} grants/s", "p50": f"{percentile(ordered, 50) * 1000:.1f} ms",
         "p99": f"{percentile(ordered, 99) * 1000:.1f} ms", "errors": 0,
         "cpu": f"first 100 grants {sum(first) / len(first) * 1000:.1f} ms each, last 100 "
                f"{sum(last) / len(last) * 1000:.1f} ms each"},
        {"part": "b", "measure": f"run_servicing: events recorded ({app['events']} loans, 1 event each)",
         "value": f"{app_rate:,.0f} events/s", "errors": 0, "cpu": cpu(app["window"], app["own"])
         + f"; save() {app['save_seconds'] / app['wall'] * 100:.0f} % of the run "
           f"({app['events'] / app['save_seconds']:,.0f} events/s inside save)"},
        {"part": "b", "measure": f"plain executemany, {cfg['batch']} rows/tx ({app['avg_state']} B state)",
         "value": f"{plain['rate']:,.0f} rows/s", "errors": 0, "cpu": cpu(plain["window"], plain["own"])},
        {"part": "b", "measure": "plain executemany + LOCK TABLE/NOTIFY per tx (diagnostic)",
         "value": f"{locked['rate']:,.0f} rows/s", "errors": 0, "cpu": cpu(locked["window"], locked["own"])},
        {"part": "b", "measure": "servicing / plain", "value": f"{ratio * 100:.1f} %", "target": "≥ 50 %",
         "met": ratio >= 0.5},
        *({"part": "b", "measure": f"read model catch-up, {what} (diagnostic)",
           "value": f"{r['rate']:,.0f} events/s", "errors": 0,
           "cpu": f"{r['events']} events, {r['cpu_per_event'] * 1000:.2f} ms Python CPU per event"}
          for what, r in (("after the grants", app["rm_grants"]), ("after the run", app["rm_run"]))
          if r["events"] >= 100),
    ]
    return {"rows": rows, "config": cfg}
