"""The organiser's record of imported bank files (R-BOOK-2): one aggregate per organiser, one event per
completed import of a file. A file is known by its SHA-256 and, where the format has one, the bank's
message id (camt.054 GrpHdr/MsgId). Events hold counts and cents only: no payer, no reference, no
account (R-DATA-1), so they never need erasing."""
from __future__ import annotations

import datetime as dt
import uuid

from eventsourcing.domain import Aggregate

NAMESPACE = uuid.UUID("8f0c5a2e-3b7d-4c1e-9a6f-1d2e3f4a5b6c")
# What became of a file's entries, as application.payment_files.ImportReport counts them.
OUTCOMES = ("matched", "unmatched", "duplicates", "rejected", "reversed", "queued")


def bank_files_id(tenant: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"bank-files/{tenant}")


class BankFileLedger(Aggregate):
    class Opened(Aggregate.Created):
        tenant: str

    class FileImported(Aggregate.Event):
        sha256: str
        message_id: str | None  # the bank's own id of the file, where the format has one
        format: str
        business_date: dt.date
        entries: int  # entries in the file (the whole-file check's count)
        entries_cents: int  # their readable amounts, summed in that separate first pass
        counts: dict  # outcome -> entries of this import
        cents: dict  # outcome -> their readable amounts

        def apply(self, ledger: "BankFileLedger") -> None:
            ledger.files = ledger.files | {self.sha256}

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.files: frozenset[str] = frozenset()

    @classmethod
    def open(cls, tenant: str) -> "BankFileLedger":
        return cls._create(cls.Opened, id=bank_files_id(tenant), tenant=tenant)

    def record(self, *, sha256: str, message_id: str | None, format: str, on: dt.date, entries: int,
               entries_cents: int, counts: dict, cents: dict, recorded_at: dt.datetime) -> bool:
        """Record a file's first complete import; False (nothing recorded) for a file imported before:
        importing it again finds every payment there already, and the file is counted once."""
        if sha256 in self.files:
            return False
        self.trigger_event(self.FileImported, timestamp=recorded_at, sha256=sha256, message_id=message_id,
                           format=format, business_date=on, entries=entries, entries_cents=entries_cents,
                           counts={k: int(counts.get(k, 0)) for k in OUTCOMES},
                           cents={k: int(cents.get(k, 0)) for k in OUTCOMES})
        return True


def reconcile(first: "BankFileLedger.FileImported") -> dict:
    """One file's reconciliation: its entries and total against what its import made of them."""
    accounted = sum(first.cents[k] for k in OUTCOMES)
    return {"sha256": first.sha256, "message_id": first.message_id, "format": first.format,
            "imported_on": first.business_date.isoformat(), "entries": first.entries,
            "entries_cents": first.entries_cents,
            **{k: {"count": first.counts[k], "cents": first.cents[k]} for k in OUTCOMES},
            "accounted_entries": sum(first.counts[k] for k in OUTCOMES),
            "accounted_cents": accounted, "difference_cents": first.entries_cents - accounted}
