"""The notice letter (adapters/notices/render.py): what the borrower reads, in Finnish and Swedish.

The text is read back from the PDF with pypdf, so these tests check what a printed or opened
letter says, not what the code meant to write. Rules: R-ACC-6 (acceleration notice: delayed amount,
instalments, cure deadline, takes effect the day after), R-ACC-8, R-REM-1 (reminder), R-MONEY-1
(amounts), R-DATE-1 (dates), R-EVID-3 (a notice is evidence: same content -> same bytes -> same hash);
Act 1133/2002 §8 (legal basis) and §9 (right to a personal discussion).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import time

import pytest
from pypdf import PdfReader

from adapters.notices.render import format_date, format_eur, notice_text, render_notice

# Reference of the loan: base 124456, weights 7,3,1 from the right:
# 6*7 + 5*3 + 4*1 + 4*7 + 2*3 + 1*1 = 96 -> check digit 4 -> 1244564, printed "12 44564".
REFERENCE = "1244564"
REFERENCE_PRINTED = "12 44564"
RF_PRINTED = "RF98 1244 564"  # ISO 11649 on "1244564RF" (see test_reference_numbers.py)
ORGANISER = {"name": "Etelä-Karjalan hyvinvointialue", "iban": "FI21 1234 5600 0007 85", "phone": "040 123 4567"}
IBAN_PRINTED = "FI21 1234 5600 0007 85"


def borrower(language: str | None = "fi", **overrides) -> dict:
    b = {"name": "Aino Äijälä", "address": ["Kauppakatu 1 A 2", "53100 Lappeenranta"], "language": language}
    return {**b, **overrides}


def acceleration(**overrides) -> dict:
    # Sent 3.6.2025 with a 28-day period (no earlier notice in the episode, R-ACC-6):
    # cure deadline 3.6. + 28 d = 1.7.2025, takes effect the day after, 2.7.2025.
    content = {"kind": "acceleration", "loan": "L-2024-001", "sent_on": "2025-06-03", "instalments": [3, 4],
               "delayed_amount": "1234.56", "period_days": 28, "cure_deadline": dt.date(2025, 7, 1),
               "takes_effect_on": "2025-07-02", "reference": REFERENCE}
    return {**content, **overrides}


def reminder(**overrides) -> dict:
    content = {"kind": "reminder", "loan": "L-2024-001", "sent_on": "2025-04-29", "instalments": [3, 4],
               "amounts": ["120.00", "1500.50"], "due_dates": ["2025-03-15", "2025-04-15"],
               "reference": REFERENCE}
    return {**content, **overrides}


def text_of(pdf: bytes) -> str:
    """All pages' text with every run of white space (line breaks, no-break spaces) as one space."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def read(content: dict, language: str | None = "fi") -> str:
    return text_of(render_notice(content, borrower(language), ORGANISER))


# --------------------------------------------------------------------------------------------- #
# Formats
# --------------------------------------------------------------------------------------------- #


def test_r_money_1_amounts_print_in_finnish_format():
    nbsp = "\u00a0"
    assert format_eur(123456) == f"1{nbsp}234,56{nbsp}€"
    assert format_eur(123456789) == f"1{nbsp}234{nbsp}567,89{nbsp}€"
    assert format_eur(5) == f"0,05{nbsp}€"
    assert format_eur(100000) == f"1{nbsp}000,00{nbsp}€"


def test_r_date_1_dates_print_as_d_m_yyyy():
    assert format_date(dt.date(2025, 1, 5)) == "5.1.2025"
    assert format_date("2025-12-31") == "31.12.2025"


# --------------------------------------------------------------------------------------------- #
# Acceleration notice (R-ACC-6, R-ACC-8)
# --------------------------------------------------------------------------------------------- #


def test_r_acc_6_acceleration_notice_in_finnish_names_amount_instalments_and_dates():
    text = read(acceleration(), "fi")
    assert "Ilmoitus luoton eräännyttämisestä" in text
    assert "Päivämäärä 3.6.2025" in text
    assert "L-2024-001" in text
    assert "Viivästyneet maksuerät 3, 4" in text
    assert "Viivästynyt määrä yhteensä 1 234,56 €" in text
    assert "Viimeinen maksupäivä 1.7.2025" in text
    assert "Eräännyttäminen tulee voimaan 2.7.2025" in text
    assert "Ilmoitusaika 28 päivää" in text
    # The consequence and the cure in one sentence (Act §8(3): paying in time cancels it).
    assert ("erääntyy maksettavaksi 2.7.2025, ellei viivästynyttä määrää 1 234,56 € makseta "
            "viimeistään 1.7.2025") in text
    assert "eräännyttäminen raukeaa" in text


