"""SEPA credit transfers as ISO 20022 pain.001.001.03 (R-APP-8): the file the organiser's bank
executes to pay a loan out, one transfer per payee of the decision.

Built with the standard library's ElementTree in the order the XSD prescribes; the tests validate
every file against the pain.001.001.03 schema that the `sepaxml` package ships. Payee names and
accounts come from the personal-data store and go only into this file, never into events.
"""
from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from adapters.reference_numbers import is_valid_national_reference
from domain.money import Cents, format_cents

NS = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"


@dataclass(frozen=True)
class Transfer:
    end_to_end_id: str  # our transfer id (at most 35 characters)
    amount: Cents
    name: str
    iban: str
    bic: str | None = None
    reference: str | None = None  # Finnish national or RF creditor reference
    message: str | None = None  # unstructured remittance text when there is no reference


@dataclass(frozen=True)
class Debtor:
    name: str
    iban: str
    bic: str | None = None


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{NS}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def _agent(parent: ET.Element, tag: str, bic: str | None) -> None:
    institution = _sub(_sub(parent, tag), "FinInstnId")
    if bic:
        _sub(institution, "BIC", bic)
    else:  # the EPC's marker when the payer does not name the bank (IBAN-only SEPA)
        _sub(_sub(institution, "Othr"), "Id", "NOTPROVIDED")


def credit_transfer_file(*, message_id: str, created_at: dt.datetime, execution_date: dt.date, debtor: Debtor,
                         transfers: list[Transfer]) -> bytes:
    """One pain.001.001.03 document with one payment (the organiser's account) and its transfers."""
    total = format_cents(sum(t.amount for t in transfers))
    ET.register_namespace("", NS)
    root = ET.Element(f"{{{NS}}}Document")
    initiation = _sub(root, "CstmrCdtTrfInitn")
    header = _sub(initiation, "GrpHdr")
    _sub(header, "MsgId", message_id[:35])
    _sub(header, "CreDtTm", created_at.astimezone(dt.timezone.utc).replace(microsecond=0, tzinfo=None).isoformat())
    _sub(header, "NbOfTxs", str(len(transfers)))
    _sub(header, "CtrlSum", total)
    _sub(_sub(header, "InitgPty"), "Nm", debtor.name[:70])
    payment = _sub(initiation, "PmtInf")
    _sub(payment, "PmtInfId", message_id[:35])
    _sub(payment, "PmtMtd", "TRF")
    _sub(payment, "BtchBookg", "false")  # one line per transfer on the organiser's statement
    _sub(payment, "NbOfTxs", str(len(transfers)))
    _sub(payment, "CtrlSum", total)
    _sub(_sub(_sub(payment, "PmtTpInf"), "SvcLvl"), "Cd", "SEPA")
    _sub(payment, "ReqdExctnDt", execution_date.isoformat())
    _sub(_sub(payment, "Dbtr"), "Nm", debtor.name[:70])
    _sub(_sub(_sub(payment, "DbtrAcct"), "Id"), "IBAN", debtor.iban)
    _agent(payment, "DbtrAgt", debtor.bic)
    _sub(payment, "ChrgBr", "SLEV")
    for t in transfers:
        tx = _sub(payment, "CdtTrfTxInf")
        _sub(_sub(tx, "PmtId"), "EndToEndId", t.end_to_end_id)
        _sub(_sub(tx, "Amt"), "InstdAmt", format_cents(t.amount), Ccy="EUR")
        if t.bic:
            _agent(tx, "CdtrAgt", t.bic)
        _sub(_sub(tx, "Cdtr"), "Nm", t.name[:70])
        _sub(_sub(_sub(tx, "CdtrAcct"), "Id"), "IBAN", t.iban)
        remittance = _sub(tx, "RmtInf")
        if t.reference:
            reference = _sub(_sub(remittance, "Strd"), "CdtrRefInf")
            code = _sub(_sub(reference, "Tp"), "CdOrPrtry")
            _sub(code, "Cd", "SCOR")
            _sub(reference, "Ref", t.reference)
        else:
            _sub(remittance, "Ustrd", (t.message or "")[:140] or t.end_to_end_id)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def reference_kind(reference: str) -> str | None:
    """`rf`, `national` or None (not a valid creditor reference)."""
    from stdnum import iso11649

    if reference.startswith("RF"):
        return "rf" if iso11649.is_valid(reference) else None
    return "national" if is_valid_national_reference(reference) else None
