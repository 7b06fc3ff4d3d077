"""(f) What-if, replay and evidence on the worst loans we can construct (issue 15: bounded cost).

Before the redesign, what-if on a loan granted in 2020 cost 7.4 s of server CPU, and after one bank
file put 5,000 small payments on a loan, what-if on it took 91 s and its evidence export 7 s.

1. On PostgreSQL, through the real service (application.container): loan OLD, granted 2020-01-15,
   1,000.00 a month over 60 months, paid on time for two years, then late: reminders, conditions,
   a notice and an acceleration; loan FILE, granted 2025-01-15, whose 5,000 small payments arrive
   in one bank-file batch (as `luotto import-payments` posts them) besides its monthly ones. Their
   histories are made with the one day-by-day driver (application.days) on the container's service.
2. Timed, each BENCH_F_REPEAT times (median): what-if with one correction, replay on a date as known
   at an instant, and the evidence bundle (zip).
"""
from __future__ import annotations

import datetime as dt
import statistics
import time

from bench.common import env_int, log, settings_for

D = dt.date.fromisoformat
TENANT = "f"


def config() -> dict:
    return {"payments": env_int("BENCH_F_PAYMENTS", 5000), "repeat": env_int("BENCH_F_REPEAT", 3)}


def _build(container, cfg: dict) -> None:
    from application.days import Action, SimulatedClock, drive
    from application.payment_batch import PaymentCommand, post_batch
    from domain.loan import Decision

    service = container.service
    clock = SimulatedClock(D("2020-01-15"))
    service.clock = clock
    grant = dict(tenant=TENANT, borrower_id="B-OLD", purpose="bench", principal=6_000_000, term_months=60,
                 decision=Decision("bench", "worst case"))
    service.grant(loan_id="OLD", granted_on=D("2020-01-15"), first_due_date=D("2020-02-10"), **grant)
    paid = [Action(i, D("2020-02-10").replace(year=2020 + (i + 1) // 12, month=(i + 1) % 12 + 1), "payment",
                   {"payment_id": f"m{i}", "amount": "1000.00"}) for i in range(24)]
    late = [Action(100, D("2022-04-25"), "acceleration_notice", {"decided_by": "bench"})]
    drive(service, clock, TENANT, "OLD", paid + late, D("2020-01-15"), D("2022-12-31"))
    log("(f) loan OLD: 2020-2022, 24 payments, a notice and an acceleration")

    clock.day = D("2025-01-15")
    service.grant(loan_id="FILE", granted_on=D("2025-01-15"), first_due_date=D("2025-02-10"),
                  **{**grant, "borrower_id": "B-FILE", "principal": 600_000, "term_months": 12})
    monthly = [Action(i, D(f"2025-{i + 2:02d}-10"), "payment", {"payment_id": f"f{i}", "amount": "500.00"})
               for i in range(3)]
    drive(service, clock, TENANT, "FILE", monthly, D("2025-01-15"), D("2025-04-30"))
    clock.day = D("2025-05-05")
    commands = [PaymentCommand(TENANT, f"file-{i}", 1, D("2025-05-05"), D("2025-05-05"), "FILE")
                for i in range(cfg["payments"])]
    for start in range(0, len(commands), 500):
        post_batch(service, commands[start:start + 500])
    drive(service, clock, TENANT, "FILE", [], D("2025-05-05"), D("2025-06-30"))
    log(f"(f) loan FILE: {cfg['payments']} payments of 0.01 from one bank file on 5 May 2025")


def _time(fn, repeat: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def run(pg, info) -> dict:
    from application.container import Container
    from application.evidence_export import export_zip
    from application.replay import replay, what_if

    cfg = config()
    container = Container.build(settings_for(info, {TENANT: {"preset": "default"}}))
    rows = []
    try:
        t0 = time.perf_counter()
        _build(container, cfg)
        log(f"(f) histories built in {time.perf_counter() - t0:.1f} s")
        service = container.service
        container.read_model.catch_up()
        cases = {
            "OLD": ("2022-12-31", [{"payment_id": "m3", "value_date": "2020-06-05"}]),
            "FILE": ("2025-06-30", [{"remove_payment": "file-7"}]),
        }
        for loan_id, (until, corrections) in cases.items():
            version = service.loan(TENANT, loan_id).version
            known_at = dt.datetime.combine(D(until), dt.time(12), tzinfo=dt.timezone.utc)
            for name, fn in (
                    ("what-if", lambda: what_if(service, TENANT, loan_id, corrections, D(until))),
                    ("replay", lambda: replay(service, TENANT, loan_id, D(until), known_at)),
                    ("evidence", lambda: export_zip(container, TENANT, loan_id))):
                wall, cpu = _time(fn, cfg["repeat"])
                log(f"(f) {name} on {loan_id} ({version} events): {wall:.2f} s wall, {cpu:.2f} s CPU")
                rows.append({"part": "f", "measure": f"{name}, loan {loan_id} ({version} events)",
                             "value": f"{wall:.2f} s", "cpu": f"{cpu:.2f} s CPU (median of {cfg['repeat']})"})
    finally:
        container.close()
    return {"rows": rows, "notes": ["before the redesign: what-if 7.4 s (a 2020 loan), 91 s (5,000 payments); "
                                    "evidence 7 s"]}
