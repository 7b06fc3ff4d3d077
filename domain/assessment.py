"""The assessment of an application (R-APP-2 … R-APP-4): payment capacity month by month, the
plan that fits it and the grounds computed from the facts, each with its figures.

Pure: the date of the assessment and the reference rates are passed in; money is integer cents.
The API, `luotto assess` and (later) the decision all call `assess`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from domain.applications import Application, Month, first_day, month_label, month_of
from domain.dates import Date, add_months
from domain.errors import invalid
from domain.interest import InterestTerms, check_cap, on_time_interest_parts
from domain.living_costs import LivingCostNorm
from domain.money import Cents, format_cents
from domain.policy import Policy
from domain.rates import MissingRate, ReferenceRates
from domain.schedule import split_amounts


@dataclass(frozen=True)
class MonthCapacity:
    month: Month
    incomes: Cents
    expenses: Cents
    norm: Cents
    debt_payments: Cents  # of debts the loan does not pay off

    @property
    def amount(self) -> Cents:
        return self.incomes - self.expenses - self.norm - self.debt_payments  # never clamped at zero

    def to_json(self) -> dict:
        return {"month": month_label(self.month), "amount": format_cents(self.amount),
                **{k: format_cents(getattr(self, k)) for k in ("incomes", "expenses", "norm", "debt_payments")}}


@dataclass(frozen=True)
class Plan:
    rows: tuple[tuple[Date, Cents, Cents], ...]  # (due date, principal part, interest part)
    requested: bool
    terms: InterestTerms
    fits: bool = True

    @property
    def term_months(self) -> int:
        return len(self.rows)

    @property
    def largest_instalment(self) -> Cents:
        return max(principal + interest for _, principal, interest in self.rows)

    def to_json(self) -> dict:
        return {"term_months": self.term_months, "instalment_amount": format_cents(self.rows[0][1]),
                "largest_instalment": format_cents(self.largest_instalment),
                "first_due_date": self.rows[0][0].isoformat(), "last_due_date": self.rows[-1][0].isoformat(),
                "fits": self.fits, "requested": self.requested, "interest": self.terms.to_json(),
                "interest_total": format_cents(sum(r[2] for r in self.rows)),
                "instalments": [{"instalment": n, "due_date": due.isoformat(), "principal": format_cents(p),
                                 "interest": format_cents(i), "amount": format_cents(p + i)}
                                for n, (due, p, i) in enumerate(self.rows, 1)]}


@dataclass(frozen=True)
class Finding:
    """A computed ground for refusal (R-APP-3/4) or a warning, with the figures that decided it."""
    code: str
    rule: str
    figures: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"code": self.code, "rule": self.rule, "figures": self.figures}


@dataclass(frozen=True)
class Assessment:
    assessed_on: Date
    months: tuple[MonthCapacity, ...]  # the plan's months; without a plan, max_term_months months
    plan: Plan | None
    grounds: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    norm_source: str

    @property
    def capacity(self) -> Cents:
        return min(m.amount for m in self.months)

    def to_json(self) -> dict:
        return {"assessed_on": self.assessed_on.isoformat(),
                "capacity": {"minimum": format_cents(self.capacity), "months": len(self.months),
                             "living_cost_norm_source": self.norm_source,
                             "by_month": [m.to_json() for m in self.months]},
                "plan": self.plan.to_json() if self.plan else None,
                "grounds": [g.to_json() for g in self.grounds], "warnings": [w.to_json() for w in self.warnings]}


def assess(app: Application, policy: Policy, rates: ReferenceRates | None, assessed_on: Date) -> Assessment:
    """R-APP-2 capacity over the plan's months, R-APP-3 the plan, R-APP-4 the grounds."""
    norm = policy.living_cost_norm
    if norm is None:
        raise invalid("policy.living_cost_norm is not set: the payment capacity cannot be computed without the "
                      "organiser's living-cost norm and its source", rule="R-APP-2", field="policy.living_cost_norm")
    terms = app.interest if app.interest is not None else default_terms(policy)
    if terms.charged:
        if rates is None:
            raise invalid("an interest-bearing plan needs reference rates", rule="R-INT-1", field="reference_rates")
        _known(lambda: check_cap(terms, assessed_on, rates, field="application.interest"))
    try:  # every due date of the longest plan must be a calendar date
        add_months(app.first_due_date, policy.max_term_months)
    except (ValueError, OverflowError):
        raise invalid(f"first_due_date {app.first_due_date} leaves no room for a plan of max_term_months "
                      f"{policy.max_term_months}", rule="R-SCHED-1", field="application.first_due_date") from None
    first = month_of(app.first_due_date)
    horizon = tuple(capacity_in(app, norm, first + k) for k in range(policy.max_term_months))
    over = _running_min([m.amount for m in horizon])  # over[n - 1]: the capacity over an n-month term

    def plan_of(amounts: list[Cents], requested: bool) -> Plan:
        dues = [add_months(app.first_due_date, n) for n in range(len(amounts))]  # R-SCHED-1
        interest = [0] * len(dues)
        if terms.charged:  # as if granted on the assessment date and paid on time (R-INT-3)
            interest = _known(lambda: on_time_interest_parts(terms, rates, app.requested_amount, assessed_on,
                                                             list(zip(dues, amounts))))
        rows = tuple(zip(dues, amounts, interest))
        largest = max(p + i for _, p, i in rows)
        return Plan(rows, requested, terms, fits=largest <= over[len(rows) - 1])

    longest = min(policy.max_term_months, app.requested_amount)  # no instalment of 0.00 (R-SCHED-2)
    requested = _requested_amounts(app, policy)
    if requested is not None:
        plan = plan_of(requested, True)
    else:  # R-APP-3: the shortest term that fits; capacity may fall later, so every term is tried
        tried = (plan_of(split_amounts(app.requested_amount, term_months=n), False) for n in range(1, longest + 1))
        plan = next((p for p in tried if p.fits), None)
    months = horizon[:plan.term_months] if plan else horizon
    closest = plan or plan_of(split_amounts(app.requested_amount, term_months=longest), False)
    grounds, warnings = _findings(app, policy, closest, months)
    return Assessment(assessed_on, months, plan, tuple(grounds), tuple(warnings), norm.source)


