"""(e) A 100,000-entry camt.054 file imported on PostgreSQL (issue 7).

Target: "a 100,000-entry camt.054 file imported on PostgreSQL: entries per second against the
plain-insert rate of issue 'Persistent service' (as a ratio, same run), and peak memory
(streaming parse; it must not grow with the file)".

1. Seed LOANS loans of one organiser in bulk, as part (d) does (`Loan.grant` + `service.save`,
   SEED_BATCH loans per transaction), each with its `ReferenceMarker` (the importer matches a
   reference through it, as `LoanService.grant` would have written it), reference
   `reference_for_loan(j)`. Granted D-40 (D = today in Europe/Helsinki), first due D-10.
2. Generate camt.054.001.02 files in a temporary folder: ENTRIES payments (entries in the import's
   sense: one BankEntry per TxDtls), about one Ntry in ten a batch of 5 TxDtls with their own
   archive ids, the rest one Ntry per payment (the entry's AcctSvcrRef); a TxsSummry with the
   Ntry count and sum; references of random seeded loans (one in ten in RF form), UNKNOWN of them
   valid references no loan has (they go to the unallocated queue). A SMALL file (10,000) and a
   PROFILE file are generated alike, with their own archive ids.
3. Parse only (no import): the parser iterated over each file, timed, and again under
   tracemalloc (its peak); and once more keeping each entry's report row as `ImportReport` does,
   to show what the report itself costs.
4. Imports, each in its own child process (`python -m bench.part_e SPEC`), the file on disk passed
   as a path to `application.payment_files.import_payments(container.service, ...)`: the SMALL
   file, the big file, then the big file again (all duplicates). Each child reports the wall
   time of the call, its CPU, PostgreSQL's CPU, the report's counts, its peak RSS
   (`resource.getrusage(RUSAGE_SELF).ru_maxrss`), its RSS just before the call and at every
   progress callback (every batch), and time spent in the service calls the importer makes
   (wrappers in the child process only; no production file is touched). The peak reported is the
   child's VmHWM (/proc/self/status: the high-water mark of its own address space). ru_maxrss is
   reported beside it but is not the child's own figure: on Linux exec() carries the spawning
   process's high-water mark over into the child's ru_maxrss (subprocess forks with vfork, whose
   memory is the parent's), so every child showed at least the bench process's own peak.
5. The plain-insert baseline of part (b) in the same run (`bench.part_b.plain_inserts`:
   executemany, PLAIN_BATCH rows per transaction into an events-shaped table, rows sized like the
   import's events), and the ratio.
6. Diagnostic: cProfile of an import of the PROFILE file in another child.
"""
from __future__ import annotations

import datetime as dt
import gc
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench.common import ROOT, CpuWindow, env_float, env_int, log, settings_for, today

TENANT = "e"
BANK_ACCOUNT = "FI2112345600000785"  # the account the generated files report on (Ntfctn/Acct)
NS = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
BATCH_SHARE, BATCH_SIZE = 0.10, 5  # one Ntry in ten carries a batch of 5 payments


def config() -> dict:
    return {"entries": env_int("BENCH_E_ENTRIES", 100_000), "small": env_int("BENCH_E_SMALL", 10_000),
            "loans": env_int("BENCH_E_LOANS", 2_000), "unknown": env_float("BENCH_E_UNKNOWN", 0.03),
            "batch": env_int("BENCH_E_BATCH", 500), "seed_batch": env_int("BENCH_E_SEED_BATCH", 500),
            "plain_rows": env_int("BENCH_E_PLAIN_ROWS", 20_000), "plain_batch": env_int("BENCH_E_PLAIN_BATCH", 100),
            "profile": env_int("BENCH_E_PROFILE", 20_000)}


# --------------------------------------------------------------------------- #
# Seeding: loans and their reference markers
# --------------------------------------------------------------------------- #


