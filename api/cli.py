"""The `luotto` command line."""
from __future__ import annotations

import argparse
import json
import sys

from domain.errors import DomainError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luotto", description="Social credit servicing (Act 1133/2002)")
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate", help="run a scenario file day by day and print the result as JSON")
    sim.add_argument("scenario", help="path to a scenario JSON file (see spec/scenario-format.md)")
    asm = commands.add_parser("assess", help="assess an application file (R-APP-2 … 4) and print the result as JSON")
    asm.add_argument("application", help="path to an application JSON file (see spec/application-format.md)")
    srv = commands.add_parser("serve", help="serve the HTTP API, read models and daily servicing (LUOTTO_* settings)")
    srv.add_argument("--no-scheduler", action="store_true", help="do not run the daily servicing in this process")
    srv.add_argument("--no-read-model", action="store_true",
                     help="do not update the read models in this process (`luotto projections follow` does)")
    commands.add_parser("migrate", help="create missing tables and triggers (run as the schema owner)")
    ver = commands.add_parser("verify", help="recompute every loan's hash chain; exit 1 naming the first broken link")
    ver.add_argument("--digest", help="also check the store against an exported digest JSON file")
    evd = commands.add_parser("evidence", help="export a loan's evidence bundle into a folder")
    evd.add_argument("tenant")
    evd.add_argument("loan_id")
    evd.add_argument("--out", required=True, help="folder to write the bundle into")
    evd.add_argument("--with-personal-data", action="store_true",
                     help="include the letters and the decisions' free text (for a court; R-DATA-3)")
    shr = commands.add_parser("shred-legacy", help="as the schema owner, services stopped: shred the clear personal "
                                                   "text events recorded before sealing hold (R-DATA-2)")
    shr.add_argument("tenant")
    shr.add_argument("borrower_id")
    shr.add_argument("--statement", help="also write the signed statement to this file")
    who = commands.add_parser("who-processed", help="who read or changed a borrower's data in a period (R-DATA-5)")
    who.add_argument("tenant")
    who.add_argument("borrower_id")
    who.add_argument("--from", dest="since", help="first day YYYY-MM-DD (default: the beginning)")
    who.add_argument("--to", dest="until", help="last day YYYY-MM-DD (default: today)")
    crt = commands.add_parser("court-package", help="a loan's court package (issue 20): claim, §8 trail, letters, application draft; signed")
    crt.add_argument("tenant")
    crt.add_argument("loan_id")
    crt.add_argument("--out", required=True, help="folder to write the package into")
    crt.add_argument("--on", help="the claim's date YYYY-MM-DD (default: today)")
    commands.add_parser("suomifi-rotate-password", help="rotate the Suomi.fi Messages API password through the "
                                                       "API's change-password call (LUOTTO_SUOMIFI_PASSWORD_FILE)")
    vev = commands.add_parser("verify-evidence", help="check an evidence bundle offline (no database, no settings)")
    vev.add_argument("bundle", help="the bundle's folder, or the zip GET /v1/loans/{id}/evidence serves")
    vev.add_argument("--public-key", help="the organiser's published signing key (hex): the bundle must be "
                                          "signed with it")
    key = commands.add_parser("api-key", help="API keys for systems (stored hashed)")
    key_actions = key.add_subparsers(dest="action", required=True)
    create = key_actions.add_parser("create", help="create a key and print it once")
    create.add_argument("tenant")
    create.add_argument("role", choices=["caseworker", "decision_maker", "finance", "payment_system", "auditor",
                                         "admin", "legal"])
    create.add_argument("--name", default="")
    revoke = key_actions.add_parser("revoke")
    revoke.add_argument("key_id")
    key_actions.add_parser("list")
    dig = commands.add_parser("digest", help="print an organiser's latest signed digest as JSON")
    dig.add_argument("tenant")
    rep = commands.add_parser("replay", help="a loan's balance and schedule on a date as known at an instant")
    rep.add_argument("tenant")
    rep.add_argument("loan_id")
    rep.add_argument("--on", help="effective date YYYY-MM-DD (default today)")
    rep.add_argument("--known-at", help="instant with time zone, e.g. 2025-05-01T12:00:00+03:00 (default now)")
    imp = commands.add_parser("import-payments", help="import a bank file of incoming payments (camt.054 or KTL)")
    imp.add_argument("tenant")
    imp.add_argument("file", help="camt.054 (001.02/001.08) XML or KTL viitesiirto file")
    iml = commands.add_parser("import-loans", help="bring existing loans in from a CSV or XLSX file (R-MIG; README)")
    iml.add_argument("tenant")
    iml.add_argument("file", help="CSV or XLSX in the template's columns (deploy/import-loans-template.csv)")
    iml.add_argument("--dry-run", action="store_true", help="replay and compare, record nothing")
    iml.add_argument("--accept", action="append", default=[], metavar="LOAN=REASON",
                     help="record this loan although its balance differs, for this reason (repeatable)")
    iml.add_argument("--as-of", help="the import date YYYY-MM-DD the file's balances are on (default today)")
    sch = commands.add_parser("scheduler", help="the daily servicing trigger as its own process")
    sch.add_argument("--once", action="store_true", help="catch up every due date now, then exit")
    sch.add_argument("--today", help="business date to catch up to (YYYY-MM-DD; default: today in Helsinki)")
    rr = commands.add_parser("reference-rate", help="the half-year reference rates (R-PEN-4)")
    rr_actions = rr.add_subparsers(dest="action", required=True)
    rr_record = rr_actions.add_parser("record", help="record a half-year's rate with its source")
    rr_record.add_argument("starts", metavar="FROM", help="1 January or 1 July, YYYY-MM-DD")
    rr_record.add_argument("rate", help="percent, e.g. 2.50")
    rr_record.add_argument("--source", required=True, help="where it was published")
    rr_record.add_argument("--by", required=True, help="who records it")
    rr_record.add_argument("--correction-reason", help="required to change a half-year already recorded")
    rr_actions.add_parser("list", help="the rates in force, as JSON lines")
    cor = commands.add_parser("rule-corrections", help="list every loan whose stored history a servicing run "
                                                     "corrected after a rule was corrected (JSON lines)")
    cor.add_argument("tenant", nargs="?", help="only this organiser")
    proj = commands.add_parser("projections", help="read-model maintenance")
    proj.add_argument("action", choices=["rebuild", "catch-up", "follow"],
                      help="follow: keep the read models and the notices' outbox current until stopped")
    args = parser.parse_args(argv)
    from adapters.logging import configure

    configure()
    if args.command == "simulate":
        return _simulate(args.scenario)
    if args.command == "assess":
        return _assess(args.application)
    if args.command == "serve":
        from adapters.settings import Settings
        from api.serve import serve

        serve(Settings(), scheduler=not args.no_scheduler, read_model=not args.no_read_model)
        return 0
    if args.command == "projections":
        return _projections(args.action)
    if args.command == "scheduler":
        return _scheduler(args.once, args.today)
    if args.command == "import-payments":
        from application.payment_files import import_payments_command

        return import_payments_command(args.tenant, args.file)
    if args.command == "import-loans":
        from application.migration import import_loans_command

        return import_loans_command(args.tenant, args.file, dry_run=args.dry_run, accept=args.accept,
                                    as_of=args.as_of)
    if args.command == "migrate":
        from adapters.settings import Settings
        from application.container import Container

        Container.build(Settings(migrate=True)).close()
        print("luotto migrate: tables and triggers are in place", file=sys.stderr)
        return 0
    if args.command == "verify":
        return _verify(args.digest)
    if args.command == "digest":
        return _digest(args.tenant)
    if args.command == "api-key":
        return _api_key(args)
    if args.command == "evidence":
        return _evidence(args.tenant, args.loan_id, args.out, args.with_personal_data)
    if args.command == "suomifi-rotate-password":
        return _suomifi_rotate_password()
    if args.command == "court-package":
        return _court_package(args.tenant, args.loan_id, args.out, args.on)
    if args.command == "shred-legacy":
        return _shred_legacy(args.tenant, args.borrower_id, args.statement)
    if args.command == "who-processed":
        return _who_processed(args.tenant, args.borrower_id, args.since, args.until)
    if args.command == "verify-evidence":
        return _verify_evidence(args.bundle, args.public_key)
    if args.command == "replay":
        return _replay(args.tenant, args.loan_id, args.on, args.known_at)
    if args.command == "rule-corrections":
        return _rule_corrections(args.tenant)
    if args.command == "reference-rate":
        return _reference_rate(args)
    return 2  # pragma: no cover - argparse enforces a known command


