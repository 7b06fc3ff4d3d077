"""Delinquency and acceleration (rule book sections 8–9, Act 1133/2002 §8), read off the ledger."""
from __future__ import annotations

from dataclasses import dataclass

from domain.dates import Date, banking_days_after, days, next_banking_day_on_or_after
from domain.errors import DomainError
from domain.ledger import Position
from domain.money import Cents, format_cents


@dataclass(frozen=True)
class Conditions:
    """Act §8(1)(1) holds: the figures an AccelerationConditionsMet or a notice records."""

    delayed_amount: Cents
    instalments: tuple[int, ...]
    branch: str  # a: one instalment ≥ 10 %; b: several ≥ 5 %; c: everything still owed


def meets_threshold(delayed: Cents, count: int, principal: Cents) -> str | None:
    """R-ACC-3 (a)/(b), compared exactly: 100 × delayed ≥ 10 (5) × principal, never a rounded figure."""
    if count == 1 and 100 * delayed >= 10 * principal:
        return "a"
    if count >= 2 and 100 * delayed >= 5 * principal:
        return "b"
    return None


def conditions(pos: Position, principal: Cents) -> Conditions | None:
    """R-ACC-3 on pos.as_of: branches tried in the order a, b, c."""
    if pos.accelerated:
        return None
    delayed = pos.delayed_a_month()
    amount = sum(i.principal_unpaid for i in delayed)
    if amount <= 0:
        return None
    branch = meets_threshold(amount, len(delayed), principal)
    if branch is None and amount == pos.principal_outstanding:
        branch = "c"
    if branch is None:
        return None
    return Conditions(amount, tuple(i.number for i in delayed), branch)


def hardship_active(hardships: list, on: Date) -> bool:
    """R-ACC-5: a recorded cause of delay that has not ended by `on`."""
    return any(h.start <= on and (h.end is None or h.end > on) for h in hardships)


def pending_notice(notices: list) -> dict | None:
    """The acceleration notice neither cured nor yet taken effect, if any."""
    return next((n for n in notices if n.lapsed_on is None and not n.accelerated), None)


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
    earlier = any(start <= n.on < sent_on for n in books.loan.notice_dates)
    return 14 if earlier else 28


def cured_on(books, notice: dict, *, known_before: int | None = None) -> Date | None:
    """R-ACC-7: the value date of the payment that cured the notice, or None.

    Cured when every listed instalment is fully paid by payments value-dated on or before the cure
    deadline, or when the payments value-dated from the notice day up to the cure deadline (less
    any reversed) add up to the notified delayed amount, however they were allocated; the earlier
    of the two. Penalty interest still owed does not prevent a cure. `known_before`: judge only
    with the payments recorded before that event version (what a decision recorded then knew).
    """
    deadline = notice.cure_deadline
    pos = books.position(deadline, accelerated=False) if known_before is None \
        else books.position_known(deadline, known_before)
    rows = [pos.instalment(n) for n in notice.instalments]  # their principal parts (R-INT-5)
    by_instalments = None if any(r.principal_unpaid > 0 for r in rows) else max(r.principal_settled_on for r in rows)
    return min((d for d in (by_instalments, _paid_in_window(books, notice, known_before)) if d), default=None)


def _paid_in_window(books, notice: dict, known_before: int | None) -> Date | None:
    """The value date on which payments from the notice day on first reach the notified amount."""
    target = notice.delayed_amount
    if not target:
        return None
    paid = 0
    for move in sorted(books.loan.movements_list(), key=lambda m: (m.on, m.seq)):
        if move.kind == "payment" and notice.sent_on <= move.on <= notice.cure_deadline \
                and (known_before is None or move.seq < known_before):
            paid += move.amount
            if paid >= target:
                return move.on
    return None


def hardship_in_window(loan, notice, lag: int, on: Date):
    """R-ACC-10: the first hardship active at any time from the notice day up to the day its
    acceleration would be recorded, or None. That day is the lag-th banking day after it takes
    effect, or today for a pending notice whose day has passed (a revoked cure). A notice sent
    with an override_reason (R-ACC-5) is not stopped by a hardship."""
    if notice.override:
        return None
    record_day = banking_days_after(notice.takes_effect_on, lag)
    if not notice.accelerated:
        record_day = max(record_day, on)
    return next((h for h in loan.hardships if h.start <= record_day and (h.end is None or h.end > notice.sent_on)),
                None)


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


def cure_deadline_of(sent_on: Date, period_days: int) -> Date:
    """R-ACC-6: the notice day + the period, moved to the next banking day when that is not one
    (by analogy with Act 150/1930 §5: a period ending on a weekend or holiday ends on the next
    weekday; the §8(3) period is the borrower's time to pay)."""
    return next_banking_day_on_or_after(sent_on + days(period_days))


def acceleration_notice_fields(books, on: Date, *, decided_by: str, reasons: str, legal_basis: str | None,
                               override_reason: str | None, channel: str) -> dict:
    """The figures of an acceleration notice sent on `on` (R-ACC-6), or not_eligible."""
    loan = books.loan
    pos = books.position(on)
    met = conditions(pos, loan.principal)
    if met is None:
        delayed = sum(i.principal_unpaid for i in pos.delayed_a_month())
        raise DomainError("not_eligible", f"Act §8(1)(1) conditions do not hold on {on}: delayed at least a "
                          f"month {format_cents(delayed)} of principal {format_cents(loan.principal)} "
                          f"(needs 10 % for one instalment, 5 % for several, or everything owed "
                          f"{format_cents(pos.principal_outstanding)})", rule="R-ACC-3")
    period = notice_period_days(books, on)
    cure_deadline = cure_deadline_of(on, period)
    figures = {"delayed_amount": format_cents(met.delayed_amount), "instalments": list(met.instalments),
               "period_days": period, "cure_deadline": cure_deadline, "takes_effect_on": cure_deadline + days(1)}
    content = {"loan": loan.loan_id, "kind": "acceleration", "sent_on": on, **figures}
    return {"kind": "acceleration", "channel": channel, "content_hash": books.notice_hash(content), **figures,
            "ground": "Act 1133/2002 §8(1)(1)", "override_reason": override_reason, "decided_by": decided_by,
            "reasons": reasons, "legal_basis": legal_basis or "Act 1133/2002 §8(1)(1), §8(3)"}


def acceleration_takes_effect(loan, notice: dict, lag: int, on: Date) -> Date | None:
    """The day a pending notice's acceleration takes effect (R-ACC-8), judged on `on`, or None if it
    does not: a notice during which a hardship was active lapses when the hardship ends (R-ACC-10,
    Act §8(2) bars bringing the acceleration into effect, not only starting it)."""
    if hardship_in_window(loan, notice, lag, on) is not None:
        return None
    return notice.takes_effect_on