def seed(container, cfg: dict, day: dt.date) -> dict:
    from adapters.reference_numbers import reference_for_loan
    from domain.loan import Decision, Loan
    from domain.register import ReferenceMarker

    service = container.service
    policy, recorded_at = service.policy(TENANT), service.clock()
    decision = Decision("bench", "benchmark grant (bulk seed)")
    granted_on, first_due = day - dt.timedelta(days=40), day - dt.timedelta(days=10)
    batch, references = [], []
    t0 = time.perf_counter()
    for j in range(cfg["loans"]):
        loan_id, reference = f"E-{j:06d}", reference_for_loan(j + 1)
        batch.append(Loan.grant(tenant=TENANT, loan_id=loan_id, borrower_id=f"borrower-{j:06d}", purpose="bench",
                                principal=500_000, granted_on=granted_on, first_due_date=first_due, policy=policy,
                                decision=decision, recorded_at=recorded_at, instalment_amount=10_000,
                                reference=reference))
        batch.append(ReferenceMarker.assign(TENANT, reference, loan_id))
        references.append(reference)
        if len(batch) >= 2 * cfg["seed_batch"] or j == cfg["loans"] - 1:
            service.save(*batch)
            batch = []
    wall = time.perf_counter() - t0
    log(f"(e) seeded {cfg['loans']} loans + {cfg['loans']} reference markers in {wall:.1f} s "
        f"({cfg['loans'] / wall:,.0f} loans/s), granted {granted_on}, first due {first_due}")
    return {"references": references, "wall": wall, "loans": cfg["loans"]}


# --------------------------------------------------------------------------- #
# The camt.054 files
# --------------------------------------------------------------------------- #


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


_TX = """          <TxDtls>
{refs}            <AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>
            <RltdPties><Dbtr><Nm>{debtor}</Nm></Dbtr></RltdPties>
            <RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf>
          </TxDtls>
"""
_NTRY = """      <Ntry>
        <NtryRef>{n}</NtryRef>
        <Amt Ccy="EUR">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>{booked}</Dt></BookgDt>
        <ValDt><Dt>{value}</Dt></ValDt>
        <AcctSvcrRef>{archive}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>VCOM</SubFmlyCd></Fmly></Domn><Prtry><Cd>705</Cd></Prtry></BkTxCd>
        <NtryDtls>
{batch}{txs}        </NtryDtls>
      </Ntry>
"""


def write_camt054(path: Path, prefix: str, payments: int, references: list[str], unknown_share: float,
                  day: dt.date, seed_value: int) -> dict:
    """Write a camt.054.001.02 file of `payments` credit payments; returns what it holds."""
    from adapters.reference_numbers import reference_for_loan, rf_reference

    rng = random.Random(seed_value)
    unknown_pool = [reference_for_loan(len(references) + 1 + k) for k in range(1000)]  # valid, no loan has them
    # Plan the entries first (the TxsSummry comes before them): [(value date, [(reference, cents)])].
    ntries, done, unknown, rf = [], 0, 0, 0
    while done < payments:
        size = min(BATCH_SIZE if rng.random() < BATCH_SHARE else 1, payments - done)
        value = day - dt.timedelta(days=rng.randrange(5))
        txs = []
        for _ in range(size):
            if rng.random() < unknown_share:
                reference = rng.choice(unknown_pool)
                unknown += 1
            else:
                reference = rng.choice(references)
            if rng.random() < 0.10:
                reference, rf = rf_reference(reference), rf + 1
            txs.append((reference, rng.randrange(1_000, 6_000)))
        ntries.append((value, txs))
        done += size
    total = sum(c for _, txs in ntries for _, c in txs)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{NS}">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr>
      <MsgId>BENCH-{prefix}-{day:%Y%m%d}</MsgId>
      <CreDtTm>{day.isoformat()}T06:15:00+02:00</CreDtTm>
    </GrpHdr>
    <Ntfctn>
      <Id>BENCH-{prefix}-N1</Id>
      <CreDtTm>{day.isoformat()}T06:15:00+02:00</CreDtTm>
      <Acct><Id><IBAN>FI2112345600000785</IBAN></Id></Acct>
      <TxsSummry><TtlCdtNtries><NbOfNtries>{len(ntries)}</NbOfNtries><Sum>{_amount(total)}</Sum></TtlCdtNtries></TxsSummry>
