"""R-APP-7: the contract's wording (Act §6 terms) in Finnish and Swedish, read back with pypdf, and the
application's contract steps (drawn for a standing offer, signed by every borrower and the official)."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from adapters.notices.contract import render_contract
from domain.case_state import Letter
from domain.errors import DomainError
from tests.unit.test_application_case import AT, ON, decide, prepared

CONTENT = {"reference": "H-7", "loan_id": "H-7", "drawn_on": "2026-03-05", "decided_on": "2026-03-02",
           "valid_until": "2026-04-04", "purpose": "pesukone ja vuokrarästit", "principal": "1000.00",
           "borrowers": [{"borrower_id": "B-1", "name": "Maija Meikäläinen"},
                         {"borrower_id": "B-2", "name": "Matti Meikäläinen"}],
           "interest": {"kind": "fixed", "rate": "2.50"}, "penalty_interest": "statutory",
           "instalments": [{"n": 1, "due_date": "2026-04-10", "amount": "333.33"},
                           {"n": 2, "due_date": "2026-05-10", "amount": "333.33"},
                           {"n": 3, "due_date": "2026-06-10", "amount": "333.34"}],
           "payees": [{"payee_id": "P1", "kind": "creditor", "name": "Perintä Oy", "amount": "700.00"},
                      {"payee_id": "P2", "kind": "vendor", "name": "Kodinkone Ky", "amount": "300.00"}]}
ORGANISER = {"name": "Kittilän kunta", "phone": "016 123"}


def text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def test_r_app_7_finnish_contract_has_every_section_6_term_and_lists_both_borrowers():
    pdf = render_contract(CONTENT, {"name": "Maija Meikäläinen", "address": ["Katu 1"], "language": "fi"}, ORGANISER)
    found = text(pdf)
    for wording in ("Sosiaalisen luoton luottosopimus", "Kittilän kunta (luotonantaja)", "2.3.2026 tehdyn päätöksen (H-7)",
                    "yhteisvastuullisesti", "Maija Meikäläinen (B-1), Matti Meikäläinen (B-2)",
                    "pesukone ja vuokrarästit", "1 000,00", "Kiinteä vuotuinen korko 2,50 %", "3 kuukautta",
                    "1. erä, eräpäivä 10.4.2026", "333,33", "3. erä, eräpäivä 10.6.2026", "333,34",
                    "Ennenaikainen takaisinmaksu (7 §)", "ilman kuluja", "Vapaakuukaudet (7 a §)",
                    "Maksuvapautus (7 b §)", "Eräännyttäminen (8 §)", "vähintään 10 %", "vähintään 5 %",
                    "korkolain 4 §:n 1 momentin", "viitekorko + 7", "Muut kustannukset (6 §)",
                    "velkoja: Perintä Oy", "700,00", "myyjä: Kodinkone Ky", "(9 §)", "voimassa 4.4.2026 asti",
                    "Luotonsaaja Matti Meikäläinen (B-2)", "Luotonantajan puolesta"):
        assert wording in found, wording
    assert pdf == render_contract(CONTENT, {"name": "Maija Meikäläinen", "address": ["Katu 1"], "language": "fi"},
                                  ORGANISER)  # deterministic: its hash can be recorded


def test_r_app_7_swedish_contract_without_penalty_interest_or_interest():
    content = {**CONTENT, "interest": None, "penalty_interest": None, "payees": [],
               "borrowers": CONTENT["borrowers"][:1]}
    found = text(render_contract(content, {"name": "Maija", "language": "sv"}, ORGANISER))
    for wording in ("Kreditavtal om social kredit", "Ingen ränta tas ut på krediten", "Rat 2, förfallodag 10.5.2026",
                    "ingen dröjsmålsränta", "Andra kostnader (6 §)", "Uppsägning (8 §)", "Låntagare Maija"):
        assert wording in found, wording
    assert "solidariskt" not in found and "Utbetalning" not in found


def offered(**kwargs):
    case = prepared()
    decide(case)
    case.record_offer(valid_until=dt.date(2026, 4, 1), on=ON, recorded_at=AT)
    return case


def test_r_app_7_signed_only_after_the_contract_is_drawn_and_not_drawn_again_once_signed():
    case = offered()
    with pytest.raises(DomainError) as refused:
        case.sign_contract(signer="B-1", on=ON, by="dm-1", recorded_at=AT)
    assert "no contract" in refused.value.message
    case.draw_contract(first_due_date=dt.date(2026, 4, 10), letters=[Letter("B-1", "h")], on=ON, by="dm-1",
                       recorded_at=AT)
    assert case.sign_contract(signer="B-1", on=ON, by="dm-1", recorded_at=AT) is False  # the official has not
    assert case.sign_contract(signer="B-1", on=ON, by="dm-1", recorded_at=AT) is False  # once
    with pytest.raises(DomainError):
        case.draw_contract(first_due_date=dt.date(2026, 5, 10), letters=[], on=ON, by="dm-1", recorded_at=AT)
    assert case.sign_contract(signer="official", on=ON, by="dm-1", recorded_at=AT) is True
    assert case.unsigned() == [] and len(case.signatures) == 2
