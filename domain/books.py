"""A loan's books: the ledger (domain.ledger) over the loan's facts, its status and its balance."""
from __future__ import annotations

import copy
from collections.abc import Callable

from domain.dates import Date
from domain.delinquency import pending_notice
from domain.evidence import content_hash
from domain.interest import InterestAccrual, InterestTerms, penalty_basis
from domain.ledger import Position, merged_movements, position
from domain.money import format_cents
from domain.policy import Policy
from domain.rates import ReferenceRates
from domain.schedule import Instalment

NoticeHasher = Callable[[object, dict], str]


class LoanBooks:
    """A loan's ledger under a given reference-rate table, memoised per ledger version (events that
    record no money or plan change, such as InstalmentLate, keep the positions already computed).

    `notice_hasher(loan, content)` gives the content hash a NoticeSent records: by default the
    hash of the notice's canonical JSON; the service passes one that renders the letter, stores
    the PDF and returns the PDF's SHA-256.
    """

    def __init__(self, loan, rates: ReferenceRates, notice_hasher: NoticeHasher | None = None):
        self.loan = loan
        self.rates = rates
        self.policy = Policy.from_json(loan.policy)
        self.notice_hasher = notice_hasher
        self._cache: dict = {}
        self.interest = InterestAccrual(InterestTerms.from_json(loan.interest), rates, loan.interest_from,
                                        tuple((w.after, w.through) for w in loan.free_windows))
        self.penalty_rates, self.penalty_floor = penalty_basis(self.policy, loan.granted_on, loan.penalty_agreed_on,
                                                               rates)

    def without_letters(self) -> "LoanBooks":
        """The same books, sharing the positions computed so far, with no notice hasher: for looking
        ahead (next_action_date), which must never render or store a letter."""
        if self.notice_hasher is None:
            return self
        plain = copy.copy(self)
        plain.notice_hasher = None
        return plain

    def notice_hash(self, content: dict) -> str:
        return self.notice_hasher(self.loan, content) if self.notice_hasher else content_hash(content)

    def plan(self) -> list[Instalment]:
        """The current instalments, built once per ledger version (due dates are month arithmetic)."""
        key = ("plan", self.loan.ledger_version)
        if key not in self._cache:
            self._cache[key] = self.loan.instalments()
        return self._cache[key]

    def movements(self) -> list:
        """The loan's money in folding order, same-day payments merged (domain.ledger), once per
        ledger version: a loan with thousands of small payments folds them as few steps."""
        key = ("movements", self.loan.ledger_version)
        if key not in self._cache:
            self._cache[key] = merged_movements(self.loan.movements)
        return self._cache[key]

    def position(self, as_of: Date, *, accelerated: bool = True) -> Position:
        key = (self.loan.ledger_version, as_of, accelerated)
        if key not in self._cache:
            self._cache[key] = position(
                self.plan(), self.movements(), as_of=as_of, rates=self.penalty_rates,
                accelerated_on=self.loan.accelerated_on if accelerated else None, interest=self.interest,
                penalty_floor=self.penalty_floor)
        return self._cache[key]

    def position_known(self, as_of: Date, before_version: int) -> Position:
        """The position on `as_of` counting only the money recorded before an event version: what a
        decision recorded at that version could know (the plan as it stands, never accelerated)."""
        key = ("known", self.loan.ledger_version, as_of, before_version)
        if key not in self._cache:
            known = [m for m in self.loan.movements_list() if m.seq < before_version]
            self._cache[key] = position(self.plan(), known, as_of=as_of, rates=self.penalty_rates,
                                        interest=self.interest, penalty_floor=self.penalty_floor)
        return self._cache[key]

    def status(self, as_of: Date) -> str:
        loan, pos = self.loan, self.position(as_of)
        if loan.closed and loan.closed_on <= as_of:
            return loan.closed
        if loan.repaid_on is not None and loan.repaid_on <= as_of and pos.owed == 0:
            return "repaid"
        if pos.accelerated:
            return "accelerated"
        return "late" if pos.overdue_amount > 0 else "current"

    def balance(self, as_of: Date) -> dict:
        pos = self.position(as_of)
        plan = self.plan()
        notice = pending_notice(self.loan.notices)
        next_due = pos.next_due_date()
        return {
            "as_of": as_of.isoformat(),
            "status": self.status(as_of),
            "principal": format_cents(self.loan.principal),
            "principal_paid": format_cents(pos.principal_paid),
            "principal_waived": format_cents(pos.principal_waived),
            "principal_outstanding": format_cents(pos.principal_outstanding),
            "overdue_amount": format_cents(pos.overdue_amount),
            "interest_due": format_cents(pos.interest_due),
            "interest_accrued": format_cents(pos.interest_accrued),
            "interest_paid": format_cents(pos.interest_paid),
            "penalty_interest_accrued": format_cents(pos.penalty_accrued),
            "penalty_interest_paid": format_cents(pos.penalty_paid),
            "penalty_interest_outstanding": format_cents(pos.penalty_outstanding),
            "overpayment": format_cents(max(pos.overpayment, 0)),
            "refund_owed_back": format_cents(pos.refund_owed_back),
            "payoff_amount": format_cents(pos.owed),
            "next_due_date": next_due.isoformat() if next_due else None,
            "maturity_date": max(i.due_date for i in plan).isoformat(),
            "notice_pending": notice is not None and notice.sent_on <= as_of,
        }
