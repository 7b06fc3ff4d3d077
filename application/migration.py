"""`luotto import-loans TENANT FILE`: the organiser's existing loans, from its spreadsheet, replayed
through the rules and checked before anything is recorded (R-MIG-1 … 4; template in README and
deploy/import-loans-template.csv).

The file is read one row at a time and one loan at a time (a loan's rows are together, its `loan`
row first), so memory does not grow with the file. Each loan is replayed in a sandbox of its own
(application.days.drive, the simulator's day loop) from its grant date through the import date, with
the file's payments, free months, exemptions and notices; the servicing runs of the replay record no
reminder and no automatic notice (R-MIG-2): the notices before the import date are exactly those the
file records. Luotto's balance on the import date is compared with the file's; a loan that differs
is recorded only when accepted with a reason (`--accept LOAN=REASON`). A recorded loan's events are
the replay's, copied into the store in one transaction with its entry in the grant register, its
reference number and its payments' markers, and end with LoanMigrated (source, the file's SHA-256,
both balances, the reason). Every migrated event keeps its historical effective date; its recording
instant is the import's. A loan already in the store is left alone, so a re-run records nothing twice.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from eventsourcing.persistence import IntegrityError, RecordConflictError  # noqa: F401 - both may signal

from adapters.reference_numbers import reference_for_loan
from adapters.spreadsheets import read_rows
from application.days import Action, SimulatedClock, apply_action, drive, sandbox
from domain.errors import DomainError
from domain.interest import InterestTerms
from domain.loan import MIGRATED, Decision, Loan, loan_uuid
from domain.money import format_cents, parse_amount
from domain.policy import Policy
from domain.register import Exposure, GrantRegister, ReferenceMarker, payment_marker_id

RECORDS = ("loan", "payment", "free_months", "exemption", "notice")
COMPARED = ("principal", "overdue", "interest", "penalty_interest", "status")


class ImportClock(SimulatedClock):
    """Every migrated event is recorded at the import's instant (known-at), a microsecond apart,
    whatever day the replay is on: the effective dates carry the history."""

    def __init__(self, instant: dt.datetime):
        super().__init__(instant.date())
        self.instant = instant

    def __call__(self) -> dt.datetime:
        self._tick += 1
        return self.instant + dt.timedelta(microseconds=self._tick)


@dataclass
class LoanReport:
    loan_id: str
    outcome: str  # recorded | agrees (dry run) | differs | accepted (dry run) | invalid | already_recorded
    spreadsheet: dict = field(default_factory=dict)
    luotto: dict = field(default_factory=dict)
    differences: list = field(default_factory=list)
    message: str | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in vars(self).items() if v not in (None, [], {})}


class RowError(ValueError):
    pass


def _date(row: dict, name: str, line: int) -> dt.date:
    try:
        return dt.date.fromisoformat(row.get(name, ""))
    except ValueError:
        raise RowError(f"row {line}: {name} must be a date YYYY-MM-DD, got {row.get(name)!r}") from None


def _amount(row: dict, name: str, line: int, *, positive: bool = True) -> int:
    try:
        return parse_amount(row.get(name, "").replace(",", "."), name, positive=positive)
    except DomainError as e:
        raise RowError(f"row {line}: {e.message}") from None


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def loan_groups(path: str) -> Iterator[tuple[int, list[tuple[int, dict]]]]:
    """(first line, [(line, row)…]) per loan, in file order; lines count the header as 1."""
    numbered = ((n, row) for n, row in enumerate(read_rows(path), start=2))
    for _, group in itertools.groupby(numbered, key=lambda item: item[1].get("loan_id", "")):
        rows = list(group)
        yield rows[0][0], rows


class LoanImport:
    def __init__(self, service, tenant: str, path: str, *, as_of: dt.date, instant: dt.datetime,
                 dry_run: bool = False, accepted: dict[str, str] | None = None, policy: Policy | None = None):
        self.service, self.tenant, self.path = service, tenant, path
        self.as_of, self.instant, self.dry_run = as_of, instant, dry_run
        self.accepted = accepted or {}
        self.source = os.path.basename(path)
        self.sha256 = file_sha256(path)
        # given: a part's process takes the command's (R-MIG-4)
        self.policy = policy or service.policy(tenant)  # DomainError when the organiser is not configured
        self._register: GrantRegister | None = None
        self._seen: set[str] = set()

    def run(self, progress: Callable[[int, dict], None] | None = None, *, groups=None, done: int = 0,
            counts: dict[str, int] | None = None) -> Iterator[LoanReport]:
        """Each loan of the file, or of `groups` (a part of it, the `done` loans before it counted in
        `counts`), in order."""
        counts = dict(counts or {})
        for n, (line, rows) in enumerate(loan_groups(self.path) if groups is None else groups, start=done + 1):
            report = self.one(line, rows)
            counts[report.outcome] = counts.get(report.outcome, 0) + 1
            if progress is not None:
                progress(n, counts)
            yield report

    # --- one loan ------------------------------------------------------------------------------

    def one(self, line: int, rows: list[tuple[int, dict]]) -> LoanReport:
        loan_id = rows[0][1].get("loan_id", "")
        if not loan_id:
            return LoanReport("", "invalid", message=f"row {line}: loan_id is empty (R-MIG-1)")
        if loan_id in self._seen:
            return LoanReport(loan_id, "invalid", message=f"row {line}: the rows of loan {loan_id} must be "
                              "together, the loan row first (R-MIG-1)")
        self._seen.add(loan_id)
        if self.service.existing_loan(self.tenant, loan_id) is not None:
            return LoanReport(loan_id, "already_recorded")
        try:
            head, actions = self._parse(rows)
        except (ValueError, KeyError, DomainError) as e:  # RowError is a ValueError
            return LoanReport(loan_id, "invalid", message=f"{getattr(e, 'message', e)} (R-MIG-1)")
        try:
            return self._replay(loan_id, head, actions)
        except (RowError, ValueError) as e:
            return LoanReport(loan_id, "invalid", message=f"{e} (R-MIG-1)")
        except DomainError as e:
            return LoanReport(loan_id, "invalid", message=f"{e.message} ({e.rule or 'R-MIG-1'}"
                              + (f", field {e.field})" if e.field else ")"))

    def _parse(self, rows: list[tuple[int, dict]]) -> tuple[dict, list[Action]]:
        line, head = rows[0]
        if head.get("record") != "loan":
            raise RowError(f"row {line}: the first row of loan {head.get('loan_id')} must be its `loan` row")
        for name in ("borrower_id", "granted_on", "principal", "first_due_date"):
            if not head.get(name):
                raise RowError(f"row {line}: {name} is required on the loan row")
        actions: list[Action] = []
        for index, (line, row) in enumerate(rows[1:], start=1):
            kind = row.get("record")
            if kind not in RECORDS[1:]:
                raise RowError(f"row {line}: record must be one of {', '.join(RECORDS)}, got {kind!r}")
            on = _date(row, "date", line)
            if on > self.as_of:
                raise RowError(f"row {line}: date {on} is after the import date {self.as_of}")
            if kind == "payment":
                data = {"payment_id": row.get("payment_id") or f"MIG-{head['loan_id']}-{line}",
                        "amount": format_cents(_amount(row, "amount", line)), "value_date": on}
                actions.append(Action(index, on, "payment", data))
            elif kind == "free_months":
                actions.append(Action(index, on, "free_months", {"months": int(row["months"]),
                                                                 "from_instalment": int(row["from_instalment"])}))
            elif kind == "exemption":
                data = {"kind": row.get("kind") or "partial"}
                if data["kind"] == "partial":
                    data["amount"] = format_cents(_amount(row, "amount", line))
                actions.append(Action(index, on, "waiver", data))
            else:
                notice = row.get("kind")
                if notice not in ("reminder", "acceleration"):
                    raise RowError(f"row {line}: a notice's kind is reminder or acceleration, got {notice!r}")
                numbers = [int(x) for x in (row.get("instalments") or "").replace(",", " ").split()]
                actions.append(Action(index, on, f"migrated_{notice}", {"instalments": numbers}))
            for action in actions[-1:]:
                action.data.update(decided_by="migration", reasons=f"recorded in {self.source}")
        return head, actions

    def _terms(self, head: dict) -> dict:
        terms: dict = {"granted_on": _date(head, "granted_on", 0), "first_due_date": _date(head, "first_due_date", 0)}
        if head.get("instalment_amount"):
            terms["instalment_amount"] = _amount(head, "instalment_amount", 0)
        elif head.get("term_months"):
            terms["term_months"] = int(head["term_months"])
        else:
            raise RowError(f"loan {head['loan_id']}: give instalment_amount or term_months")
        if head.get("interest_kind") and head["interest_kind"] != "none":
            interest = {"kind": head["interest_kind"]}
            if head.get("interest_rate"):
                interest["rate"] = head["interest_rate"]
            if head.get("interest_margin"):
                interest["margin"] = head["interest_margin"]
            terms["interest"] = InterestTerms.from_json(interest, "interest")
        elif head.get("interest_kind") == "none":
            terms["interest"] = InterestTerms.from_json({"kind": "none"}, "interest")
        if head.get("penalty_interest_agreed_on"):
            terms["penalty_interest_agreed_on"] = _date(head, "penalty_interest_agreed_on", 0)
        if head.get("purpose_class"):
            terms["purpose_class"] = head["purpose_class"]
        return terms

    def _replay(self, loan_id: str, head: dict, actions: list[Action]) -> LoanReport:
        terms = self._terms(head)
        register = self.register()
        reference = reference_for_loan(register.count + 1)
        clock = ImportClock(self.instant)
        box = sandbox(clock, self.service.rates)
        borrower = head["borrower_id"]
        purpose = self.service._seal(self.tenant, borrower, head.get("purpose") or "migrated loan")
        loan = Loan.grant(tenant=self.tenant, loan_id=loan_id, borrower_id=borrower,
                          principal=_amount(head, "principal", 0), policy=self.policy, recorded_at=clock(),
                          decision=Decision("migration", f"granted before Luotto; recorded in {self.source}"),
                          purpose=purpose, reference=reference, decision_reference=f"migration:{self.source}",
                          rates=self.service.rates, **terms)
        box.save(loan)
        refused = drive(box, clock, self.tenant, loan_id, actions, terms["granted_on"], self.as_of,
                        apply=_apply, letters=False)
        loan = box.loan(self.tenant, loan_id)
        books = loan.books(box.rates)
        pos = books.position(self.as_of)
        luotto = {"principal": format_cents(pos.principal_outstanding), "overdue": format_cents(pos.overdue_amount),
                  "interest": format_cents(pos.interest_due + pos.interest_accrued),
                  "penalty_interest": format_cents(pos.penalty_outstanding), "status": books.status(self.as_of)}
        spreadsheet = {k: _given(head.get(f"balance_{k}", ""), k) for k in COMPARED}
        differences = [k for k in COMPARED if spreadsheet[k] != luotto[k]]
        differences += [f"refused row {r['action_index']} ({r['on']}): {r['message']} [{r['rule']}]" for r in refused]
        reason = self.accepted.get(loan_id)
        report = LoanReport(loan_id, "agrees", spreadsheet, luotto, differences)
        if differences and reason is None:
            report.outcome = "differs"
            return report
        if differences:
            report.outcome = "accepted"
        if self.dry_run:
            return report
        loan.record_migration(on=self.as_of, recorded_at=clock(), source=self.source, file_sha256=self.sha256,
                              spreadsheet=spreadsheet, luotto=luotto, differences=differences,
                              accepted_reason=self.service._seal(self.tenant, borrower, reason) if reason else None)
        box.save(loan)
        self._record(box, loan, register, reference, [a.data["payment_id"] for a in actions if a.type == "payment"])
        report.outcome = "recorded"
        return report

    def register(self) -> GrantRegister:
        """The organiser's grant register, held from loan to loan: it keeps counts and sums only
        (class_version 2), so neither holding it nor its snapshots grow with the file (R-MIG-4)."""
        if self._register is None:
            self._register = self.service.register(self.tenant)
        return self._register

    def _record(self, box, loan: Loan, register: GrantRegister, reference: str, payment_ids: list[str]) -> None:
        """The replay's events into the store, with the register's entry (R-MIG-1: a migrated loan was
        granted under the limits of its day, so none is checked), the borrower's book and the markers,
        in one save; the store snapshots the register at its interval as for any save."""
        try:
            sequence = register.register_grant(loan_id=loan.loan_id, borrower_id=loan.borrower_id,
                                               principal=loan.principal, granted_on=loan.granted_on,
                                               exposure=Exposure(), checked=False)
            assert reference_for_loan(sequence) == reference
            [book] = self.service.borrower_books(self.tenant, [loan.borrower_id])
            book.add(loan.loan_id, loan.principal)
            events = list(box.events.get(loan.id))
            for pid in payment_ids:
                events += list(box.events.get(payment_marker_id(self.tenant, pid)))
            self.service.save(register, book, ReferenceMarker.assign(self.tenant, reference, loan.loan_id), *events)
        except BaseException as e:
            self._register = None  # its entry was not saved: read the register again for the next loan
            if not isinstance(e, (RecordConflictError, IntegrityError)):
                raise
            raise DomainError("conflict", f"loan {loan.loan_id} was not recorded: the store changed meanwhile or "
                              f"one of its payment ids is already recorded ({type(e).__name__})",
                              rule="R-MIG-3") from None


def _given(value: str, name: str) -> str:
    if name == "status":
        return value.strip().lower()
    try:
        return format_cents(parse_amount(value.replace(",", ".") or "0", name, positive=False))
    except DomainError:
        return value


def _apply(service, tenant: str, loan_id: str, action: Action) -> None:
    """The file's facts as the service records them; notices as recorded by the organiser before
    Luotto (channel `migrated`: the outbox never sends them)."""
    if action.type == "payment":
        data = action.data
        service.post_payment(tenant=tenant, loan_id=loan_id, payment_id=data["payment_id"], on=action.on,
                             amount=parse_amount(data["amount"], "amount"), value_date=data["value_date"],
                             source="migration")
    elif action.type in ("migrated_reminder", "migrated_acceleration"):
        loan = service.loan(tenant, loan_id)
        if action.type == "migrated_reminder":
            loan.record_past_reminder(on=action.on, instalments=action.data["instalments"],
                                      recorded_at=service.clock(), rates=service.rates, source=action.data["reasons"])
        else:
            loan.send_acceleration_notice(on=action.on, recorded_at=service.clock(), rates=service.rates,
                                          decision=Decision("migration", action.data["reasons"]), channel=MIGRATED)
        service.save(loan)
    else:
        apply_action(service, tenant, loan_id, action)


# Loans one process replays before a fresh one takes over: the replay's short-lived objects fragment
# the C heap (about 7 KiB a loan stays with the process however its Python objects are freed), so a
# long file is imported in a chain of processes, one part at a time, and memory stays flat (R-MIG-4).
# Each part's process reads the file itself and passes over the loans before its part (nothing of the
# rows goes through the command); a fresh process costs about a second.
CHUNK_LOANS = 500


def _import_part(settings, tenant: str, path: str, size: int, options: dict, seen: set[str], done: int,
                 counts: dict[str, int], show: bool) -> tuple[list[dict], set[str], str | None]:
    """In a fresh process (spawned, so nothing of the parent's heap comes along): the `size` loans of
    the file after its first `done`. Answers their reports (fewer at the file's end), the loan ids
    seen so far, and the error that stopped it, if any."""
    container = None
    try:
        job, container = open_part(settings, tenant, path, options)
        job._seen = seen
        part = itertools.islice(loan_groups(path), done, done + size)
        reports = [r.to_json() for r in job.run(print_progress if show else None, groups=part, done=done,
                                                 counts=counts)]
        return reports, job._seen, None
    except (OSError, ValueError, DomainError) as e:
        return [], seen, str(getattr(e, "message", e))
    finally:
        if container is not None:
            container.close()


def open_part(settings, tenant: str, path: str, options: dict) -> tuple[LoanImport, object]:
    """A part's import and its container. Nothing in it grows with the store: the command's process
    migrated and configured the organisers (the migration reads every snapshot row), and the policy
    is the command's (options["policy"], as JSON)."""
    from application.container import Container

    container = Container.build(settings, prepare=False)  # the command's own settings, not read again
    options = dict(options)
    policy = Policy.from_json(options.pop("policy")) if "policy" in options else None
    try:
        return LoanImport(container.service, tenant, path, policy=policy, **options), container
    except BaseException:
        container.close()
        raise


def import_in_parts(container, tenant: str, path: str, options: dict,
                    progress: Callable[[int, dict], None] | None = None) -> Iterator[dict]:
    """Each loan's report (JSON), in file order: the first CHUNK_LOANS loans here (a small file never
    starts a process), every later part of as many loans in a fresh process. OSError, ValueError or DomainError when
    the file cannot be read or the organiser is not served."""
    size = max(1, int(os.environ.get("LUOTTO_IMPORT_CHUNK", CHUNK_LOANS)))
    job = LoanImport(container.service, tenant, path, **options)
    counts: dict[str, int] = {}
    for report in job.run(progress, groups=itertools.islice(loan_groups(path), size)):
        counts[report.outcome] = counts.get(report.outcome, 0) + 1
        yield report.to_json()
    done, seen = sum(counts.values()), job._seen
    options = {**options, "policy": job.policy.to_json()}
    spawn = multiprocessing.get_context("spawn")
    while done and done % size == 0:  # the part before was full: the file may go on
        if progress is not None:
            sys.stderr.write(f"\nimport-loans: from loan {done + 1}, {size} loans in a fresh process\n")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            reports, seen, error = pool.submit(_import_part, container.settings, tenant, path, size, options,
                                               seen, done, dict(counts), progress is not None).result()
        for report in reports:
            counts[report["outcome"]] = counts.get(report["outcome"], 0) + 1
            yield report
        done += len(reports)
        if progress is not None and reports:
            progress(done, counts)  # the child's progress went to the terminal; the total here too
        if error is not None:
            raise ValueError(error)
        if len(reports) < size:
            break


def print_progress(done: int, counts: dict) -> None:
    parts = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    sys.stderr.write(f"\rimport-loans: {done} loans ({parts})")
    sys.stderr.flush()


def import_loans_command(tenant: str, path: str, *, dry_run: bool, accept: list[str], as_of: str | None) -> int:
    """`luotto import-loans`: one JSON line per loan on stdout, progress and a summary on stderr.
    Exit 0 when every loan was recorded (or agrees, with --dry-run, or was recorded before), 1 when
    some differ or are invalid, 2 when the command could not run."""
    from adapters.settings import Settings
    from application.container import Container

    accepted = {}
    for item in accept:
        loan_id, sep, reason = item.partition("=")
        if not sep or not loan_id or not reason.strip():
            print(f"luotto import-loans: --accept takes LOAN=REASON, got {item!r} (R-MIG-3)", file=sys.stderr)
            return 2
        accepted[loan_id] = reason.strip()
    settings = Settings()
    if tenant not in settings.tenants:
        print(f"luotto import-loans: organiser {tenant!r} is not in LUOTTO_TENANTS", file=sys.stderr)
        return 2
    container = Container.build(settings)
    counts: dict[str, int] = {}
    try:
        day = dt.date.fromisoformat(as_of) if as_of else container.today()
        options = {"as_of": day, "instant": container.service.clock(), "dry_run": dry_run, "accepted": accepted}
        for report in import_in_parts(container, tenant, path, options, progress=print_progress):
            counts[report["outcome"]] = counts.get(report["outcome"], 0) + 1
            sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
    except (OSError, ValueError, DomainError) as e:
        print(f"\nluotto import-loans: {path}: {getattr(e, 'message', e)}", file=sys.stderr)
        return 2
    finally:
        container.close()
    print(f"\nluotto import-loans: {path}{' (dry run: nothing recorded)' if dry_run else ''}: "
          + (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no loans"), file=sys.stderr)
    return 1 if counts.get("differs") or counts.get("invalid") else 0
