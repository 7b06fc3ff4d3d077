"""The intake form's fields and an application's facts (spec/application-format.md, R-APP-1), both ways.

The form is plain HTML: one field per fact, one row of fields per income, expense, debt, asset and
child (`incomes-0-amount`, `debts-1-paid_off_by_loan`, `children-0-born`), with blank rows to add
more. `facts_of(form)` builds the same JSON the API takes and leaves checking it to the domain's own
parser (domain.applications.parse_application), which names the field it refuses. What a person
types is eased only where the meaning is certain: "1 650,5" is 1650.50 and an empty row is no row.
"""
from __future__ import annotations

import re

from domain.errors import invalid

LISTS = {  # list: its fields (checkboxes are flags)
    "incomes": ("kind", "amount", "from", "to"),
    "expenses": ("kind", "amount", "from", "to"),
    "debts": ("creditor", "basis", "amount", "monthly_payment", "in_enforcement", "paid_off_by_loan"),
    "assets": ("kind", "value", "realisable"),
    "children": ("born",),
}
FLAGS = {"in_enforcement", "paid_off_by_loan", "realisable"}
AMOUNTS = {"amount", "monthly_payment", "value"}
TEXTS = ("applicant", "co_applicant", "home_municipality", "purpose")
OPTIONAL_AMOUNTS = ("requested_instalment",)
MAX_ROWS = 60  # rows a form may send per list (the domain allows more through the API)
BLANK_ROWS = 2  # empty rows the form offers for more
_ROW = re.compile(r"^(incomes|expenses|debts|assets|children)-([0-9]{1,3})-([a-z_]+)$")
_WHOLE = re.compile(r"^[0-9]{1,9}$")


def amount(text: str) -> str:
    """'1 650,5 €' -> '1650.50'; what is not clearly an amount is passed on for the parser to refuse."""
    cleaned = re.sub(r"[\s\u00a0\u202f€]", "", text).replace(",", ".")
    if re.fullmatch(r"[0-9]+", cleaned):
        return cleaned + ".00"
    if re.fullmatch(r"[0-9]+\.[0-9]", cleaned):
        return cleaned + "0"
    return cleaned


def _whole(text: str) -> int | str:
    text = text.strip()
    return int(text) if _WHOLE.match(text) else text


def facts_of(form, keep: dict | None = None) -> dict:
    """The facts a filled form states. `keep`: facts the form does not show (the interest terms an
    API caller gave), carried over as they were."""
    get = lambda name: str(form.get(name, "") or "").strip()  # noqa: E731
    out: dict = {k: v for k, v in (keep or {}).items() if k == "interest"}
    for name in TEXTS:
        if get(name) or name in ("applicant",):
            out[name] = get(name)
    out["requested_amount"] = amount(get("requested_amount"))
    out["first_due_date"] = get("first_due_date")
    if get("requested_instalment"):
        out["requested_instalment"] = amount(get("requested_instalment"))
    if get("requested_term_months"):
        out["requested_term_months"] = _whole(get("requested_term_months"))
    out["household"] = {"adults": _whole(get("adults") or "1")}
    out["open_social_loans"] = _whole(get("open_social_loans") or "0")
    out["debt_adjustment_ongoing"] = bool(form.get("debt_adjustment_ongoing"))
    rows: dict[str, dict[int, dict]] = {name: {} for name in LISTS}
    for key in form.keys():
        found = _ROW.match(key)
        if not found or int(found[2]) >= MAX_ROWS or found[3] not in LISTS[found[1]]:
            continue
        rows[found[1]].setdefault(int(found[2]), {})[found[3]] = get(key)
    for name, by_index in rows.items():
        items = []
        for _, row in sorted(by_index.items()):
            if not any(v for k, v in row.items() if k not in FLAGS):
                continue  # an empty row: none
            item: dict = {}
            for field in LISTS[name]:
                value = row.get(field, "")
                if field in FLAGS:
                    item[field] = bool(value)
                elif value:
                    item[field] = amount(value) if field in AMOUNTS else value
            items.append(item)
        if name == "children":
            out["household"]["children"] = items
        elif items:
            out[name] = items
    return out


def form_of(facts: dict | None) -> dict:
    """The form's values for facts as stored (or a blank form), with blank rows to add more."""
    facts = facts or {}
    household = facts.get("household") or {}
    values = {name: facts.get(name) or "" for name in (*TEXTS, "requested_amount", "first_due_date",
                                                          "requested_instalment", "requested_term_months")}
    values.update(adults=household.get("adults", 1), open_social_loans=facts.get("open_social_loans", 0),
                  debt_adjustment_ongoing=bool(facts.get("debt_adjustment_ongoing")))
    for name in LISTS:
        given = household.get("children") if name == "children" else facts.get(name)
        values[name] = [dict(r) for r in (given or []) if isinstance(r, dict)] + [{} for _ in range(BLANK_ROWS)]
    return values


def person_of(form) -> dict | None:
    """The applicant's own details for letters (name, identity code, address lines, language), when given."""
    get = lambda name: str(form.get(name, "") or "").strip()  # noqa: E731
    if not any(get(f"person_{k}") for k in ("name", "identity_code", "address")):
        return None
    lines = [line.strip() for line in get("person_address").splitlines() if line.strip()]
    language = get("person_language") or "fi"
    if language not in ("fi", "sv"):
        raise invalid("the language of letters is fi or sv", rule="R-APP-5", field="person_language")
    return {"name": get("person_name"), "identity_code": get("person_identity_code"), "address": lines,
            "language": language}
