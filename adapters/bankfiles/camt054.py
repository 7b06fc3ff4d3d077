"""ISO 20022 camt.054 (BankToCustomerDebitCreditNotification), versions 001.02 and 001.08, read
safely and as a stream.

Safety: the XML goes through defusedxml's parser with every DTD refused (so no external entity,
no external DTD and no entity-expansion bomb is ever processed) and a nesting limit. Streaming:
elements are handled at their end tag and removed from their parent at once, each transaction
(TxDtls) on its own, so memory stays flat however many entries or transactions a file holds.

What becomes an entry (Finance Finland's camt.054 guide follows the "Saapuvat viitemaksut"
structure: one Ntry per booked credit or batch of credits, one TxDtls per reference payment):

- each `Ntry/NtryDtls/TxDtls` is one payment; an entry without TxDtls is one payment itself;
- payment_id = `TxDtls/Refs/AcctSvcrRef` (archive id), else the entry's `AcctSvcrRef` (with
  "/n" appended when several transactions of the entry share it);
- amount = `TxDtls/Amt` (001.08) or `TxDtls/AmtDtls/TxAmt/Amt`, else the entry's `Amt`; `Ccy`
  must be EUR; value date `ValDt/Dt` (else `BookgDt/Dt`), booking date `BookgDt/Dt`;
  reference `RmtInf/Strd/CdtrRefInf/Ref`; payer `RltdPties/Dbtr/Nm` (001.08: `Dbtr/Pty/Nm`);
  account `Ntfctn/Acct/Id/IBAN` (else `Id/Othr/Id`), the organiser's account the notification is for;
- a return: `RvslInd` true (the bank reverses an earlier booking; ISO 20022 reports the reversal of
  a credit as a debit with RvslInd, but a reversal flag on a credit is taken as a return too, since
  a notification of incoming reference payments has nothing else to reverse), a debit (`CdtDbtInd`
  DBIT) or return information (`TxDtls/RtrInf`); only booked entries (`Sts` BOOK) count.

File checks: the root must be a camt.054 Document of a supported version; the transactions of an
entry must add up to its amount; `TxsSummry` totals, when given, must match the entries.
"""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, iterparse

from adapters.bankfiles.common import (MALFORMED, NON_EUR, NOT_BOOKED, BankEntry, FileRejected, compact_reference,
                                       parse_cents, parse_iso_date)

VERSIONS = {
    "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02": "camt.054.001.02",
    "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08": "camt.054.001.08",
}
MAX_DEPTH = 48
# Depths of the elements handled (Document = 0).
NTFCTN, NTRY, TXDTLS = 2, 3, 5


class _Paths:
    def __init__(self, namespace: str):
        self.ns = {"c": namespace}
        self.q = lambda local: f"{{{namespace}}}{local}"

    def find(self, el: Element, *paths: str) -> Element | None:
        for path in paths:
            found = el.find("/".join(f"c:{p}" for p in path.split("/")), self.ns)
            if found is not None:
                return found
        return None

    def text(self, el: Element, *paths: str) -> str | None:
        found = self.find(el, *paths)
        return found.text.strip() if found is not None and found.text and found.text.strip() else None