def _reference_rate(args) -> int:
    from adapters.settings import Settings
    from application.container import Container
    from domain.dates import parse_date

    container = Container.build(Settings())
    try:
        rates = container.service.rate_source
        if args.action == "record":
            rates.record(starts=parse_date(args.starts, "FROM"), rate=args.rate, source=args.source,
                         recorded_by=args.by, correction_reason=args.correction_reason)
        for row in rates.listing():
            print(json.dumps(row, ensure_ascii=False))
    except DomainError as e:
        print(f"luotto reference-rate: {e.field}: {e.message}" if e.field else f"luotto reference-rate: {e.message}",
              file=sys.stderr)
        return 2
    finally:
        container.close()
    return 0


def _rule_corrections(tenant: str | None) -> int:
    from adapters.settings import Settings
    from application.container import Container
    from application.rule_corrections import corrections
    from projections.read_model import print_progress

    container = Container.build(Settings())
    try:
        found = corrections(container.service, tenant, print_progress)
    finally:
        container.close()
    print(file=sys.stderr)
    for row in found:
        print(json.dumps(row, ensure_ascii=False))
    loans = len({(r["tenant"], r["loan_id"]) for r in found})
    print(f"luotto rule-corrections: {len(found)} correction(s) on {loans} loan(s)", file=sys.stderr)
    return 0


