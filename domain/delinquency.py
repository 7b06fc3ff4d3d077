"""Delinquency and acceleration (rule book sections 8–9, Act 1133/2002 §8), read off the ledger."""
from __future__ import annotations

from dataclasses import dataclass

from domain.dates import Date, days
from domain.errors import DomainError
from domain.ledger import Position
from domain.money import Cents, format_cents, percent_of


@dataclass(frozen=True)
class Conditions:
    """Act §8(1)(1) holds: the figures an AccelerationConditionsMet or a notice records."""

    delayed_amount: Cents
    instalments: tuple[int, ...]
    branch: str  # a: one instalment ≥ 10 %; b: several ≥ 5 %; c: everything still owed


def conditions(pos: Position, principal: Cents) -> Conditions | None:
    """R-ACC-3 on pos.as_of, with percentages of the original principal rounded half-up."""
    if pos.accelerated:
        return None
    delayed = pos.delayed_a_month()
    amount = sum(i.unpaid for i in delayed)
    if amount <= 0:
        return None
    numbers = tuple(i.number for i in delayed)
    if len(delayed) == 1 and amount >= percent_of(principal, 10):
        branch = "a"
    elif len(delayed) >= 2 and amount >= percent_of(principal, 5):
        branch = "b"
    elif amount == pos.principal_outstanding:
        branch = "c"
    else:
        return None
    return Conditions(amount, numbers, branch)


def hardship_active(hardships: list, on: Date) -> bool:
    """R-ACC-5: a recorded cause of delay that has not ended by `on`."""
    return any(start <= on and (end is None or end > on) for start, end in hardships)


def pending_notice(notices: list) -> dict | None:
    """The acceleration notice neither cured nor yet taken effect, if any."""
    return next((n for n in notices if n["lapsed_on"] is None and not n["accelerated"]), None)


def episode_start(books, on: Date) -> Date | None:
    """First day of the delinquency episode that is open on `on` (R-LATE-2), or None.

    An episode starts with an instalment going late while nothing else is overdue and ends
    when nothing is overdue any more. Overdue amounts only fall on days when money moves or a
    decision changes the plan, and only rise the day after a deadline, so those are the only
    days to look at.
    """
    now = books.position(on)
    if now.overdue_amount == 0:
        return None
    late_days = sorted({i.deadline + days(1) for i in now.instalments if i.deadline < on})
    quiet = [d for d in set(books.loan.change_dates) | {d - days(1) for d in late_days} if d < on]
    for day in sorted(quiet, reverse=True):
        if books.position(day).overdue_amount == 0:
            return next((d for d in late_days if d > day), on)
    return late_days[0] if late_days else on


def notice_period_days(books, sent_on: Date) -> int:
    """R-ACC-6: two weeks if the borrower was already notified in this episode, else four.

    Only notices dated before the notice day count: a reminder recorded the same day cannot
    have reached the borrower first (the reading that never shortens the period wrongly).
    """
    start = episode_start(books, sent_on)
    if start is None:
        return 28
    earlier = any(start <= day < sent_on for day, _kind in books.loan.notice_dates)
    return 14 if earlier else 28


def cured_on(books, notice: dict) -> Date | None:
    """R-ACC-7: the value date of the payment that paid every listed instalment by the cure deadline."""
    pos = books.position(notice["cure_deadline"], accelerated=False)
    rows = [pos.instalment(n) for n in notice["instalments"]]
    if any(r.unpaid > 0 for r in rows):
        return None
    return max(r.settled_on for r in rows)


def conditions_armed(books, on: Date) -> bool:
    """R-ACC-4: no AccelerationConditionsMet since the conditions last failed, a notice lapsed
    or a hardship ended."""
    loan = books.loan
    if not loan.acm_dates or loan.acm_rearmed:
        return True
    last = loan.acm_dates[-1]
    # A fact recorded after the last record but dated before it shows on that record's own day.
    days_to_check = {d for d in loan.change_dates if last < d < on} | ({last} if last < on else set())
    for day in sorted(days_to_check):
        if conditions(books.position(day), loan.principal) is None:
            return True
    return False


def acceleration_notice_fields(books, on: Date, *, decided_by: str, reasons: str, legal_basis: str | None,
                               override_reason: str | None, channel: str) -> dict:
    """The figures of an acceleration notice sent on `on` (R-ACC-6), or not_eligible."""
    loan = books.loan
    pos = books.position(on)
    met = conditions(pos, loan.principal)
    if met is None:
        delayed = sum(i.unpaid for i in pos.delayed_a_month())
        raise DomainError("not_eligible", f"Act §8(1)(1) conditions do not hold on {on}: delayed at least a "
                          f"month {format_cents(delayed)} of principal {format_cents(loan.principal)} "
                          f"(needs 10 % for one instalment, 5 % for several, or everything owed "
                          f"{format_cents(pos.principal_outstanding)})", rule="R-ACC-3")
    period = notice_period_days(books, on)
    cure_deadline = on + days(period)
    figures = {"delayed_amount": format_cents(met.delayed_amount), "instalments": list(met.instalments),
               "period_days": period, "cure_deadline": cure_deadline, "takes_effect_on": cure_deadline + days(1)}
    content = {"loan": loan.loan_id, "kind": "acceleration", "sent_on": on, **figures}
    return {"kind": "acceleration", "channel": channel, "content_hash": books.notice_hash(content), **figures,
            "ground": "Act 1133/2002 §8(1)(1)", "override_reason": override_reason, "decided_by": decided_by,
            "reasons": reasons, "legal_basis": legal_basis or "Act 1133/2002 §8(1)(1), §8(3)"}


def acceleration_takes_effect(loan, notice: dict, on: Date) -> Date | None:
    """The day a pending notice's acceleration takes effect, judged on `on` (R-ACC-8, Act §8(2)).

    The Act denies the organiser the right to bring the acceleration into effect while the delay
    is due to illness, unemployment or a like cause. So while a hardship recorded without an
    override is active nothing takes effect, and when one was active on the notified day the
    acceleration takes effect on the day the hardship ended instead (never earlier than notified).
    """
    if notice["override"]:
        return notice["takes_effect_on"]
    if hardship_active(loan.hardships, on):
        return None
    effective = notice["takes_effect_on"]
    for start, end in loan.hardships:
        if end is not None and start <= effective < end:
            effective = end
    return effective
