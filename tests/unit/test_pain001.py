"""R-APP-8: the pain.001.001.03 credit-transfer file validates against the ISO 20022 schema that the
`sepaxml` package ships (nothing downloaded), and payees are checked with python-stdnum."""
from __future__ import annotations

import datetime as dt
import importlib.resources
import xml.etree.ElementTree as ET

import pytest
import xmlschema

from adapters.bankfiles.pain001 import NS, Debtor, Transfer, credit_transfer_file
from application.disbursements import parse_payees
from domain.errors import DomainError

SCHEMA = xmlschema.XMLSchema(str(importlib.resources.files("sepaxml") / "schemas" / "pain.001.001.03.xsd"))
AT = dt.datetime(2026, 3, 20, 10, 30, 15, 123456, tzinfo=dt.timezone.utc)


def test_r_app_8_two_transfers_with_a_finnish_and_an_rf_reference_validate_against_the_xsd():
    xml = credit_transfer_file(
        message_id="LUOTTO-10016-1", created_at=AT, execution_date=dt.date(2026, 3, 20),
        debtor=Debtor("Etelä-Karjalan hyvinvointialue", "FI2112345600000785", "NDEAFIHH"),
        transfers=[Transfer("10016-1", 150000, "Esimerkkirahoitus Oyj", "FI4950009420028730", None, "12344"),
                   Transfer("10016-2", 90000, "Perintä Öy", "FI5810171000000122", "OKOYFIHH", "RF7320260312"),
                   Transfer("10016-3", 1, "Kodinkone Ky", "FI1410093000123458", None, None, "lasku 7")])
    SCHEMA.validate(xml)  # raises on any deviation from pain.001.001.03
    root = ET.fromstring(xml)
    q = lambda path: [e.text for e in root.iter(f"{{{NS}}}{path}")]  # noqa: E731
    assert q("NbOfTxs") == ["3", "3"] and q("CtrlSum") == ["2400.01", "2400.01"]
    assert q("CreDtTm") == ["2026-03-20T10:30:15"] and q("ReqdExctnDt") == ["2026-03-20"]
    assert q("EndToEndId") == ["10016-1", "10016-2", "10016-3"]
    assert q("InstdAmt") == ["1500.00", "900.00", "0.01"]
    assert q("IBAN") == ["FI2112345600000785", "FI4950009420028730", "FI5810171000000122", "FI1410093000123458"]
    assert q("Ref") == ["12344", "RF7320260312"] and q("Ustrd") == ["lasku 7"]
    assert q("BIC") == ["NDEAFIHH", "OKOYFIHH"] and q("Id").count("NOTPROVIDED") == 0


def test_r_app_8_a_debtor_without_a_bic_is_marked_not_provided_and_still_valid():
    xml = credit_transfer_file(message_id="M", created_at=AT, execution_date=dt.date(2026, 3, 20),
                               debtor=Debtor("Kittilän kunta", "FI2112345600000785"),
                               transfers=[Transfer("1-1", 100, "Maija", "DE89370400440532013000")])
    SCHEMA.validate(xml)
    assert b"<Id>NOTPROVIDED</Id>" in xml


PAYEE = {"payee_id": "P1", "kind": "creditor", "name": "Esimerkkirahoitus Oyj", "iban": "FI49 5000 9420 0287 30",
         "reference": "1234 4", "amount": "1500.00"}


def test_r_app_8_payees_are_validated_with_python_stdnum_naming_the_field():
    parsed = parse_payees([PAYEE, {**PAYEE, "payee_id": "P2", "reference": "RF73 2026 0312", "bic": "okoyfihh"}])
    assert [(p["iban"], p["reference"], p["bic"]) for p in parsed] == [
        ("FI4950009420028730", "12344", None), ("FI4950009420028730", "RF7320260312", "OKOYFIHH")]
    for change, field in (({"iban": "FI4950009420028731"}, "payees[0].iban"), ({"bic": "BANK"}, "payees[0].bic"),
                          ({"reference": "12345"}, "payees[0].reference"),
                          ({"reference": "RF00 2026 0312"}, "payees[0].reference"),
                          ({"message": "x"}, "payees[0].message"), ({"kind": "friend"}, "payees[0].kind"),
                          ({"amount": 1500}, "payees[0].amount"), ({"name": "x" * 71}, "payees[0].name"),
                          ({"payee_id": "P 1"}, "payees[0].payee_id"), ({"extra": 1}, "payees[0].extra")):
        with pytest.raises(DomainError) as refused:
            parse_payees([{**PAYEE, **change}])
        assert (refused.value.field, refused.value.rule) == (field, "R-APP-8" if field != "payees[0].amount"
                                                             else refused.value.rule), change
