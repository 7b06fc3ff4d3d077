"""(b) Events appended per second by the application service in bulk, against plain INSERTs.

1. Seed N loans in bulk (bench.part_d.seed: `Loan.grant` aggregates saved 500 per `service.save`),
   all with the first instalment due on day D (today), and bring the read model (the servicing
   agenda) up to date.
2. Timed: `LoanService.run_servicing(tenant, D)`, the real daily run, which records exactly one
   event per loan (InstalmentFellDue #1; no deadline has passed, the default policy sends no
   reminders) and appends them through `LoanService.save`, 100 loans per call (service_many).
   **The bulk append rate** is the events appended divided by the time spent inside those save()
   calls (mapping the events to stored events, the recorder's transaction: table lock, NOTIFY,
   INSERT ... RETURNING, commit); this is what the target compares. The whole run's rate, which
   also loads each loan and decides its events in Python, is reported beside it.
3. Paired with it: right after each of those save() calls, the same rows (each event's topic and
   state, new ids) are inserted with plain psycopg `executemany` into an events-shaped table in
   one transaction, timed apart. The target compares the two rates: both are measured in the same
   seconds, so the machine's speed changing (this VM's plain-insert rate has varied 2x between
   runs) cannot favour either.
4. After the run, on the same server: a table shaped exactly like eventsourcing's stored-events
   table (originator_id uuid, originator_version bigint, topic text, state bytea, notification_id
   bigserial, primary key and unique notification index), rows sized like the run's events
   (average topic and state length read from the real table), inserted with psycopg
   `executemany`, BATCH rows per transaction, one connection. Also the same with the recorder's
   own per-transaction statements added (SET LOCAL lock_timeout, LOCK TABLE ... IN EXCLUSIVE
   MODE, NOTIFY), to show what the table lock itself costs.
5. Diagnostic: how fast the read model projects those events (ReadModel.catch_up).
"""
from __future__ import annotations

import os
import time
import uuid

from bench.common import CpuWindow, env_int, log, settings_for, today
from bench.part_d import _tenants, seed

TENANT = next(iter(_tenants(1)))


def config() -> dict:
    return {"loans": env_int("BENCH_B_LOANS", 5000), "plain_rows": env_int("BENCH_B_PLAIN_ROWS", 20000),
            "batch": env_int("BENCH_B_BATCH", 100)}


def servicing_run(info, n: int) -> dict:
    from application.container import Container

    container = Container.build(settings_for(info, _tenants(1)))
    service = container.service
    try:
        day = today()
        seeded = seed(container, {"loans": n, "tenants": 1, "days": 1, "batch": 500, "interest_tenths": 0}, day, "(b)")
        rm_grants = _catch_up(container, "the seeded loans")
        with info.connect(autocommit=True) as conn:
            before = conn.execute("SELECT COALESCE(MAX(notification_id), 0) FROM luotto_events").fetchone()[0]

        saves = {"seconds": 0.0, "calls": 0, "events": 0, "cpu": 0.0}
        original_save = service.save
        paired = PairedPlain(info)

        def timed_save(*aggregates, **kwargs):  # instance attribute: measures, changes nothing
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                recordings = original_save(*aggregates, **kwargs)
                saves["events"] += len(recordings)
            finally:
                saves["seconds"] += time.perf_counter() - t0
                saves["cpu"] += time.process_time() - c0
                saves["calls"] += 1
            # The same rows (topic and state of each event just saved, new ids), plainly inserted
            # right after: both measured under the same machine conditions.
            paired.insert([service.mapper.to_stored_event(r.domain_event) for r in recordings])
            return recordings

        service.save = timed_save
        log(f"(b) run_servicing({TENANT!r}, {day}) over {seeded['loans']} loans")
        with CpuWindow(None, info.dbname) as window:
            cpu0 = time.process_time()
            t = time.perf_counter()
            summary = service.run_servicing(TENANT, day)
            wall = time.perf_counter() - t
            own = time.process_time() - cpu0
        del service.save
        paired.close()
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
            f"{events / wall:,.0f} events/s; save() {saves['calls']} calls, {saves['events']} events, "
            f"{saves['seconds']:.2f} s = {saves['events'] / saves['seconds']:,.0f} events/s inside save "
            f"({saves['cpu'] / max(saves['events'], 1) * 1e6:.0f} us Python CPU per event)")
        log(f"(b) {window.describe(own=own)}")
        log(f"(b) paired plain executemany: {paired.rows} rows in {paired.calls} transactions, {paired.seconds:.2f} s "
            f"= {paired.rows / paired.seconds:,.0f} rows/s ({paired.cpu / max(paired.rows, 1) * 1e6:.0f} us Python "
            "CPU per row)")
        log(f"(b) stored rows since the run began: {stored} ({topics}); average state {float(avg_state):.0f} bytes, "
            f"topic {float(avg_topic):.0f} chars")

        rm_run = _catch_up(container, "the run's events")
        return {"events": events, "wall": wall, "saves": saves, "paired": paired, "window": window, "own": own,
                "avg_state": int(round(float(avg_state))), "topic": topic, "rm_grants": rm_grants,
                "rm_run": rm_run, "seeded": seeded}
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


