"""Bank files of incoming reference payments: ISO 20022 camt.054 and the Finnish KTL file.

    with open_bank_file(bytes_or_path_or_binary_file) as bank_file:
        bank_file.check()              # a whole pass: raises FileRejected for a bad file
        for entry in bank_file.entries():
            ...                        # BankEntry: a payment or a return, perhaps with a problem

Both parsers stream (constant memory). `check()` reads the whole file once before anything is
imported, because some faults show only at the end (a truncated XML document, a KTL batch's
totals, a DTD further down): a file with such a fault is refused whole.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
from collections.abc import Iterator
from typing import BinaryIO

from adapters.bankfiles.camt054 import Camt054Reader
from adapters.bankfiles.common import (DEBIT_FAILED, MALFORMED, NON_EUR, NON_POSITIVE, NOT_BOOKED, BankEntry,
                                       FileRejected, compact_reference)
from adapters.bankfiles.ktl import parse as parse_ktl

__all__ = ["BankEntry", "BankFile", "FileRejected", "Source", "open_bank_file", "compact_reference", "MALFORMED",
           "NON_EUR", "NON_POSITIVE", "NOT_BOOKED", "DEBIT_FAILED", "CAMT054", "KTL"]

CAMT054 = "camt.054"
KTL = "ktl"
Source = bytes | bytearray | memoryview | str | os.PathLike | BinaryIO


class BankFile:
    """One bank file on a seekable binary stream; `format` is "camt.054" or "ktl"."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.format = sniff(stream)
        self.version: str | None = None  # camt.054.001.02 / .08 once read
        self.checked_entries: int | None = None
        self.accounts: set[str | None] = set()
        self.checked_cents = 0  # the readable amounts of the entries, summed by check()

    def entries(self) -> Iterator[BankEntry]:
        self.stream.seek(0)
        if self.format == KTL:
            yield from parse_ktl(self.stream)
            return
        reader = Camt054Reader(self.stream)
        for entry in reader:
            self.version = reader.version
            yield entry
        self.version = reader.version

    def check(self) -> int:
        """Read the whole file; the number of entries, or FileRejected with the reason. `accounts` are
        then the accounts the file reports on (None for an entry whose notification names none)."""
        count, accounts, cents = 0, set(), 0
        for entry in self.entries():
            count += 1
            accounts.add(entry.account)
            cents += entry.amount or 0
        self.checked_entries, self.accounts, self.checked_cents = count, accounts, cents
        return count

    def sha256(self) -> str:
        """The file's identity (R-BOOK-2): the SHA-256 of its bytes, read in chunks."""
        self.stream.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: self.stream.read(1 << 16), b""):
            digest.update(chunk)
        return digest.hexdigest()

    def message_id(self) -> str | None:
        """The bank's own id of the file: camt.054 GrpHdr/MsgId (near the top); KTL has none."""
        if self.format != CAMT054:
            return None
        self.stream.seek(0)
        found = _MSG_ID.search(self.stream.read(8192))
        return found.group(1).decode("ascii") if found else None


# ISO 20022 Max35Text; only printable ASCII without markup is taken as an id.
_MSG_ID = re.compile(rb"<(?:\w+:)?GrpHdr>\s*<(?:\w+:)?MsgId>([!-;=?-~ ]{1,35})</(?:\w+:)?MsgId>")


def sniff(stream: BinaryIO) -> str:
    stream.seek(0)
    head = stream.read(512)
    stream.seek(0)
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text:
        raise FileRejected("the file is empty")
    if text.startswith(b"<"):
        return CAMT054
    if text[:1] == b"0" and text[:7].isdigit():
        return KTL
    raise FileRejected("neither an XML (camt.054) nor a KTL reference-payment file")


@contextlib.contextmanager
def open_bank_file(source: Source) -> Iterator[BankFile]:
    """A BankFile for bytes, a path (str or PathLike) or a seekable binary file object."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield BankFile(io.BytesIO(bytes(source)))
    elif isinstance(source, (str, os.PathLike)):
        try:
            stream = open(source, "rb")
        except OSError as e:
            raise FileRejected(f"cannot read {os.fspath(source)}: {e.strerror}") from None
        with stream:
            yield BankFile(stream)
    else:
        yield BankFile(source)
