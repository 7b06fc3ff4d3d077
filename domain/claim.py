"""The claim on a loan on a chosen date, every euro traced to its events and rules (issue 20).

`claim_on(loan, books, events, on)` answers what a court application asks for: the principal, the
regular interest and the penalty interest accrued to `on`, and the rate and daily amount that keep
accruing after it. Each figure names the events it rests on (by version: the loan's hash chain
proves them) and the rule that computes it; the figures come from the one ledger (domain.ledger),
never from a second calculation. Pure: the date is passed in.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from domain.ledger import penalty_running
from domain.money import format_cents
from domain.rates import DENOMINATOR, PENALTY_MARGIN, RATE_UNIT, MissingRate

ONE_DAY = dt.timedelta(days=1)


def _exact(numerator: int) -> str:
    """An exact accrual over DENOMINATOR in euros with six decimals (the ledger rounds the total once)."""
    return str((Decimal(numerator) / DENOMINATOR / 100).quantize(Decimal("0.000001")))


def _rate(units: int) -> str:
    return str((Decimal(units) / RATE_UNIT).quantize(Decimal("0.01")))


def _versions(events, type_name: str, **match) -> list[int]:
    return [e.originator_version for e in events if type(e).__name__ == type_name
            and all(getattr(e, k, None) == v for k, v in match.items())]


def _periods(rates, after: dt.date, through: dt.date, cents: int) -> list[dict]:
    """The penalty rate of each half-year between `after` (exclusive) and `through` (R-PEN-1)."""
    out, day = [], after
    for days, units in rates.periods(after, through):
        start, day = day + ONE_DAY, day + dt.timedelta(days=days)
        penalty = units + PENALTY_MARGIN
        out.append({"from": start.isoformat(), "through": day.isoformat(), "days": days,
                    "reference_rate": _rate(units), "penalty_rate": _rate(penalty),
                    "amount_exact": _exact(cents * penalty * days)})
    return out


def claim_on(loan, books, events: list, on: dt.date) -> dict:
    """The claim on `on` as plain JSON; `events` are the loan's stored events in order."""
    pos = books.position(on)
    accelerated = pos.accelerated
    loan_accelerated = [e for e in events if type(e).__name__ == "LoanAccelerated"]
    standing = next((n for n in loan.notices if n.accelerated and loan.accelerated_on is not None), None)
    payments = [p for p in loan.payments if p.value_date <= on]
    received = [p for p in payments if not p.reversed]
    refunds = [e for e in events if type(e).__name__ == "OverpaymentRefunded" and e.effective_date <= on]
    waivers = [e for e in events if type(e).__name__ == "PaymentWaived" and e.effective_date <= on]
    paid_total = sum(p.amount for p in received)
    refunded = sum(int(Decimal(e.amount) * 100) for e in refunds)

    principal = {
        "granted": format_cents(loan.principal), "granted_by": 1,
        "paid": format_cents(pos.principal_paid), "waived": format_cents(pos.principal_waived),
        "outstanding": format_cents(pos.principal_outstanding),
        "rule": "R-SCHED-2, R-PAY-3",
        "instalments": [{"instalment": r.number, "due_date": r.due_date.isoformat(), "deadline": r.deadline.isoformat(),
                         "principal_part": format_cents(r.amount), "principal_unpaid": format_cents(r.principal_unpaid),
                         "fell_due_by": _versions(events, "InstalmentFellDue", instalment=r.number)[-1:] or None,
                         "late_by": _versions(events, "InstalmentLate", instalment=r.number)[-1:] or None}
                        for r in pos.instalments if r.principal_unpaid],
    }
    interest = {"due": format_cents(pos.interest_due), "accrued": format_cents(pos.interest_accrued),
                "paid": format_cents(pos.interest_paid), "waived": format_cents(pos.interest_waived),
                "outstanding": format_cents(pos.interest_due + pos.interest_accrued),
                "terms": loan.interest, "rule": "R-INT-2, R-INT-3, R-INT-7" if accelerated else "R-INT-2, R-INT-3"}

    items = []
    if books.penalty_rates is not None:
        for row, start, numerator in penalty_running(pos, books.penalty_rates, loan.accelerated_on,
                                                     books.penalty_floor):
            since_acceleration = loan.accelerated_on is not None and start == loan.accelerated_on \
                and loan.accelerated_on < row.deadline
            items.append({
                "instalment": row.number, "principal_unpaid": format_cents(row.principal_unpaid),
                "from": (start + ONE_DAY).isoformat(), "through": on.isoformat(),
                "days": max(0, (on - start).days), "amount_exact": _exact(numerator),
                "because": "accelerated" if since_acceleration else "overdue",
                "events": (([e.originator_version for e in loan_accelerated][-1:]) if since_acceleration
                           else _versions(events, "InstalmentLate", instalment=row.number)[-1:]),
                "periods": _periods(books.penalty_rates, start, on, row.principal_unpaid),
                "rule": "R-PEN-2, R-INT-5" + (", R-PEN-6" if books.penalty_floor and start == books.penalty_floor
                                              else ""),
            })
    penalty = {
        "accrued": format_cents(pos.penalty_accrued), "paid": format_cents(pos.penalty_paid),
        "waived": format_cents(pos.penalty_waived), "outstanding": format_cents(pos.penalty_outstanding),
        "running": items, "on_amounts_since_paid_exact": _exact(pos.penalty_settled_exact),
        "charged": books.penalty_rates is not None,
        "rule": "R-PEN-1, R-PEN-2, R-PEN-3 (rounded once, half up)" if books.penalty_rates is not None
        else "R-PEN-6 (no penalty interest on this loan)",
    }

    after = _after(books, pos, on, accelerated)
    total = pos.owed
    return {
        "on": on.isoformat(), "loan_id": loan.loan_id, "status": books.status(on),
        "accelerated": {"effective_date": loan.accelerated_on.isoformat(), "by": loan_accelerated[-1].originator_version,
                        "notice": standing.version if standing else None} if accelerated and loan_accelerated else None,
        "principal": principal, "interest": interest, "penalty_interest": penalty,
        "refund_owed_back": format_cents(pos.refund_owed_back),
        "total": format_cents(total), "rule_total": "R-PAY-5, R-INT-4 (no other credit costs: Act §6, R-PEN-5)",
        "after": after,
        "payments": {
            "received": format_cents(paid_total), "refunded": format_cents(refunded),
            "to_principal": format_cents(pos.principal_paid), "to_interest": format_cents(pos.interest_paid),
            "to_penalty_interest": format_cents(pos.penalty_paid),
            "overpayment": format_cents(pos.overpayment),
            "by": [p.seq for p in received], "reversed": [p.seq for p in payments if p.reversed],
            "waivers_by": [e.originator_version for e in waivers], "rule": "R-PAY-3, R-INT-4",
        },
    }


def _after(books, pos, on: dt.date, accelerated: bool) -> dict:
    """What keeps accruing from the day after `on`: penalty interest on the principal that runs (all of it
    once accelerated, else the overdue principal parts) at the rate of that day's half-year (R-PEN-1)."""
    nxt = on + ONE_DAY
    base = sum(r.principal_unpaid for r in pos.instalments if accelerated or r.deadline < nxt)
    out = {"from": nxt.isoformat(), "penalty_base": format_cents(base), "penalty_rate": None, "reference_rate": None,
           "penalty_daily_exact": "0.000000", "penalty_daily": "0.00",
           "interest_runs": bool(not accelerated and books.interest.terms.charged),
           "rule": "R-PEN-1, R-PEN-2 (Interest Act 633/1982 §4(1): reference rate + 7 percentage points)"}
    if books.penalty_rates is None or base == 0:
        return out
    try:
        units = books.penalty_rates.penalty_units(nxt)
    except MissingRate:
        return out
    numerator = base * units
    out.update(penalty_rate=_rate(units), reference_rate=_rate(units - PENALTY_MARGIN),
               penalty_daily_exact=_exact(numerator),
               penalty_daily=str((Decimal(numerator) / DENOMINATOR / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)))
    return out
