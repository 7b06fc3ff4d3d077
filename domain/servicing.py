"""What the daily servicing run for a date must record for one loan (R-LATE, R-REM, R-ACC-4/7/8/9).

`next_step` looks at the loan as it now stands and returns the single next event to record,
or None when the run for that date has nothing (more) to do. The aggregate records the step
and asks again, so each step sees the ones before it, and a second run for the same date
finds nothing: the run is idempotent per (loan, date) by construction.
"""
from __future__ import annotations

from domain import corrections
from domain import events as ev
from domain.dates import Date, add_months, banking_days_after, days
from domain.delinquency import (acceleration_notice_fields, acceleration_takes_effect, conditions,
                                conditions_armed, cured_on, hardship_active, hardship_in_window, pending_notice)
from domain.money import format_cents
from domain.steps import Step


CURED = "cured: the delayed amount was paid by the cure deadline (Act §8(3), R-ACC-7)"
UNCURED = "cure revoked: the payment that cured the notice was reversed or not received (R-ACC-7)"
HARDSHIP_ENDED = (f"{ev.HARDSHIP_LAPSE}: a cause of delay under Act §8(2) was active during the notice, so it "
                  f"never takes effect (R-ACC-10)")


def next_step(books, on: Date, *, letters: bool = True) -> Step | None:
    """`letters=False` (R-MIG-2, replaying a migrated history): no reminder and no automatic notice;
    those before the import date exist only where the migrated file records them."""
    loan = books.loan
    if loan.closed:
        return None
    for step in (corrections.terms_correction, corrections.acceleration_correction, _cure, _hardship_lapse,
                 _acceleration, _fell_due, _late, _reminder, _conditions_met, _auto_notice, _repaid):
        if not letters and step in (_reminder, _auto_notice):
            continue
        found = step(books, on)
        if found is not None:
            return found
    return None


def cure_steps(books, on: Date) -> list[Step]:
    """R-ACC-7/8: notices cured now, and cures that no longer hold (their money was reversed)."""
    steps = []
    for notice in books.loan.notices:
        if notice.lapsed_on is None:
            day = cured_on(books, notice)
            if day is not None:
                steps.append(Step(ev.AccelerationLapsed, day, {"notice": notice.version, "reason": CURED}))
        elif notice.lapse == "cure" and cured_on(books, notice) is None:
            steps.append(Step(ev.AccelerationLapseRevoked, on, {"notice": notice.version, "reason": UNCURED}))
    return steps


def _cure(books, on: Date) -> Step | None:
    return next(iter(cure_steps(books, on)), None)


def _hardship_lapse(books, on: Date) -> Step | None:
    """R-ACC-10: a notice during which a hardship was active lapses on the day the hardship ends."""
    for notice in books.loan.notices:
        if notice.lapsed_on is None:
            hardship = hardship_in_window(books.loan, notice, books.policy.acceleration_settlement_lag_banking_days,
                                          on)
            if hardship is not None and hardship.end is not None and hardship.end <= on:
                return Step(ev.AccelerationLapsed, hardship.end, {"notice": notice.version,
                                                                 "reason": HARDSHIP_ENDED})
    return None


def _acceleration(books, on: Date) -> Step | None:
    """R-ACC-8: recorded once the settlement lag after the effective date has passed."""
    notice = pending_notice(books.loan.notices)
    if notice is None:
        return None
    lag = books.policy.acceleration_settlement_lag_banking_days
    takes_effect = acceleration_takes_effect(books.loan, notice, lag, on)
    if takes_effect is None or on < banking_days_after(takes_effect, lag):
        return None
    at = books.position(takes_effect, accelerated=False)  # R-INT-7: interest to E, penalty excluded
    amount = at.principal_outstanding + at.interest_due + at.interest_accrued
    return Step(ev.LoanAccelerated, takes_effect, {"accelerated_amount": format_cents(amount),
                                                   "notice": notice.version})


def _active(books, on: Date) -> bool:
    """Instalment events stop once the acceleration is recorded, and once nothing is owed."""
    loan = books.loan
    return loan.accelerated_on is None and not (loan.repaid_on is not None and books.position(on).owed == 0)


def _fell_due(books, on: Date) -> Step | None:
    if not _active(books, on):
        return None
    for inst in sorted(books.plan(), key=lambda i: (i.due_date, i.number)):
        if inst.due_date <= on and inst.number not in books.loan.fell_due:
            interest = books.position(inst.due_date).instalment(inst.number).interest or 0  # R-INT-3
            return Step(ev.InstalmentFellDue, inst.due_date, {
                "instalment": inst.number, "amount": format_cents(inst.amount + interest),
                "principal_part": format_cents(inst.amount), "interest_part": format_cents(interest)})
    return None


