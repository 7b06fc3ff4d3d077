"""The repayment plan (rule book section 5)."""
from __future__ import annotations

from dataclasses import dataclass

from domain.dates import Date, add_months, effective_deadline
from domain.errors import invalid
from domain.money import Cents, format_cents
from domain.policy import Policy


@dataclass(frozen=True)
class Instalment:
    number: int
    due_date: Date
    amount: Cents

    @property
    def deadline(self) -> Date:
        return effective_deadline(self.due_date)


def split_amounts(total: Cents, *, instalment_amount: Cents | None = None,
                  term_months: int | None = None) -> list[Cents]:
    """Amounts of a plan (R-SCHED-2): equal instalments, the last one takes the remainder."""
    if (instalment_amount is None) == (term_months is None):
        raise invalid("give exactly one of instalment_amount and term_months", rule="R-SCHED-2",
                      field="instalment_amount")
    if instalment_amount is not None:
        if instalment_amount <= 0:
            raise invalid("instalment_amount must be positive", rule="R-SCHED-2", field="instalment_amount")
        full, rest = divmod(total, instalment_amount)
        return [instalment_amount] * full + ([rest] if rest else [])
    if term_months is None or term_months < 1:
        raise invalid("term_months must be at least 1", rule="R-SCHED-2", field="term_months")
    each = total // term_months
    if each == 0:
        raise invalid(f"term_months {term_months} leaves instalments of 0.00", rule="R-SCHED-2",
                      field="term_months")
    return [each] * (term_months - 1) + [total - each * (term_months - 1)]


def build_plan(principal: Cents, first_due_date: Date, *, instalment_amount: Cents | None = None,
               term_months: int | None = None) -> list[Instalment]:
    """Due date n is always counted from the first due date, never chained (R-SCHED-1)."""
    amounts = split_amounts(principal, instalment_amount=instalment_amount, term_months=term_months)
    return [Instalment(n, add_months(first_due_date, n - 1), amount) for n, amount in enumerate(amounts, 1)]


def check_plan(plan: list[Instalment], *, granted_on: Date, first_due_date: Date, policy: Policy) -> None:
    """Refuse a plan the policy forbids (R-SCHED-3)."""
    if len(plan) > policy.max_term_months:
        raise invalid(f"max_term_months {policy.max_term_months} would be exceeded: the plan has "
                      f"{len(plan)} monthly instalments", rule="R-SCHED-3", field="instalment_amount")
    if first_due_date < granted_on:
        raise invalid(f"first_due_date {first_due_date} is before the grant date {granted_on}",
                      rule="R-SCHED-3", field="first_due_date")
    latest = add_months(granted_on, 3)
    if first_due_date > latest:
        raise invalid(f"first_due_date {first_due_date} is more than 3 months after the grant date "
                      f"{granted_on} (latest {latest})", rule="R-SCHED-3", field="first_due_date")
    if policy.due_day is not None and first_due_date.day != policy.due_day:
        raise invalid(f"due_day {policy.due_day}: first_due_date {first_due_date} is not on day "
                      f"{policy.due_day} of the month", rule="R-SCHED-3", field="first_due_date")


def describe(plan: list[Instalment]) -> list[dict]:
    return [{"instalment": i.number, "due_date": i.due_date.isoformat(), "deadline": i.deadline.isoformat(),
             "amount": format_cents(i.amount)} for i in plan]


def replan(rows: list, instalment_amount: Cents, max_term_months: int, from_instalment: int) -> list[Cents]:
    """R-TERMS-1: the principal still unpaid in instalments k.. (`rows`, their positions on the
    decision's date) re-planned at a new instalment amount by R-SCHED-2.

    What was already paid ahead on them stays in the first re-planned instalment and what was
    waived in the last, where the ledger allocates them again (payments ahead in due-date order,
    exemptions from the last instalment backwards), so each new instalment leaves the new amount
    to pay and the plan still adds up to the principal.
    """
    unpaid = sum(r.principal_unpaid for r in rows)
    if unpaid == 0:
        raise invalid(f"nothing is left to pay from instalment {from_instalment} on", rule="R-TERMS-1",
                      field="from_instalment")
    amounts = split_amounts(unpaid, instalment_amount=instalment_amount)
    if from_instalment - 1 + len(amounts) > max_term_months:
        raise invalid(f"max_term_months {max_term_months} would be exceeded: {format_cents(unpaid)} at "
                      f"{format_cents(instalment_amount)} a month needs {len(amounts)} more instalments after "
                      f"instalment {from_instalment - 1}", rule="R-TERMS-1", field="instalment_amount")
    amounts[0] += sum(r.paid for r in rows)
    amounts[-1] += sum(r.waived for r in rows)
    return amounts