""")
        seq = 0
        for n, (value, txs) in enumerate(ntries, 1):
            booked = min(value + dt.timedelta(days=1), day)
            parts = []
            for reference, cents in txs:
                seq += 1
                refs = (f"            <Refs><AcctSvcrRef>{prefix}{seq:07d}</AcctSvcrRef></Refs>\n"
                        if len(txs) > 1 else "")
                parts.append(_TX.format(refs=refs, amount=_amount(cents), debtor=f"Maksaja {seq % 997}",
                                        reference=reference))
            archive = f"{prefix}{seq:07d}" if len(txs) == 1 else f"{prefix}B{n:07d}"
            f.write(_NTRY.format(n=n, amount=_amount(sum(c for _, c in txs)), booked=booked.isoformat(),
                                 value=value.isoformat(), archive=archive,
                                 batch=(f"          <Btch><NbOfTxs>{len(txs)}</NbOfTxs></Btch>\n"
                                        if len(txs) > 1 else ""), txs="".join(parts)))
        f.write("    </Ntfctn>\n  </BkToCstmrDbtCdtNtfctn>\n</Document>\n")
    out = {"path": str(path), "payments": payments, "ntries": len(ntries), "unknown": unknown, "rf": rf,
           "known": payments - unknown, "bytes": path.stat().st_size, "total": _amount(total)}
    log(f"(e) wrote {path.name}: {payments:,} payments in {len(ntries):,} Ntry ({unknown:,} unknown references, "
        f"{rf:,} in RF form), {out['bytes'] / 2 ** 20:.1f} MiB")
    return out


# --------------------------------------------------------------------------- #
# Parse only (this process)
# --------------------------------------------------------------------------- #


def parse_only(path: str, *, trace: bool, keep_rows: bool = False) -> dict:
    """Iterate the parser over the file (one pass, as entries() does); with `trace`, tracemalloc's
    peak over that pass; with `keep_rows`, also keep each entry's report row (as ImportReport does)."""
    from adapters.bankfiles import open_bank_file
    from application.payment_files import canonical_reference

    gc.collect()
    rows = [] if keep_rows else None
    if trace:
        tracemalloc.start()
    t = time.perf_counter()
    count = 0
    with open_bank_file(path) as bank_file:
        for entry in bank_file.entries():
            count += 1
            if rows is not None:
                rows.append({**entry.describe(), "reference": canonical_reference(entry.reference), "loan_id": "E-0"})
    wall = time.perf_counter() - t
    peak = 0
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    del rows
    return {"entries": count, "wall": wall, "peak": peak}


# --------------------------------------------------------------------------- #
# Imports (child processes)
# --------------------------------------------------------------------------- #