def _late(books, on: Date) -> Step | None:
    """R-LATE-1: unpaid at the effective deadline by payments value-dated up to it."""
    if not _active(books, on):
        return None
    now = books.position(on)
    for row in now.instalments:
        if row.deadline < on and row.number not in books.loan.late:
            # What is paid of an instalment only grows with later value dates, so a row that is
            # settled by its deadline now was never late, and one settled later (or not yet) was.
            if row.settled_on is not None and row.settled_on <= row.deadline:
                continue
            unpaid = books.position(row.deadline).instalment(row.number).unpaid
            if unpaid > 0:
                return Step(ev.InstalmentLate, row.deadline + days(1), {"instalment": row.number,
                                                                        "amount": format_cents(unpaid)})
    return None


def reminder_fields(books, on: Date, due: list[int], *, channel: str = "letter", decided_by: str = "scheduler",
                    reasons: str = "payment reminder") -> dict:
    content = {"loan": books.loan.loan_id, "kind": "reminder", "sent_on": on, "instalments": due}
    return {"kind": "reminder", "channel": channel, "content_hash": books.notice_hash(content), "instalments": due,
            "delayed_amount": None, "period_days": None, "cure_deadline": None, "takes_effect_on": None,
            "ground": None, "override_reason": None, "decided_by": decided_by, "reasons": reasons,
            "legal_basis": "Act 1133/2002 §8(3) (earlier notice of the delay)"}


def _reminder(books, on: Date) -> Step | None:
    """R-REM-1: one reminder a loan a day, listing every instalment due a reminder that day."""
    offsets = books.policy.reminder_offsets_days
    if not offsets or not _active(books, on) or any(n.on == on and n.kind == "reminder"
                                                    for n in books.loan.notice_dates):
        return None
    due = [row.number for row in books.position(on).instalments
           if row.unpaid > 0 and (on - row.deadline).days in offsets]
    if not due:
        return None
    return Step(ev.NoticeSent, on, reminder_fields(books, on, due))


def _conditions_met(books, on: Date) -> Step | None:
    """R-ACC-4: recorded when a loan qualifies anew, never while a hardship or notice is pending."""
    loan = books.loan
    if not _active(books, on) or pending_notice(loan.notices) or hardship_active(loan.hardships, on):
        return None
    met = conditions(books.position(on), loan.principal)
    if met is None or not conditions_armed(books, on):
        return None
    return Step(ev.AccelerationConditionsMet, on, {"delayed_amount": format_cents(met.delayed_amount),
                                                   "instalments": list(met.instalments), "branch": met.branch})


def _auto_notice(books, on: Date) -> Step | None:
    """R-ACC-9: with auto_acceleration_notice the run sends the notice the day conditions are met."""
    loan = books.loan
    if not books.policy.auto_acceleration_notice or not loan.acm_dates or loan.acm_dates[-1] != on:
        return None
    if pending_notice(loan.notices) or any(n.sent_on == on for n in loan.notices):
        return None
    return Step(ev.NoticeSent, on, acceleration_notice_fields(books, on, decided_by="scheduler",
                                                              reasons="automatic notice (policy)",
                                                              legal_basis=None, override_reason=None,
                                                              channel="letter"))


def _repaid(books, on: Date) -> Step | None:
    loan = books.loan
    pos = books.position(on)
    if loan.repaid_on is not None or pos.owed > 0:
        return None
    return Step(ev.LoanRepaid, pos.paid_off_on or on)


def next_action_date(books, after: Date) -> Date | None:
    """The first date after `after` on which the run could record something for this loan if
    nothing else happened: the servicing agenda (due dates, deadline + 1, reminder days, a month
    after a deadline, the day an acceleration is recorded). New facts (payments, decisions)
    bring the date forward through the read model; this never postpones a date on which
    `next_step` would act.
    """
    loan = books.loan
    if loan.closed:
        return None
    if next_step(books, after + days(1)) is not None:
        return after + days(1)  # due at once, e.g. after a back-dated fact or a hardship that ended
    pos = books.position(after + days(1))
    if pos.owed == 0:
        return None if loan.repaid_on is not None else after + days(1)
    candidates = []
    notice = pending_notice(loan.notices)
    lag = books.policy.acceleration_settlement_lag_banking_days
    takes_effect = acceleration_takes_effect(loan, notice, lag, after + days(1)) if notice else None
    if takes_effect is not None:
        candidates.append(banking_days_after(takes_effect, lag))
    best = min((d for d in candidates if d > after), default=None)
    if loan.accelerated_on is None:
        offsets = books.policy.reminder_offsets_days
        # Rows come in due-date order and none of a row's dates is before its due date plus the
        # smallest offset (deadlines are on or after due dates): once a row starts at or after the
        # best date found, no later row can give an earlier one.
        lead = days(min((0, *offsets)))
        for row in pos.instalments:
            if best is not None and row.due_date + lead >= best:
                break
            if row.number not in loan.fell_due:
                candidates.append(row.due_date)
            if row.unpaid > 0:
                if row.number not in loan.late:
                    candidates.append(row.deadline + days(1))
                candidates += [row.deadline + days(k) for k in offsets]
                candidates.append(add_months(row.deadline, 1) + days(1))
            best = min((d for d in candidates if d > after), default=None)
    return best
