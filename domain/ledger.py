"""The ledger: allocation (R-PAY-3/4, R-INT-4), regular interest (R-INT-2/3), penalty interest
(R-PEN) and balances on a date.

One pure fold over a loan's facts, recomputed from scratch every time, so a back-dated payment
or a reversal re-allocates everything after it and nothing stored is ever edited. The
aggregate's guards, the servicing decision, the simulator and the projections all call
`position()`; there is no second implementation.

Regular interest is accrued day by day on the interest base (R-INT-2) as an exact integer
numerator and fixed, rounded half-up, as each instalment's interest part on its due date
(R-INT-3); for an interest-free loan every interest figure is zero and nothing is accrued.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from domain.dates import Date, add_months
from domain.interest import InterestAccrual
from domain.money import Cents, divide_half_up
from domain.rates import DENOMINATOR, ReferenceRates
from domain.schedule import Instalment


@dataclass
class InstalmentPosition:
    number: int
    due_date: Date
    deadline: Date
    amount: Cents  # the principal part (R-SCHED-2)
    paid: Cents = 0  # principal paid
    waived: Cents = 0  # principal waived
    interest: Cents | None = None  # the interest part, fixed on the due date (R-INT-3); None until then
    interest_paid: Cents = 0
    interest_waived: Cents = 0
    estimate: Cents = 0  # until fixed: the interest part expected on the current base (R-INT-3)
    settled_on: Date | None = None  # the day its last cent (principal and fixed interest) was paid or waived
    principal_settled_on: Date | None = None

    @property
    def principal_unpaid(self) -> Cents:
        return self.amount - self.paid - self.waived

    @property
    def interest_unpaid(self) -> Cents:
        return (self.interest or 0) - self.interest_paid - self.interest_waived

    @property
    def unpaid(self) -> Cents:  # principal_unpaid + interest_unpaid, inline: the fold's hottest line
        return self.amount - self.paid - self.waived + (self.interest or 0) - self.interest_paid - self.interest_waived

    @property
    def interest_part(self) -> Cents:
        """The interest part as fixed, or as estimated until its due date."""
        return self.interest if self.interest is not None else self.estimate

    @property
    def to_pay(self) -> Cents:
        """What is still to pay on it: its unpaid principal and interest part (estimated until due)."""
        return self.principal_unpaid + (self.estimate if self.interest is None else self.interest_unpaid)


@dataclass
class Position:
    """Everything owed and paid on `as_of`, counting payments value-dated up to that day.

    Complete once `position()` returns it, and never changed after (books share it among their
    callers): so its totals are computed once, on first use (cached_property), not on every read."""

    as_of: Date
    instalments: list[InstalmentPosition]
    accelerated: bool
    penalty_accrued: Cents = 0
    penalty_paid: Cents = 0
    penalty_waived: Cents = 0
    interest_accrued: Cents = 0  # the current period's interest up to as_of, not yet taken (R-INT-3)
    interest_prepaid: Cents = 0  # paid from current periods by paying ahead (R-INT-4 3b)
    interest_waived_accrued: Cents = 0  # waived from current periods by exemptions (R-INT-8)
    overpayment: Cents = 0  # negative when a refund was followed by the reversal of the money refunded
    refund_waived: Cents = 0
    paid_off_on: Date | None = None  # the day nothing was owed any more
    penalty_settled_exact: int = 0  # penalty accrued on amounts since paid or waived, over DENOMINATOR (claims)
    _by_number: dict = field(default_factory=dict, repr=False)

    def instalment(self, number: int) -> InstalmentPosition:
        return self._by_number[number]

    @cached_property
    def principal(self) -> Cents:
        return sum(i.amount for i in self.instalments)

    @cached_property
    def principal_paid(self) -> Cents:
        return sum(i.paid for i in self.instalments)

    @cached_property
    def principal_waived(self) -> Cents:
        return sum(i.waived for i in self.instalments)

    @cached_property
    def principal_outstanding(self) -> Cents:
        return sum(i.principal_unpaid for i in self.instalments)

    @cached_property
    def interest_due(self) -> Cents:
        """Unpaid interest parts of the instalments already due (R-INT-3)."""
        return sum(i.interest_unpaid for i in self.instalments)

    @cached_property
    def interest_paid(self) -> Cents:
        return sum(i.interest_paid for i in self.instalments) + self.interest_prepaid

    @cached_property
    def interest_waived(self) -> Cents:
        return sum(i.interest_waived for i in self.instalments) + self.interest_waived_accrued

    @property
    def penalty_outstanding(self) -> Cents:
        return self.penalty_accrued - self.penalty_paid - self.penalty_waived

    @property
    def refund_owed_back(self) -> Cents:
        """Money refunded to the borrower that a later reversal showed was never theirs."""
        return max(0, -self.overpayment)

    @cached_property
    def owed(self) -> Cents:
        """What paying off on as_of costs (R-PAY-5, R-INT-4): nothing else."""
        return (self.principal_outstanding + self.interest_due + self.interest_accrued + self.penalty_outstanding
                + self.refund_owed_back)

    def overdue(self) -> list[InstalmentPosition]:
        """Unpaid instalments past their effective deadline, or all of them once accelerated."""
        return list(self._overdue)

    @cached_property
    def _overdue(self) -> tuple[InstalmentPosition, ...]:
        return tuple(i for i in self.instalments if i.unpaid > 0 and (self.accelerated or i.deadline < self.as_of))

    @cached_property
    def overdue_amount(self) -> Cents:
        return sum(i.unpaid for i in self._overdue)

    def delayed_a_month(self) -> list[InstalmentPosition]:
        """Instalments whose principal part is delayed at least one month on as_of (R-ACC-1/2, R-INT-5)."""
        return [i for i in self.instalments if i.principal_unpaid > 0 and self.as_of > add_months(i.deadline, 1)]

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
             accelerated_on: Date | None = None, interest: InterestAccrual | None = None,
             penalty_floor: Date | None = None) -> Position:
    """Fold the movements up to `as_of` over the plan.

    `rates` is None for a loan without penalty interest; `penalty_floor` is the last day on which
    none accrues yet (R-PEN-6). `accelerated_on` is the effective date of an acceleration that
    stands. `interest` is the loan's regular interest (None: interest-free).
    """
    accel = accelerated_on if accelerated_on is not None and accelerated_on <= as_of else None
    rows = [InstalmentPosition(i.number, i.due_date, i.deadline, i.amount) for i in plan]
    rows.sort(key=lambda r: (r.due_date, r.number))
    pos = Position(as_of=as_of, instalments=rows, accelerated=accel is not None,
                   _by_number={r.number: r for r in rows})
    penalty = _Penalty(rates, accel, penalty_floor)
    # Rows before `first[0]` owe nothing now, so each payment starts where money is still owed:
    # a fold costs its movements, not movements × instalments. A row whose interest part is fixed
    # after its principal was paid ahead owes again: the clock moves `first` back to it.
    first = [0]
    index = {id(r): i for i, r in enumerate(rows)}

    def reopened(row: InstalmentPosition) -> None:
        first[0] = min(first[0], index[id(row)])

    def owing() -> range:
        while first[0] < len(rows) and rows[first[0]].unpaid == 0:
            first[0] += 1
        return range(first[0], len(rows))

    clock = _InterestClock(rows, interest, accel, reopened) if interest is not None and interest.terms.charged \
        else None

    def settle_principal(row: InstalmentPosition, amount: Cents, on: Date, *, waived: bool = False) -> None:
        penalty.settle(row, amount, on)
        if waived:
            row.waived += amount
        else:
            row.paid += amount
        if row.principal_unpaid == 0:
            row.principal_settled_on = on
        if row.unpaid == 0:
            row.settled_on = on

    def settle_interest(row: InstalmentPosition, amount: Cents, on: Date, *, waived: bool = False) -> None:
        if waived:
            row.interest_waived += amount
        else:
            row.interest_paid += amount
        if row.unpaid == 0:
            row.settled_on = on

    def pay(row: InstalmentPosition, left: Cents, on: Date, *, principal: bool = True) -> Cents:
        """Interest part first, then (if asked) the principal part; returns what is left."""
        take = min(left, row.interest_unpaid)
        if take:
            settle_interest(row, take, on)
            left -= take
        if principal:
            take = min(left, row.principal_unpaid)
            if take:
                settle_principal(row, take, on)
                left -= take
        return left

    def penalty_owed(on: Date) -> Cents:
        return penalty.total(rows, on) - pos.penalty_paid - pos.penalty_waived

    for move in merged_movements(m for m in movements if m.on <= as_of):
        on, left = move.on, move.amount
        if clock is not None:
            clock.advance(on)
        if move.kind == "payment":
            overdue_now = accel is not None and accel <= on
            for i in owing():  # 1. overdue, oldest due date first (the whole debt once accelerated)
                row = rows[i]
                if not left or not (overdue_now or row.deadline < on):  # deadlines follow due dates
                    break
                if row.unpaid:
                    left = pay(row, left, on)
            if left:  # 2. penalty interest accrued up to the value date
                take = min(left, penalty_owed(on))
                pos.penalty_paid += take
                left -= take
            for i in owing():  # 3a. instalments already due, not yet overdue
                row = rows[i]
                if not left or row.due_date > on:
                    break
                if row.unpaid:
                    left = pay(row, left, on)
            if left and clock is not None:  # 3b. the current period's interest so far
                take = clock.take(left)
                pos.interest_prepaid += take
                left -= take
            for i in owing():  # 3c. principal of instalments not yet due, in due-date order
                if not left:
                    break
                if rows[i].principal_unpaid:
                    left = pay(rows[i], left, on)
            pos.overpayment += left  # 4. owed back to the borrower
        elif move.kind == "refund":
            pos.overpayment -= move.amount
        else:  # R-WAIVE-1, R-INT-8: penalty interest, then regular interest, then principal from the end
            full = move.kind == "waiver_full"
            take = penalty_owed(on) if full else min(left, penalty_owed(on))
            pos.penalty_waived += take
            left -= take
            for row in rows:
                take = row.interest_unpaid if full else min(left, row.interest_unpaid)
                if take:
                    settle_interest(row, take, on, waived=True)
                    left -= take
            if clock is not None and (full or left):
                take = clock.take(None if full else left)
                pos.interest_waived_accrued += take
                left -= take
            for row in reversed(rows):
                if (full or left) and row.principal_unpaid:
                    take = row.principal_unpaid if full else min(left, row.principal_unpaid)
                    settle_principal(row, take, on, waived=True)
                    left -= take
            if full and pos.overpayment < 0:
                pos.refund_waived, pos.overpayment = -pos.overpayment, 0
        if pos.paid_off_on is None and not owing() and penalty_owed(on) == 0 \
                and pos.overpayment >= 0 and (clock is None or clock.settled()):
            pos.paid_off_on = on

    if clock is not None:
        clock.advance(as_of)
        pos.interest_accrued = clock.outstanding()
        clock.estimate(as_of)
    pos.penalty_accrued = penalty.total(rows, as_of)
    pos.penalty_settled_exact = penalty.settled
    if pos.owed > 0:
        pos.paid_off_on = None
    return pos


def merged_movements(movements) -> list[Movement]:
    """The movements in folding order (value date, then as recorded), consecutive payments of one
    value date as one: the allocation is a waterfall whose every step depends on the date only, so
    paying a then b on a day allocates exactly as paying a + b (a bank file's thousands of small
    payments on one loan cost one step, not thousands)."""
    out: list[Movement] = []
    for move in sorted(movements, key=lambda m: (m.on, m.seq)):
        if out and move.kind == "payment" and out[-1].kind == "payment" and out[-1].on == move.on:
            out[-1] = Movement(move.on, out[-1].seq, "payment", out[-1].amount + move.amount)
        else:
            out.append(move)
    return out


class _InterestClock:
    """Regular interest along the timeline (R-INT-2/3/6/7): accrues day by day on the interest base
    (principal not yet repaid, less the principal of overdue instalments), fixes each instalment's
    interest part on its due date, and stops after the acceleration's effective date."""

    def __init__(self, rows: list[InstalmentPosition], accrual: InterestAccrual, accelerated_on: Date | None,
                 reopened=lambda row: None):
        self.rows, self.accrual, self.accelerated_on, self.reopened = rows, accrual, accelerated_on, reopened
        self.day = accrual.starts  # accrued up to and including this day
        self.numerator = 0  # exact interest of the current period so far
        self.taken = 0  # cents taken from the current period
        self.unfixed = [r for r in rows]  # in due-date order
        self.stopped = False
        for row in list(self.unfixed):  # due before interest runs (a late disbursement): nothing to fix
            if row.due_date <= self.day:
                self._fix(row, 0)

    def _base(self) -> Cents:
        return sum(r.principal_unpaid for r in self.rows if r.deadline > self.day)

    def advance(self, to: Date) -> None:
        while self.day < to and not self.stopped:
            stop = to
            if self.unfixed and self.day < self.unfixed[0].due_date < stop:
                stop = self.unfixed[0].due_date
            for r in self.rows:  # the base changes after each deadline
                if self.day < r.deadline < stop and r.principal_unpaid:
                    stop = r.deadline
            if self.accelerated_on is not None and self.day < self.accelerated_on < stop:
                stop = self.accelerated_on
            self.numerator += self.accrual.numerator(self._base(), self.day, stop)
            self.day = stop
            while self.unfixed and self.unfixed[0].due_date <= self.day:
                self._fix(self.unfixed[0], self._period_cents())
            if self.accelerated_on is not None and self.day >= self.accelerated_on:
                # R-INT-7: interest stops at E; the current period's interest is owed with the rest.
                for row in list(self.unfixed):
                    self._fix(row, self._period_cents() if row is self.unfixed[0] else 0)
                self.stopped = True

    def _period_cents(self) -> Cents:
        return max(0, divide_half_up(self.numerator, DENOMINATOR) - self.taken)

    def _fix(self, row: InstalmentPosition, cents: Cents) -> None:
        row.interest = cents
        if row.unpaid > 0:
            row.settled_on = None
            self.reopened(row)
        self.unfixed.remove(row)
        self.numerator, self.taken = 0, 0

    def outstanding(self) -> Cents:
        """The current period's interest accrued so far and not yet taken, rounded half-up."""
        return 0 if self.stopped else self._period_cents()

    def take(self, most: Cents | None) -> Cents:
        """Take (up to `most` of) the current period's accrued interest, as paid or waived (R-INT-4 3b)."""
        take = self.outstanding() if most is None else min(most, self.outstanding())
        self.taken += take
        return take

    def settled(self) -> bool:
        return self.outstanding() == 0 and self._base() == 0

    def estimate(self, as_of: Date) -> None:
        """Each instalment not yet due: its interest part if paid on time from now on, the rates
        beyond the table at the last known rate (R-INT-3)."""
        base, previous, numerator = self._base(), as_of, self.numerator
        for row in self.unfixed:
            numerator += self.accrual.numerator(base, previous, row.due_date)
            row.estimate = max(0, divide_half_up(numerator, DENOMINATOR) - (self.taken if row is self.unfixed[0]
                                                                           else 0))
            base, previous, numerator = base - row.principal_unpaid, row.due_date, 0


