"""(d) The daily servicing run over a large portfolio (issue 4).

Target: "100,000 open loans of which about 3,000 need action that day: the run finishes in under
30 s on PostgreSQL here and loads no more aggregates than need action".

1. Seed LOANS loans over TENANTS organisers in bulk: `domain.loan.Loan.grant(...)` aggregates built
   directly (each with its own payment reference) and saved BATCH per transaction with
   `service.save(*loans)`. This bypasses `LoanService.grant` (~10-30 ms a grant, serialised per
   organiser: part (b)), so the organisers' grant registers and reference markers are not written;
   the servicing run reads neither. Loan j of an organiser has its first due date on D + (j mod
   DAYS) and was granted 30 days before that, so 1/DAYS of the loans (DAYS=30: ~3.3 %) fall due on
   the benchmark day D (today in Europe/Helsinki) and none earlier.
   Issue 16: BENCH_D_INTEREST_TENTHS (default 3) loans in ten follow the reference rate (margin 0).
2. Setup, timed apart: `read_model.catch_up()` (projects every grant: loads every loan once and
   writes its row and agenda date).
3. Timed: `DailyRuns.run(tenant, D)` (container.servicing) for every organiser (the real daily run: catch-up,
   agenda, service_many in batches of 100, reschedule, run log, signed digest). Counted: loans
   examined, events recorded and on how many loans, the agenda's due count before the run, and
   every `service.repository.get` of a loan id (by wrapping that one method on this process's
   repository object; production code is not touched), split into loads by the servicing itself
   and loads by the read-model projection that runs inside the run (digest.take catches up).
4. Checks: a random sample of loans NOT on D's agenda is loaded and serviced for D in memory (never
   saved): none may record anything, or the agenda would be missing loans that need action.
5. Diagnostic: cProfile of one organiser's run for D + 1 (the next day's loans), to show where the
   time goes.
"""
from __future__ import annotations

import cProfile
import datetime as dt
import io
import pstats
import random
import time
from collections import Counter

from bench.common import CpuWindow, env_int, log, settings_for, today


def config() -> dict:
    return {"loans": env_int("BENCH_D_LOANS", 100_000), "tenants": env_int("BENCH_D_TENANTS", 4),
            "days": env_int("BENCH_D_DAYS", 30), "batch": env_int("BENCH_D_BATCH", 500),
            "sample": env_int("BENCH_D_SAMPLE", 300), "profile": env_int("BENCH_D_PROFILE", 1),
            # Issue 16: this many loans in ten follow the reference rate (R-INT-1), the rest are interest-free.
            "interest_tenths": env_int("BENCH_D_INTEREST_TENTHS", 3)}


def _tenants(n: int) -> dict[str, dict]:
    return {f"d{i:02d}": {"preset": "default"} for i in range(n)}


# --------------------------------------------------------------------------- #
# Seeding
# --------------------------------------------------------------------------- #


