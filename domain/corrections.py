"""Rule corrections: what the daily run records for a stored history that earlier rules got wrong.

The §8 corrections of issue 12 changed rules that earlier versions applied when they recorded
events. Nothing stored is edited: when a loan's history holds a consequence the rules now forbid,
the next run records a correcting event (reasons starting "rule correction", decided_by
"scheduler"), and `luotto rule-corrections` lists every loan so corrected.

- An acceleration notice whose notified amount did not reach the R-ACC-3 threshold (compared
  exactly) is revoked; so is an acceleration recorded although the notice was cured (R-ACC-6:
  deadline moved off a holiday; R-ACC-7: payments adding up to the notified amount) or a hardship
  was active during it (R-ACC-10), judged with what was recorded before the acceleration. (Money
  recorded after an acceleration cures it through R-ACC-8 as before.)
- A terms change that reached back to an instalment already due (R-TERMS-1) is re-recorded as it
  should have been: the instalments already due keep their earlier amounts and due dates, and the
  change applies from the first instalment not yet due to the principal then unpaid.
"""
from __future__ import annotations

from domain import events as ev
from domain.events import due_date
from domain.dates import add_months
from domain.delinquency import cured_on, hardship_in_window, meets_threshold
from domain.errors import DomainError
from domain.ledger import position
from domain.money import format_cents
from domain.policy import Policy
from domain.schedule import Instalment, replan
from domain.steps import Step

BY_SCHEDULER = {"decided_by": "scheduler"}


def is_correction(event) -> bool:
    """An event a run recorded to correct a stored history, or a cure its money no longer holds."""
    reasons = getattr(event, "reasons", None) or ""
    return isinstance(event, ev.AccelerationLapseRevoked) or reasons.startswith(ev.RULE_CORRECTION)


def acceleration_correction(books, on) -> Step | None:
    loan = books.loan
    for notice in loan.notices:
        if notice.lapse is not None or notice.lapsed_on is not None:
            continue
        why = _invalid_notice(books, notice) or (_wrongly_accelerated(books, notice, on) if notice.accelerated
                                                 else None)
        if why is not None:
            rule, reason = why
            day = loan.accelerated_on if notice.accelerated else notice.sent_on
            return Step(ev.AccelerationRevoked, day, {
                "notice": notice.version, "appeal": None, **BY_SCHEDULER,
                "reasons": f"{ev.RULE_CORRECTION} ({rule}): {reason}",
                "legal_basis": f"Act 1133/2002 §8; rule correction ({rule})"})
    return None


def _invalid_notice(books, notice: dict) -> tuple[str, str] | None:
    """R-ACC-3 on the figures the notice recorded: (a) or (b) exactly, else (c) with what was known."""
    delayed, count, principal = notice.delayed_amount, len(notice.instalments), books.loan.principal
    if meets_threshold(delayed, count, principal) is not None:
        return None
    if delayed == books.position_known(notice.sent_on, notice.version).principal_outstanding:
        return None
    share = 10 if count == 1 else 5
    return "R-ACC-3", (f"the notice of {notice.sent_on} notified {format_cents(delayed)} delayed in {count} "
                       f"instalment(s), less than {share} % of the principal {format_cents(principal)}")


def _wrongly_accelerated(books, notice: dict, on) -> tuple[str, str] | None:
    known = notice.accelerated_version
    cured = cured_on(books, notice, known_before=known)
    if cured is not None:
        return "R-ACC-6, R-ACC-7", (f"the notice of {notice.sent_on} was cured on {cured}, by its cure deadline "
                                    f"{notice.cure_deadline}, before the acceleration was recorded")
    lag = books.policy.acceleration_settlement_lag_banking_days
    hardship = hardship_in_window(books.loan, notice, lag, on)
    if hardship is not None and hardship.version < known:
        return "R-ACC-10", (f"a cause of delay under Act §8(2) was recorded from {hardship.start} during the notice "
                            f"of {notice.sent_on}, so the notice could not take effect")
    return None


def terms_correction(books, on) -> Step | None:
    """R-TERMS-1 for a stored change that reached back, if nothing has changed the plan since."""
    loan = books.loan
    for change in loan.terms_changes:
        if change.reached_back and not change.corrected:
            if tuple(r for r in loan.plan if r.n >= change.from_instalment) != change.rows:
                continue  # the plan changed again since: left for a person (listed as needing review)
            return Step(ev.RepaymentTermsChanged, change.on, _corrected_terms(books, change))
    return None


def _corrected_terms(books, change) -> dict:
    loan = books.loan
    kept = [r for r in change.replaced if due_date(loan, r) <= change.on]
    rest = [r for r in change.replaced if due_date(loan, r) > change.on]
    tail = [{"instalment": r.n, "due_date": due_date(loan, r).isoformat(), "amount": format_cents(r.amount)}
            for r in kept]
    amounts = [r.amount for r in rest]
    if rest:
        # The plan as it stood before the change, and the money recorded before it.
        before = [r for r in loan.plan if r.n < change.from_instalment] + list(change.replaced)
        plan = [Instalment(r.n, due_date(loan, r), r.amount) for r in before]
        money = [m for m in loan.movements if m.seq < change.version]
        pos = position(plan, money, as_of=change.on, rates=None)
        try:
            amounts = replan([pos.instalment(r.n) for r in rest], change.amount,
                             Policy.from_json(loan.policy).max_term_months, rest[0].n)
        except DomainError:
            pass  # the new amount cannot apply to what is left: those instalments stay as they were
        tail += [{"instalment": rest[0].n + j,
                  "due_date": add_months(loan.first_due_date, rest[0].months + j).isoformat(),
                  "amount": format_cents(a)} for j, a in enumerate(amounts)]
    first_due = due_date(loan, change.replaced[0])
    applies_from = f"instalment {rest[0].n}" if rest else "no instalment"
    return {"from_instalment": change.from_instalment, "instalment_amount": format_cents(change.amount),
            "instalments": tail, **BY_SCHEDULER, "legal_basis": "Act 1133/2002 §6; rule correction (R-TERMS-1)",
            "reasons": f"{ev.RULE_CORRECTION} (R-TERMS-1): the terms change of {change.on} (version "
                       f"{change.version}) reached back to instalment {change.from_instalment}, due on {first_due}; "
                       f"it applies from {applies_from}, to the principal then unpaid"}
