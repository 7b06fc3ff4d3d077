"""What both bank-file parsers hand to the application: one `BankEntry` per payment or return.

A problem with one entry (non-euro, non-positive amount, a field that cannot be read) is carried
on the entry as `problem`, so the rest of the file still imports. A problem with the file itself
(not XML, a DTD, the wrong root element, totals that do not add up) raises `FileRejected` and the
whole file is refused.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

# Problem codes carried by entries (the application adds its own, e.g. payment_conflict).
MALFORMED = "malformed"
NON_EUR = "non_eur"
NON_POSITIVE = "non_positive_amount"
NOT_BOOKED = "not_booked"
DEBIT_FAILED = "debit_failed"

_DECIMAL = re.compile(r"^(-?)([0-9]{1,15})(?:\.([0-9]{1,5}))?$")


class FileRejected(Exception):
    """The file as a whole cannot be imported; nothing of it may be."""


@dataclass(frozen=True, slots=True)  # a window of entries is held (application.payment_files.WINDOW)
class BankEntry:
    """One credit (a payment) or one return of an earlier payment, as the bank reported it.

    `payment_id` is the bank's archive id (arkistointitunnus, AcctSvcrRef). For a return,
    `original_ids` are the archive ids the bank gives that may name the returned payment
    (KTL repeats the record of the original; camt.054 may carry it in AcctSvcrRef).
    """

    location: str  # where in the file, for the report: "line 7", "Ntry 3 TxDtls 2"
    kind: str  # "payment" | "return"
    payment_id: str | None
    amount: int | None  # cents, positive when readable
    currency: str | None
    value_date: dt.date | None
    booking_date: dt.date | None
    reference: str | None  # compact (no spaces, upper case), as the bank gave it
    debtor: str | None
    problem: str | None = None  # why this entry cannot be imported
    problem_code: str | None = None
    original_ids: tuple[str, ...] = ()
    account: str | None = None  # the organiser's account the bank reports on (IBAN, or KTL's 14-digit BBAN)

    def describe(self) -> dict:
        """The entry's facts for the import report."""
        from domain.money import format_cents

        return {"payment_id": self.payment_id, "location": self.location,
                "amount": format_cents(self.amount) if self.amount is not None else None,
                "currency": self.currency,
                "value_date": self.value_date.isoformat() if self.value_date else None,
                "booking_date": self.booking_date.isoformat() if self.booking_date else None,
                "reference": self.reference, "debtor": self.debtor, "account": self.account}


def compact_reference(text: str | None) -> str | None:
    if text is None:
        return None
    value = "".join(text.split()).upper()
    return value or None


def parse_cents(text: str | None) -> tuple[int | None, str | None, str | None]:
    """(cents, problem_code, problem) for a decimal amount such as "123.45" (up to 5 decimals as
    ISO 20022 allows, but only whole cents)."""
    if text is None or not text.strip():
        return None, MALFORMED, "no amount"
    match = _DECIMAL.match(text.strip())
    if not match:
        return None, MALFORMED, f"amount {text.strip()!r} is not a decimal number"
    sign, whole, part = match.groups()
    cents = Decimal(f"{whole}.{part or 0}") * 100
    if cents != cents.to_integral_value():
        return None, MALFORMED, f"amount {text.strip()!r} has a fraction of a cent"
    value = int(cents)
    if sign or value == 0:
        return (-value if sign else value), NON_POSITIVE, f"amount {text.strip()} is not positive"
    return value, None, None


def parse_iso_date(text: str | None) -> dt.date | None:
    """The date of an ISO date or date-time ("2025-03-01", "2025-03-01T10:00:00+02:00"); None if absent
    or unreadable."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None