class _Entry:
    """The Ntry being read: its own fields (read once, when its first transaction ends) and its
    transactions, yielded one behind so that a shared archive id can be numbered."""

    def __init__(self, index: int, paths: _Paths, account: str | None = None):
        self.index, self.p, self.account = index, paths, account
        self.head: dict | None = None
        self.count = 0
        self.waiting: tuple[int, dict] | None = None
        self.tx_cents: int | None = 0  # sum of the transactions' amounts, None when not comparable

    def read_head(self, ntry: Element) -> dict:
        if self.head is None:
            p = self.p
            amount = p.find(ntry, "Amt")
            self.head = {
                "amount": amount.text if amount is not None else None,
                "currency": amount.get("Ccy") if amount is not None else None,
                "debit": p.text(ntry, "CdtDbtInd") == "DBIT",
                "reversal": (p.text(ntry, "RvslInd") or "").lower() in ("true", "1"),
                "status": p.text(ntry, "Sts/Cd", "Sts"),
                "booked": p.text(ntry, "BookgDt/Dt", "BookgDt/DtTm"),
                "value": p.text(ntry, "ValDt/Dt", "ValDt/DtTm"),
                "archive_id": p.text(ntry, "AcctSvcrRef"),
            }
        return self.head

    def transaction(self, tx: Element, ntry: Element) -> Iterator[BankEntry]:
        self.read_head(ntry)
        p = self.p
        amount = p.find(tx, "Amt", "AmtDtls/TxAmt/Amt")
        reference = None
        for strd in tx.iterfind("c:RmtInf/c:Strd", p.ns):
            reference = p.text(strd, "CdtrRefInf/Ref")
            if reference:
                break
        data = {"archive_id": p.text(tx, "Refs/AcctSvcrRef"),
                "amount": amount.text if amount is not None else None,
                "currency": amount.get("Ccy") if amount is not None else None,
                "debit": p.text(tx, "CdtDbtInd") == "DBIT",
                "returned": p.find(tx, "RtrInf") is not None,
                "reference": reference,
                "debtor": p.text(tx, "RltdPties/Dbtr/Nm", "RltdPties/Dbtr/Pty/Nm")}
        self.count += 1
        cents = parse_cents(data["amount"])[0] if data["amount"] is not None else None
        if cents is None or self.tx_cents is None or data["currency"] != self.head["currency"]:
            self.tx_cents = None
        else:
            self.tx_cents += cents
        if self.waiting is not None:
            yield self._build(*self.waiting, several=True)
        self.waiting = (self.count, data)

    def finish(self, ntry: Element) -> Iterator[BankEntry]:
        head = self.read_head(ntry)
        if self.waiting is None:
            yield self._build(0, {}, several=False)
        else:
            yield self._build(*self.waiting, several=self.count > 1)
            entry_cents = parse_cents(head["amount"])[0]
            if self.tx_cents is not None and entry_cents is not None and self.tx_cents != abs(entry_cents):
                raise FileRejected(f"Ntry {self.index}: its {self.count} transactions add up to "
                                   f"{Decimal(self.tx_cents) / 100:.2f}, the entry says {head['amount']}")

    def _build(self, number: int, tx: dict, *, several: bool) -> BankEntry:
        head = self.head
        own_id = tx.get("archive_id")
        entry_id = head["archive_id"]
        payment_id = own_id or (f"{entry_id}/{number}" if several and entry_id else entry_id)
        amount_text = tx.get("amount") if tx.get("amount") is not None else (None if several else head["amount"])
        currency = tx.get("currency") if tx.get("amount") is not None else head["currency"]
        cents, code, problem = parse_cents(amount_text)
        if amount_text is None:
            problem = "the transaction has no amount" if several else "no amount"
        booked, value = parse_iso_date(head["booked"]), parse_iso_date(head["value"])
        if payment_id is None:
            code, problem = MALFORMED, "no AcctSvcrRef (archive id)"
        elif code == MALFORMED:
            pass
        elif value is None and booked is None:
            code, problem = MALFORMED, "no readable value date (ValDt) or booking date (BookgDt)"
        elif (head["status"] or "BOOK") != "BOOK":
            code, problem = NOT_BOOKED, f"status {head['status']}: not booked"
        elif currency != "EUR":
            code, problem = NON_EUR, f"currency {currency or '(none)'} is not EUR"
        returned = head["reversal"] or head["debit"] or tx.get("debit", False) or tx.get("returned", False)
        ids = tuple(dict.fromkeys(i for i in (own_id, entry_id) if i))
        location = f"Ntry {self.index}" + (f" TxDtls {number}" if number else "")
        return BankEntry(location=location, kind="return" if returned else "payment", payment_id=payment_id,
                         amount=cents, currency=currency,
                         value_date=value or booked, booking_date=booked or value,
                         reference=compact_reference(tx.get("reference")), debtor=tx.get("debtor"),
                         problem=problem, problem_code=code, original_ids=ids if returned else (),
                         account=self.account)


