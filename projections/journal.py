"""The organiser's journal (R-BOOK-1): balanced entries per booking day for its ledger, from the
statistics read model's booked sums (projections/statistics.py, luotto_stat_books), with the account
numbers from the organiser's settings.

A change is booked on the day it was recorded (its booking date), its value date kept beside it: a
payment back-dated into a closed period, or a reversal, adds an entry to the day it is recorded on and
never changes a day already exported.

Interest and penalty interest are income when received (cash basis: never income that may not be
paid); a payment's part beyond what was owed is a liability (overpayments) until it is used or
refunded. Exempted and written-off principal are credit losses; exempted or written-off interest
and penalty interest were never income, so they need no entry.
"""
from __future__ import annotations

import datetime as dt

from domain.money import format_cents

ACCOUNTS = ("bank", "loans_receivable", "interest_income", "penalty_interest_income", "overpayments",
            "credit_losses", "credit_losses_exemptions")


def _lines(day: dict) -> list[tuple[str, int, int, str]]:
    """(account key, debit, credit, what) for one day's sums, debits and credits equal."""
    out: list[tuple[str, int, int, str]] = []

    def entry(debit: str, credit: str, amount: int, what: str) -> None:
        if amount > 0:
            out.extend([(debit, amount, 0, what), (credit, 0, amount, what)])
        elif amount < 0:
            out.extend([(credit, -amount, 0, what), (debit, 0, -amount, what)])

    entry("loans_receivable", "bank", day["granted"], "loans paid out")
    if day["received"] or day["repaid"] or day["interest"] or day["penalty"]:
        what = "payments received"
        if day["received"]:
            out.append(("bank", day["received"], 0, what) if day["received"] > 0 else ("bank", 0, -day["received"], what))
        for account, amount in (("loans_receivable", day["repaid"]), ("interest_income", day["interest"]),
                                ("penalty_interest_income", day["penalty"])):
            if amount:
                out.append((account, 0, amount, what) if amount > 0 else (account, -amount, 0, what))
        held = day["received"] - day["repaid"] - day["interest"] - day["penalty"]
        if held:
            out.append(("overpayments", 0, held, what) if held > 0 else ("overpayments", -held, 0, what))
    entry("overpayments", "bank", day["refunded"], "overpayments refunded")
    entry("credit_losses_exemptions", "loans_receivable", day["exempted"], "principal exempted (Act §7b)")
    entry("credit_losses", "loans_receivable", day["lost"], "principal written off")
    return out


def journal(store, tenant: str, start: dt.date, end: dt.date, accounts: dict[str, str]) -> list[list[str]]:
    """Rows of booking date, value date, account, debit, credit, what for the days booked in [start,
    end]; an account without a number in the settings shows its key (LUOTTO_TENANTS
    `organiser.ledger_accounts`)."""
    with store.transaction() as tx:
        days = tx.execute("SELECT booked, value_day, granted, repaid, exempted, lost, received, interest, penalty, "
                          "refunded FROM luotto_stat_books WHERE tenant = :tenant AND booked >= :start AND "
                          "booked <= :end ORDER BY booked, value_day",
                          {"tenant": tenant, "start": start.isoformat(), "end": end.isoformat()}).all()
    rows = []
    for day in days:
        sums = {k: int(v or 0) for k, v in day.items() if k not in ("booked", "value_day")}
        for account, debit, credit, what in _lines(sums):
            rows.append([day["booked"], day["value_day"], accounts.get(account) or account,
                         format_cents(debit) if debit else "", format_cents(credit) if credit else "", what])
    return rows
