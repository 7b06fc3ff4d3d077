"""The notice letter as a PDF: a payment reminder or a notice of acceleration (Act 1133/2002 §8).

`render_notice(content, borrower, organiser) -> bytes` is deterministic: the same input gives a
byte-identical PDF (the creation date is the notice's own date, the file /ID is derived from the
content, no clock is read), so the PDF's SHA-256 can be kept as evidence beside the event.
`notice_text(...)` gives the same wording as (title, plain text) for an electronic message body.

Inputs
- content: what the domain records for a NoticeSent, plus the loan's payment reference:
    kind "reminder" | "acceleration"; "loan" (or "loan_id"); "sent_on"; "instalments" [numbers];
    "reference" (national viitenumero of the loan; the RF form is derived from it);
    acceleration: "delayed_amount", "period_days", "cure_deadline", "takes_effect_on";
    optional for either kind: "amounts" and "due_dates" per instalment (a list aligned with
    "instalments" or a dict keyed by instalment number), "pay_by" (reminder: due date printed
    in the payment instructions and the virtual barcode).
  Dates are `datetime.date` or ISO strings; amounts are decimal euro strings ("1234.56", as
  `domain.money.format_cents` writes them) or int cents.
- borrower: {"name", "address": [lines], "language": "fi" | "sv"} (default "fi").
- organiser: {"name", "iban", "phone"}.

The text uses a PDF core font (Helvetica) in WinAnsi encoding (cp1252: Latin-1 plus €), so å ä ö
and € print without embedding a font; any other character in a name or address is reduced to
its base letter (Ł -> L) or "?" rather than failing.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from fpdf import FPDF
from stdnum import iban as stdnum_iban

from adapters.reference_numbers import format_national, format_rf, rf_reference, virtual_barcode

NBSP = "\u00a0"
LANGUAGES = ("fi", "sv")
_ENCODING = "cp1252"

_FI = {
    "date": "Päivämäärä", "loan": "Luotto", "phone": "Puhelin",
    "instalment": "Erä {n}", "due": "eräpäivä {date}", "instalments": "Maksuerät",
    "payment": "Maksuohjeet", "payee": "Saaja", "iban": "Saajan tilinumero (IBAN)",
    "reference": "Viitenumero", "rf": "RF-viite", "amount": "Summa", "pay_by": "Eräpäivä",
    "barcode": "Virtuaaliviivakoodi",
    "use_reference": "Käyttäkää maksaessanne aina viitenumeroa tai RF-viitettä, jotta maksu "
                     "kohdistuu oikein.",
    "discussion_title": "Oikeus henkilökohtaiseen keskusteluun",
    "discussion": "Teillä on oikeus keskustella henkilökohtaisesti sosiaalisen luoton myöntäjää "
                  "edustavan viranhaltijan kanssa (laki sosiaalisesta luototuksesta 1133/2002, 9 §). "
                  "Voitte saada myös taloudellista neuvontaa ja ohjausta. Pyytäkää keskustelua "
                  "soittamalla numeroon {phone}.",
    "legal_title": "Oikeudellinen perusta",
    # Reminder
    "reminder_title": "Maksumuistutus",
    "reminder_intro": "Sosiaalisen luoton {loan} alla luetellut maksuerät ovat erääntyneet, mutta niitä "
                      "ei ole maksettu kokonaan. Pyydämme maksamaan ne viipymättä. Jos olette jo "
                      "maksaneet, tämä muistutus on aiheeton.",
    "reminder_total": "Maksamatta yhteensä",
    "reminder_penalty": "Viivästyneelle määrälle kertyy viivästyskorkoa maksupäivään asti.",
    "reminder_legal": "Tämä muistutus on sosiaalisesta luototuksesta annetun lain (1133/2002) 8 §:n "
                      "3 momentissa tarkoitettu huomautus maksun viivästymisestä. Jos maksu viivästyy "
                      "edelleen, luotonantaja voi lain 8 §:n 1 momentin nojalla lähettää ilmoituksen "
                      "luoton eräännyttämisestä. Tämän huomautuksen jälkeen eräännyttäminen voi tulla "
                      "voimaan aikaisintaan kahden viikon kuluttua eräännyttämisilmoituksen "
                      "lähettämisestä.",
    "reminder_hardship": "Jos maksun viivästyminen johtuu sairaudesta, työttömyydestä tai muusta niihin "
                         "verrattavasta teistä riippumattomasta syystä, ottakaa yhteyttä meihin.",
    # Acceleration
    "acceleration_title": "Ilmoitus luoton eräännyttämisestä",
    "acceleration_intro": "Sosiaalisen luoton {loan} maksu on viivästynyt vähintään kuukauden. "
                          "Viivästyneet maksuerät ja niiden maksamaton määrä:",
    "delayed_instalments": "Viivästyneet maksuerät",
    "delayed_amount": "Viivästynyt määrä yhteensä",
    "acceleration_body": "Luoton koko jäljellä oleva määrä erääntyy maksettavaksi {takes_effect}, ellei "
                         "viivästynyttä määrää {amount} makseta viimeistään {cure}. Jos maksatte "
                         "viivästyneen määrän viimeistään tuona päivänä, eräännyttäminen raukeaa ja "
                         "luoton maksaminen jatkuu maksusuunnitelman mukaisesti.",
    "cure_deadline": "Viimeinen maksupäivä",
    "takes_effect": "Eräännyttäminen tulee voimaan",
    "period": "Ilmoitusaika",
    "days": "{n} päivää",
    "acceleration_legal": "Peruste: sosiaalisesta luototuksesta annetun lain (1133/2002) 8 §:n 1 momentin "
                          "1 kohta. Maksu on viivästynyt vähintään kuukauden ja on edelleen suorittamatta, "
                          "ja viivästynyt määrä on vähintään 10 prosenttia luotosta tai, jos siihen "
                          "sisältyy useampi kuin yksi maksuerä, vähintään 5 prosenttia luoton "
                          "alkuperäisestä määrästä taikka käsittää koko jäännössaatavan. Lain 8 §:n "
                          "3 momentin mukaan eräännyttäminen voi tulla voimaan aikaisintaan neljän viikon "
                          "tai, jos maksun viivästymisestä on aiemmin huomautettu, kahden viikon kuluttua "
                          "tämän ilmoituksen lähettämisestä.",
    "acceleration_hardship": "Jos maksun viivästyminen johtuu sairaudesta, työttömyydestä tai muusta niihin "
                             "verrattavasta teistä riippumattomasta syystä, ilmoittakaa siitä meille "
                             "viipymättä. Tällöin luottoa ei lain 8 §:n 2 momentin mukaan eräännytetä, "
                             "paitsi jos se viivästyksen kesto ja muut olosuhteet huomioon ottaen olisi "
                             "luotonantajalle ilmeisen kohtuutonta.",
}

_SV = {
    "date": "Datum", "loan": "Kredit", "phone": "Telefon",
    "instalment": "Rat {n}", "due": "förfallodag {date}", "instalments": "Rater",
    "payment": "Betalningsanvisning", "payee": "Mottagare", "iban": "Mottagarens kontonummer (IBAN)",
    "reference": "Referensnummer", "rf": "RF-referens", "amount": "Belopp", "pay_by": "Förfallodag",
    "barcode": "Virtuell streckkod",
    "use_reference": "Ange alltid referensnumret eller RF-referensen när ni betalar, så att "
                     "betalningen blir rätt registrerad.",
    "discussion_title": "Rätt till personligt samtal",
    "discussion": "Ni har rätt att personligen diskutera med en tjänsteinnehavare som företräder den som "
                  "beviljat den sociala krediten (9 § i lagen om social kreditgivning 1133/2002). Ni kan "
                  "också få ekonomisk rådgivning och handledning. Begär ett samtal genom att ringa "
                  "{phone}.",
    "legal_title": "Rättslig grund",
    "reminder_title": "Betalningspåminnelse",
    "reminder_intro": "Nedan angivna rater på den sociala krediten {loan} har förfallit till betalning men "
                      "har inte betalats i sin helhet. Vi ber er betala dem utan dröjsmål. Om ni redan "
                      "har betalat kan ni bortse från denna påminnelse.",
    "reminder_total": "Obetalt sammanlagt",
    "reminder_penalty": "På det försenade beloppet löper dröjsmålsränta fram till betalningsdagen.",
    "reminder_legal": "Denna påminnelse är en sådan anmärkning om betalningsdröjsmål som avses i 8 § "
                      "3 mom. i lagen om social kreditgivning (1133/2002). Om betalningen fortfarande "
                      "dröjer kan kreditgivaren med stöd av 8 § 1 mom. skicka ett meddelande om att "
                      "krediten förfaller till betalning i förtid. Efter denna anmärkning kan det träda "
                      "i kraft tidigast två veckor efter att meddelandet har skickats.",
    "reminder_hardship": "Om dröjsmålet beror på sjukdom, arbetslöshet eller någon annan därmed jämförbar "
                         "omständighet som ni inte kunnat påverka, kontakta oss.",
    "acceleration_title": "Meddelande om att krediten förfaller till betalning i förtid",
    "acceleration_intro": "Betalningen av den sociala krediten {loan} har varit försenad i minst en "
                          "månad. De försenade raterna och det obetalda beloppet:",
    "delayed_instalments": "Försenade rater",
    "delayed_amount": "Försenat belopp sammanlagt",
    "acceleration_body": "Hela det återstående beloppet av krediten förfaller till betalning {takes_effect}, "
                         "om inte det försenade beloppet {amount} betalas senast {cure}. Om ni betalar det "
                         "försenade beloppet senast den dagen förfaller krediten inte i förtid, och "
                         "betalningen fortsätter enligt betalningsplanen.",
    "cure_deadline": "Sista betalningsdag",
    "takes_effect": "Krediten förfaller i förtid",
    "period": "Meddelandetid",
    "days": "{n} dagar",
    "acceleration_legal": "Grund: 8 § 1 mom. 1 punkten i lagen om social kreditgivning (1133/2002). "
                          "Betalningen har varit försenad i minst en månad och är fortfarande obetald, och "
                          "det försenade beloppet utgör minst 10 procent av krediten eller, om det omfattar "
                          "flera rater, minst 5 procent av det ursprungliga kreditbeloppet eller hela den "
                          "återstående fordran. Enligt 8 § 3 mom. kan krediten förfalla till betalning i "
                          "förtid tidigast fyra veckor, eller om ni tidigare har fått en anmärkning om "
                          "dröjsmålet två veckor, efter att detta meddelande har skickats.",
    "acceleration_hardship": "Om dröjsmålet beror på sjukdom, arbetslöshet eller någon annan därmed "
                             "jämförbar omständighet som ni inte kunnat påverka, meddela oss det utan "
                             "dröjsmål. Då förfaller krediten enligt 8 § 2 mom. inte i förtid, om det inte "
                             "med hänsyn till dröjsmålets längd och övriga omständigheter vore uppenbart "
                             "oskäligt för kreditgivaren.",
}

TEXTS = {"fi": _FI, "sv": _SV}


# ----------------------------------------------------------------------------------------- #
# Formatting
# ----------------------------------------------------------------------------------------- #


def format_date(value: dt.date | str) -> str:
    """Finnish (and Finland-Swedish) date: d.m.yyyy without leading zeros."""
    d = _date(value, "date")
    return f"{d.day}.{d.month}.{d.year}"


def format_eur(cents: int) -> str:
    """'1 234,56 €' (no-break spaces, so the figure never wraps apart)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    groups = f"{whole:,}".replace(",", NBSP)
    return f"{sign}{groups},{part:02d}{NBSP}€"


