"""`python -m bench` runs every part (a–i) and produces its figures, at the smallest sizes.

Bench rot is otherwise found only when someone runs `make bench` (parts b and e once failed
unnoticed after a redesign). This runs the real entry point in a child process against the test
PostgreSQL, each part in a fresh database as `make bench` does. It checks that every part ran and
printed its main figures; never a timing (the tiny sizes make the targets meaningless).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parents[2]

# The smallest sizes at which each part still does all it does at full size.
TINY = {
    "BENCH_A_LOANS": 10, "BENCH_A_SECONDS": 1, "BENCH_A_ROUNDS": 1, "BENCH_A_PROCESSES": 1, "BENCH_A_THREADS": 1,
    "BENCH_A_CLIENTS": "raw", "BENCH_A_SERVICE_PAYMENTS": 10,
    "BENCH_B_LOANS": 50, "BENCH_B_PLAIN_ROWS": 200, "BENCH_B_BATCH": 10,
    "BENCH_C_LOANS": 20, "BENCH_C_TENANTS": 2, "BENCH_C_GRANT_PROCESSES": 1, "BENCH_C_REQUESTS": 20,
    "BENCH_C_LOADS": "1x1", "BENCH_C_CLIENTS": "raw",
    "BENCH_D_LOANS": 60, "BENCH_D_TENANTS": 2, "BENCH_D_BATCH": 50, "BENCH_D_SAMPLE": 5,
    "BENCH_E_ENTRIES": 100, "BENCH_E_SMALL": 50, "BENCH_E_LOANS": 20, "BENCH_E_BATCH": 50, "BENCH_E_SEED_BATCH": 50,
    "BENCH_E_PLAIN_ROWS": 100, "BENCH_E_PLAIN_BATCH": 50, "BENCH_E_PROFILE": 100,
    "BENCH_F_PAYMENTS": 20, "BENCH_F_REPEAT": 1,
    "BENCH_G_LOANS": 5, "BENCH_G_SMALL": 2,
    "BENCH_H_LOANS": 50, "BENCH_H_REQUESTS": 3, "BENCH_H_BATCH": 50, "BENCH_H_HARDSHIPS": 2, "BENCH_H_UNALLOCATED": 2,
    "BENCH_H_APPLICATIONS": 4, "BENCH_H_RECEIVED": 4,
    "BENCH_I_LOANS": 30, "BENCH_I_APPLICATIONS": 30, "BENCH_I_WRITTEN_OFF": 10, "BENCH_I_BATCH": 10,
    "BENCH_I_REQUESTS": 2,
}

# A measure each part must print (the start of its table row's measure cell).
MAIN_FIGURES = {
    "a": ["POST /v1/payments [raw]", "payments / no-op [raw]", "post_payment in-process"],
    "b": ["bulk append through LoanService.save", "plain executemany of the same rows", "bulk append / paired plain"],
    "c": ["setup: 20 grants", "GET /v1/loans/{id}, 20 loans stored, 1 connection [raw]"],
    "d": ["setup: read model catch-up", "DailyRuns.run(D) over 60 open loans", "loans examined",
          "Loan aggregates loaded", "profile: run_servicing"],
    "e": ["parse only", "import_payments, 100 entries", "peak RSS of the import", "re-import", "profile:"],
    "f": ["what-if, loan OLD", "replay, loan OLD", "evidence, loan OLD", "what-if, loan FILE"],
    "g": ["import-loans: 5 loans", "import-loans peak RSS"],
    "h": ["GET work queue (caseworker)", "GET loan,", "GET replay as known at an instant",
          "GET portfolio with charts, figures recomputed", "GET evidence download (zip)", "GET disbursements",
          "POST decision rule check", "GET applications list", "GET application (facts",
          "POST the intake form's assessment fragment", "POST a decision's preview",
          "GET statistics for the year so far, recomputed", "GET capital and state grant, recomputed",
          "GET books: the month's journal", "GET a loan's legal status"],
    "i": ["setup: 30 loans", "GET /v1/statistics, a year, JSON", "GET /v1/statistics, a year, XLSX",
          "GET /v1/statistics/national", "GET /v1/books/journal"],
}


def _rows(stdout: str) -> dict[str, dict[str, str]]:
    """part -> measure -> figure, from the Markdown table `python -m bench` prints."""
    found: dict[str, dict[str, str]] = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] in MAIN_FIGURES:
            found.setdefault(cells[0], {})[cells[1].replace("**", "")] = cells[2]
    return found


def test_every_bench_part_runs_and_reports_its_figures(pg_server):
    url = make_conninfo(host=pg_server.host, port=pg_server.port, user=pg_server.user,
                        dbname=pg_server.admin_dbname, **({"password": pg_server.password} if pg_server.password
                                                          else {}))
    env = {**os.environ, "LUOTTO_TEST_DATABASE_URL": url}
    args = [f"{k}={v}" for k, v in TINY.items()]
    done = subprocess.run([sys.executable, "-m", "bench", *MAIN_FIGURES, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    tail = "\n".join(done.stderr.splitlines()[-40:])
    assert done.returncode == 0, f"python -m bench failed:\n{done.stdout[-3000:]}\n{tail}"
    rows = _rows(done.stdout)
    for part, measures in MAIN_FIGURES.items():
        assert part in rows, f"part ({part}) printed no figures:\n{tail}"
        for measure in measures:
            figures = [figure for name, figure in rows[part].items() if name.startswith(measure)]
            assert figures and all(figures), f"part ({part}) printed no figure for {measure!r}: {rows[part]}"
