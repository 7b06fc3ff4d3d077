"""(g) Bringing existing loans in (issue 19, R-MIG): `luotto import-loans` of a file of BENCH_G_LOANS loans
with three years of monthly payments each, into PostgreSQL, and its memory against a file a tenth as big.

1. Two CSV files in the template's columns (deploy/import-loans-template.csv): the small one of
   BENCH_G_SMALL loans, the big one of BENCH_G_LOANS, each loan 3,600.00 over 36 months from
   2022-01-10, granted 2021-12-15, paid 100.00 on every due date, with a bank archive id; the
   import date 2024-12-31, so every loan is repaid and its file balance is 0.00 repaid.
2. Each import runs in a child process of its own (`python -m bench.part_g SPEC`), through
   application.migration.LoanImport exactly as the command does, recording every loan: wall time,
   loans/s, the outcomes, and the child's peak RSS (VmHWM) against its RSS before the call.
The target: the big file in minutes, and its peak within a few MiB of the small file's.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time

from bench.common import ROOT, SIGNING_KEY, database_url, env_int, log

TENANT = "g"
AS_OF = dt.date(2024, 12, 31)
COLUMNS = ("record,loan_id,borrower_id,granted_on,principal,first_due_date,instalment_amount,term_months,"
           "interest_kind,interest_rate,interest_margin,penalty_interest_agreed_on,purpose,purpose_class,date,amount,"
           "payment_id,months,from_instalment,kind,instalments,balance_principal,balance_overdue,balance_interest,"
           "balance_penalty_interest,balance_status").split(",")


def config() -> dict:
    return {"loans": env_int("BENCH_G_LOANS", 10000), "small": env_int("BENCH_G_SMALL", 1000)}


def write_file(path: str, loans: int, prefix: str) -> int:
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, fieldnames=COLUMNS)
        out.writeheader()
        for n in range(loans):
            loan_id = f"{prefix}{n:06d}"
            out.writerow({"record": "loan", "loan_id": loan_id, "borrower_id": f"B{prefix}{n:06d}",
                          "granted_on": "2021-12-15", "principal": "3600.00", "first_due_date": "2022-01-10",
                          "instalment_amount": "100.00", "interest_kind": "none", "purpose": "bench",
                          "purpose_class": "other", "balance_principal": "0.00", "balance_overdue": "0.00",
                          "balance_interest": "0.00", "balance_penalty_interest": "0.00",
                          "balance_status": "repaid"})
            for month in range(36):
                year, m = divmod(month, 12)
                day = dt.date(2022 + year, m + 1, 10)
                out.writerow({"record": "payment", "loan_id": loan_id, "date": day.isoformat(), "amount": "100.00",
                              "payment_id": f"A{prefix}{n:06d}-{month:02d}"})
            rows += 37
    return rows


def _kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def measured_part(*args, **kwargs):
    """application.migration._import_part in a part's process, then that process's own peak (VmHWM)
    and its loans, one JSON line appended to BENCH_G_PARTS_LOG. Its ru_maxrss is no measure: a
    spawned child takes over the parent's peak RSS at exec."""
    from application import migration

    answer = migration._import_part(*args, **kwargs)  # unpatched in this process
    with open(os.environ["BENCH_G_PARTS_LOG"], "a", encoding="ascii") as f:
        f.write(json.dumps({"done": args[6], "loans": len(answer[0]), "peak_kib": _kib("VmHWM")}) + "\n")
    return answer