def run_child(info, label: str, path: str, on: dt.date, batch: int, *, profile: bool = False) -> dict:
    spec = {"db": {"host": info.host, "port": info.port, "dbname": info.dbname, "user": info.user,
                   "password": info.password, "schema": info.schema},
            "label": label, "path": path, "on": on.isoformat(), "batch": batch, "profile": profile}
    log(f"(e) {label}: import_payments in a child process ({Path(path).name})")
    proc = subprocess.run([sys.executable, "-m", "bench.part_e", json.dumps(spec)], cwd=str(ROOT),
                          stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"(e) {label}: the child process exited with code {proc.returncode}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    c = result["counts"]
    log(f"(e) {label}: {c['entries']:,} entries in {result['wall']:.1f} s = {c['entries'] / result['wall']:,.0f} "
        f"entries/s; counts {c}; peak RSS (VmHWM) {result['peak_kib'] / 1024:.0f} MiB (RSS before the call "
        f"{result['rss_before_kib'] / 1024:.0f} MiB, peak before {result['hwm_before_kib'] / 1024:.0f} MiB; "
        f"ru_maxrss {result['maxrss_kib'] / 1024:.0f} MiB); "
        f"{result['cpu']}")
    if result.get("phases"):
        log(f"(e) {label}: time inside the call: " + ", ".join(
            f"{k} {v['seconds']:.1f} s ({v['calls']:,} calls)" for k, v in result["phases"].items())
            + f"; {result['statements']:,} SQL statements ({result['statements'] / max(c['entries'], 1):.2f} per entry)")
    if result.get("rss_curve"):
        curve = result["rss_curve"]
        picks = [curve[min(len(curve) - 1, round(q * (len(curve) - 1)))] for q in (0, 0.25, 0.5, 0.75, 1)]
        log(f"(e) {label}: RSS along the import (entries done: MiB): "
            + ", ".join(f"{d:,}: {kib / 1024:.0f}" for d, kib in picks))
    if result.get("profile"):
        log(f"(e) {label}: cProfile of the second half ({result['profiled_entries']:,} entries, "
            f"{result['profiled_total']:.1f} s profiled):\n    " + "\n    ".join(result["profile"]))
    return result


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class _Phases:
    """Wrappers (in the child only) that time the calls the importer makes."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.undo: list = []

    def wrap(self, owner, name: str, label: str, *, on_class: bool = False) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - t
                self.calls[label] = self.calls.get(label, 0) + 1

        setattr(owner, name, timed)
        self.undo.append((owner, name, original, on_class))

    def restore(self) -> None:
        for owner, name, original, on_class in reversed(self.undo):
            if on_class:
                setattr(owner, name, original)
            else:
                delattr(owner, name)

    def as_dict(self) -> dict:
        return {k: {"seconds": v, "calls": self.calls[k]} for k, v in self.seconds.items()}


def _profile_groups() -> list[tuple[str, object]]:
    """(label, function) pairs whose cumulative time the profile reports."""
    import typing

    from eventsourcing.application import Application

    from adapters.bankfiles import BankFile
    from adapters.bankfiles.camt054 import Camt054Reader
    from application import payment_files as pf
    from domain.loan import Loan

    return [("BankFile.check (the first, whole-file parse)", BankFile.check),
            ("Camt054Reader._entries (parser, both passes)", Camt054Reader._entries),
            ("_Importer._post_batch", pf._Importer._post_batch),
            ("  _Importer._marker (one SELECT per entry)", pf._Importer._marker),
            ("  _Importer._target (reference -> loan)", pf._Importer._target),
            ("  Loan.receive_payment", Loan.receive_payment),
            ("  Application.save", Application.save),
            ("_Importer._recorded (report rows)", pf._Importer._recorded),
            ("typing._get_protocol_attrs (isinstance on Protocols)", typing._get_protocol_attrs)]


def _profile_summary(profiler) -> dict:
    import io
    import pstats

    stats = pstats.Stats(profiler)
    total = max(stats.total_tt, 1e-9)
    groups = []
    for label, fn in _profile_groups():
        code = getattr(fn, "__wrapped__", fn).__code__
        _cc, calls, _tt, cum, _callers = stats.stats.get((code.co_filename, code.co_firstlineno, code.co_name),
                                                        (0, 0, 0.0, 0.0, {}))
        groups.append((label, cum, calls))
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    lines = out.getvalue().splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip().startswith("ncalls")), 0)
    table = [ln for ln in lines[start:] if ln.strip()]
    text = [f"{label:<60} {cum:6.2f} s {cum / total * 100:5.1f} %  ({calls:,} calls)" for label, cum, calls in groups]
    return {"profile": text + ["by own time:"] + table, "profiled_total": total,
            "profile_groups": [(label.strip(), cum / total) for label, cum, _ in groups]}


def child_main(spec: dict) -> None:
    import cProfile

    import psycopg

    from adapters.bankfiles import BankFile
    from application.container import Container
    from application.payment_files import import_payments
    from domain.loan import Loan
    from tests.support.postgres import DatabaseInfo

    info = DatabaseInfo(**spec["db"])
    label = spec["label"]
    container = Container.build(settings_for(info, {TENANT: {"preset": "default"}}, migrate=False))
    service, on = container.service, dt.date.fromisoformat(spec["on"])
    phases = _Phases()
    statements = [0]
    originals = (psycopg.Cursor.execute, psycopg.Cursor.executemany)
    if not spec["profile"]:
        phases.wrap(BankFile, "check", "check pass (whole parse before writing)", on_class=True)
        phases.wrap(service.events, "get", "events.get (marker lookups, and every aggregate load)")
        phases.wrap(service, "reference_owner", "reference_owner (reference marker lookup, remembered per reference)")
        phases.wrap(service, "loan", "service.loan (loan loads)")
        phases.wrap(service.repository, "get_many", "repository.get_many (markers and loans, a batch's at once)")
        phases.wrap(Loan, "receive_payment", "Loan.receive_payment", on_class=True)
        phases.wrap(service, "save", "service.save")

        def execute(self, *args, **kwargs):
            statements[0] += 1
            return originals[0](self, *args, **kwargs)

        def executemany(self, *args, **kwargs):
            statements[0] += 1
            return originals[1](self, *args, **kwargs)

        psycopg.Cursor.execute, psycopg.Cursor.executemany = execute, executemany
    curve: list[tuple[int, int]] = []
    last = [time.monotonic()]
    started = time.perf_counter()

    profiler = cProfile.Profile() if spec["profile"] else None
    profiled_from = [None]

    def progress(done: int, total: int) -> None:
        curve.append((done, _status_kib("VmRSS")))
        if profiler and profiled_from[0] is None and done >= total // 2:
            profiled_from[0] = done  # the second half: the loans are cached by then, as in a long import
            profiler.enable()
        if time.monotonic() - last[0] > 15:
            last[0] = time.monotonic()
            elapsed = time.perf_counter() - started
            log(f"(e) {label}: {done:,}/{total:,} entries posted, {elapsed:.0f} s since the call began "
                f"(the check pass included), RSS {curve[-1][1] / 1024:.0f} MiB")

    gc.collect()
    rss_before, hwm_before = _status_kib("VmRSS"), _status_kib("VmHWM")
    try:
        with CpuWindow(None, info.dbname) as window:
            cpu0 = time.process_time()
            started = time.perf_counter()
            report = import_payments(service, TENANT, spec["path"], on=on, accounts=[BANK_ACCOUNT],
                                     progress=progress, batch=spec["batch"])
            if profiler:
                profiler.disable()
            wall = time.perf_counter() - started
            own = time.process_time() - cpu0
    finally:
        psycopg.Cursor.execute, psycopg.Cursor.executemany = originals
        phases.restore()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux; includes the parent's (see above)
    peak = _status_kib("VmHWM")
    result = {"label": label, "wall": wall, "own": own, "pg": window.pg, "cpu": window.describe(own=own),
              "counts": report.counts, "file_rejected": report.file_rejected, "position": report.position,
              "rejected_sample": report.rejected[:3], "maxrss_kib": maxrss, "peak_kib": peak,
              "rss_before_kib": rss_before,
              "hwm_before_kib": hwm_before, "rss_after_kib": _status_kib("VmRSS"), "rss_curve": curve,
              "phases": phases.as_dict(), "statements": statements[0]}
    if profiler:
        result.update(_profile_summary(profiler))
        result["profiled_entries"] = report.counts["entries"] - (profiled_from[0] or 0)
    container.close()
    print(json.dumps(result, default=str))


# --------------------------------------------------------------------------- #
# The part
# --------------------------------------------------------------------------- #


def _mib(n: float) -> str:
    return f"{n / 2 ** 20:.1f} MiB"


def run(pg, info) -> dict:
    from application.container import Container
    from bench.part_b import plain_inserts

    cfg = config()
    day = today()
    folder = Path(tempfile.mkdtemp(prefix="luotto-bench-e-"))
    try:
        container = Container.build(settings_for(info, {TENANT: {"preset": "default"}}))
        try:
            seeded = seed(container, cfg, day)
        finally:
            container.close()
        refs = seeded["references"]
        files = {"small": write_camt054(folder / "small.xml", "S", cfg["small"], refs, cfg["unknown"], day, 1),
                 "big": write_camt054(folder / "big.xml", "L", cfg["entries"], refs, cfg["unknown"], day, 2)}
        if cfg["profile"]:
            files["profile"] = write_camt054(folder / "profile.xml", "P", cfg["profile"], refs, cfg["unknown"], day, 3)

        parse = {}
        for key in ("small", "big"):
            path = files[key]["path"]
            plain = parse_only(path, trace=False)
            traced = parse_only(path, trace=True)
            # Keeping the rows, traced, takes ~60 s on the big file: the small one tells the bytes per row.
            kept = parse_only(path, trace=True, keep_rows=True) if key == "small" else None
            parse[key] = {"plain": plain, "traced": traced, "kept": kept}
            log(f"(e) parse only, {key} file ({plain['entries']:,} entries, {_mib(files[key]['bytes'])}): "
                f"{plain['wall']:.1f} s = {plain['entries'] / plain['wall']:,.0f} entries/s; tracemalloc peak "
                f"{_mib(traced['peak'])}" + (f"; keeping the report rows as ImportReport does: peak "
                                             f"{_mib(kept['peak'])}" if kept else ""))

        with info.connect(autocommit=True) as conn:
            def position() -> int:
                return conn.execute("SELECT COALESCE(MAX(notification_id), 0) FROM luotto_events").fetchone()[0]

            small = run_child(info, "small file", files["small"]["path"], day, cfg["batch"])
            before = position()
            big = run_child(info, "big file", files["big"]["path"], day, cfg["batch"])
            after = position()
            again = run_child(info, "big file again (duplicates)", files["big"]["path"], day, cfg["batch"])
            stored, avg_state = conn.execute(
                "SELECT COUNT(*), AVG(octet_length(state)) FROM luotto_events WHERE notification_id > %s "
                "AND notification_id <= %s", (before, after)).fetchone()
            topics = dict(conn.execute(
                "SELECT topic, COUNT(*) FROM luotto_events WHERE notification_id > %s AND notification_id <= %s "
                "GROUP BY topic", (before, after)).fetchall())
            grew = position() - after
            topic = max(topics, key=topics.get)
        log(f"(e) the big import stored {stored:,} events ({topics}); average state {float(avg_state):.0f} bytes; "
            f"the re-import stored {grew} events")
        prof = run_child(info, "profile", files["profile"]["path"], day, cfg["batch"], profile=True) \
            if cfg["profile"] else None
        plain = plain_inserts(info, cfg["plain_rows"], cfg["plain_batch"], int(round(float(avg_state))), topic,
                              lock=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    # ---- checks --------------------------------------------------------------------------
    def expected_ok(result: dict, f: dict, *, duplicates: bool) -> bool:
        c = result["counts"]
        if duplicates:
            return c["entries"] == c["duplicates"] == f["payments"] and not (c["matched"] or c["unmatched"]
                                                                           or c["rejected"])
        return (c["entries"] == f["payments"] and c["matched"] == f["known"] and c["unmatched"] == f["unknown"]
                and not (c["duplicates"] or c["rejected"]))

    big_ok = expected_ok(big, files["big"], duplicates=False)
    small_ok = expected_ok(small, files["small"], duplicates=False)
    again_ok = expected_ok(again, files["big"], duplicates=True) and grew == 0
    events_expected = 2 * files["big"]["known"] + files["big"]["unknown"]

    # ---- figures -------------------------------------------------------------------------
    rate = big["counts"]["entries"] / big["wall"]
    ratio = rate / plain["rate"]
    events_rate = stored / big["wall"]

    def growth(r: dict) -> float:  # KiB the call added to the process's peak
        return max(0, r["peak_kib"] - r["rss_before_kib"])

    g_small, g_big = growth(small), growth(big)
    p_small, p_big = parse["small"]["traced"]["peak"], parse["big"]["traced"]["peak"]
    parse_flat = p_big <= p_small * 1.1 + 2 ** 20
    import_flat = g_big <= g_small * 1.1 + 10 * 1024
    curve = big["rss_curve"]
    tenth = curve[max(0, len(curve) // 10 - 1)] if curve else (0, 0)
    per_entry = (curve[-1][1] - tenth[1]) * 1024 / max(curve[-1][0] - tenth[0], 1) if curve else 0.0
    kept_per_entry = (parse["small"]["kept"]["peak"] - p_small) / files["small"]["payments"]

    def cpu(r: dict) -> str:
        return r["cpu"].replace("cores used: ", "")

    def phases(r: dict) -> str:
        ph = r["phases"]
        return "; ".join(f"{k} {v['seconds']:.1f} s" for k, v in ph.items()) + \
            f"; {r['statements'] / max(r['counts']['entries'], 1):.2f} SQL statements per entry"

    fb, fs = files["big"], files["small"]
    rows = [
        {"part": "e", "measure": f"setup: {seeded['loans']:,} loans + reference markers seeded in bulk "
                                 f"({cfg['seed_batch']} loans/tx)",
         "value": f"{seeded['loans'] / seeded['wall']:,.0f} loans/s", "errors": 0,
         "cpu": f"files: {fb['payments']:,} payments in {fb['ntries']:,} Ntry, {_mib(fb['bytes'])} (camt.054.001.02); "
                f"{fb['unknown']:,} unknown references ({fb['unknown'] / fb['payments'] * 100:.1f} %), "
                f"{fb['rf']:,} in RF form"},
        {"part": "e", "measure": f"parse only, no import: {fs['payments']:,} / {fb['payments']:,} entries",
         "value": f"{parse['big']['plain']['entries'] / parse['big']['plain']['wall']:,.0f} entries/s",
         "target": "memory flat", "met": parse_flat, "errors": 0,
         "cpu": f"tracemalloc peak {_mib(p_small)} / {_mib(p_big)} ({_mib(fs['bytes'])} / {_mib(fb['bytes'])} "
                f"files); keeping the report rows as ImportReport does ({fs['payments']:,} entries): "
                f"{_mib(parse['small']['kept']['peak'])} = {kept_per_entry:,.0f} B per entry"},
        {"part": "e", "measure": f"import_payments, {fs['payments']:,} entries (child process)",
         "value": f"{fs['payments'] / small['wall']:,.0f} entries/s", "errors": small["counts"]["rejected"],
         "met": None if small_ok else False,
         "cpu": f"peak RSS {small['peak_kib'] / 1024:.0f} MiB ({small['rss_before_kib'] / 1024:.0f} MiB before the "
                f"call, +{g_small / 1024:.0f} MiB); {cpu(small)}"},
        {"part": "e", "measure": f"**import_payments, {fb['payments']:,} entries** (child process, batch "
                                 f"{cfg['batch']})",
         "value": f"{rate:,.0f} entries/s", "errors": big["counts"]["rejected"], "met": None if big_ok else False,
         "cpu": f"{big['wall']:.1f} s; {big['counts']['matched']:,} matched, {big['counts']['unmatched']:,} "
                f"unallocated; {stored:,} events = {events_rate:,.0f} events/s; {cpu(big)}; {phases(big)}"},
        {"part": "e", "measure": f"plain executemany, {cfg['plain_batch']} rows/tx "
                                 f"({int(round(float(avg_state)))} B state), same run",
         "value": f"{plain['rate']:,.0f} rows/s", "errors": 0,
         "cpu": plain["window"].describe(own=plain["own"]).replace("cores used: ", "")},
        {"part": "e", "measure": "import entries/s / plain rows/s", "value": f"{ratio * 100:.1f} %",
         "cpu": f"events/s / plain rows/s: {events_rate / plain['rate'] * 100:.1f} % "
                f"({stored / fb['payments']:.2f} events per entry)"},
        {"part": "e", "measure": f"peak RSS of the import: {fs['payments']:,} vs {fb['payments']:,} entries",
         "value": f"{small['peak_kib'] / 1024:.0f} / {big['peak_kib'] / 1024:.0f} MiB",
         "target": "does not grow with the file", "met": import_flat,
         "cpu": f"growth during the call +{g_small / 1024:.0f} / +{g_big / 1024:.0f} MiB; RSS along the big import "
                f"grew {per_entry:,.0f} B per entry after the first tenth "
                f"({tenth[1] / 1024:.0f} MiB at {tenth[0]:,} entries, {curve[-1][1] / 1024 if curve else 0:.0f} MiB "
                f"at {curve[-1][0] if curve else 0:,}); VmHWM of each child (ru_maxrss: "
                f"{small['maxrss_kib'] / 1024:.0f} / {big['maxrss_kib'] / 1024:.0f} MiB, inherits the bench's own)"},
        {"part": "e", "measure": f"re-import of the {fb['payments']:,}-entry file (all duplicates)",
         "value": f"{again['counts']['entries'] / again['wall']:,.0f} entries/s", "errors": again["counts"]["rejected"],
         "met": None if again_ok else False,
         "cpu": f"{again['wall']:.1f} s, {again['counts']['duplicates']:,} duplicates, {grew} events stored; "
                f"peak RSS {again['peak_kib'] / 1024:.0f} MiB (+{growth(again) / 1024:.0f} MiB); {cpu(again)}; "
                f"{phases(again)}"},
    ]
    if prof:
        rows.append({"part": "e", "measure": f"profile: second half of a {cfg['profile']:,}-entry import under "
                                             f"cProfile (diagnostic)",
                     "value": f"{prof['profiled_total'] / prof['profiled_entries'] * 1000:.2f} ms/entry profiled",
                     "errors": 0,
                     "cpu": "cumulative share of the profiled time: " + ", ".join(
                         f"{label.split(' (')[0]} {share * 100:.0f} %" for label, share in prof["profile_groups"]
                         if share >= 0.02)})
    notes = []
    if not (big_ok and small_ok and again_ok):
        notes.append(f"counts differ from the files: small {small['counts']} (expected {fs['known']} matched, "
                     f"{fs['unknown']} unmatched), big {big['counts']} (expected {fb['known']} / {fb['unknown']}), "
                     f"again {again['counts']} with {grew} events; rejected e.g. {big['rejected_sample']}")
    if stored != events_expected:
        notes.append(f"the big import stored {stored} events, expected {events_expected} (2 per matched, 1 per "
                     "unallocated payment)")
    return {"rows": rows, "config": cfg, "notes": notes}


if __name__ == "__main__":
    child_main(json.loads(sys.argv[1]))