class _Totals:
    """Entries of one Ntfctn by credit/debit, to check against its TxsSummry."""

    def __init__(self):
        self.counts = {"CRDT": 0, "DBIT": 0}
        self.sums: dict[str, Decimal | None] = {"CRDT": Decimal(0), "DBIT": Decimal(0)}

    def add(self, head: dict) -> None:
        side = "DBIT" if head["debit"] else "CRDT"
        self.counts[side] += 1
        cents = parse_cents(head["amount"])[0]
        current = self.sums[side]
        self.sums[side] = None if cents is None or current is None else current + Decimal(abs(cents)) / 100

    def check(self, ntfctn: Element, p: _Paths, index: int) -> None:
        for side, path in (("CRDT", "TxsSummry/TtlCdtNtries"), ("DBIT", "TxsSummry/TtlDbtNtries")):
            summary = p.find(ntfctn, path)
            if summary is None:
                continue
            number, total = p.text(summary, "NbOfNtries"), p.text(summary, "Sum")
            readable = number is not None and number.isascii() and number.isdigit()
            if number is not None and (not readable or int(number) != self.counts[side]):
                raise FileRejected(f"Ntfctn {index}: TxsSummry gives {number} {side} entries, the file holds "
                                   f"{self.counts[side]}")
            if total is not None and self.sums[side] is not None:
                try:
                    matches = Decimal(total) == self.sums[side]
                except ArithmeticError:
                    matches = False
                if not matches:
                    raise FileRejected(f"Ntfctn {index}: TxsSummry gives {side} entries worth {total}, the entries "
                                       f"add up to {self.sums[side]:.2f}")


class Camt054Reader:
    """Entries of a camt.054 file. `version` is known once the root element has been read."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.version: str | None = None

    def __iter__(self) -> Iterator[BankEntry]:
        try:
            yield from self._entries()
        except ParseError as e:
            raise FileRejected(f"not well-formed XML: {e}") from None
        except DTDForbidden as e:
            raise FileRejected(f"a DTD (<!DOCTYPE {e.name}>) is not allowed in a bank file: external entities and "
                               "entity expansion are refused") from None
        except (EntitiesForbidden, ExternalReferenceForbidden, DefusedXmlException) as e:
            raise FileRejected(f"refused XML construct: {e}") from None
        except (LookupError, UnicodeError) as e:  # an XML declaration naming an unknown encoding
            raise FileRejected(f"unreadable XML: {e}") from None

    def _entries(self) -> Iterator[BankEntry]:
        parser = DefusedXMLParser(target=TreeBuilder(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
        stack: list[Element] = []
        p: _Paths | None = None
        entry: _Entry | None = None
        totals = _Totals()
        entries = notifications = 0
        account: str | None = None
        for event, el in iterparse(self.stream, events=("start", "end"), parser=parser):
            if event == "start":
                depth = len(stack)
                if depth == 0:
                    p = self._root(el)
                elif depth == 1 and el.tag != p.q("BkToCstmrDbtCdtNtfctn"):
                    raise FileRejected(f"not a debit/credit notification: {_local(el.tag)} under Document")
                elif depth == NTFCTN and el.tag == p.q("Ntfctn"):
                    notifications += 1
                    totals = _Totals()
                    account = None
                elif depth == NTRY and el.tag == p.q("Ntry") and stack[-1].tag == p.q("Ntfctn"):
                    entries += 1
                    entry = _Entry(entries, p, account)
                elif depth >= MAX_DEPTH:
                    raise FileRejected(f"elements nested deeper than {MAX_DEPTH} levels")
                stack.append(el)
                continue
            stack.pop()
            depth = len(stack)
            if entry is not None and depth == TXDTLS and el.tag == p.q("TxDtls") and stack[-1].tag == p.q("NtryDtls"):
                yield from entry.transaction(el, stack[NTRY])
                stack[-1].remove(el)
            elif entry is not None and depth == NTRY and el.tag == p.q("Ntry"):
                yield from entry.finish(el)
                totals.add(entry.head)
                stack[-1].remove(el)
                entry = None
            elif depth == NTFCTN and el.tag == p.q("Ntfctn"):
                totals.check(el, p, notifications)
                stack[-1].remove(el)
            elif depth == NTRY and el.tag == p.q("Acct") and stack[-1].tag == p.q("Ntfctn"):
                # The account this notification reports on (it precedes the entries: Ntfctn/Acct).
                account = "".join((p.text(el, "Id/IBAN", "Id/Othr/Id") or "").split()).upper() or None
        if p is None:
            raise FileRejected("no XML root element")

    def _root(self, el: Element) -> _Paths:
        namespace, _, local = el.tag[1:].partition("}") if el.tag.startswith("{") else ("", "", el.tag)
        if local != "Document" or not namespace.startswith("urn:iso:std:iso:20022:tech:xsd:camt.054."):
            raise FileRejected(f"not a camt.054 document: the root element is {local!r} in namespace "
                               f"{namespace or '(none)'}")
        if namespace not in VERSIONS:
            raise FileRejected(f"unsupported camt.054 version {namespace.rsplit(':', 1)[-1]} "
                               f"(supported: {', '.join(VERSIONS.values())})")
        self.version = VERSIONS[namespace]
        return _Paths(namespace)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]