def seed(container, cfg: dict, day: dt.date, label: str = "(d)") -> dict:
    """Build and save the loans; returns their uuids and, per organiser, the ids due on each date."""
    from adapters.reference_numbers import reference_for_loan
    from domain.interest import InterestTerms
    from domain.loan import Decision, Loan, loan_uuid

    service = container.service
    tenants = list(_tenants(cfg["tenants"]))
    per_tenant = {t: cfg["loans"] // len(tenants) + (1 if i < cfg["loans"] % len(tenants) else 0)
                  for i, t in enumerate(tenants)}
    decision = Decision("bench", "benchmark grant (bulk seed)")
    uuids: set = set()
    due_on: dict[tuple[str, dt.date], list[str]] = {}
    build_s = save_s = 0.0
    done, every = 0, max(cfg["loans"] // 10, 1)
    t0 = time.perf_counter()
    for tenant in tenants:
        policy = service.policy(tenant)
        recorded_at = service.clock()
        batch = []
        for j in range(per_tenant[tenant]):
            t = time.perf_counter()
            loan_id = f"{tenant}-{j:06d}"
            first_due = day + dt.timedelta(days=j % cfg["days"])
            batch.append(Loan.grant(tenant=tenant, loan_id=loan_id, borrower_id=f"borrower-{tenant}-{j:06d}",
                                    purpose="bench", principal=100_000, granted_on=first_due - dt.timedelta(days=30),
                                    first_due_date=first_due, policy=policy, decision=decision,
                                    recorded_at=recorded_at, instalment_amount=5_000,
                                    reference=reference_for_loan(j + 1), rates=service.rates,
                                    interest=InterestTerms("reference") if j % 10 < cfg["interest_tenths"]
                                    else InterestTerms()))
            uuids.add(loan_uuid(tenant, loan_id))
            due_on.setdefault((tenant, first_due), []).append(loan_id)
            build_s += time.perf_counter() - t
            if len(batch) == cfg["batch"] or j == per_tenant[tenant] - 1:
                t = time.perf_counter()
                service.save(*batch)
                save_s += time.perf_counter() - t
                done += len(batch)
                batch = []
                if done % every < cfg["batch"] or done == cfg["loans"]:
                    log(f"{label} seeded {done}/{cfg['loans']} loans ({time.perf_counter() - t0:.0f} s)")
    wall = time.perf_counter() - t0
    log(f"{label} seeded {done} loans over {len(tenants)} organisers in {wall:.1f} s = {done / wall:,.0f} loans/s "
        f"(Loan.grant {build_s / done * 1000:.2f} ms, save {save_s / done * 1000:.2f} ms per loan)")
    return {"uuids": uuids, "due_on": due_on, "tenants": tenants, "wall": wall, "loans": done,
            "build_per_loan": build_s / done, "save_per_loan": save_s / done}


def catch_up(container, info) -> dict:
    with info.connect(autocommit=True) as conn:
        total = conn.execute("SELECT COALESCE(MAX(notification_id), 0) FROM luotto_events").fetchone()[0]
    log(f"(d) setup: read model catching up on {total} events (loads every loan once)")
    last = [time.monotonic()]
    t0 = time.perf_counter()

    def progress(position: int, of: int) -> None:
        if time.monotonic() - last[0] > 15:
            last[0] = time.monotonic()
            elapsed = time.perf_counter() - t0
            log(f"(d) read model at {position}/{of} ({position / elapsed:,.0f} events/s)")

    with CpuWindow(None, info.dbname) as window:
        cpu0 = time.process_time()
        n = container.read_model.catch_up(progress)
        own = time.process_time() - cpu0
    log(f"(d) read model caught up on {n} events in {window.wall:.1f} s = {n / window.wall:,.0f} events/s "
        f"({own / max(n, 1) * 1000:.2f} ms Python CPU per event); {window.describe(own=own)}")
    return {"events": n, "wall": window.wall, "own": own, "window": window}


# --------------------------------------------------------------------------- #
# Counting what the run loads (wrappers on this process's objects only)
# --------------------------------------------------------------------------- #


class Meter:
    """Wraps `repository.get`, `repository.get_many` and a few methods as instance attributes: counts
    and times, changes nothing. A loan fetched by get_many counts as one load, as by get."""

    def __init__(self, container, loan_uuids: set):
        self.container, self.loan_uuids = container, loan_uuids
        self.loads: Counter = Counter()          # phase -> Loan loads
        self.distinct: dict[str, set] = {}       # phase -> loan uuids loaded
        self.other_loads = 0                     # run log and other aggregates
        self.seconds: Counter = Counter()
        self.calls: Counter = Counter()
        self._phase = "servicing"
        self._wrapped: list[tuple[object, str]] = []

    def __enter__(self) -> "Meter":
        service, read_model = self.container.service, self.container.read_model
        repository = service.repository
        get = repository.get

        get_many = repository.get_many

        def count(aggregate_id) -> None:
            if aggregate_id in self.loan_uuids:
                self.loads[self._phase] += 1
                self.distinct.setdefault(self._phase, set()).add(aggregate_id)
            else:
                self.other_loads += 1

        def counted_get(aggregate_id, *args, **kwargs):
            count(aggregate_id)
            return get(aggregate_id, *args, **kwargs)

        def counted_get_many(ids, uncached_ids=(), **kwargs):  # a batch's loans in one query, each counted
            ids, uncached_ids = list(ids), list(uncached_ids)
            for aggregate_id in ids + uncached_ids:
                count(aggregate_id)
            return get_many(ids, uncached_ids, **kwargs)

        self._set(repository, "get", counted_get)
        self._set(repository, "get_many", counted_get_many)
        for owner, name, label in ((service, "run_servicing", "LoanService.run_servicing"),
                                   (service, "save", "save"),
                                   (read_model, "due_loans", "agenda due_loans"),
                                   (read_model, "reschedule", "agenda reschedule"),
                                   (read_model, "run_once", "read-model projection")):
            self._set(owner, name, self._timed(getattr(owner, name), label, phase=label if name == "run_once" else None))
        return self

    def _set(self, owner, name: str, fn) -> None:
        setattr(owner, name, fn)
        self._wrapped.append((owner, name))

    def _timed(self, fn, label: str, phase: str | None):
        def wrapper(*args, **kwargs):
            before = self._phase
            if phase:
                self._phase = phase
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - t
                self.calls[label] += 1
                self._phase = before
        return wrapper

    def __exit__(self, *exc) -> None:
        for owner, name in reversed(self._wrapped):
            delattr(owner, name)


# --------------------------------------------------------------------------- #
# The run
# --------------------------------------------------------------------------- #


def servicing(container, info, seeded: dict, day: dt.date) -> dict:
    tenants = seeded["tenants"]
    agenda = {t: container.read_model.due_loans(t, day) for t in tenants}
    agenda_due = sum(len(v) for v in agenda.values())
    expected = sum(len(seeded["due_on"].get((t, day), [])) for t in tenants)
    log(f"(d) agenda for {day}: {agenda_due} loans due (seeded to fall due that day: {expected}) "
        f"of {seeded['loans']}")
    with info.connect(autocommit=True) as conn:
        before = conn.execute("SELECT COALESCE(MAX(notification_id), 0) FROM luotto_events").fetchone()[0]
    summaries, per_tenant = {}, {}
    with Meter(container, seeded["uuids"]) as meter, CpuWindow(None, info.dbname) as window:
        cpu0 = time.process_time()
        for tenant in tenants:
            t = time.perf_counter()
            summaries[tenant] = container.servicing.run(tenant, day)
            per_tenant[tenant] = time.perf_counter() - t
            s = summaries[tenant]
            log(f"(d) run_servicing({tenant!r}, {day}): {per_tenant[tenant]:.2f} s, {s['loans_examined']} loans "
                f"examined, {s['events_recorded']} events, {len(s['failures'])} failures")
        own = time.process_time() - cpu0
    wall = sum(per_tenant.values())
    with info.connect(autocommit=True) as conn:
        rows = conn.execute("SELECT originator_id, topic FROM luotto_events WHERE notification_id > %s",
                            (before,)).fetchall()
    acted = {oid for oid, _ in rows if oid in seeded["uuids"]}
    topics = Counter(topic.rsplit(":", 1)[-1] for _, topic in rows)
    examined = sum(s["loans_examined"] for s in summaries.values())
    events = sum(s["events_recorded"] for s in summaries.values())
    failures = [f for s in summaries.values() for f in s["failures"]]
    log(f"(d) run over {len(tenants)} organisers: {wall:.2f} s; {examined} loans examined, {events} events recorded "
        f"on {len(acted)} loans; rows stored since the run began: {dict(topics)}")
    log(f"(d) {window.describe(own=own)}")
    log(f"(d) Loan loads during the run: {dict(meter.loads)} (distinct loans: "
        f"{ {k: len(v) for k, v in meter.distinct.items()} }); other aggregates loaded: {meter.other_loads}")
    log("(d) time inside the run: " + ", ".join(f"{k} {v:.2f} s ({meter.calls[k]} calls)"
                                                 for k, v in meter.seconds.most_common()))
    return {"wall": wall, "per_tenant": per_tenant, "examined": examined, "events": events, "acted": len(acted),
            "agenda_due": agenda_due, "expected": expected, "failures": failures, "meter": meter,
            "window": window, "own": own, "agenda": agenda}


def sample_not_due(container, seeded: dict, day: dt.date, agenda: dict, n: int) -> dict:
    """Load a random sample of loans that were not on the day's agenda and service them for `day`
    in memory only: any event recorded would be an action the agenda missed."""
    service = container.service
    rng = random.Random(4)
    candidates = [(t, lid) for (t, first_due), ids in seeded["due_on"].items() if first_due > day for lid in ids]
    on_agenda = {(t, lid) for t, rows in agenda.items() for lid, _ in rows}
    picked = [c for c in rng.sample(candidates, min(n, len(candidates))) if c not in on_agenda]
    missed = []
    for tenant, loan_id in picked:
        loan = service.loan(tenant, loan_id)
        try:
            recorded = loan.service(on=day, recorded_at=service.clock(), rates=service.rates)
        except Exception as e:  # noqa: BLE001 - counts as a missed action too
            recorded = f"{type(e).__name__}: {e}"
        if recorded:
            missed.append((tenant, loan_id, recorded))
    log(f"(d) check: {len(picked)} random loans not on the agenda for {day}, serviced in memory: "
        f"{len(missed)} would have recorded something{f' (e.g. {missed[:3]})' if missed else ''}")
    return {"checked": len(picked), "missed": missed}


def _profile_groups() -> list[tuple[str, object]]:
    """(label, function) pairs whose cumulative time the profile reports, resolved from the code
    objects themselves (several functions in one file share a name such as `get`)."""
    from adapters.eventsourcing_internals.repository import CopyingRepository
    from application import digest
    from application.service import LoanService
    from domain import ledger, merkle, servicing
    from domain.loan import Loan
    from projections.read_model import ReadModel

    return [("LoanService.service_many", LoanService.service_many),
            ("  Repository.get_many (the batches' loads: servicing, projection)", CopyingRepository.get_many),
            ("  Repository.get (single loads: run log)", CopyingRepository.get),
            ("  Loan.service (domain step)", Loan.service),
            ("  next_action_date (servicing and projection)", servicing.next_action_date),
            ("  LoanService.save", LoanService.save),
            ("ReadModel.due_loans", ReadModel.due_loans),
            ("ReadModel.reschedule", ReadModel.reschedule),
            ("digest.take", digest.take),
            ("  ReadModel.run_once (projects the run's events)", ReadModel.run_once),
            ("  merkle.root over every loan's head", merkle.root),
            ("ledger.position (everywhere)", ledger.position)]


def profile_next_day(container, seeded: dict, day: dt.date) -> dict:
    tenant = seeded["tenants"][0]
    nxt = day + dt.timedelta(days=1)
    profiler = cProfile.Profile()
    t = time.perf_counter()
    profiler.enable()
    summary = container.servicing.run(tenant, nxt)
    profiler.disable()
    wall = time.perf_counter() - t
    stats = pstats.Stats(profiler)
    total = max(stats.total_tt, 1e-9)
    groups = []
    for label, fn in _profile_groups():
        code = getattr(fn, "__wrapped__", fn).__code__
        key = (code.co_filename, code.co_firstlineno, code.co_name)
        _cc, calls, _tt, cum, _callers = stats.stats.get(key, (0, 0, 0.0, 0.0, {}))
        groups.append((label, cum, calls))  # cumulative: recursive calls are not counted twice
    log(f"(d) profile: run_servicing({tenant!r}, {nxt}) under cProfile: {wall:.2f} s wall "
        f"({stats.total_tt:.2f} s profiled), {summary['loans_examined']} loans examined, "
        f"{summary['events_recorded']} events")
    for label, cum, calls in groups:
        log(f"(d) profile:   {label:<48} {cum:6.2f} s {cum / total * 100:5.1f} %  ({calls} calls)")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()][-13:]
    log("(d) profile: top functions by own time:\n    " + "\n    ".join(lines))
    return {"tenant": tenant, "day": nxt, "wall": wall, "total": total, "groups": groups,
            "examined": summary["loans_examined"]}


