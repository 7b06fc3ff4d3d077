"""The Finnish fixed-width reference-payment file, KTL "viitesiirtoaineisto" ("Saapuvat viitemaksut").

Records are 90 characters, one per line, ISO-8859-1 (older files use the 7-bit Finnish variant
of ASCII, where [ \\ ] { | } stand for Ä Ö Å ä ö å in names). A file holds one or more batches:

    0  batch header    1 type '0' | 2-7 created YYMMDD | 8-11 time HHMM | 12-13 bank id |
                       14-22 biller's service id | 23 currency code ('1' = euro) | 24-90 blank
    3  reference       1 type '3' (5 = direct debit, same layout) | 2-15 account | 16-21 booking
       payment         date YYMMDD | 22-27 payment date YYMMDD | 28-43 archive id | 44-63 reference
                       (zero-padded) | 64-75 payer name | 76 currency code ('1' = euro) | 77 name
                       source | 78-87 amount in cents | 88 correction flag ('0' payment, '1'
                       correction) | 89 delivery channel | 90 feedback code
    9  batch total     1 type '9' | 2-7 number of payments | 8-18 their amount in cents |
                       19-24 number of corrections | 25-35 their amount in cents | 36-90 blank

Sources for the layout: Finance Finland's "Saapuvat viitemaksut" service description, as public
parsers and writers implement it, which all agree on these positions: kajala/django-jbank
`jbank/svm.py` (record types 0, 3/5, 9 and the type-9 fields), ZeiP/formatters `fin_ktl.py` (type
3 = reference payment, 5 = direct debit; correction flag 0 = normal, 1 = correction) and the
pupesoft reference-payment import scripts (type 9: count, amount, correction count and amount).

The payment date (maksupäivä) is used as the value date and the booking date (kirjauspäivä) as
the booking date. A correction record (flag '1') is a return of an earlier payment: when its
archive id is the original's it names it, otherwise the original is found by reference and amount
(application/payment_files.py). Type 5 records (direct debits; domestic direct debit ended in 2014)
are read like type 3, except that their feedback code (position 90) is honoured: '1'-'9' means
the debit failed, so no money was received and the entry is rejected (`debit_failed`); blank or
'0' is a debit that went through. The account (positions 2-15, the 14-digit machine format of a
Finnish account, i.e. the IBAN without "FI" and its check digits) is the organiser's account the
bank reports on; the import refuses a file for an account the organiser has not configured.

Type-9 totals are checked for every batch: payments (flag '0') against the first pair and
corrections (flag '1') against the second. Whether the first pair also counts the corrections
could not be confirmed from the service description, so that reading is accepted as well. A batch
whose totals match neither is a corrupt file, refused whole.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import BinaryIO

from adapters.bankfiles.common import DEBIT_FAILED, MALFORMED, NON_EUR, NON_POSITIVE, BankEntry, FileRejected

RECORD = 90
MAX_LINE = 1024
SEVEN_BIT_FINNISH = str.maketrans("[\\]{|}", "ÄÖÅäöå")
PAYMENT_TYPES = ("3", "5")


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _date(text: str) -> dt.date | None:
    if len(text) != 6 or not _digits(text) or text == "000000":
        return None
    try:
        return dt.date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        return None


def _cents(text: str) -> str:
    return f"{int(text) // 100}.{int(text) % 100:02d}"


class _Batch:
    def __init__(self, line: int):
        self.line = line
        self.payments = [0, 0]  # count, cents
        self.corrections = [0, 0]

    def add(self, correction: bool, cents: int) -> None:
        bucket = self.corrections if correction else self.payments
        bucket[0] += 1
        bucket[1] += cents

    def check(self, record: str, line: int) -> None:
        fields = (record[1:7], record[7:18], record[18:24], record[24:35])
        if len(record) < 35 or not all(_digits(f) for f in fields):
            raise FileRejected(f"line {line}: the type-9 total record is not readable")
        count, amount, corr_count, corr_amount = (int(f) for f in fields)
        payments, corrections = tuple(self.payments), tuple(self.corrections)
        both = (payments[0] + corrections[0], payments[1] + corrections[1])
        if (corr_count, corr_amount) == corrections and (count, amount) in (payments, both):
            return
        raise FileRejected(
            f"line {line}: the type-9 totals ({count} payments for {_cents(amount)}, {corr_count} corrections for "
            f"{_cents(corr_amount)}) do not match the batch from line {self.line} ({payments[0]} payments for "
            f"{_cents(payments[1])}, {corrections[0]} corrections for {_cents(corrections[1])})")


def _entry(record: str, line: int) -> tuple[BankEntry, bool, int]:
    """The entry of a type 3/5 record, whether it is a correction, and its amount for the totals."""
    if len(record) < 87:
        raise FileRejected(f"line {line}: a payment record of {len(record)} characters (expected {RECORD})")
    record = record.ljust(RECORD)
    amount_text, flag = record[77:87], record[87]
    if not _digits(amount_text):
        raise FileRejected(f"line {line}: amount {amount_text!r} is not numeric, so the batch totals cannot be checked")
    cents = int(amount_text)
    archive_id = record[27:43].strip() or None
    reference = record[43:63].strip().lstrip("0") or None
    name = record[63:75].translate(SEVEN_BIT_FINNISH).strip() or None
    booked, paid = _date(record[15:21]), _date(record[21:27])
    currency = "EUR" if record[75] == "1" else f"code {record[75]!r}"
    problem = code = None
    if archive_id is None:
        code, problem = MALFORMED, "no archive id"
    elif flag not in ("0", "1"):
        code, problem = MALFORMED, f"correction flag {flag!r} is neither '0' nor '1'"
    elif paid is None and booked is None:
        code, problem = MALFORMED, f"dates {record[15:21]!r}/{record[21:27]!r} are not YYMMDD"
    elif record[75] != "1":
        code, problem = NON_EUR, f"currency code {record[75]!r} is not '1' (euro)"
    elif cents <= 0:
        code, problem = NON_POSITIVE, "amount 0.00 is not positive"
    elif record[0] == "5" and record[89] in "123456789":
        code, problem = DEBIT_FAILED, (f"direct debit (record type 5) with feedback code {record[89]!r}: the debit "
                                       "failed, no money was received")
    correction = flag == "1"
    entry = BankEntry(location=f"line {line}", kind="return" if correction else "payment", payment_id=archive_id,
                      amount=cents, currency=currency, value_date=paid or booked, booking_date=booked or paid,
                      reference=reference, debtor=name, problem=problem, problem_code=code,
                      original_ids=(archive_id,) if correction and archive_id else (),
                      account=record[1:15].strip() or None)
    return entry, correction, cents


def parse(stream: BinaryIO) -> Iterator[BankEntry]:
    """Entries of a KTL file read line by line (memory does not grow with the file). Raises
    FileRejected for a corrupt file; the totals of a batch are checked when its type-9 record is
    read, so check the whole file (adapters.bankfiles.BankFile.check) before importing any of it."""
    batch: _Batch | None = None
    batches = 0
    line = 0
    while True:
        raw = stream.readline(MAX_LINE)
        if not raw:
            break
        line += 1
        if len(raw) >= MAX_LINE and not raw.endswith(b"\n"):
            raise FileRejected(f"line {line} is longer than {MAX_LINE} characters: not a KTL file")
        record = raw.decode("latin-1").rstrip("\r\n")
        if not record.strip():
            continue
        kind = record[0]
        if kind == "0":
            if batch is not None:
                raise FileRejected(f"line {line}: a new batch starts before the type-9 total of the batch from "
                                   f"line {batch.line}")
            batch = _Batch(line)
            batches += 1
        elif kind in PAYMENT_TYPES:
            if batch is None:
                raise FileRejected(f"line {line}: a payment record outside a batch (no type-0 header before it)")
            entry, correction, cents = _entry(record, line)
            batch.add(correction, cents)
            yield entry
        elif kind == "9":
            if batch is None:
                raise FileRejected(f"line {line}: a type-9 total without a batch")
            batch.check(record, line)
            batch = None
        else:
            raise FileRejected(f"line {line}: unknown record type {kind!r} (expected 0, 3, 5 or 9)")
    if batch is not None:
        raise FileRejected(f"the file ends without the type-9 total of the batch from line {batch.line}")
    if batches == 0:
        raise FileRejected("no KTL batch (type-0 header) in the file")