class _Penalty:
    """Exact penalty interest (R-PEN-2/3, R-INT-5: on principal only): integer numerators over
    DENOMINATOR, rounded once. Nothing accrues for a day on or before `floor` (R-PEN-6)."""

    def __init__(self, rates: ReferenceRates | None, accelerated_on: Date | None, floor: Date | None):
        self.rates = rates
        self.accelerated_on = accelerated_on
        self.floor = floor
        self.settled = 0  # numerator accrued on amounts already paid or waived

    def start(self, row: InstalmentPosition) -> Date:
        # After acceleration the amount not yet overdue accrues from the acceleration's effective date.
        start = row.deadline
        if self.accelerated_on is not None and self.accelerated_on < row.deadline:
            start = self.accelerated_on
        return max(start, self.floor) if self.floor is not None else start

    def settle(self, row: InstalmentPosition, amount: Cents, on: Date) -> None:
        if self.rates is not None:
            self.settled += amount * self.rates.rate_days(self.start(row), on)

    def total(self, rows: list[InstalmentPosition], on: Date) -> Cents:
        if self.rates is None:
            return 0
        running = 0
        for r in rows:  # as sum(running(...)), without the rows that accrue nothing yet (start on or after `on`)
            unpaid = r.amount - r.paid - r.waived
            if unpaid:
                start = self.start(r)
                if start < on:
                    running += unpaid * self.rates.rate_days(start, on)
        return divide_half_up(self.settled + running, DENOMINATOR)

    def running(self, rows: list[InstalmentPosition], on: Date) -> list[tuple[InstalmentPosition, Date, int]]:
        """(row, the last day before it accrues, exact numerator) of each unpaid principal part on `on`."""
        return [(r, self.start(r), r.principal_unpaid * self.rates.rate_days(self.start(r), on))
                for r in rows if r.principal_unpaid]


def penalty_running(pos: Position, rates: ReferenceRates | None, accelerated_on: Date | None,
                    floor: Date | None) -> list[tuple[InstalmentPosition, Date, int]]:
    """The penalty interest still running on `pos.as_of`, instalment by instalment, exactly as `position`
    accrues it (R-PEN-2/3, R-INT-5): what a claim traces each euro of penalty interest to."""
    if rates is None:
        return []
    accel = accelerated_on if accelerated_on is not None and accelerated_on <= pos.as_of else None
    return _Penalty(rates, accel, floor).running(pos.instalments, pos.as_of)
