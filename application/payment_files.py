"""Bank files of incoming payments (issue 7): import, and the payment instructions borrowers get.

`import_payments(service, tenant, file, on=...)` reads a camt.054 or KTL file
(adapters.bankfiles) and posts each payment exactly once:

- The whole file is read once before anything is written; a file that is not well-formed, carries
  a DTD (external entity, entity bomb), has the wrong root or KTL totals that do not add up is
  refused whole (`report.file_rejected`) and nothing of it is imported.
- A bad entry (non-euro, non-positive, unreadable, value-dated in the future, or refused by the
  loan) is listed in `report.rejected` with its reason; the rest imports.
- Payments are idempotent by payment_id = the bank's archive id (R-PAY-1), through the same
  PaymentMarker aggregate as `LoanService.post_payment`: re-imports, overlapping files and a re-run
  after a crash count every payment once, and report the ones already there as duplicates.
- Writes are batched: up to `batch` payments are decided as `LoanService.post_payment` decides
  one (marker lookup, reference match, `Loan.receive_payment`, `PaymentMarker.register`) and saved
  in one `service.save(...)` transaction, all or nothing. If that save loses a race with another
  process (RecordConflictError), or a loan refused a payment half-way, the batch is posted again
  one payment at a time through `service.post_payment`, which decides everything afresh.
  `batch=1` posts every payment through `service.post_payment`.
- Entries are read `WINDOW` at a time and batched by loan (`by_loan`): each loan's entries of the
  window go into one batch, in file order, so a loan is loaded once per window however its
  payments are spread through the file (a file of many payments per loan would otherwise load each
  loan again for nearly every batch once the import's loan cache is full, PAYMENTS_CACHED).
- Returns (camt.054 RvslInd / DBIT / RtrInf, KTL correction records) reverse the original payment
  through `service.reverse_payment`. The original is the payment whose archive id the bank gives
  (KTL repeats the original record; camt.054 may reuse its AcctSvcrRef), else the latest
  not-yet-reversed payment with the same reference and amount on the loan the reference names,
  else the unallocated payment with that reference and amount. The reversal's reason names the
  return's archive id, so importing the return again finds it and reports a duplicate.
  A caller that may not reverse payments (a payment system) passes `returns`: its returns are
  queued there for finance to apply (application.bank_returns, R-DATA-6) and reported as `queued`.

`payment_instructions(loan, books, settings, tenant)` gives each unpaid instalment's references and
virtual barcodes. `import_payments_command(tenant, path)` is `luotto import-payments TENANT FILE`.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.application import project_aggregate
from stdnum import iban as stdnum_iban

from adapters.bankfiles import CAMT054, MALFORMED, BankEntry, FileRejected, Source, open_bank_file
from adapters.metrics import PAYMENTS
from adapters.reference_numbers import (format_national, format_rf, normalise_reference, rf_reference,
                                        virtual_barcode)
from application.bank_file_records import record_import
from application.notices import organiser
from application.payment_batch import PaymentCommand, Posted, post_batch
from application.service import LoanService
from domain.errors import DomainError
from domain.events import PaymentReceived, PaymentReversed
from domain.loan import Loan, loan_uuid
from domain.money import format_cents
from domain.register import PaymentMarker, payment_marker_id
from domain.values import identifier_problem, text_problem
from projections.set_aside import clean

Progress = Callable[[int, int], None]

# Reasons of rejected entries, beside the parsers' (malformed, non_eur, non_positive_amount, not_booked).
FUTURE = "future_value_date"
LOAN_CACHE = 2000  # loans kept between the batches of one import
# ... and at most this many payments held in those loans (a loan's state grows ~0.5 KiB per payment): a
# file of many payments per loan would otherwise grow the import's memory with the file (issue 19,
# bench part e). A loan dropped here is dropped from the service's aggregate cache too, which would
# otherwise keep the same growing instance (why a budget on this cache alone did not help, c8b15a2).
PAYMENTS_CACHED = 20_000
LOADED_TOGETHER = 50  # loans loaded in one query
WINDOW = 25_000  # entries read ahead and batched by loan (~0.5 KiB each: about 12 MiB, whatever the file's length)
REFERENCES_KEPT = 50_000  # reference -> loan look-ups remembered (forgotten all at once beyond it)
ORIGINAL_NOT_FOUND = "original_not_found"


@dataclass
class ImportReport:
    """What an import did. Every list item names the entry (payment_id, location in the file, amount,
    dates, reference, payer); rejected items add `code` and `reason`."""

    tenant: str
    format: str | None = None  # camt.054.001.02, camt.054.001.08 or ktl
    entries: int = 0
    matched: list[dict] = field(default_factory=list)  # recorded on the loan the reference names
    unmatched: list[dict] = field(default_factory=list)  # recorded, waiting in the unallocated queue
    duplicates: list[dict] = field(default_factory=list)  # imported before (or twice in this file)
    reversed: list[dict] = field(default_factory=list)  # returns applied to their original payment
    rejected: list[dict] = field(default_factory=list)
    file_rejected: str | None = None  # the reason the whole file was refused (then nothing was imported)
    queued: list[dict] = field(default_factory=list)  # returns waiting for finance (application.bank_returns)
    position: int | None = None  # the last notification written (read-your-writes)
    tallies: dict[str, int] = field(default_factory=dict)
    cents: dict[str, int] = field(default_factory=dict)  # kind -> readable amounts (R-BOOK-2)
    sha256: str | None = None  # the file's identity, once read (R-BOOK-2)
    message_id: str | None = None
    loans: set[str] = field(default_factory=set)  # every loan the import wrote to (for the access log)

    # A report lists at most this many rows of each kind (the counts are always whole), so that the
    # memory an import needs does not grow with the file. Unmatched and rejected rows are also in
    # the unallocated queue and the logs; matched and duplicate ones need no action.
    ROWS_KEPT = 1000

    def add(self, kind: str, row: dict) -> None:
        self.tallies[kind] = self.tallies.get(kind, 0) + 1
        if row.get("amount") is not None:  # describe() gives cents as "12.34"
            self.cents[kind] = self.cents.get(kind, 0) + int(Decimal(row["amount"]) * 100)
        rows = getattr(self, kind)
        if len(rows) < self.ROWS_KEPT:
            rows.append(row)

    @property
    def counts(self) -> dict[str, int]:
        return {"entries": self.entries, **{kind: self.tallies.get(kind, 0) for kind in KINDS}}

    def as_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "format": self.format, "file_rejected": self.file_rejected,
                "sha256": self.sha256, "message_id": self.message_id,
                "counts": self.counts, **{kind: getattr(self, kind) for kind in KINDS},
                "rows_truncated": [k for k in KINDS if self.tallies.get(k, 0) > len(getattr(self, k))],
                "position": self.position}


KINDS = ("matched", "unmatched", "duplicates", "reversed", "rejected", "queued")


def organiser_accounts(settings, tenant: str) -> list[str]:
    """The accounts an organiser's bank files may report on: LUOTTO_TENANTS' `organiser.accounts` and
    `organiser.iban` (the account its letters show; the banks' example account when none is set)."""
    spec = settings.tenants.get(tenant, {}).get("organiser") or {}
    configured = [*spec.get("accounts", []), *([spec["iban"]] if spec.get("iban") else [])]
    return configured or [organiser(settings, tenant)["iban"]]


def _account_keys(accounts) -> set[str]:
    """Each account as a camt.054 IBAN and, for a Finnish one, as KTL's 14-digit machine-format BBAN."""
    keys = set()
    for account in accounts:
        iban = stdnum_iban.compact(account)
        keys.add(iban)
        if iban.startswith("FI"):
            keys.add(iban[4:])
    return keys


def import_payments(service: LoanService, tenant: str, file_bytes_or_path: Source, *, on: dt.date,
                    accounts, progress: Progress | None = None, batch: int = 500, returns=None,
                    queued_by: str = "") -> ImportReport:
    """Import a camt.054 or KTL file of incoming payments for `tenant` on business date `on`. The
    file must report on `accounts` (the organiser's, organiser_accounts()) only: a file that names
    another account, or none, is refused whole. `returns` (application.bank_returns.PendingReturns):
    queue the file's returns there instead of applying them, for a caller that may not reverse
    payments."""
    service.register(tenant)  # not_found for an organiser that is not configured
    report = ImportReport(tenant)
    try:
        with open_bank_file(file_bytes_or_path) as bank_file:
            try:
                total = bank_file.check()  # the whole file, before anything is written
            except FileRejected as e:
                report.file_rejected = str(e)
                return report
            strangers = bank_file.accounts - _account_keys(accounts)
            if strangers:
                named = sorted(a or "(none)" for a in strangers)
                report.file_rejected = (f"the file reports on account {', '.join(named)}, which is not one of "
                                        f"organiser {tenant}'s accounts ({', '.join(accounts)})")
                return report
            report.format = bank_file.version or bank_file.format
            report.sha256, report.message_id = bank_file.sha256(), bank_file.message_id()  # R-BOOK-2
            report.entries = total
            importer = _Importer(service, tenant, on, "camt.054" if bank_file.format == CAMT054 else "ktl",
                                 report, max(1, batch), lambda done: progress and progress(done, total))
            importer.returns, importer.queued_by = returns, queued_by
            # A FileRejected from here on means the file changed after the check: it propagates, and
            # what was written stays written (a re-run counts it once).
            for entry in bank_file.entries():
                importer.add(entry)
            importer.flush()  # progress has reached (total, total): every entry advanced it once
            # R-BOOK-2: only a complete import is recorded, so a file is reconciled whole.
            record_import(service, tenant, report, on=on, entries_cents=bank_file.checked_cents)
    except FileRejected as e:  # empty, unreadable or of an unknown format
        if report.format is not None:
            raise
        report.file_rejected = str(e)
    return report


def _reference_key(entry: BankEntry) -> str | None:
    """What names an entry's loan without asking the store: a reference names one loan (the one it
    was assigned to at the grant), in its national form whether paid as national or RF."""
    return normalise_reference(entry.reference) if entry.reference else None


def by_loan(entries: list[BankEntry], batch: int, loan_of: Callable[[BankEntry], str | None]) -> list[list[BankEntry]]:
    """`entries` in batches of `batch`, the entries of one loan (`loan_of`) together, in one batch or
    in consecutive ones, each batch in file order. In file order, `batch` at a time, when a payment id
    repeats: which of two entries with one id is recorded, and which is its duplicate, is the file's
    order (R-PAY-1), and the two may name different loans."""
    if batch == 1:
        return [[entry] for entry in entries]
    if len({entry.payment_id for entry in entries}) < len(entries):
        return [entries[i:i + batch] for i in range(0, len(entries), batch)]
    groups: dict[str | None, list[int]] = {}
    for i, entry in enumerate(entries):
        groups.setdefault(loan_of(entry), []).append(i)
    # One loan after another, cut every `batch` entries: a loan cut in two goes on in the next
    # batch, which finds it in the import's loan cache (the most recently used).
    order = [i for indices in groups.values() for i in indices]
    return [[entries[i] for i in sorted(order[start:start + batch])] for start in range(0, len(order), batch)]


def canonical_reference(reference: str | None) -> str | None:
    """The reference as posted: the national form when it is a valid national or RF reference (so
    the same payment reads the same from camt.054 and KTL), else as the bank gave it."""
    if reference is None:
        return None
    return normalise_reference(reference) or reference


class _Importer:
    def __init__(self, service: LoanService, tenant: str, on: dt.date, source: str, report: ImportReport,
                 batch: int, progress: Callable[[int], Any]):
        self.service, self.tenant, self.on, self.source = service, tenant, on, source
        self.report, self.batch, self.progress = report, batch, progress
        self.pending: list[BankEntry] = []
        # Loans as saved by earlier batches of this import, so a batch need not load them again. If
        # another writer changed one meanwhile, the batch's save fails on its version (nothing is
        # lost) and is posted one by one instead.
        self.loans: OrderedDict[str, Loan] = OrderedDict()
        self.loan_of_reference: dict[str, str | None] = {}  # national reference -> loan_id (None: no loan)
        self.done = 0
        self.returns, self.queued_by = None, ""

    # --- entries ---------------------------------------------------------------------------

    def add(self, entry: BankEntry) -> None:
        unsafe = _unsafe(entry)
        if entry.problem:
            self._reject(entry, entry.problem_code, entry.problem)
        elif unsafe:
            self._reject(entry, MALFORMED, unsafe)
        elif entry.value_date > self.on:
            self._reject(entry, FUTURE, f"value date {entry.value_date} is after the import date {self.on} (R-DATE-1)")
        elif entry.kind == "return" and self.returns is not None:
            added = self.returns.add(self.tenant, entry, self.source, self.queued_by)
            self.report.add("queued" if added else "duplicates", {**entry.describe(), "kind": "return",
                                                                  "status": "queued for finance"})
        elif entry.kind == "return":
            self.flush()  # its original may be waiting in this batch
            self._return(entry)
        else:
            self.pending.append(entry)
            if len(self.pending) >= max(self.batch, WINDOW):
                self.flush()
            return
        self._advance(1)

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        for part in by_loan(pending, self.batch, _reference_key):
            if self.batch == 1 or not self._post_batch(part):
                self._clear()  # what post_payment writes is not in these instances
                for entry in part:
                    self._post_one(entry)
            self._advance(len(part))

    def _advance(self, n: int) -> None:
        self.done += n
        self.progress(self.done)

    # --- payments, one at a time through the service ----------------------------------------

    def _post_one(self, entry: BankEntry) -> None:
        try:
            written = self.service.post_payment(tenant=self.tenant, payment_id=entry.payment_id, amount=entry.amount,
                                                value_date=entry.value_date, on=self.on,
                                                reference=canonical_reference(entry.reference), source=self.source,
                                                file_sha256=self.report.sha256)
        except DomainError as e:
            self._reject(entry, e.code, e.message)
            return
        self._moved(written.position)
        result = written.result
        if result["loan_id"]:
            self._forget([result["loan_id"]])  # kept by neither cache: memory stays bounded (PAYMENTS_CACHED)
        if written.position is None:
            self._duplicate(entry, result["status"], result["loan_id"])
        else:
            self._recorded(entry, result["loan_id"])

    # --- payments, a batch in one transaction -----------------------------------------------

    def _post_batch(self, pending: list[BankEntry]) -> bool:
        """Decide every payment of the batch as post_payment would and save them together. False when
        the batch must be posted one by one instead (nothing of it was saved then)."""
        loans: dict[str, Loan] = {}
        commands = [PaymentCommand(self.tenant, entry.payment_id, entry.amount, entry.value_date, self.on,
                                   reference=canonical_reference(entry.reference), source=self.source,
                                   file_sha256=self.report.sha256)
                    for entry in pending]
        checked = self._load(pending, loans)
        outcomes = post_batch(self.service, commands, lambda command: self._target(command.reference, loans),
                              checked)
        if outcomes is None:
            self._forget(loans)
            return False
        for loan_id, loan in loans.items():
            self.loans[loan_id] = loan  # the most recently used last
        held = sum(len(loan.payments) for loan in self.loans.values())
        while self.loans and (len(self.loans) > LOAN_CACHE or held > PAYMENTS_CACHED):
            loan_id, loan = self.loans.popitem(last=False)
            held -= len(loan.payments)
            self._forget([loan_id])
        self._moved(max((o.position for o in outcomes if isinstance(o, Posted) and o.position), default=None))
        for entry, outcome in zip(pending, outcomes):
            if isinstance(outcome, DomainError):
                self._reject(entry, outcome.code, outcome.message)
            elif outcome.recorded:
                self._recorded(entry, outcome.marker.loan_id)
            else:
                self._duplicate(entry, _status(outcome.marker), outcome.marker.loan_id)
        return True

    def _marker(self, payment_id: str) -> PaymentMarker | None:
        """The payment's marker, as repository.get gives it, in one query: markers have no snapshots."""
        events = list(self.service.events.get(payment_marker_id(self.tenant, payment_id)))
        return project_aggregate(None, events) if events else None

    def _loan_id(self, reference: str | None) -> str | None:
        """The loan the reference names (PaymentCommands.reference_owner). A reference is assigned
        to its loan once, at the grant, so what it names is remembered."""
        national = normalise_reference(reference) if reference else None
        if national is None:
            return None
        if national not in self.loan_of_reference:
            if len(self.loan_of_reference) >= REFERENCES_KEPT:
                self.loan_of_reference.clear()
            self.loan_of_reference[national] = self.service.reference_owner(self.tenant, reference)
        return self.loan_of_reference[national]

    def _load(self, pending: list[BankEntry], loans: dict[str, Loan]) -> dict:
        """The batch's loans: those kept from earlier batches, the others loaded, but only for entries
        not posted before (a re-import of a file loads no loan at all). Returns the markers it looked
        up ({marker id: marker or None}), which post_batch need not ask for again."""
        # Every marker of the batch first, in one query (post_batch would ask for them anyway): a payment
        # recorded before needs neither its reference looked up nor its loan loaded (a re-import none).
        marker_of = {e.payment_id: payment_marker_id(self.tenant, e.payment_id) for e in pending}
        posted = self.service.repository.get_many([], uncached_ids=set(marker_of.values()))
        wanted: dict[str, None] = {}  # loan ids in the order the batch names them
        for entry in pending:
            if marker_of[entry.payment_id] in posted:
                continue
            loan_id = self._loan_id(entry.reference)
            if loan_id is None or loan_id in loans or loan_id in wanted:
                continue
            kept = self.loans.pop(loan_id, None)
            if kept is not None:
                loans[loan_id] = kept
            else:
                wanted[loan_id] = None
        needed = list(wanted)
        # A few loans to a query: psycopg holds a query's whole answer, every event of every loan in
        # it, so a batch's loans at once would be a peak that grows with their payments.
        for start in range(0, len(needed), LOADED_TOGETHER):
            chunk = needed[start:start + LOADED_TOGETHER]
            found = self.service.repository.get_many([loan_uuid(self.tenant, i) for i in chunk])
            for loan_id in chunk:
                loan = found.get(loan_uuid(self.tenant, loan_id))
                if loan is not None:
                    loans[loan_id] = loan
        return {i: posted.get(i) for i in marker_of.values()}

    def _target(self, reference: str | None, loans: dict[str, Loan]) -> Loan | None:
        """The batch's instance of the loan the reference names (_load put it there)."""
        loan_id = self._loan_id(reference)
        if loan_id is None:
            return None
        if loan_id not in loans:  # named by its marker but not stored: the service's not_found
            loans[loan_id] = self.service.loan(self.tenant, loan_id)
        return loans[loan_id]

    def _forget(self, loan_ids) -> None:
        """Drop loans from the service's aggregate cache as well (see PAYMENTS_CACHED)."""
        cache = self.service.repository.cache
        if cache is None:
            return
        for loan_id in loan_ids:
            try:
                cache.get(loan_uuid(self.tenant, loan_id), evict=True)
            except KeyError:
                pass

    def _clear(self) -> None:
        """Forget every loan kept: the service writes next, and these instances would be stale."""
        self._forget(list(self.loans))
        self.loans.clear()

    # --- returns ----------------------------------------------------------------------------

    def _return(self, entry: BankEntry) -> None:
        self._clear()  # the service writes the reversal: the instances kept would be stale
        tag = f"bank return {entry.payment_id} ("
        reason = f"{tag}{self.source}, booked {entry.booking_date.isoformat()})"
        try:
            original, done_before, problem = self._original(entry, tag)
        except DomainError as e:
            self._reject(entry, e.code, e.message)
            return
        if problem:
            self._reject(entry, ORIGINAL_NOT_FOUND, problem)
            return
        if done_before:
            self._duplicate(entry, "reversed", None, original_payment_id=done_before)
            return
        try:
            written = self.service.reverse_payment(tenant=self.tenant, payment_id=original, reason=reason,
                                                   on=min(entry.booking_date, self.on), seal_reason=False)
        except DomainError as e:
            self._reject(entry, e.code, e.message)
            return
        self._moved(written.position)
        # "returned": an unallocated payment sent back to the payer; "reversed": taken off its loan.
        status = "returned" if written.result["status"] == "returned" else "reversed"
        if written.result["loan_id"]:
            self.report.loans.add(written.result["loan_id"])
        self.report.add("reversed", {**entry.describe(), "original_payment_id": original,
                                     "loan_id": written.result["loan_id"], "status": status})

    def _original(self, entry: BankEntry, tag: str) -> tuple[str | None, str | None, str | None]:
        """(payment to reverse, payment this return already reversed, why none was found)."""
        amount = format_cents(entry.amount)
        for candidate in entry.original_ids:
            marker = self._marker(candidate)
            if marker is None:
                continue
            if marker.content["amount"] != amount:
                return None, None, (f"payment {candidate} the bank names is of {marker.content['amount']}, the "
                                    f"return of {amount}: a partial return cannot be reversed automatically")
            if marker.returned or (marker.loan_id and self._reversed_on_loan(marker.loan_id, candidate)):
                return None, candidate, None
            return candidate, None, None
        national = normalise_reference(entry.reference) if entry.reference else None
        owner = self.service.reference_owner(self.tenant, entry.reference) if national else None
        loan = self.service.loan(self.tenant, owner) if owner else None
        if loan is not None:
            received, reversed_ = {}, {}
            for event in self.service.events.get(loan.id):
                if isinstance(event, PaymentReceived):
                    received[event.payment_id] = event
                elif isinstance(event, PaymentReversed):
                    reversed_[event.payment_id] = event.reason
            done = next((pid for pid, why in reversed_.items() if why.startswith(tag)), None)
            if done:
                return None, done, None
            found = [e for pid, e in received.items() if pid not in reversed_ and e.amount == amount
                     and e.reference and normalise_reference(e.reference) == national]
            if found:
                return _latest(found, entry.booking_date, lambda e: e.value_date).payment_id, None, None
            return None, None, (f"no payment of {amount} with reference {entry.reference} on loan {loan.loan_id} "
                                "is left to reverse")
        read_model = getattr(self.service, "read_model", None)
        if read_model is not None:
            read_model.catch_up()
            rows = read_model.unallocated(self.tenant, amount=entry.amount,
                                          reference=canonical_reference(entry.reference))
            if rows:
                return _latest(rows, entry.booking_date, lambda r: _as_date(r["value_date"]))["payment_id"], None, None
        return None, None, (f"the returned payment (reference {entry.reference or '(none)'}, {amount}) is not "
                            "among the payments imported")

    def _reversed_on_loan(self, loan_id: str, payment_id: str) -> bool:
        loan = self.service.loan(self.tenant, loan_id)
        return any(p.payment_id == payment_id and p.reversed for p in loan.payments)

    # --- the report -------------------------------------------------------------------------

    def _moved(self, position: int | None) -> None:
        if position is not None and (self.report.position is None or position > self.report.position):
            self.report.position = position

    def _recorded(self, entry: BankEntry, loan_id: str | None) -> None:
        row = {**entry.describe(), "reference": canonical_reference(entry.reference), "loan_id": loan_id}
        if loan_id:
            self.report.loans.add(loan_id)
        self.report.add("matched" if loan_id else "unmatched", row)
        PAYMENTS.labels("recorded" if loan_id else "unallocated").inc()

    def _duplicate(self, entry: BankEntry, status: str, loan_id: str | None, **extra: str) -> None:
        self.report.add("duplicates", {**entry.describe(), "kind": entry.kind, "status": status, "loan_id": loan_id,
                                       **extra})
        PAYMENTS.labels("duplicate").inc()

    def _reject(self, entry: BankEntry, code: str | None, reason: str) -> None:
        self.report.add("rejected", {**entry.describe(), "kind": entry.kind, "code": code or "malformed",
                                     "reason": reason})
        PAYMENTS.labels("refused").inc()


def _unsafe(entry: BankEntry) -> str | None:
    """Why a field of an entry cannot be stored as given (a bank file is input like any other)."""
    problem = identifier_problem(entry.payment_id, payment=True) if entry.payment_id else None
    if problem:
        return f"archive id {clean(entry.payment_id)!r} {problem}"
    if entry.reference and (len(entry.reference) > 40 or text_problem(entry.reference)):
        return f"reference {clean(entry.reference)!r} is not a reference (printable, at most 40 characters)"
    return None


def apply_return(service: LoanService, tenant: str, on: dt.date, source: str, report: ImportReport,
                 entry: BankEntry) -> None:
    """Apply one return as an import by finance does (a return queued by application.bank_returns)."""
    _Importer(service, tenant, on, source, report, 1, lambda done: None)._return(entry)


def _status(marker: PaymentMarker) -> str:
    return "returned" if marker.returned else "allocated" if marker.loan_id else "unallocated"


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _latest(items: list, not_after: dt.date, day: Callable[[Any], dt.date]):
    """The item with the latest date on or before `not_after` (else the earliest one)."""
    before = [i for i in items if day(i) <= not_after]
    return max(before, key=day) if before else min(items, key=day)


# --- payment instructions ----------------------------------------------------------------------


def payment_instructions(loan: Loan, books, settings, tenant: str, *, as_of: dt.date | None = None) -> list[dict]:
    """Each unpaid instalment's payment instructions: the organiser's account, the loan's reference in
    national and RF form and the virtual barcodes (version 4 national, version 5 RF) for the unpaid
    amount and due date.

    `books` is the Position the schedule shows (loan.books(rates).position(on)) or the LoanBooks;
    with LoanBooks, the position is taken `as_of` (default: the last due date or payment, so every
    recorded payment counts). Amounts are what is still to pay on each instalment: its unpaid
    principal and interest part (R-INT-3: estimated until its due date); penalty interest is not in
    the barcode.
    """
    if not loan.reference:
        return []
    if hasattr(books, "instalments"):
        position = books
    else:
        movements = [m.on for m in loan.movements_list()]
        last = max([i.due_date for i in loan.instalments()] + movements)
        position = books.position(as_of or last)
    payee = organiser(settings, tenant)
    iban = stdnum_iban.compact(payee["iban"])
    national, rf = loan.reference, rf_reference(loan.reference)
    out = []
    for row in position.instalments:
        if row.to_pay <= 0:
            continue
        due = row.due_date if 2000 <= row.due_date.year <= 2099 else None
        out.append({"instalment": row.number, "due_date": row.due_date.isoformat(), "amount": format_cents(row.to_pay),
                    "payee": payee["name"], "iban": stdnum_iban.format(iban),
                    "reference": format_national(national), "reference_rf": format_rf(rf),
                    "barcode": virtual_barcode(iban, row.to_pay, national, due),
                    "barcode_rf": virtual_barcode(iban, row.to_pay, rf, due)})
    return out


# --- the command line --------------------------------------------------------------------------


def print_import_progress(done: int, total: int) -> None:
    """A one-line progress bar on stderr (as projections.read_model.print_progress)."""
    width = 30
    filled = width * done // total if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} entries")
    sys.stderr.flush()


def import_payments_command(tenant: str, path: str) -> int:
    """`luotto import-payments TENANT FILE`: the report as JSON on stdout. Exit 0 when every entry was
    imported (or was a duplicate), 1 when some entries were rejected, 2 when the file was refused or
    could not be imported at all."""
    from adapters.settings import Settings
    from application.container import Container

    settings = Settings()
    if tenant not in settings.tenants:
        print(f"luotto import-payments: organiser {tenant!r} is not in LUOTTO_TENANTS", file=sys.stderr)
        return 2
    container = Container.build(settings)
    try:
        report = import_payments(container.service, tenant, path, on=container.today(),
                                 accounts=organiser_accounts(settings, tenant), progress=print_import_progress)
    except DomainError as e:
        print(f"\nluotto import-payments: {e}", file=sys.stderr)
        return 2
    finally:
        container.close()
    print(file=sys.stderr)
    json.dump(report.as_dict(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    if report.file_rejected:
        print(f"luotto import-payments: {path} refused, nothing imported: {report.file_rejected}", file=sys.stderr)
        return 2
    counts = report.counts
    print(f"luotto import-payments: {path} ({report.format}): {counts['matched']} matched, {counts['unmatched']} "
          f"unallocated, {counts['duplicates']} duplicates, {counts['reversed']} reversed, {counts['rejected']} "
          "rejected", file=sys.stderr)
    return 1 if report.rejected else 0