def _scheduler(once: bool, today: str | None) -> int:
    import threading

    from adapters.settings import Settings
    from application.container import Container
    from domain.dates import parse_date
    from scheduler.trigger import DailyServicing

    container = Container.build(Settings())
    daily = DailyServicing(container, container.settings.servicing_time)
    try:
        if once or today:
            day = parse_date(today, "--today") if today else None
            if day is not None and day > container.today():
                # R-ACC-4: a run for a later date would move the run log past the days before it.
                print(f"luotto scheduler: --today {day} is after today {container.today()}", file=sys.stderr)
                return 2
            runs = daily.catch_up(day)
            print(json.dumps(runs), file=sys.stdout)
            return 0
        daily.start()
        threading.Event().wait()  # until the process is stopped
    finally:
        daily.stop()
        container.close()
    return 0


def _verify(digest_file: str | None) -> int:
    from adapters.settings import Settings
    from application.container import Container
    from application import digest
    from application.evidence import verify_snapshots, verify_store
    from projections.read_model import print_progress

    container = Container.build(Settings())
    try:
        loans, broken = verify_store(container.service, print_progress)
        snapshots, forged = verify_snapshots(container.service)
        problems = digest.verify(container.service, json.loads(open(digest_file).read())) if digest_file else []
    finally:
        container.close()
    print(file=sys.stderr)
    if forged:
        print(f"luotto verify: {len(forged)} of {snapshots} snapshots do not match their events; first: {forged[0]}",
              file=sys.stderr)
        for problem in forged:
            print(problem)
        return 1
    if problems:
        print(f"luotto verify: the store does not match the digest {digest_file}: " + "; ".join(problems),
              file=sys.stderr)
        return 1
    if broken:
        print(f"luotto verify: {len(broken)} broken chain(s) among {loans} loans; first: {broken[0]}", file=sys.stderr)
        for link in broken:
            print(str(link))
        return 1
    print(f"luotto verify: {loans} loan chains intact, {snapshots} snapshots match their events", file=sys.stderr)
    return 0