def default_terms(policy: Policy) -> InterestTerms:
    """The policy's default interest terms (R-INT-1); interest-free unless it sets some."""
    return InterestTerms.from_json(policy.regular_interest, "policy.regular_interest")


def capacity_in(app: Application, norm: LivingCostNorm, month: Month) -> MonthCapacity:
    """R-APP-2 for one month: incomes valid that month − expenses valid that month − the household's
    norm (children by their age on the month's first day) − payments of debts the loan leaves."""
    return MonthCapacity(
        month,
        incomes=sum(i.amount for i in app.incomes if i.applies(month)),
        expenses=sum(e.amount for e in app.expenses if e.applies(month)),
        norm=norm.for_month(app.adults, list(app.children_born), first_day(month)),
        debt_payments=sum(d.monthly_payment for d in app.debts if not d.paid_off_by_loan))


def _requested_amounts(app: Application, policy: Policy) -> list[Cents] | None:
    """The applicant's own plan in R-SCHED-2 form, or None; never longer than max_term_months (R-SCHED-3)."""
    if app.requested_instalment is not None:
        amounts, where = split_amounts(app.requested_amount, instalment_amount=app.requested_instalment), \
            "application.requested_instalment"
    elif app.requested_term_months is not None:
        where = "application.requested_term_months"
        if app.requested_term_months > app.requested_amount:
            raise invalid(f"requested_term_months {app.requested_term_months} leaves instalments of 0.00 on "
                          f"{format_cents(app.requested_amount)}", rule="R-SCHED-2", field=where)
        amounts = split_amounts(app.requested_amount, term_months=app.requested_term_months)
    else:
        return None
    if len(amounts) > policy.max_term_months:
        raise invalid(f"max_term_months {policy.max_term_months} would be exceeded: the requested plan has "
                      f"{len(amounts)} monthly instalments", rule="R-SCHED-3", field=where)
    return amounts