def amount_cents(value: Any, field: str = "amount") -> int:
    """Decimal euro string ("1234.56") or int cents -> int cents."""
    if isinstance(value, bool):
        raise ValueError(f"{field} must be an amount, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{field} must be a decimal euro amount, got {value!r}") from None
        cents = amount * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"{field} has more than two decimals: {value!r}")
        return int(cents)
    raise ValueError(f"{field} must be a decimal string or int cents, got {value!r}")


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{field} must be a date or an ISO date string, got {value!r}")


_BASE_LETTERS = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Ħ": "H", "ħ": "h"}
# Keep a number with the word it counts ("8 §", "3 mom.", "28 päivää") on one line.
_GLUE = re.compile(r"(\d) (?=§|mom\.|momentin|momentissa|kohta|punkten|prosenttia|procent|päivää|dagar"
                   r"|viikon|veckor)")


def _safe(text: str) -> str:
    """Text the core font can print (cp1252); other letters lose their accents, or become '?'."""
    out = []
    for ch in _GLUE.sub("\\1" + NBSP, str(text)):
        ch = _BASE_LETTERS.get(ch, ch)
        try:
            ch.encode(_ENCODING)
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        try:
            base.encode(_ENCODING)
            out.append(base or "?")
        except UnicodeEncodeError:
            out.append("?")
    return "".join(out)