def _shred_legacy(tenant: str, borrower_id: str, statement_file: str | None) -> int:
    from adapters.settings import Settings
    from application.container import Container
    from application.legacy_shred import shred

    container = Container.build(Settings())
    try:
        statement = shred(container, tenant, borrower_id)
    except DomainError as e:
        print(f"luotto shred-legacy: {e}", file=sys.stderr)
        return 2
    finally:
        container.close()
    text = json.dumps(statement, indent=2, ensure_ascii=False) + "\n"
    if statement_file:
        with open(statement_file, "w", encoding="utf-8") as f:
            f.write(text)
    sys.stdout.write(text)
    print(f"luotto shred-legacy: {len(statement['loans'])} loan chain(s) rewritten; keep the statement with the "
          "digests", file=sys.stderr)
    return 0


def _who_processed(tenant: str, borrower_id: str, since: str | None, until: str | None) -> int:
    import datetime as dt

    from adapters.settings import Settings
    from application.container import Container
    from api.who_processed import who_processed

    container = Container.build(Settings())
    try:
        answer = who_processed(container, tenant, borrower_id, dt.date.fromisoformat(since) if since else None,
                               dt.date.fromisoformat(until) if until else None)
    except (DomainError, ValueError) as e:
        print(f"luotto who-processed: {e}", file=sys.stderr)
        return 2
    finally:
        container.close()
    json.dump(answer, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def _evidence(tenant: str, loan_id: str, out: str, personal_data: bool = False) -> int:
    from pathlib import Path

    from adapters.settings import Settings
    from application.container import Container
    from application.evidence_export import export

    container = Container.build(Settings())
    try:
        manifest = export(container, tenant, loan_id, Path(out), personal_data=personal_data)
    except DomainError as e:
        print(f"luotto evidence: {e}", file=sys.stderr)
        return 2
    finally:
        container.close()
    print(f"luotto evidence: wrote {out} (chain head {manifest['chain_head']})", file=sys.stderr)
    return 0


def _suomifi_rotate_password() -> int:
    from adapters.notices.suomifi_password import PasswordFile
    from adapters.settings import Settings
    from application.container import notice_adapter

    settings = Settings()
    if settings.notice_channel != "suomifi" or not settings.suomifi_password_file:
        print("luotto suomifi-rotate-password: set LUOTTO_NOTICE_CHANNEL=suomifi and LUOTTO_SUOMIFI_PASSWORD_FILE",
              file=sys.stderr)
        return 2
    adapter = notice_adapter(settings)
    try:
        PasswordFile(settings.suomifi_password_file).rotate(adapter)
    except Exception as e:  # noqa: BLE001 - the old password still holds; say why
        print(f"luotto suomifi-rotate-password: not rotated: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        adapter.close()
    print("luotto suomifi-rotate-password: rotated; the new password is in the password file", file=sys.stderr)
    return 0


def _court_package(tenant: str, loan_id: str, out: str, on: str | None) -> int:
    import datetime as dt
    from pathlib import Path

    from adapters.settings import Settings
    from application.container import Container
    from application.court_package import build

    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError:
        print(f"luotto court-package: --on {on!r} is not a date YYYY-MM-DD (R-DATE-1)", file=sys.stderr)
        return 2
    container = Container.build(Settings())
    try:
        manifest = build(container, tenant, loan_id, Path(out), on=day)
    except DomainError as e:
        print(f"luotto court-package: {e}", file=sys.stderr)
        return 2
    finally:
        container.close()
    print(f"luotto court-package: wrote {out} (claim on {manifest['claim_on']}, chain head {manifest['chain_head']}); "
          "check it with luotto verify-evidence", file=sys.stderr)
    return 0


def _verify_evidence(bundle: str, public_key: str | None) -> int:
    from pathlib import Path

    from application.evidence_export import verify_bundle

    problems = verify_bundle(Path(bundle), public_key)
    for problem in problems:
        print(f"luotto verify-evidence: {problem}", file=sys.stderr)
    if not problems:
        signer = "" if public_key else " (compare its signing key with the organiser's published key, or give " \
                                         "--public-key)"
        print(f"luotto verify-evidence: {bundle} verifies{signer}", file=sys.stderr)
    return 1 if problems else 0


def _api_key(args) -> int:
    from adapters.settings import Settings
    from application.container import Container

    container = Container.build(Settings())
    try:
        keys = container.auth.api_keys
        if args.action == "create":
            if args.tenant not in container.settings.tenants:
                print(f"luotto api-key: organiser {args.tenant!r} is not in LUOTTO_TENANTS", file=sys.stderr)
                return 2
            print(keys.create(args.tenant, args.role, args.name))
            print("luotto api-key: store it now; only its hash is kept", file=sys.stderr)
        elif args.action == "revoke":
            if not keys.revoke(args.key_id):
                print(f"luotto api-key: no active key {args.key_id}", file=sys.stderr)
                return 1
        else:
            json.dump(keys.list(), sys.stdout, indent=2)
            sys.stdout.write("\n")
    finally:
        container.close()
    return 0


def _digest(tenant: str) -> int:
    from adapters.settings import Settings
    from application.container import Container
    from application import digest

    container = Container.build(Settings())
    try:
        found = digest.latest(container, tenant)
    finally:
        container.close()
    if found is None:
        print(f"luotto digest: no digest signed yet for {tenant}", file=sys.stderr)
        return 1
    json.dump(found, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def _replay(tenant: str, loan_id: str, on: str | None, known_at: str | None) -> int:
    import datetime as dt

    from adapters.settings import Settings
    from application.container import Container
    from application.replay import replay

    container = Container.build(Settings())
    try:
        when = dt.datetime.fromisoformat(known_at) if known_at else None
        day = dt.date.fromisoformat(on) if on else container.today()
        json.dump(replay(container.service, tenant, loan_id, day, when), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    except (DomainError, ValueError) as e:
        print(f"luotto replay: {e}", file=sys.stderr)
        return 2
    finally:
        container.close()
    return 0


def _projections(action: str) -> int:
    from adapters.settings import Settings
    from application.container import Container
    from projections.read_model import print_progress

    container = Container.build(Settings())
    if action == "follow":
        import signal
        import threading

        from adapters.logging import configure
        from api.serve import keep_read_model_current

        configure(container.settings.log_format)
        stop = threading.Event()
        # systemd and docker stop (SIGTERM) and Ctrl-C (SIGINT): finish the batch, exit 0. SIGINT is not
        # left to raise KeyboardInterrupt: landing anywhere, it could leave a lock held that close() then waits on.
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, lambda *_: stop.set())
        try:
            keep_read_model_current(container, stop)
        finally:
            container.close()
        return 0
    try:
        # Every read model the follower feeds (api.serve.keep_read_model_current): loans, agenda,
        # unallocated queue and portfolio sums, then the statistics with the journal. The notices'
        # outbox follows the log too but is no read model: rebuilding it would send letters again.
        run = container.read_model.rebuild if action == "rebuild" else container.read_model.catch_up
        count = run(print_progress)
        print(f"\nread models {action}: {count} events processed, position {container.read_model.position()}",
              file=sys.stderr)
        if container.statistics is not None:
            count = container.statistics.rebuild() if action == "rebuild" else container.statistics.catch_up()
            print(f"statistics and journal {action}: {count} events processed, position "
                  f"{container.statistics.position()}", file=sys.stderr)
    finally:
        container.close()
    return 0


def _simulate(path: str) -> int:
    from application.simulation import ScenarioError, simulate

    try:
        with open(path, encoding="utf-8") as f:
            scenario = json.load(f)
        result = simulate(scenario)
    except (OSError, json.JSONDecodeError, ScenarioError, DomainError) as e:
        print(f"luotto simulate: invalid scenario {path}: {e}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def _assess(path: str) -> int:
    from application.assess_file import assess_file

    try:
        with open(path, encoding="utf-8") as f:
            result = assess_file(json.load(f))
    except (OSError, ValueError) as e:  # unreadable, or not JSON (JSONDecodeError is a ValueError)
        print(f"luotto assess: invalid application file {path}: {e}", file=sys.stderr)
        return 2
    except DomainError as e:
        named = f"{e.field}: " if e.field and e.field not in e.message else ""
        print(f"luotto assess: invalid application file {path}: {named}{e.message}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
