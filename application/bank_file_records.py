"""Reconciliation of imported bank files with the payments they produced (R-BOOK-2).

Each complete import of a camt.054 or KTL file (application.payment_files) is recorded in the
organiser's BankFileLedger: the file's SHA-256, the bank's message id, the entries and their total
from the whole-file check, and what the import made of them (matched to a loan, unallocated,
duplicates of earlier payments, refused, returns reversed or queued for finance), in counts and
cents. The report per file compares the two sums: a file imported whole has difference 0.
Importing the same file again records nothing (its payments are all duplicates by then): a file is
reconciled once, by its first complete import.
"""
from __future__ import annotations

import datetime as dt

from eventsourcing.application import AggregateNotFoundError

from domain.bank_files import OUTCOMES, BankFileLedger, bank_files_id, reconcile
from domain.money import format_cents


def record_import(service, tenant: str, report, *, on: dt.date, entries_cents: int) -> None:
    def change() -> list:
        try:
            ledger = service.repository.get(bank_files_id(tenant))
        except AggregateNotFoundError:
            ledger = BankFileLedger.open(tenant)
        if not ledger.record(sha256=report.sha256, message_id=report.message_id, format=report.format or "",
                      on=on, entries=report.entries, entries_cents=entries_cents, counts=report.tallies,
                      cents=report.cents, recorded_at=service.clock()):
            return []
        return [ledger]
    written = service.write(change)
    if written.position is not None and (report.position is None or written.position > report.position):
        report.position = written.position


def bank_file_reconciliations(service, tenant: str) -> list[dict]:
    """Every imported file of the organiser, in the order first imported."""
    return [reconcile(event) for event in service.events.get(bank_files_id(tenant))
            if isinstance(event, BankFileLedger.FileImported)]


CSV_HEADER = ["sha256", "message_id", "format", "imported_on", "entries", "entries_total",
              *[f"{k}_{part}" for k in OUTCOMES for part in ("count", "total")], "accounted_entries", "accounted_total", "difference"]


def csv_rows(files: list[dict]) -> list[list]:
    return [[f["sha256"], f["message_id"] or "", f["format"], f["imported_on"], f["entries"],
             format_cents(f["entries_cents"]),
             *[v for k in OUTCOMES for v in (f[k]["count"], format_cents(f[k]["cents"]))],
             f["accounted_entries"], format_cents(f["accounted_cents"]), format_cents(f["difference_cents"])] for f in files]
