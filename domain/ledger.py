"""The ledger: allocation (R-PAY-3/4), penalty interest (R-PEN) and balances on a date.

One pure fold over a loan's facts, recomputed from scratch every time, so a back-dated
payment or a reversal re-allocates everything after it and nothing stored is ever edited.
The aggregate's guards, the servicing decision, the simulator and the projections all
call `position()`; there is no second implementation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from domain.dates import Date, add_months
from domain.money import Cents, divide_half_up
from domain.rates import DENOMINATOR, ReferenceRates
from domain.schedule import Instalment


@dataclass
class InstalmentPosition:
    number: int
    due_date: Date
    deadline: Date
    amount: Cents
    paid: Cents = 0
    waived: Cents = 0
    settled_on: Date | None = None  # the day its last cent was paid or waived

    @property
    def unpaid(self) -> Cents:
        return self.amount - self.paid - self.waived


@dataclass
class Position:
    """Everything owed and paid on `as_of`, counting payments value-dated up to that day."""

    as_of: Date
    instalments: list[InstalmentPosition]
    accelerated: bool
    penalty_accrued: Cents = 0
    penalty_paid: Cents = 0
    penalty_waived: Cents = 0
    overpayment: Cents = 0  # negative when a refund was followed by the reversal of the money refunded
    refund_waived: Cents = 0
    paid_off_on: Date | None = None  # the day nothing was owed any more
    _by_number: dict = field(default_factory=dict, repr=False)

    def instalment(self, number: int) -> InstalmentPosition:
        return self._by_number[number]

    @property
    def principal(self) -> Cents:
        return sum(i.amount for i in self.instalments)

    @property
    def principal_paid(self) -> Cents:
        return sum(i.paid for i in self.instalments)

    @property
    def principal_waived(self) -> Cents:
        return sum(i.waived for i in self.instalments)

    @property
    def principal_outstanding(self) -> Cents:
        return sum(i.unpaid for i in self.instalments)

    @property
    def penalty_outstanding(self) -> Cents:
        return self.penalty_accrued - self.penalty_paid - self.penalty_waived

    @property
    def refund_owed_back(self) -> Cents:
        """Money refunded to the borrower that a later reversal showed was never theirs."""
        return max(0, -self.overpayment)

    @property
    def owed(self) -> Cents:
        return self.principal_outstanding + self.penalty_outstanding + self.refund_owed_back

    def overdue(self) -> list[InstalmentPosition]:
        """Unpaid instalments past their effective deadline, or all of them once accelerated."""
        return [i for i in self.instalments if i.unpaid > 0 and (self.accelerated or i.deadline < self.as_of)]

    @property
    def overdue_amount(self) -> Cents:
        return sum(i.unpaid for i in self.overdue())

    def delayed_a_month(self) -> list[InstalmentPosition]:
        """Instalments delayed at least one month on as_of (R-ACC-1, R-ACC-2)."""
        return [i for i in self.instalments if i.unpaid > 0 and self.as_of > add_months(i.deadline, 1)]

    def next_due_date(self) -> Date | None:
        if self.accelerated:
            return None
        return next((i.due_date for i in self.instalments if i.unpaid > 0 and i.due_date >= self.as_of), None)


@dataclass(frozen=True)
class Movement:
    """Money in or out of the ledger on a date; `seq` orders same-day movements as recorded."""

    on: Date
    seq: int
    kind: str  # payment | waiver_partial | waiver_full | refund
    amount: Cents = 0


def position(plan: list[Instalment], movements: list[Movement], *, as_of: Date, rates: ReferenceRates | None,
             accelerated_on: Date | None = None) -> Position:
    """Fold the movements up to `as_of` over the plan.

    `rates` is None for a policy without penalty interest. `accelerated_on` is the effective
    date of an acceleration that stands (recorded and not lapsed).
    """
    accel = accelerated_on if accelerated_on is not None and accelerated_on <= as_of else None
    rows = [InstalmentPosition(i.number, i.due_date, i.deadline, i.amount) for i in plan]
    rows.sort(key=lambda r: (r.due_date, r.number))
    pos = Position(as_of=as_of, instalments=rows, accelerated=accel is not None,
                   _by_number={r.number: r for r in rows})
    accrual = _Accrual(rates, accel)

    def settle(row: InstalmentPosition, amount: Cents, on: Date, *, waived: bool = False) -> None:
        accrual.settle(row, amount, on)
        if waived:
            row.waived += amount
        else:
            row.paid += amount
        if row.unpaid == 0:
            row.settled_on = on

    def penalty_owed(on: Date) -> Cents:
        return accrual.total(rows, on) - pos.penalty_paid - pos.penalty_waived

    for move in sorted((m for m in movements if m.on <= as_of), key=lambda m: (m.on, m.seq)):
        on, left = move.on, move.amount
        if move.kind == "payment":
            overdue_now = accel is not None and accel <= on
            for row in rows:  # 1. overdue, oldest due date first (the whole debt once accelerated)
                if left and row.unpaid and (overdue_now or row.deadline < on):
                    take = min(left, row.unpaid)
                    settle(row, take, on)
                    left -= take
            if left:  # 2. penalty interest accrued up to the value date
                take = min(left, penalty_owed(on))
                pos.penalty_paid += take
                left -= take
            for row in rows:  # 3. paying ahead, in due-date order
                if left and row.unpaid:
                    take = min(left, row.unpaid)
                    settle(row, take, on)
                    left -= take
            pos.overpayment += left  # 4. owed back to the borrower
        elif move.kind == "refund":
            pos.overpayment -= move.amount
        else:  # R-WAIVE-1: penalty interest first, then principal from the last instalment backwards
            full = move.kind == "waiver_full"
            take = penalty_owed(on) if full else min(left, penalty_owed(on))
            pos.penalty_waived += take
            left -= take
            for row in reversed(rows):
                if (full or left) and row.unpaid:
                    take = row.unpaid if full else min(left, row.unpaid)
                    settle(row, take, on, waived=True)
                    left -= take
            if full and pos.overpayment < 0:
                pos.refund_waived, pos.overpayment = -pos.overpayment, 0
        if pos.paid_off_on is None and all(r.unpaid == 0 for r in rows) and penalty_owed(on) == 0 \
                and pos.overpayment >= 0:
            pos.paid_off_on = on

    pos.penalty_accrued = accrual.total(rows, as_of)
    if pos.owed > 0:
        pos.paid_off_on = None
    return pos


class _Accrual:
    """Exact penalty interest (R-PEN-2, R-PEN-3): integer numerators over DENOMINATOR, rounded once."""

    def __init__(self, rates: ReferenceRates | None, accelerated_on: Date | None):
        self.rates = rates
        self.accelerated_on = accelerated_on
        self.settled = 0  # numerator accrued on amounts already paid or waived

    def start(self, row: InstalmentPosition) -> Date:
        # After acceleration the amount not yet overdue accrues from the acceleration's effective date.
        if self.accelerated_on is not None and self.accelerated_on < row.deadline:
            return self.accelerated_on
        return row.deadline

    def settle(self, row: InstalmentPosition, amount: Cents, on: Date) -> None:
        if self.rates is not None:
            self.settled += amount * self.rates.rate_days(self.start(row), on)

    def total(self, rows: list[InstalmentPosition], on: Date) -> Cents:
        if self.rates is None:
            return 0
        running = sum(r.unpaid * self.rates.rate_days(self.start(r), on) for r in rows if r.unpaid)
        return divide_half_up(self.settled + running, DENOMINATOR)