class PairedPlain:
    """Plain executemany of given rows into an events-shaped table, one transaction per call, timed."""

    def __init__(self, info):
        self.conn = info.connect()
        self.conn.execute(PLAIN_DDL.format(table="bench_paired"))
        self.conn.execute("CREATE UNIQUE INDEX bench_paired_notification_id ON bench_paired (notification_id ASC)")
        self.conn.commit()
        self.rows = self.calls = 0
        self.seconds = self.cpu = 0.0

    def insert(self, stored: list) -> None:
        if not stored:
            return
        rows = [(uuid.uuid4(), 1, e.topic, e.state) for e in stored]
        t0, c0 = time.perf_counter(), time.process_time()
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany("INSERT INTO bench_paired (originator_id, originator_version, topic, state) "
                            "VALUES (%s, %s, %s, %s)", rows)
        self.seconds += time.perf_counter() - t0
        self.cpu += time.process_time() - c0
        self.rows += len(rows)
        self.calls += 1

    def close(self) -> None:
        self.conn.execute("DROP TABLE bench_paired")
        self.conn.commit()
        self.conn.close()


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
    saves, paired = app["saves"], app["paired"]
    append_rate = saves["events"] / saves["seconds"]
    paired_rate = paired.rows / paired.seconds
    run_rate = app["events"] / app["wall"]
    ratio = append_rate / paired_rate

    def cpu(window, own) -> str:
        return window.describe(own=own).replace("cores used: ", "")

    seeded = app["seeded"]
    rows = [
        {"part": "b", "measure": f"setup: {seeded['loans']} loans seeded in bulk (Loan.grant, 500 per save)",
         "value": f"{seeded['loans'] / seeded['wall']:,.0f} loans/s", "errors": 0},
        {"part": "b", "measure": f"bulk append through LoanService.save inside the run ({saves['calls']} saves of "
                                 f"up to {cfg['batch']} events)",
         "value": f"{append_rate:,.0f} events/s", "errors": 0,
         "cpu": f"{saves['cpu'] / max(saves['events'], 1) * 1e6:.0f} us Python CPU per event"},
        {"part": "b", "measure": f"the whole run_servicing: {app['events']} events on {app['events']} loans "
                                 "(load, decide, append; diagnostic)",
         "value": f"{run_rate:,.0f} events/s", "errors": 0,
         "cpu": cpu(app["window"], app["own"]) + f"; save() {saves['seconds'] / app['wall'] * 100:.0f} % of the run"},
        {"part": "b", "measure": "plain executemany of the same rows, one transaction right after each save (paired)",
         "value": f"{paired_rate:,.0f} rows/s", "errors": 0,
         "cpu": f"{paired.cpu / max(paired.rows, 1) * 1e6:.0f} us Python CPU per row"},
        {"part": "b", "measure": f"plain executemany, {cfg['batch']} rows/tx ({app['avg_state']} B state), "
                                 "after the run",
         "value": f"{plain['rate']:,.0f} rows/s", "errors": 0, "cpu": cpu(plain["window"], plain["own"])},
        {"part": "b", "measure": "plain executemany + LOCK TABLE/NOTIFY per tx (diagnostic)",
         "value": f"{locked['rate']:,.0f} rows/s", "errors": 0, "cpu": cpu(locked["window"], locked["own"])},
        {"part": "b", "measure": "bulk append / paired plain", "value": f"{ratio * 100:.1f} %", "target": "≥ 50 %",
         "met": ratio >= 0.5},
        {"part": "b", "measure": "bulk append / plain after the run (diagnostic)",
         "value": f"{append_rate / plain['rate'] * 100:.1f} %"},
        {"part": "b", "measure": "whole run / paired plain (diagnostic)", "value": f"{run_rate / paired_rate * 100:.1f} %"},
        *({"part": "b", "measure": f"read model catch-up, {what} (diagnostic)",
           "value": f"{r['rate']:,.0f} events/s", "errors": 0,
           "cpu": f"{r['events']} events, {r['cpu_per_event'] * 1000:.2f} ms Python CPU per event"}
          for what, r in (("after seeding", app["rm_grants"]), ("after the run", app["rm_run"]))
          if r["events"] >= 100),
    ]
    return {"rows": rows, "config": cfg}
