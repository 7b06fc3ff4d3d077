"""`python -m bench [a] [b] [c] [d] [e] [f] [g] [h] [i] [NAME=VALUE ...]`: run the benchmarks (all by default).

Each part gets its own fresh database on the PostgreSQL that tests/support/postgres.py finds
(LUOTTO_TEST_DATABASE_URL, else 127.0.0.1:5432 as postgres, else a throwaway cluster), dropped after.
Progress lines go to stderr; the final table (Markdown) to stdout.

Sizes (environment variables, or NAME=VALUE arguments which set them for this run):

  (a) BENCH_A_LOANS=200  BENCH_A_SECONDS=15 (per kind)  BENCH_A_ROUNDS=3  BENCH_A_PROCESSES=4  BENCH_A_THREADS=2
      (8 connections)  BENCH_A_READ_MODEL=process|thread (projection worker beside the server, or a thread in it)
      BENCH_A_CLIENTS=raw,httpx   which load generators to run (raw: minimal socket client; httpx.Client)
      BENCH_A_SERVICE_PAYMENTS=500   in-process post_payment diagnostic (0 skips it)
  (b) BENCH_B_LOANS=5000  BENCH_B_PLAIN_ROWS=20000  BENCH_B_BATCH=100
  (c) BENCH_C_LOANS=10000  BENCH_C_TENANTS=10  BENCH_C_GRANT_PROCESSES=<nproc>  BENCH_C_REQUESTS=2000
      BENCH_C_LOADS=1x1,2x2 (processes x threads per measured load: 1 and 4 connections)  BENCH_C_CLIENTS=raw,httpx
  (d) BENCH_D_LOANS=100000  BENCH_D_TENANTS=4  BENCH_D_DAYS=30 (1/DAYS of the loans fall due on the day)
      BENCH_D_BATCH=500 (loans saved per transaction when seeding)  BENCH_D_SAMPLE=300 (agenda check)
      BENCH_D_PROFILE=1 (cProfile of one organiser's next-day run; 0 skips it)
  (e) BENCH_E_ENTRIES=100000 (payments in the big camt.054 file)  BENCH_E_SMALL=10000 (the small file, for
      the memory comparison)  BENCH_E_LOANS=2000  BENCH_E_UNKNOWN=0.03 (share of unknown references)
      BENCH_E_BATCH=500 (import_payments batch)  BENCH_E_SEED_BATCH=500  BENCH_E_PLAIN_ROWS=20000
      BENCH_E_PLAIN_BATCH=100  BENCH_E_PROFILE=20000 (entries of an import whose second half is cProfiled; 0 skips it)
  (f) BENCH_F_PAYMENTS=5000 (small payments from one bank file on one loan)  BENCH_F_REPEAT=3
  (g) BENCH_G_LOANS=10000 (loans with 36 monthly payments each in the import-loans file)  BENCH_G_SMALL=1000
      (the small file, for the memory comparison)
  (h) BENCH_H_LOANS=100000 (one organiser)  BENCH_H_REQUESTS=200 (per console page)  BENCH_H_BATCH=500
      BENCH_H_OVERDUE_EVERY=10 (one loan in ten overdue)  BENCH_H_HARDSHIPS=50  BENCH_H_UNALLOCATED=100
      BENCH_H_APPLICATIONS=20 (granted through the real service: half contracted, a quarter paid out)
      BENCH_H_RECEIVED=1000 (received and assessed, for the applications pages of issue 22)
  (i) BENCH_I_LOANS=100000 (one organiser)  BENCH_I_APPLICATIONS=100000  BENCH_I_PAYMENTS=3 (monthly, per loan)
      BENCH_I_YEARS=3 (grants and applications spread over them)  BENCH_I_WRITTEN_OFF=50 (one loan in 50)
      BENCH_I_BATCH=500  BENCH_I_REQUESTS=50 (per statistics answer)
"""
from __future__ import annotations

import os
import sys
import time

PARTS = ("a", "b", "c", "d", "e", "f", "g", "h", "i")


def _parse(argv: list[str]) -> list[str]:
    parts = []
    for arg in argv:
        if arg in ("-h", "--help"):
            print(__doc__)
            raise SystemExit(0)
        if "=" in arg:
            name, value = arg.split("=", 1)
            if not name.startswith("BENCH_"):
                raise SystemExit(f"bench: unknown setting {name!r} (settings start with BENCH_)")
            os.environ[name] = value
        elif arg.lower() in PARTS:
            parts.append(arg.lower())
        else:
            raise SystemExit(f"bench: unknown argument {arg!r}; use a, b, c, d, e, f, g, h, i or BENCH_NAME=VALUE "
                             "(see --help)")
    return sorted(set(parts)) or list(PARTS)


def _table(rows: list[dict]) -> str:
    head = ["part", "measure", "figure", "p50", "p99", "target", "met", "errors", "cores used (per wall second)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        met = r.get("met")
        cells = [r["part"], r["measure"], r["value"], r.get("p50", ""), r.get("p99", ""), r.get("target", ""),
                 "" if met is None else ("yes" if met else "NO"), str(r.get("errors", "")), r.get("cpu", "")]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parts = _parse(argv)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests.support
    from tests.support.postgres import find_server, fresh_database

    from bench.common import log, machine_description, speed_reference

    started = time.monotonic()
    pg = find_server()
    try:
        with pg.admin_connect() as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            settings = {name: conn.execute(f"SHOW {name}").fetchone()[0]
                        for name in ("fsync", "synchronous_commit", "shared_buffers", "max_connections")}
        machine = machine_description(f"{version} ({pg.describe()})")
        log("machine: " + "; ".join(f"{k} {v}" for k, v in machine.items()))
        log("postgresql settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
        rows, notes, failed = [], [], []
        for part in parts:
            module = __import__(f"bench.part_{part}", fromlist=["run"])
            t0 = time.monotonic()
            speed = speed_reference()
            log(f"part ({part}) starts; speed reference {speed:.0f} us")
            try:
                with fresh_database(pg, prefix=f"luotto_bench_{part}") as info:
                    result = module.run(pg, info)
            except Exception as e:  # noqa: BLE001 - report and go on with the other parts
                import traceback

                traceback.print_exc()
                failed.append(f"({part}) {type(e).__name__}: {e}")
                continue
            rows.extend(result["rows"])
            notes.extend(f"({part}) {n}" for n in result.get("notes", []))
            notes.append(f"({part}) speed reference (sum(range(10000)), lower is faster): {speed:.0f} us before, "
                         f"{speed_reference():.0f} us after")
            log(f"part ({part}) done in {time.monotonic() - t0:.0f} s")
    finally:
        pg.stop()
    print()
    print("## Machine")
    print()
    for k, v in machine.items():
        print(f"- {k}: {v}")
    print(f"- postgresql settings: {', '.join(f'{k}={v}' for k, v in settings.items())}")
    print()
    print(f"## Results (parts {', '.join(parts)}; {time.monotonic() - started:.0f} s in all)")
    print()
    print(_table(rows))
    if notes:
        print()
        for n in notes:
            print(f"- {n}")
    if failed:
        print()
        for f in failed:
            print(f"- FAILED {f}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