def child(spec: dict) -> dict:
    """In the child process: one import, as `luotto import-loans` does it."""
    from adapters.settings import Settings
    from application.container import Container
    import resource

    from application import migration
    from application.migration import import_in_parts

    # each part's process reports its own peak (spawned: it imports this module to find the function)
    migration.real_import_part, migration._import_part = migration._import_part, measured_part
    os.environ["BENCH_G_PARTS_LOG"] = log_path = spec["path"] + ".parts"

    kib = _kib
    container = Container.build(Settings(**spec["settings"]))
    try:
        rss_before, hwm_before = kib("VmRSS"), kib("VmHWM")
        started = time.monotonic()
        options = {"as_of": AS_OF, "instant": container.service.clock()}
        counts: dict[str, int] = {}
        sample = None
        # as `luotto import-loans` does it: the file's later parts in fresh processes (R-MIG-4)
        for n, report in enumerate(import_in_parts(container, TENANT, spec["path"], options), start=1):
            counts[report["outcome"]] = counts.get(report["outcome"], 0) + 1
            if report["outcome"] not in ("recorded",) and sample is None:
                sample = report
            if n % 1000 == 0:
                print(f"(g) {spec['label']}: {n} loans, {time.monotonic() - started:.0f} s, RSS "
                      f"{kib('VmRSS') / 1024:.0f} MiB", file=sys.stderr, flush=True)
        wall = time.monotonic() - started
        return {"wall": wall, "counts": counts, "sample": sample, "rss_before_kib": rss_before,
                "hwm_before_kib": hwm_before, "peak_kib": kib("VmHWM"),
                # the parts' processes (ru_maxrss: the largest of them, in KiB on Linux)
                "children_maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                "parts": parts(log_path)}
    finally:
        container.close()


def parts(log_path: str) -> list[dict]:
    """What each part's process reported (measured_part), in file order."""
    if not os.path.exists(log_path):
        return []
    with open(log_path, encoding="ascii") as f:
        found = [json.loads(line) for line in f]
    os.unlink(log_path)
    return found


def parts_peak_kib(result: dict) -> int:
    return max((p["peak_kib"] for p in result.get("parts", [])), default=0)


def run_child(info, label: str, path: str) -> dict:
    spec = {"label": label, "path": path, "settings": {"database_url": database_url(info), "signing_key": SIGNING_KEY,
                                                       "tenants": {TENANT: {"preset": "default"}}}}
    proc = subprocess.run([sys.executable, "-m", "bench.part_g", json.dumps(spec)], cwd=str(ROOT),
                          stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"(g) the {label} import failed (exit {proc.returncode})")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    log(f"(g) {label}: {result['wall']:.0f} s; {result['counts']}; peak RSS {result['peak_kib'] / 1024:.0f} MiB "
        f"(RSS before the call {result['rss_before_kib'] / 1024:.0f} MiB; the parts' processes, from loan: "
        + ", ".join(f"{p['done'] + 1} {p['peak_kib'] / 1024:.1f}" for p in result["parts"]) + " MiB)")
    return result


def run(pg, info) -> dict:
    cfg = config()
    folder = tempfile.mkdtemp(prefix="luotto-bench-g-")
    small_path, big_path = os.path.join(folder, "small.csv"), os.path.join(folder, "big.csv")
    small_rows = write_file(small_path, cfg["small"], "S")
    big_rows = write_file(big_path, cfg["loans"], "L")
    log(f"(g) files: {cfg['small']:,} loans ({small_rows:,} rows, {os.path.getsize(small_path) / 2**20:.1f} MiB) and "
        f"{cfg['loans']:,} loans ({big_rows:,} rows, {os.path.getsize(big_path) / 2**20:.1f} MiB)")
    small = run_child(info, "small", small_path)
    big = run_child(info, "big", big_path)
    for path in (small_path, big_path):
        os.unlink(path)
    os.rmdir(folder)

    def growth(r: dict) -> float:
        return max(0, r["peak_kib"] - r["rss_before_kib"]) / 1024

    def peak(r: dict) -> float:  # the import's own process or the largest of its parts' processes
        return max(r["peak_kib"], parts_peak_kib(r)) / 1024

    recorded = big["counts"].get("recorded", 0)
    rows = [
        {"part": "g", "measure": f"import-loans: {cfg['loans']:,} loans x 36 monthly payments ({big_rows:,} rows)",
         "value": f"{big['wall'] / 60:.1f} min = {cfg['loans'] / big['wall']:.1f} loans/s (10,000 loans: "
                  f"{10000 / (cfg['loans'] / big['wall']) / 60:.0f} min)",
         # "In minutes": 10,000 loans within 15 minutes, projected at the measured rate.
         "target": "10,000 loans <= 15 min", "met": 10000 * big["wall"] / cfg["loans"] <= 15 * 60
         and recorded == cfg["loans"], "errors": cfg["loans"] - recorded, "cpu": f"outcomes {big['counts']}"},
        {"part": "g", "measure": f"import-loans peak RSS: {cfg['small']:,} vs {cfg['loans']:,} loans",
         "value": f"{peak(small):.0f} / {peak(big):.0f} MiB",
         "target": "memory flat", "met": peak(big) <= peak(small) + 4, "errors": 0,
         "cpu": f"the importing process grew +{growth(small):.0f} / +{growth(big):.0f} MiB during the call; its "
                f"parts' processes peaked at {parts_peak_kib(small) / 1024:.0f} / "
                f"{parts_peak_kib(big) / 1024:.0f} MiB (each its own VmHWM)"},
    ]
    notes = [f"import-loans: {cfg['small']:,} loans in {small['wall']:.0f} s; sample non-recorded: {big['sample']}"]
    return {"rows": rows, "notes": notes}


if __name__ == "__main__":
    print(json.dumps(child(json.loads(sys.argv[1]))))
