"""Finnish payment references: national viitenumero, RF creditor reference
(ISO 11649) and the bank virtual barcode (virtuaaliviivakoodi).

Pure functions, no I/O. Money is integer cents.

Sources: Finance Finland "Viitenumero" rules (weights 7, 3, 1 from the right),
"Kansainvälisen viitteen (RF) rakenneohje" and "Pankkiviivakoodi-opas" 5.3.
"""

from __future__ import annotations

import datetime
import re

from stdnum import iban as stdnum_iban
from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

# A leading zero is rejected because banks drop leading zeros when printing
# and zero-pad the field in bank files, so "0123" and "123" would be the same
# payment reference to them.
_BASE_RE = re.compile(r"[1-9][0-9]{2,18}")  # 3..19 digits
_NATIONAL_RE = re.compile(r"[1-9][0-9]{3,19}")  # 4..20 digits incl. check digit
_WEIGHTS = (7, 3, 1)
_MAX_BARCODE_CENTS = 99_999_999  # 6 euro digits + 2 cent digits


def _compact(ref: str) -> str:
    # split() also removes tabs and no-break spaces pasted from PDFs/e-mail.
    return "".join(ref.split()).upper()


def _check_digit(base: str) -> str:
    total = sum(int(d) * _WEIGHTS[i % 3] for i, d in enumerate(reversed(base)))
    return str((10 - total % 10) % 10)


def national_reference(base: str) -> str:
    """Append the viitenumero check digit to `base` (3-19 digits, no leading zero)."""
    if not _BASE_RE.fullmatch(base):
        raise ValueError(
            "reference base must be 3-19 ASCII digits without a leading zero"
        )
    return base + _check_digit(base)


def is_valid_national_reference(ref: str) -> bool:
    """True for a 4-20 digit viitenumero with a correct check digit; spaces allowed."""
    ref = _compact(ref)
    return bool(_NATIONAL_RE.fullmatch(ref)) and _check_digit(ref[:-1]) == ref[-1]


def rf_reference(national: str) -> str:
    """RF creditor reference (compact, e.g. 'RF341234561' for '1234561') for a national reference.

    Finance Finland builds the RF reference on a national reference, so
    both forms identify the same payment.
    """
    body = _compact(national)
    if not is_valid_national_reference(body):
        raise ValueError(f"not a valid national reference: {national!r}")
    return "RF" + mod_97_10.calc_check_digits(body + "RF") + body


def is_valid_rf_reference(ref: str) -> bool:
    """True for any ISO 11649 reference with correct check digits."""
    return iso11649.is_valid(ref)


def normalise_reference(ref: str) -> str | None:
    """National reference digits for a valid national or RF reference, else None.

    Used to match incoming payments: the payer may have typed either form.
    """
    ref = _compact(ref)
    if ref.startswith("RF"):
        if not iso11649.is_valid(ref):
            return None
        ref = ref[4:]
    # Bank files carry the reference zero-padded; zeros do not change the check digit.
    ref = ref.lstrip("0")
    return ref if is_valid_national_reference(ref) else None


def format_national(ref: str) -> str:
    """Printed form: groups of five digits counted from the right."""
    ref = _compact(ref)
    if not is_valid_national_reference(ref):
        raise ValueError(f"not a valid national reference: {ref!r}")
    head = len(ref) % 5
    groups = ([ref[:head]] if head else []) + [
        ref[i : i + 5] for i in range(head, len(ref), 5)
    ]
    return " ".join(groups)


def format_rf(ref: str) -> str:
    """Printed form: groups of four characters from the left."""
    if not iso11649.is_valid(ref):
        raise ValueError(f"not a valid RF reference: {ref!r}")
    return iso11649.format(ref)


def reference_for_loan(sequence_number: int) -> str:
    """Unique national reference for a loan sequence number (1, 2, ...)."""
    # The offset keeps the base at 4+ digits; it is injective, so distinct
    # loans never share a reference.
    if isinstance(sequence_number, bool) or not isinstance(sequence_number, int):
        raise TypeError("sequence_number must be an int")
    if sequence_number < 1:
        raise ValueError("sequence_number must be positive")
    return national_reference(str(1000 + sequence_number))


def virtual_barcode(
    iban: str,
    amount_cents: int,
    reference: str,
    due_date: datetime.date | None,
) -> str:
    """54-digit virtuaaliviivakoodi: version 4 for a national, 5 for an RF reference."""
    if not stdnum_iban.is_valid(iban) or not stdnum_iban.compact(iban).startswith("FI"):
        raise ValueError(f"iban must be a valid Finnish (FI) IBAN: {iban!r}")
    account = stdnum_iban.compact(iban)[2:]  # check digits + 14-digit BBAN = 16

    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise TypeError("amount_cents must be an int (cents), not a float")
    if amount_cents < 0:
        raise ValueError("amount_cents must not be negative")
    # The field holds at most 999 999,99 EUR; zeros mean "no amount", so the
    # payer types it in rather than paying a truncated sum.
    amount = amount_cents if amount_cents <= _MAX_BARCODE_CENTS else 0

    if due_date is None:
        due = "000000"
    elif 2000 <= due_date.year <= 2099:  # YYMMDD cannot carry the century
        due = due_date.strftime("%y%m%d")
    else:
        raise ValueError("due_date must be in years 2000-2099")

    ref = _compact(reference)
    if ref.startswith("RF"):
        # The barcode is numeric: letters in an RF body cannot be encoded.
        numeric = ref.isascii() and ref[4:].isdigit()
        if not (numeric and iso11649.is_valid(ref)):
            raise ValueError(f"reference must be a numeric RF reference: {reference!r}")
        head = f"5{account}{amount:08d}{ref[2:4]}{ref[4:]:0>21}"
    elif is_valid_national_reference(ref):
        head = f"4{account}{amount:08d}000{ref:0>20}"
    else:
        raise ValueError(f"reference is neither national nor RF: {reference!r}")
    return head + due
