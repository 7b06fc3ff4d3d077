"""Decision letters as PDF (R-APP-5, 9, 10): an application decided, a relief application decided, a
request for rectification decided. Finnish or Swedish, the applicant's language.

Each letter carries the figures and grounds the decision rests on, the reasons, the right to a
personal discussion and financial counselling (Act §9), and the appeal instructions: a request
for rectification, or after a decision on one, an appeal to the administrative court.
Deterministic like the notices (adapters.notices.render): the same content gives the same bytes,
so its salted hash can be recorded in the event before the letter is sent.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from adapters.notices.decision_texts import GROUNDS, LEGAL, TEXTS
from adapters.notices.render import _LetterPdf, _safe, amount_cents, format_date, format_eur

_AMOUNT = re.compile(r"^-?[0-9]+\.[0-9]{2}$")
_LEFT, _TOP, _WIDTH, _LABEL_W = 20.0, 15.0, 170.0, 62.0


def _money(value: Any) -> str:
    return format_eur(amount_cents(value)) if isinstance(value, str) and _AMOUNT.match(value) else str(value)


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _interest(t: Mapping, terms: Mapping | None) -> str:
    kind = (terms or {}).get("kind", "none")
    if kind == "fixed":
        return t["interest_fixed"].format(rate=terms["rate"])
    if kind == "reference":
        return t["interest_reference"].format(margin=terms.get("margin", "0.00"))
    return t["interest_none"]


def _relief_line(t: Mapping, kind: str, terms: Mapping) -> str:
    values = {k: (format_date(v) if k == "new_due_date" else _money(v)) for k, v in terms.items()}
    if kind == "exemption":
        return t["exemption_full"] if terms.get("kind") == "full" else t["exemption_partial"].format(**values)
    return t[kind].format(**values)


def blocks(content: Mapping, language: str, organiser: Mapping) -> tuple[str, list[tuple[str, Any]]]:
    """(title, blocks) of the letter; blocks are ("p", text), ("h2", text) or ("table", rows)."""
    t, kind, outcome = TEXTS[language], content["kind"], content["outcome"]
    out: list[tuple[str, Any]] = [("p", t[f"appeal_{outcome}"] if kind == "appeal" else t[outcome])]
    rows: list[tuple[str, str]] = []
    if content.get("requested_amount") is not None:
        rows.append((t["requested_amount"], _money(content["requested_amount"])))
    if content.get("capacity") is not None:
        rows.append((t["capacity"], _money(content["capacity"])))
    terms = content.get("terms") or {}
    if kind == "loan" and outcome == "granted":
        rows += [(t["principal"], _money(terms["principal"])), (t["purpose"], str(terms.get("purpose") or "")),
                 (t["term"], t["months"].format(n=terms["term_months"])),
                 (t["instalment"], _money(terms["instalment_amount"])),
                 (t["largest"], _money(terms["largest_instalment"])),
                 (t["first_due"], format_date(terms["first_due_date"])),
                 (t["last_due"], format_date(terms["last_due_date"])),
                 (t["interest"], _interest(t, terms.get("interest")))]
    elif kind not in ("loan", "appeal") and content.get("request"):
        label = t["decision"] if outcome == "granted" else t["applied_for"]
        rows.append((label, _relief_line(t, kind, terms if outcome == "granted" else content["request"])))
    if rows:
        out += [("h2", t["figures"]), ("table", rows)]
    if kind == "loan" and outcome == "granted":
        out.append(("p", t["no_other_costs"]))
        if terms.get("offer_valid_until"):  # R-APP-6: offered at once, or waiting for capital
            out.append(("p", t["offered"].format(date=format_date(terms["offer_valid_until"]))))
        elif terms.get("waiting_position"):
            out.append(("p", t["waiting"].format(position=terms["waiting_position"])))
    grounds = content.get("grounds") or []
    if grounds:
        out.append(("h2", t["grounds"]))
        out += [("p", "– " + GROUNDS[language][g["code"]].format(
            **{k: _money(v) for k, v in (g.get("figures") or {}).items()})) for g in grounds]
    if content.get("reasons"):
        out += [("h2", t["reasons"]), ("p", content["reasons"])]
    if content.get("override_reasons"):
        out += [("h2", t["override"]), ("p", content["override_reasons"])]
    out.append(("table", [(t["decided_by"], str(content.get("decided_by") or "")),
                          (t["legal"], str(content.get("legal_basis") or LEGAL[language][kind]))]))
    out += [("h2", t["discussion_title"]), ("p", t["discussion"].format(phone=organiser.get("phone") or ""))]
    if kind == "appeal":
        court = content.get("administrative_court") or t["appeal_court_default"]
        out += [("h2", t["appeal_title"]), ("table", [(t["appeal_court"], court)]), ("p", t["appeal"])]
    else:
        body = content.get("rectification_body") or t["rectification_default"]
        out += [("h2", t["rectification_title"]), ("table", [(t["rectification_body"], body)]),
                ("p", t["rectification"])]
    out.append(("p", t["notified"]))
    return t[f"title_{kind}"], out


def render_decision(content: Mapping, borrower: Mapping, organiser: Mapping) -> bytes:
    """The decision letter as PDF bytes (deterministic for the same input)."""
    language = borrower.get("language") or "fi"
    if language not in TEXTS:
        raise ValueError(f"language must be one of {sorted(TEXTS)}, got {language!r}")
    t = TEXTS[language]
    title, parts = blocks(content, language, organiser)
    on, reference = _day(content["decided_on"]), str(content["reference"])
    label = t["loan"] if content["kind"] == "appeal" else t["application"]
    return render_blocks(title, parts, label=label, reference=reference, on=on, language=language, borrower=borrower,
                         organiser=organiser)


def render_blocks(title: str, parts: list[tuple[str, Any]], *, label: str, reference: str, on: dt.date, language: str,
                  borrower: Mapping, organiser: Mapping) -> bytes:
    """A letter of blocks (("p", text), ("h2", text), ("table", rows)) as PDF bytes, deterministic for the
    same input; also the contract's layout (adapters.notices.contract)."""
    t = TEXTS[language]
    pdf = _LetterPdf(f"{label} {reference}", orientation="P", unit="mm", format="A4")
    pdf.core_fonts_encoding = "cp1252"
    pdf.set_creation_date(dt.datetime.combine(on, dt.time(0, 0), tzinfo=dt.timezone.utc))
    pdf.set_title(_safe(f"{title} {reference}"))
    pdf.set_author(_safe(str(organiser.get("name") or "")))
    pdf.set_lang(f"{language}-FI")
    pdf.set_margins(_LEFT, _TOP, _LEFT)
    pdf.set_auto_page_break(True, margin=18)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(100, 5, _safe(str(organiser.get("name") or "")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    if organiser.get("phone"):
        pdf.cell(100, 5, _safe(f"{t['phone']} {organiser['phone']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(120, _TOP)
    pdf.set_font("Helvetica", "B", 10)
    pdf.multi_cell(70, 5, _safe(title), new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for line in (f"{t['date']} {format_date(on)}", f"{label} {reference}"):
        pdf.cell(70, 5, _safe(line), new_x="LEFT", new_y="NEXT")
    pdf.set_xy(_LEFT, 45)  # the addressee, where a window envelope shows it
    pdf.set_font("Helvetica", "", 11)
    address = borrower.get("address") or []
    for line in [str(borrower.get("name") or ""), *([address] if isinstance(address, str) else address)]:
        pdf.cell(90, 5, _safe(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y() + 12, 85))
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(_WIDTH, 7, _safe(title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for kind, value in parts:
        if kind == "p":
            pdf.set_font("Helvetica", "", 10)
            pdf.multi_cell(_WIDTH, 5, _safe(value), align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
        elif kind == "h2":
            pdf.ln(1.5)
            pdf.set_font("Helvetica", "B", 11)
            pdf.multi_cell(_WIDTH, 6, _safe(value), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        else:
            for label_, text in value:
                pdf.set_font("Helvetica", "", 10)
                y = pdf.get_y()
                # A label may wrap: the row ends below the longer of label and value.
                pdf.multi_cell(_LABEL_W - 2, 5, _safe(label_), align="L", new_x="LMARGIN", new_y="NEXT")
                bottom = pdf.get_y()
                pdf.set_xy(_LEFT + _LABEL_W, y)
                pdf.set_font("Helvetica", "B", 10)
                pdf.multi_cell(_WIDTH - _LABEL_W, 5, _safe(text), align="L", new_x="LMARGIN", new_y="NEXT")
                pdf.set_y(max(pdf.get_y(), bottom, y + 5))
            pdf.ln(2.5)
    return bytes(pdf.output())


def decision_text(content: Mapping, language: str, organiser: Mapping) -> tuple[str, str]:
    """(title, plain text) of the letter for an electronic message; no name or address in it."""
    title, parts = blocks(content, language, organiser)
    lines = []
    for kind, value in parts:
        if kind == "table":
            lines += [f"{label}: {text}" for label, text in value] + [""]
        else:
            lines += [value] + ([""] if kind == "p" else [])
    return title, "\n".join(lines).replace("\u00a0", " ").strip() + "\n"