def _findings(app: Application, policy: Policy, plan: Plan, months: tuple[MonthCapacity, ...]
              ) -> tuple[list[Finding], list[Finding]]:
    """R-APP-4 in its order. `plan` is the plan assessed, or without one the longest possible."""
    grounds, warnings = [], []
    amount, money = app.requested_amount, format_cents
    low = min(months, key=lambda m: m.amount)
    capacity = low.amount
    if not plan.fits:
        grounds.append(Finding("no_payment_capacity", "R-APP-3", {
            "capacity": money(capacity), "lowest_month": month_label(low.month), "requested_plan": plan.requested,
            "term_months": plan.term_months, "largest_instalment": money(plan.largest_instalment)}))
    if policy.min_loan_amount is not None and amount < policy.min_loan_amount:
        grounds.append(Finding("amount_below_minimum", "R-APP-4", {
            "requested_amount": money(amount), "min_loan_amount": money(policy.min_loan_amount)}))
    if policy.max_loan_amount is not None and amount > policy.max_loan_amount:
        # Tolerated up to max × (1 + deviation %), exactly; shown rounded down to the cent.
        tolerated = Decimal(policy.max_loan_amount) * (100 + policy.max_loan_deviation) / 100
        figures = {"requested_amount": money(amount), "max_loan_amount": money(policy.max_loan_amount),
                   "max_loan_deviation": str(policy.max_loan_deviation), "tolerated_up_to": money(int(tolerated))}
        (warnings if amount <= tolerated else grounds).append(Finding("amount_above_maximum", "R-APP-4", figures))
    total_debt = sum(d.amount for d in app.debts)
    if policy.max_total_debt_of_applicant is not None and total_debt > policy.max_total_debt_of_applicant:
        grounds.append(Finding("total_debt_limit", "R-APP-4", {
            "total_debt": money(total_debt), "max_total_debt_of_applicant": money(policy.max_total_debt_of_applicant)}))
    if policy.one_open_loan_per_borrower and app.open_social_loans > 0:
        grounds.append(Finding("open_loan", "R-APP-4", {"open_social_loans": app.open_social_loans}))
    if app.home_municipality is not None and policy.municipalities is not None and \
            _name(app.home_municipality) not in {_name(m) for m in policy.municipalities}:
        grounds.append(Finding("not_resident", "R-APP-4", {
            "home_municipality": app.home_municipality, "municipalities": list(policy.municipalities)}))
    if policy.saving_months is not None and capacity * policy.saving_months >= amount:
        grounds.append(Finding("can_save", "R-APP-4", {
            "capacity": money(capacity), "saving_months": policy.saving_months,
            "savings": money(capacity * policy.saving_months), "requested_amount": money(amount)}))
    paid_off = [d for d in app.debts if d.paid_off_by_loan]
    left = [d for d in app.debts if not d.paid_off_by_loan]
    if paid_off and left:
        grounds.append(Finding("unsettled_debts_remain", "R-APP-4", {
            "debts_paid_off": len(paid_off), "paid_off_amount": money(sum(d.amount for d in paid_off)),
            "debts_remaining": len(left), "remaining_amount": money(sum(d.amount for d in left))}))
    if app.debt_adjustment_ongoing:
        grounds.append(Finding("debt_adjustment_ongoing", "R-APP-4", {"debt_adjustment_ongoing": True}))
    return grounds, warnings


def _name(municipality: str) -> str:
    return " ".join(municipality.split()).casefold()


def _running_min(values: list[Cents]) -> list[Cents]:
    """out[k] = the minimum of values[0..k]: the capacity over a term of k + 1 months."""
    out, low = [], None
    for v in values:
        low = v if low is None else min(low, v)
        out.append(low)
    return out


def _known(compute):
    """Interest needs a reference rate for every day it covers (R-PEN-4)."""
    try:
        return compute()
    except MissingRate as e:
        raise invalid(f"{str(e).removeprefix('R-PEN-4: ')}: reference_rates must cover every day from the "
                      f"assessment date to the last due date", rule="R-PEN-4", field="reference_rates") from None
