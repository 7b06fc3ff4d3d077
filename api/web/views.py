"""What the console's pages show, shaped from the application service and the read models: the
loan's balances, schedule with payment instructions, and its timeline in words."""
from __future__ import annotations

import datetime as dt

from adapters.reference_numbers import format_national, format_rf, rf_reference
from api.web import i18n
from application.personal_text import HIDDEN, show_fields
from domain.money import format_cents

BALANCES = ("principal", "principal_paid", "principal_waived", "principal_outstanding", "overdue_amount",
            "interest_due", "penalty_interest_outstanding", "overpayment", "payoff_amount")
DATES = ("next_due_date", "maturity_date")
WORDS = {"cause": "val", "kind": "val", "outcome": "val"}  # event fields whose stored value has words
WHY = ("reasons", "reason", "override_reason", "grounds")


def loan_page(c, tenant: str, loan_id: str, page, *, on: dt.date | None = None,
              known_at: dt.datetime | None = None) -> dict:
    from application.payment_files import payment_instructions

    loan = (c.service.loan_known_at(tenant, loan_id, known_at) if known_at
            else c.service.loan(tenant, loan_id, read_only=True))
    rates = c.service.rate_source.known_at(known_at) if known_at else c.service.rates
    day = max(on or c.today(), loan.granted_on)
    books = loan.books(rates)
    balance = books.balance(day)
    pos = books.position(day)
    how_to_pay = {row["instalment"]: row for row in payment_instructions(loan, pos, c.settings, tenant)}
    schedule = [{"number": r.number, "due_date": r.due_date.isoformat(),
                 "amount": format_cents(r.amount + r.interest_part), "paid": format_cents(r.paid + r.interest_paid),
                 "unpaid": format_cents(r.to_pay),
                 "pay": how_to_pay.get(r.number)} for r in pos.instalments]
    return {"loan": loan, "day": day.isoformat(), "status": balance["status"],
            "reference": format_national(loan.reference) if loan.reference else None,
            "reference_rf": format_rf(rf_reference(loan.reference)) if loan.reference else None,
            "balances": [(k, balance[k]) for k in BALANCES], "dates": [(k, balance[k]) for k in DATES],
            "notice_pending": balance["notice_pending"], "schedule": schedule,
            "timeline": timeline(c, tenant, loan, page)}


def timeline(c, tenant: str, loan, page) -> list[dict]:
    """Every event up to the loan's version (as known then, for a replay), in words."""
    show = c.service.sealer.opener(tenant, loan.borrower_id, may_read=page.may("personal_data"))
    rows = []
    for event in c.service.events.get(loan.id, lte=loan.version):
        name = type(event).__name__
        data = show_fields(dict(vars(event)), show)
        rows.append({"version": event.originator_version, "effective": event.effective_date.isoformat(),
                     "recorded": page.when(event.timestamp), "what": describe(page, name, data),
                     "who": who_did(page, name, data), "why": why(page, data),
                     "basis": i18n.basis_in_words(data.get("legal_basis"), page.lang)})
    return rows


def describe(page, name: str, data: dict) -> str:
    key = f"ev.{name}"
    if key not in i18n.M:
        return name
    values = {}
    for k, v in data.items():
        if k in WORDS:
            values[k] = page.value(WORDS[k], v)
        elif isinstance(v, str) and k.endswith(("amount", "principal")):
            values[k] = page.money(v)
        elif isinstance(v, (str, int, dt.date)):
            values[k] = str(v)
    return page.t(key, **values)


def who_did(page, name: str, data: dict) -> str:
    by = data.get("decided_by")
    if by == "scheduler" or (by is None and name in ("InstalmentFellDue", "InstalmentLate", "AccelerationConditionsMet",
                                                     "LoanAccelerated", "AccelerationLapsed", "LoanRepaid")):
        return page.t("who.scheduler")
    if name == "PaymentReceived":
        return page.t("who.payment") + (f" ({data['source']})" if data.get("source") else "")
    return by or "–"


def why(page, data: dict) -> str:
    for k in WHY:
        v = data.get(k)
        if v:
            return v if v != HIDDEN else "[" + page.t("hidden") + "]"
    return "–"