def test_r_acc_6_acceleration_notice_in_swedish_names_amount_instalments_and_dates():
    text = read(acceleration(), "sv")
    assert "Meddelande om att krediten förfaller till betalning i förtid" in text
    assert "Datum 3.6.2025" in text
    assert "Försenade rater 3, 4" in text
    assert "Försenat belopp sammanlagt 1 234,56 €" in text
    assert "Sista betalningsdag 1.7.2025" in text
    assert "Krediten förfaller i förtid 2.7.2025" in text
    assert "Meddelandetid 28 dagar" in text
    assert "förfaller till betalning 2.7.2025, om inte det försenade beloppet 1 234,56 € betalas senast 1.7.2025" \
        in text


def test_r_acc_6_two_week_period_is_printed_as_recorded():
    # A reminder was sent earlier in the episode: 14 days, cure 17.6.2025, takes effect 18.6.2025.
    text = read(acceleration(period_days=14, cure_deadline="2025-06-17", takes_effect_on="2025-06-18"))
    assert "Ilmoitusaika 14 päivää" in text
    assert "Viimeinen maksupäivä 17.6.2025" in text
    assert "Eräännyttäminen tulee voimaan 18.6.2025" in text
    assert "1.7.2025" not in text


def test_r_acc_6_per_instalment_figures_are_listed_when_given():
    text = read(acceleration(amounts={"3": "617.28", "4": "617.28"}, due_dates=["2025-03-15", "2025-04-15"]))
    assert "Erä 3 eräpäivä 15.3.2025, 617,28 €" in text
    assert "Erä 4 eräpäivä 15.4.2025, 617,28 €" in text


@pytest.mark.parametrize("language, words", [
    ("fi", ["sosiaalisesta luototuksesta annetun lain (1133/2002) 8 §:n 1 momentin 1 kohta",
            "vähintään 10 prosenttia", "vähintään 5 prosenttia", "8 §:n 2 momentin",
            "neljän viikon", "kahden viikon"]),
    ("sv", ["8 § 1 mom. 1 punkten i lagen om social kreditgivning (1133/2002)",
            "minst 10 procent", "minst 5 procent", "8 § 2 mom.", "fyra veckor", "två veckor"]),
])
def test_r_acc_6_acceleration_notice_states_its_legal_basis_act_8(language, words):
    text = read(acceleration(), language)
    for phrase in words:
        assert phrase in text, phrase


# --------------------------------------------------------------------------------------------- #
# How to pay (both kinds)
# --------------------------------------------------------------------------------------------- #


@pytest.mark.parametrize("language, labels", [
    ("fi", ("Saajan tilinumero (IBAN)", "Viitenumero", "RF-viite", "Summa", "Eräpäivä", "Virtuaaliviivakoodi")),
    ("sv", ("Mottagarens kontonummer (IBAN)", "Referensnummer", "RF-referens", "Belopp", "Förfallodag",
            "Virtuell streckkod")),
])
def test_r_acc_6_notice_says_how_to_pay_with_reference_and_virtual_barcode(language, labels):
    iban, national, rf, amount, due, barcode = labels
    text = read(acceleration(), language)
    assert f"{iban} {IBAN_PRINTED}" in text
    assert f"{national} {REFERENCE_PRINTED}" in text
    assert f"{rf} {RF_PRINTED}" in text
    assert f"{amount} 1 234,56 €" in text
    assert f"{due} 1.7.2025" in text
    # Pankkiviivakoodi version 4: "4" + IBAN digits (16) + euros and cents (8) + "000"
    # + reference zero-padded to 20 + due date YYMMDD.
    expected = "4" + "2112345600000785" + "00123456" + "000" + "1244564".rjust(20, "0") + "250701"
    assert len(expected) == 54
    assert f"{barcode} {expected}" in text
    assert ORGANISER["name"] in text


def test_r_rem_1_reminder_without_amounts_has_a_barcode_without_amount_or_due_date():
    text = read(reminder(amounts=None, due_dates=None))
    assert "Maksuerät 3, 4" in text
    assert "Summa" not in text
    # Zero amount and zero due date: the payer types the amount (Pankkiviivakoodi-opas).
    expected = "4" + "2112345600000785" + "00000000" + "000" + "1244564".rjust(20, "0") + "000000"
    assert expected in text


# --------------------------------------------------------------------------------------------- #
# Reminder (R-REM-1)
# --------------------------------------------------------------------------------------------- #


def test_r_rem_1_reminder_in_finnish_lists_instalments_and_warns_of_acceleration():
    text = read(reminder(), "fi")
    assert "Maksumuistutus" in text
    assert "Päivämäärä 29.4.2025" in text
    assert "Erä 3 eräpäivä 15.3.2025, 120,00 €" in text
    assert "Erä 4 eräpäivä 15.4.2025, 1 500,50 €" in text
    # 120.00 + 1500.50 = 1620.50
    assert "Maksamatta yhteensä 1 620,50 €" in text
    assert "Summa 1 620,50 €" in text
    assert "8 §:n 3 momentissa tarkoitettu huomautus maksun viivästymisestä" in text
    assert "lähettää ilmoituksen luoton eräännyttämisestä" in text
    assert "Ilmoitus luoton eräännyttämisestä" not in text  # it is not itself the notice