# ----------------------------------------------------------------------------------------- #
# The letter as blocks, shared by the PDF and the plain text
# ----------------------------------------------------------------------------------------- #


def _per_instalment(content: Mapping, key: str, instalments: list[int]) -> dict[int, Any]:
    raw = content.get(key)
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        return {int(k): v for k, v in raw.items()}
    values = list(raw)
    if len(values) != len(instalments):
        raise ValueError(f"{key} must list one value for each instalment {instalments}, got {values!r}")
    return dict(zip(instalments, values))


class _Letter:
    """The figures of one notice, read once and checked."""

    def __init__(self, content: Mapping, borrower: Mapping, organiser: Mapping):
        self.kind = content.get("kind")
        if self.kind not in ("reminder", "acceleration"):
            raise ValueError(f"notice kind must be 'reminder' or 'acceleration', got {self.kind!r}")
        language = borrower.get("language") or "fi"
        if language not in LANGUAGES:
            raise ValueError(f"borrower language must be one of {LANGUAGES}, got {language!r}")
        self.language = language
        self.t = TEXTS[language]
        self.loan = str(content.get("loan_id") or content.get("loan") or "")
        if not self.loan:
            raise ValueError("content must name the loan ('loan' or 'loan_id')")
        self.sent_on = _date(content.get("sent_on"), "sent_on")
        self.instalments = [int(n) for n in content.get("instalments") or []]
        if not self.instalments:
            raise ValueError("content must list the instalments the notice is about")
        amounts = _per_instalment(content, "amounts", self.instalments)
        self.amounts = {n: amount_cents(v, f"amounts[{n}]") for n, v in amounts.items()}
        due_dates = _per_instalment(content, "due_dates", self.instalments)
        self.due_dates = {n: _date(v, f"due_dates[{n}]") for n, v in due_dates.items()}
        reference = content.get("reference")
        if not reference:
            raise ValueError("content must carry the loan's payment reference ('reference')")
        self.reference = format_national(str(reference))
        self.rf = format_rf(rf_reference(str(reference)))
        self.borrower_name = str(borrower.get("name") or "")
        address = borrower.get("address") or []
        self.address = [address] if isinstance(address, str) else [str(line) for line in address]
        self.organiser = str(organiser["name"])
        self.iban = stdnum_iban.format(str(organiser["iban"]))
        self.phone = str(organiser.get("phone") or "")

        if self.kind == "acceleration":
            self.delayed = amount_cents(content.get("delayed_amount"), "delayed_amount")
            self.cure_deadline = _date(content.get("cure_deadline"), "cure_deadline")
            self.takes_effect_on = _date(content.get("takes_effect_on"), "takes_effect_on")
            self.period_days = int(content["period_days"])
            self.pay_amount: int | None = self.delayed
            self.pay_by: dt.date | None = self.cure_deadline
        else:
            self.pay_amount = sum(self.amounts.values()) if len(self.amounts) == len(self.instalments) else None
            self.pay_by = _date(content["pay_by"], "pay_by") if content.get("pay_by") else None
        self.barcode = virtual_barcode(str(organiser["iban"]), self.pay_amount or 0, str(reference), self.pay_by)

    def title(self) -> str:
        return self.t[f"{self.kind}_title"]

    def _instalment_rows(self) -> list[tuple[str, str]]:
        rows = []
        for n in self.instalments:
            label = self.t["instalment"].format(n=n)
            parts = []
            if n in self.due_dates:
                parts.append(self.t["due"].format(date=format_date(self.due_dates[n])))
            if n in self.amounts:
                parts.append(format_eur(self.amounts[n]))
            rows.append((label, ", ".join(parts)))
        return rows

    def blocks(self) -> list[tuple[str, Any]]:
        t = self.t
        out: list[tuple[str, Any]] = []
        if self.kind == "reminder":
            out.append(("p", t["reminder_intro"].format(loan=self.loan)))
            if self.amounts or self.due_dates:
                rows = self._instalment_rows()
                if self.pay_amount is not None:
                    rows.append((t["reminder_total"], format_eur(self.pay_amount)))
                out.append(("table", rows))
            else:
                out.append(("table", [(t["instalments"], ", ".join(map(str, self.instalments)))]))
            out.append(("p", t["reminder_penalty"]))
            out.append(("p", t["reminder_hardship"]))
            legal = t["reminder_legal"]
        else:
            out.append(("p", t["acceleration_intro"].format(loan=self.loan)))
            rows = [(t["delayed_instalments"], ", ".join(map(str, self.instalments)))]
            if self.amounts or self.due_dates:
                rows += self._instalment_rows()
            rows.append((t["delayed_amount"], format_eur(self.delayed)))
            out.append(("table", rows))
            out.append(("p", t["acceleration_body"].format(
                takes_effect=format_date(self.takes_effect_on), amount=format_eur(self.delayed),
                cure=format_date(self.cure_deadline))))
            out.append(("table", [(t["cure_deadline"], format_date(self.cure_deadline)),
                                  (t["takes_effect"], format_date(self.takes_effect_on)),
                                  (t["period"], t["days"].format(n=self.period_days))]))
            out.append(("p", t["acceleration_hardship"]))
            legal = t["acceleration_legal"]

        out.append(("h2", t["payment"]))
        pay = [(t["payee"], self.organiser), (t["iban"], self.iban),
               (t["reference"], self.reference), (t["rf"], self.rf)]
        if self.pay_amount is not None:
            pay.append((t["amount"], format_eur(self.pay_amount)))
        if self.pay_by is not None:
            pay.append((t["pay_by"], format_date(self.pay_by)))
        out.append(("table", pay))
        out.append(("p", t["use_reference"]))
        out.append(("barcode", (t["barcode"], self.barcode)))

        out.append(("h2", t["discussion_title"]))
        out.append(("p", t["discussion"].format(phone=self.phone)))
        out.append(("h2", t["legal_title"]))
        out.append(("p", legal))
        return out