def run(pg, info) -> dict:
    from application.container import Container

    cfg = config()
    day = today()
    container = Container.build(settings_for(info, _tenants(cfg["tenants"])))
    try:
        log(f"(d) seeding {cfg['loans']} loans over {cfg['tenants']} organisers, {cfg['batch']} per transaction; "
            f"first due dates {day} .. {day + dt.timedelta(days=cfg['days'] - 1)}")
        seeded = seed(container, cfg, day)
        rm = catch_up(container, info)
        result = servicing(container, info, seeded, day)
        check = sample_not_due(container, seeded, day, result["agenda"], cfg["sample"]) if cfg["sample"] else None
        prof = profile_next_day(container, seeded, day) if cfg["profile"] else None
    finally:
        container.close()

    m = result["meter"]
    serviced_loads = m.loads.get("servicing", 0)
    projection_loads = m.loads.get("read-model projection", 0)
    distinct = set().union(*m.distinct.values()) if m.distinct else set()
    service_s = m.seconds.get("LoanService.run_servicing", 0.0)
    needed = result["acted"]
    n_t = len(seeded["tenants"])
    examined_ok = result["examined"] == needed == result["agenda_due"] and not result["failures"]
    rows = [
        {"part": "d", "measure": f"setup: {seeded['loans']:,} loans seeded in bulk (Loan.grant + service.save, "
                                 f"{cfg['batch']}/tx; no grant register), {n_t} organisers",
         "value": f"{seeded['loans'] / seeded['wall']:,.0f} loans/s", "errors": 0,
         "cpu": f"{seeded['wall']:.0f} s in all; Loan.grant {seeded['build_per_loan'] * 1000:.2f} ms + save "
                f"{seeded['save_per_loan'] * 1000:.2f} ms per loan"},
        {"part": "d", "measure": "setup: read model catch-up over the seeded loans",
         "value": f"{rm['events'] / rm['wall']:,.0f} events/s", "errors": 0,
         "cpu": f"{rm['events']:,} events in {rm['wall']:.0f} s, {rm['own'] / max(rm['events'], 1) * 1000:.2f} ms "
                f"Python CPU per event; " + rm["window"].describe(own=rm["own"]).replace("cores used: ", "")},
        {"part": "d", "measure": f"DailyRuns.run(D) over {seeded['loans']:,} open loans, {n_t} organisers "
                                 f"(sum)", "value": f"{result['wall']:.2f} s", "target": "< 30 s",
         "met": result["wall"] < 30 and not result["failures"], "errors": len(result["failures"]),
         "cpu": result["window"].describe(own=result["own"]).replace("cores used: ", "")
         + f"; LoanService.run_servicing {service_s:.2f} s, then digest.take {result['wall'] - service_s:.2f} s "
           f"(of which projecting the run's events {m.seconds.get('read-model projection', 0.0):.2f} s); "
         + ", ".join(f"{t} {s:.2f} s" for t, s in result["per_tenant"].items())},
        {"part": "d", "measure": "loans examined / loans that needed action (event recorded) / agenda due",
         "value": f"{result['examined']:,} / {needed:,} / {result['agenda_due']:,}",
         "target": "examined = needing action", "met": examined_ok, "errors": len(result["failures"]),
         "cpu": f"{result['events']:,} events recorded; seeded to fall due on D: {result['expected']:,} "
                f"({result['expected'] / seeded['loans'] * 100:.1f} %)"
                + (f"; {check['checked']} random loans not on the agenda serviced in memory: "
                   f"{len(check['missed'])} would have acted" if check else "")},
        {"part": "d", "measure": "Loan aggregates loaded during the run (repository.get / get_many)",
         "value": f"{len(distinct):,} distinct ({serviced_loads + projection_loads:,} loads)",
         "target": "≤ loans needing action", "met": len(distinct) <= needed,
         "cpu": f"{serviced_loads:,} by the servicing, {projection_loads:,} by the read-model projection inside the "
                f"run (digest.take catch-up); {m.other_loads} other aggregates (run log)"},
    ]
    if check and check["missed"]:
        rows[3]["met"] = False
    if prof:
        shares = {label.strip(): cum / prof["total"] * 100 for label, cum, _ in prof["groups"]}
        rows.append({"part": "d", "measure": f"profile: run_servicing({prof['tenant']!r}, D+1) under cProfile "
                                             f"(diagnostic)", "value": f"{prof['wall']:.2f} s", "errors": 0,
                     "cpu": f"{prof['examined']} loans; " + ", ".join(
                         f"{k} {v:.0f} %" for k, v in shares.items() if v >= 1)})
    return {"rows": rows, "config": cfg}