def test_r_rem_1_reminder_in_swedish_lists_instalments_and_warns_of_acceleration():
    text = read(reminder(), "sv")
    assert "Betalningspåminnelse" in text
    assert "Datum 29.4.2025" in text
    assert "Rat 3 förfallodag 15.3.2025, 120,00 €" in text
    assert "Rat 4 förfallodag 15.4.2025, 1 500,50 €" in text
    assert "Obetalt sammanlagt 1 620,50 €" in text
    assert "Belopp 1 620,50 €" in text
    assert "anmärkning om betalningsdröjsmål som avses i 8 § 3 mom. i lagen om social kreditgivning (1133/2002)" \
        in text
    assert "meddelande om att krediten förfaller till betalning i förtid" in text


def test_r_rem_1_reminder_pay_by_date_goes_into_instructions_and_barcode():
    text = read(reminder(pay_by="2025-05-13"))
    assert "Eräpäivä 13.5.2025" in text
    # 1620.50 € -> "00162050"; 13.5.2025 -> "250513"
    assert "4" + "2112345600000785" + "00162050" + "000" + "1244564".rjust(20, "0") + "250513" in text


# --------------------------------------------------------------------------------------------- #
# Act §9: the right to a personal discussion, in both kinds and both languages
# --------------------------------------------------------------------------------------------- #


@pytest.mark.parametrize("make", [acceleration, reminder])
@pytest.mark.parametrize("language, words", [
    ("fi", ["Oikeus henkilökohtaiseen keskusteluun", "keskustella henkilökohtaisesti",
            "edustavan viranhaltijan kanssa", "1133/2002, 9 §", "040 123 4567"]),
    ("sv", ["Rätt till personligt samtal", "personligen diskutera med en tjänsteinnehavare",
            "9 § i lagen om social kreditgivning 1133/2002", "040 123 4567"]),
])
def test_r_acc_6_r_rem_1_every_notice_names_the_right_to_a_personal_discussion_act_9(make, language, words):
    text = read(make(), language)
    for phrase in words:
        assert phrase in text, phrase


# --------------------------------------------------------------------------------------------- #
# Addressee and language
# --------------------------------------------------------------------------------------------- #


def test_r_acc_6_letter_is_addressed_to_the_borrower_and_defaults_to_finnish():
    pdf = render_notice(acceleration(), borrower(language=None), ORGANISER)
    text = text_of(pdf)
    assert "Aino Äijälä Kauppakatu 1 A 2 53100 Lappeenranta" in text
    assert "Ilmoitus luoton eräännyttämisestä" in text


def test_r_acc_6_names_outside_latin_1_are_printed_without_failing():
    pdf = render_notice(acceleration(), borrower(name="Łukasz Wiśniewski"), ORGANISER)
    assert "Lukasz Wisniewski" in text_of(pdf)


@pytest.mark.parametrize("bad", [
    {"kind": "letter"}, {"reference": None}, {"instalments": []}, {"delayed_amount": "12.345"},
])
def test_r_acc_6_incomplete_content_is_refused(bad):
    with pytest.raises(ValueError):
        render_notice(acceleration(**bad), borrower(), ORGANISER)


def test_r_acc_6_unknown_language_is_refused():
    with pytest.raises(ValueError):
        render_notice(acceleration(), borrower(language="en"), ORGANISER)


def test_r_acc_6_plain_text_for_electronic_message_has_the_same_figures():
    title, body = notice_text(acceleration(), borrower("sv"), ORGANISER)
    assert title == "Meddelande om att krediten förfaller till betalning i förtid"
    for figure in ("1 234,56 €", "1.7.2025", "2.7.2025", REFERENCE_PRINTED, RF_PRINTED, "9 §", "1133/2002"):
        assert figure in body, figure


# --------------------------------------------------------------------------------------------- #
# Determinism (R-EVID-3: the notice's hash is evidence)
# --------------------------------------------------------------------------------------------- #


def test_r_evid_3_same_notice_renders_byte_identical_pdf_at_another_time():
    first = render_notice(acceleration(), borrower(), ORGANISER)
    time.sleep(1.1)  # a creation date or /ID taken from the clock would now differ
    second = render_notice(acceleration(), borrower(), ORGANISER)
    assert first == second
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    # The PDF is dated by the notice itself, not by when it was rendered.
    assert b"/CreationDate (D:20250603000000Z)" in first


def test_r_evid_3_same_figures_in_other_python_types_render_the_same_bytes():
    as_strings = render_notice(acceleration(cure_deadline="2025-07-01"), borrower(), ORGANISER)
    as_values = render_notice(acceleration(sent_on=dt.date(2025, 6, 3), delayed_amount=123456,
                                           takes_effect_on=dt.date(2025, 7, 2)), borrower(), ORGANISER)
    assert as_strings == as_values


def test_r_evid_3_a_different_figure_gives_a_different_pdf():
    base = render_notice(acceleration(), borrower(), ORGANISER)
    assert render_notice(acceleration(delayed_amount="1234.57"), borrower(), ORGANISER) != base
    assert render_notice(acceleration(), borrower("sv"), ORGANISER) != base