# ----------------------------------------------------------------------------------------- #
# Output
# ----------------------------------------------------------------------------------------- #


class _LetterPdf(FPDF):
    def __init__(self, footer_text: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("Helvetica", "", 8)
        self.cell(0, 4, _safe(f"{self.footer_text}    {self.page_no()}/{{nb}}"), align="R")


_LEFT, _TOP, _WIDTH = 20.0, 15.0, 170.0
_LABEL_W = 62.0


def render_notice(content: Mapping, borrower: Mapping, organiser: Mapping) -> bytes:
    """The notice letter as PDF bytes (deterministic for the same input)."""
    letter = _Letter(content, borrower, organiser)
    t = letter.t

    # fpdf2 derives the trailer /ID from the document bytes and the creation date (no randomness),
    # and writes no XMP "modified now" metadata unless PDF/A output is asked for.
    pdf = _LetterPdf(f"{t['loan']} {letter.loan}", orientation="P", unit="mm", format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_creation_date(dt.datetime.combine(letter.sent_on, dt.time(0, 0), tzinfo=dt.timezone.utc))
    pdf.set_title(_safe(f"{letter.title()} {letter.loan}"))
    pdf.set_author(_safe(letter.organiser))
    pdf.set_lang(f"{letter.language}-FI")
    pdf.set_margins(_LEFT, _TOP, _LEFT)
    pdf.set_auto_page_break(True, margin=18)
    pdf.alias_nb_pages()
    pdf.add_page()

    # Sender (top left) and the letter's identification (top right).
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(100, 5, _safe(letter.organiser), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    if letter.phone:
        pdf.cell(100, 5, _safe(f"{t['phone']} {letter.phone}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(120, _TOP)
    pdf.set_font("Helvetica", "B", 10)
    pdf.multi_cell(70, 5, _safe(letter.title()), new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(70, 5, _safe(f"{t['date']} {format_date(letter.sent_on)}"), new_x="LEFT", new_y="NEXT")
    pdf.cell(70, 5, _safe(f"{t['loan']} {letter.loan}"), new_x="LEFT", new_y="NEXT")

    # Addressee, where a C5/E5 window envelope shows it.
    pdf.set_xy(_LEFT, 45)
    pdf.set_font("Helvetica", "", 11)
    for line in [letter.borrower_name, *letter.address]:
        pdf.cell(90, 5, _safe(line), new_x="LMARGIN", new_y="NEXT")

    pdf.set_y(max(pdf.get_y() + 12, 85))
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(_WIDTH, 7, _safe(letter.title()), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    for kind, value in letter.blocks():
        if kind == "p":
            pdf.set_font("Helvetica", "", 10)
            pdf.multi_cell(_WIDTH, 5, _safe(value), align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
        elif kind == "h2":
            pdf.ln(1.5)
            pdf.set_font("Helvetica", "B", 11)
            pdf.multi_cell(_WIDTH, 6, _safe(value), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif kind == "table":
            for label, text in value:
                pdf.set_font("Helvetica", "", 10)
                y = pdf.get_y()
                pdf.multi_cell(_LABEL_W, 5, _safe(label), new_x="RIGHT", new_y="TOP")
                label_bottom = pdf.get_y()
                pdf.set_xy(_LEFT + _LABEL_W, y)
                pdf.set_font("Helvetica", "B", 10)
                pdf.multi_cell(_WIDTH - _LABEL_W, 5, _safe(text), new_x="LMARGIN", new_y="NEXT")
                pdf.set_y(max(pdf.get_y(), label_bottom, y + 5))
            pdf.ln(2.5)
        elif kind == "barcode":
            label, digits = value
            pdf.set_font("Helvetica", "", 10)
            pdf.cell(_WIDTH, 5, _safe(label), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Courier", "", 10)
            pdf.cell(_WIDTH, 5, digits, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
    return bytes(pdf.output())


def notice_text(content: Mapping, borrower: Mapping, organiser: Mapping) -> tuple[str, str]:
    """(title, plain-text body) with the letter's wording, for an electronic message."""
    letter = _Letter(content, borrower, organiser)
    t = letter.t
    lines = [f"{t['date']} {format_date(letter.sent_on)}", f"{t['loan']} {letter.loan}", ""]
    for kind, value in letter.blocks():
        if kind == "p":
            lines += [value, ""]
        elif kind == "h2":
            lines.append(value)
        elif kind == "table":
            lines += [f"{label}: {text}" for label, text in value] + [""]
        elif kind == "barcode":
            lines += [f"{value[0]}: {value[1]}", ""]
    lines.append(letter.organiser + (f", {t['phone']} {letter.phone}" if letter.phone else ""))
    return letter.title(), "\n".join(lines).replace(NBSP, " ").strip() + "\n"
