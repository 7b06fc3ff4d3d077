"""An application's facts (R-APP-1) as the assessment reads them, parsed strictly from JSON.

Every error names the field (`application.incomes[1].to`): an unknown field, an amount given as
a JSON number, a bad month or date is refused, never guessed (R-MONEY-1, R-DATE-1).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from domain.dates import Date, parse_date
from domain.errors import invalid
from domain.interest import InterestTerms
from domain.money import Cents, parse_amount

Month = int  # year * 12 + (month - 1): consecutive months are consecutive integers

_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
FIELDS = ({"applicant", "requested_amount", "first_due_date", "household"},
          {"co_applicant", "home_municipality", "purpose", "requested_instalment", "requested_term_months",
           "interest", "incomes", "expenses", "debts", "assets", "open_social_loans", "debt_adjustment_ongoing"})
ITEM_FIELDS = ({"amount"}, {"kind", "from", "to"})
DEBT_FIELDS = ({"amount"}, {"creditor", "basis", "monthly_payment", "in_enforcement", "paid_off_by_loan"})
ASSET_FIELDS = ({"value"}, {"kind", "realisable"})
HOUSEHOLD_FIELDS = ({"adults"}, {"children"})
MAX_ITEMS = 500  # per list: far beyond any household, and a bound on the work one request can cause


def month_of(day: Date) -> Month:
    return day.year * 12 + day.month - 1


def month_label(month: Month) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def first_day(month: Month) -> Date:
    return Date(month // 12, month % 12 + 1, 1)


@dataclass(frozen=True)
class Item:
    """A monthly income or expense, applying in the months from..to (inclusive, open when None)."""
    kind: str
    amount: Cents
    start: Month | None = None
    end: Month | None = None

    def applies(self, month: Month) -> bool:
        return (self.start is None or self.start <= month) and (self.end is None or month <= self.end)


@dataclass(frozen=True)
class Debt:
    amount: Cents
    monthly_payment: Cents = 0
    paid_off_by_loan: bool = False
    in_enforcement: bool = False
    creditor: str = ""
    basis: str = ""


@dataclass(frozen=True)
class Asset:
    value: Cents
    realisable: bool = False
    kind: str = ""


@dataclass(frozen=True)
class Application:
    applicant: str
    requested_amount: Cents
    first_due_date: Date
    adults: int
    children_born: tuple[Date, ...] = ()
    co_applicant: str | None = None
    home_municipality: str | None = None
    purpose: str = ""
    requested_instalment: Cents | None = None
    requested_term_months: int | None = None
    interest: InterestTerms | None = None  # None: the policy's default terms
    incomes: tuple[Item, ...] = ()
    expenses: tuple[Item, ...] = ()
    debts: tuple[Debt, ...] = ()
    assets: tuple[Asset, ...] = ()
    open_social_loans: int = 0
    debt_adjustment_ongoing: bool = False


def parse_application(raw: object, where: str = "application") -> Application:
    _object(raw, *FIELDS, where)
    household = raw["household"]
    _object(household, *HOUSEHOLD_FIELDS, f"{where}.household")
    children = _list(household, "children", f"{where}.household")
    born = []
    for i, child in enumerate(children):
        _object(child, {"born"}, set(), f"{where}.household.children[{i}]")
        born.append(parse_date(child["born"], f"{where}.household.children[{i}].born"))
    requested_instalment = raw.get("requested_instalment")
    term = raw.get("requested_term_months")
    if requested_instalment is not None and term is not None:
        raise invalid(f"{where}: give requested_instalment or requested_term_months, not both", rule="R-SCHED-2",
                      field=f"{where}.requested_term_months")
    return Application(
        applicant=_text(raw["applicant"], f"{where}.applicant"),
        requested_amount=parse_amount(raw["requested_amount"], f"{where}.requested_amount"),
        first_due_date=parse_date(raw["first_due_date"], f"{where}.first_due_date"),
        adults=_whole(household["adults"], f"{where}.household.adults", low=1),
        children_born=tuple(born),
        co_applicant=_optional_text(raw.get("co_applicant"), f"{where}.co_applicant"),
        home_municipality=_optional_text(raw.get("home_municipality"), f"{where}.home_municipality"),
        purpose=_optional_text(raw.get("purpose"), f"{where}.purpose") or "",
        requested_instalment=None if requested_instalment is None else parse_amount(
            requested_instalment, f"{where}.requested_instalment"),
        requested_term_months=None if term is None else _whole(term, f"{where}.requested_term_months", low=1),
        interest=None if raw.get("interest") is None else InterestTerms.from_json(raw["interest"],
                                                                                   f"{where}.interest"),
        incomes=tuple(_item(x, f"{where}.incomes[{i}]") for i, x in enumerate(_list(raw, "incomes", where))),
        expenses=tuple(_item(x, f"{where}.expenses[{i}]") for i, x in enumerate(_list(raw, "expenses", where))),
        debts=tuple(_debt(x, f"{where}.debts[{i}]") for i, x in enumerate(_list(raw, "debts", where))),
        assets=tuple(_asset(x, f"{where}.assets[{i}]") for i, x in enumerate(_list(raw, "assets", where))),
        open_social_loans=_whole(raw.get("open_social_loans", 0), f"{where}.open_social_loans", low=0),
        debt_adjustment_ongoing=_flag(raw.get("debt_adjustment_ongoing", False), f"{where}.debt_adjustment_ongoing"),
    )


def _item(raw: object, where: str) -> Item:
    _object(raw, *ITEM_FIELDS, where)
    start = _month(raw.get("from"), f"{where}.from")
    end = _month(raw.get("to"), f"{where}.to")
    if start is not None and end is not None and end < start:
        raise invalid(f"{where}.to {raw['to']} is before from {raw['from']}", rule="R-APP-1", field=f"{where}.to")
    return Item(_optional_text(raw.get("kind"), f"{where}.kind") or "",
                parse_amount(raw["amount"], f"{where}.amount", positive=False), start, end)


def _debt(raw: object, where: str) -> Debt:
    _object(raw, *DEBT_FIELDS, where)
    return Debt(parse_amount(raw["amount"], f"{where}.amount", positive=False),
                parse_amount(raw.get("monthly_payment", "0.00"), f"{where}.monthly_payment", positive=False),
                _flag(raw.get("paid_off_by_loan", False), f"{where}.paid_off_by_loan"),
                _flag(raw.get("in_enforcement", False), f"{where}.in_enforcement"),
                _optional_text(raw.get("creditor"), f"{where}.creditor") or "",
                _optional_text(raw.get("basis"), f"{where}.basis") or "")


def _asset(raw: object, where: str) -> Asset:
    _object(raw, *ASSET_FIELDS, where)
    return Asset(parse_amount(raw["value"], f"{where}.value", positive=False),
                 _flag(raw.get("realisable", False), f"{where}.realisable"),
                 _optional_text(raw.get("kind"), f"{where}.kind") or "")


def _month(raw: object, where: str) -> Month | None:
    if raw is None:
        return None
    found = _MONTH.match(raw) if isinstance(raw, str) else None
    if not found:
        raise invalid(f"{where} must be a month YYYY-MM, got {raw!r}", rule="R-APP-1", field=where)
    return int(found[1]) * 12 + int(found[2]) - 1


def _object(raw: object, required: set, optional: set, where: str) -> None:
    if not isinstance(raw, dict):
        raise invalid(f"{where} must be an object", rule="R-APP-1", field=where)
    for key in raw:
        if key not in required | optional:
            raise invalid(f"{where}.{key}: unknown field", rule="R-APP-1", field=f"{where}.{key}")
    for key in sorted(required - set(raw)):
        raise invalid(f"{where}.{key}: missing", rule="R-APP-1", field=f"{where}.{key}")


def _list(raw: dict, key: str, where: str) -> list:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise invalid(f"{where}.{key} must be a list of at most {MAX_ITEMS} items", rule="R-APP-1",
                      field=f"{where}.{key}")
    return value


def _text(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise invalid(f"{where} must be a non-empty string, got {raw!r}", rule="R-APP-1", field=where)
    return raw


def _optional_text(raw: object, where: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise invalid(f"{where} must be a string, got {raw!r}", rule="R-APP-1", field=where)
    return raw


def _whole(raw: object, where: str, *, low: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < low:
        raise invalid(f"{where} must be a whole number >= {low}, got {raw!r}", rule="R-APP-1", field=where)
    return raw


def _flag(raw: object, where: str) -> bool:
    if not isinstance(raw, bool):
        raise invalid(f"{where} must be true or false, got {raw!r}", rule="R-APP-1", field=where)
    return raw
