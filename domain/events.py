"""The loan's events (rule book section 4) and the fold that turns them into loan state.

Event names are part of the public evidence format. Amounts are decimal strings and dates
are `datetime.date`, so an event reads the same in storage, in the API and in evidence.
Each `apply` replaces attributes of the state declared in domain.state with new immutable values;
it runs again on every replay. The hash chain's head is set in one place, `_Chained.mutate`.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from eventsourcing.domain import Aggregate

from domain.dates import add_months, days, next_banking_day_on_or_after
from domain.ledger import Movement
from domain.money import parse_amount
from domain.state import (Appeal, CollectionTransfer, Delivery, Disbursement, FreeWindow, Hardship, LegalStep,
                          Notice, NoticeDate, Payment, PlanRow, TermsChange)

replace = dataclasses.replace


class _Chained:
    """Every loan event carries its hash (R-EVID-1); folding it makes that hash the loan's head.
    An event that changes what the ledger folds (`changes_ledger`) counts in `ledger_version`,
    so that positions computed before it are known to be stale and others are kept (books)."""

    changes_ledger = False

    def mutate(self, aggregate):
        aggregate = super().mutate(aggregate)
        aggregate.hash_head = self.hash
        if self.changes_ledger:
            aggregate.ledger_version += 1
        return aggregate


class LoanEvent(_Chained, Aggregate.Event):
    effective_date: dt.date
    hash: str


HARDSHIP_LAPSE = "hardship"  # AccelerationLapsed.reason of a notice that lapsed at a hardship's end
RULE_CORRECTION = "rule correction"  # reasons of events the run records to correct a stored history


def _cents(value: str | None) -> int | None:
    return None if value is None else parse_amount(value, "amount", positive=False)


class LoanGranted(_Chained, Aggregate.Created):
    effective_date: dt.date
    hash: str
    loan_id: str
    tenant: str
    borrower_id: str
    purpose: str
    principal: str
    first_due_date: dt.date
    instalments: list  # [{"instalment", "due_date", "amount"}]
    policy: dict
    reference: str | None
    decided_by: str
    reasons: str
    legal_basis: str
    decision_reference: str | None
    # Added with regular interest (R-INT-1, R-PEN-6); events stored before read them as None.
    interest: dict | None = None
    penalty_interest_agreed_on: dt.date | None = None
    # Added with applications (R-APP-1): the jointly liable spouse or cohabitant of a joint application.
    co_borrower_id: str | None = None
    # Added with statistics (R-STAT-1): the purpose's class (domain.statistics.PURPOSE_CLASSES); the
    # purpose itself is sealed free text. Events stored before lack it and hash as they did.
    purpose_class: str | None = None

    def apply(self, loan) -> None:
        loan.loan_id = self.loan_id
        loan.co_borrower_id = self.co_borrower_id
        loan.tenant = self.tenant
        loan.borrower_id = self.borrower_id
        loan.principal = _cents(self.principal)
        loan.granted_on = self.effective_date
        loan.first_due_date = self.first_due_date
        loan.policy = self.policy
        loan.reference = self.reference
        loan.plan = tuple(PlanRow(row["instalment"], row["instalment"] - 1, None, _cents(row["amount"]))
                          for row in self.instalments)
        loan.fell_due = loan.late = ()
        loan.payments, loan.movements, loan.change_dates = (), (), ()
        loan.notices, loan.notice_dates, loan.acm_dates, loan.acm_rearmed = (), (), (), False
        loan.hardships = ()
        loan.accelerated_on = loan.repaid_on = loan.closed = loan.closed_on = loan.collection_on = None
        loan.appeals, loan.deliveries, loan.terms_changes = (), (), ()
        loan.interest = self.interest
        loan.interest_from = self.effective_date
        loan.penalty_agreed_on = self.penalty_interest_agreed_on
        loan.free_windows, loan.disbursements = (), ()
        loan.ledger_version = 0


class InstalmentFellDue(LoanEvent):
    instalment: int
    amount: str  # principal_part + interest_part
    # Recorded since regular interest (R-INT-3); events stored before read them as None.
    principal_part: str | None = None
    interest_part: str | None = None

    def apply(self, loan) -> None:
        loan.fell_due = loan.fell_due + (self.instalment,)


class InstalmentLate(LoanEvent):
    instalment: int
    amount: str

    def apply(self, loan) -> None:
        loan.late = loan.late + (self.instalment,)


class PaymentReceived(LoanEvent):
    changes_ledger = True

    payment_id: str
    amount: str
    value_date: dt.date
    source: str
    reference: str | None

    def apply(self, loan) -> None:
        loan.payments = loan.payments + (Payment(self.payment_id, _cents(self.amount), self.value_date,
                                                 self.originator_version),)
        loan.movements = loan.movements + (Movement(self.value_date, self.originator_version, "payment",
                                                    _cents(self.amount)),)
        loan.change_dates = loan.change_dates + (self.value_date,)


class PaymentReversed(LoanEvent):
    changes_ledger = True

    payment_id: str
    reason: str

    def apply(self, loan) -> None:
        seq = next(p.seq for p in loan.payments if p.payment_id == self.payment_id)
        loan.payments = tuple(replace(p, reversed=True) if p.seq == seq else p for p in loan.payments)
        loan.movements = tuple(m for m in loan.movements if not (m.seq == seq and m.kind == "payment"))
        loan.repaid_on = None  # the servicing run records LoanRepaid again if nothing is owed still


class NoticeSent(LoanEvent):
    kind: str  # reminder | acceleration
    channel: str
    content_hash: str
    instalments: list
    delayed_amount: str | None
    period_days: int | None
    cure_deadline: dt.date | None
    takes_effect_on: dt.date | None
    ground: str | None
    override_reason: str | None
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        loan.notice_dates = loan.notice_dates + (NoticeDate(self.effective_date, self.kind),)
        if self.kind == "acceleration":
            # R-ACC-6: a deadline on a weekend or holiday ends on the next banking day. Notices
            # recorded before that correction carry the unmoved date and are read as the Act says.
            deadline = next_banking_day_on_or_after(self.cure_deadline)
            takes_effect = self.takes_effect_on if deadline == self.cure_deadline else deadline + days(1)
            loan.notices = loan.notices + (Notice(
                self.originator_version, self.effective_date, tuple(self.instalments), _cents(self.delayed_amount),
                deadline, takes_effect, bool(self.override_reason)),)


class NoticeDeliveryRecorded(LoanEvent):
    """What became of a notice's delivery: sent_for_printing, delivered, read, returned or failed."""

    notice: int  # version of the NoticeSent
    outcome: str
    channel: str
    # Added with issue 20 (events stored before read them as None): the channel's id for the delivery (a
    # Suomi.fi messageId, the signed print batch) and the channel's own time of the event.
    reference: str | None = None
    reported_at: str | None = None

    def apply(self, loan) -> None:
        loan.deliveries = loan.deliveries + (Delivery(self.notice, self.outcome),)


class AccelerationConditionsMet(LoanEvent):
    delayed_amount: str
    instalments: list
    branch: str

    def apply(self, loan) -> None:
        loan.acm_dates = loan.acm_dates + (self.effective_date,)
        loan.acm_rearmed = False


class HardshipRecorded(LoanEvent):
    cause: str
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        loan.hardships = loan.hardships + (Hardship(self.effective_date, None, self.originator_version),)


class HardshipEnded(LoanEvent):
    decided_by: str
    reasons: str

    def apply(self, loan) -> None:
        loan.hardships = loan.hardships[:-1] + (replace(loan.hardships[-1], end=self.effective_date),)
        loan.acm_rearmed = True  # R-ACC-4: recorded again when a hardship ends while it still qualifies


class LoanAccelerated(LoanEvent):
    changes_ledger = True

    accelerated_amount: str
    notice: int  # version of the NoticeSent that took effect

    def apply(self, loan) -> None:
        loan.notices = tuple(replace(n, accelerated=True, accelerated_version=self.originator_version)
                             if n.version == self.notice else n for n in loan.notices)
        loan.accelerated_on = self.effective_date


class AccelerationLapsed(LoanEvent):
    """The notice lapsed: cured by money (R-ACC-7/8), or at a hardship's end (R-ACC-10)."""

    changes_ledger = True
    notice: int
    reason: str

    def apply(self, loan) -> None:
        lapsed = next(n for n in loan.notices if n.version == self.notice)
        kind = "hardship" if self.reason.startswith(HARDSHIP_LAPSE) else "cure"
        loan.notices = tuple(replace(n, lapsed_on=self.effective_date, lapse=kind) if n is lapsed else n
                             for n in loan.notices)
        if lapsed.accelerated:  # R-ACC-8: cured in time, the acceleration never took effect
            loan.accelerated_on = None
        loan.acm_rearmed = True


class AccelerationLapseRevoked(LoanEvent):
    """R-ACC-7: a cure rests on money actually received. When a reversal (or a back-dated fact)
    shows the notice was not cured by its deadline after all, it is pending again; the lapse
    itself is never edited. R-ACC-8 applies from here."""

    changes_ledger = True
    notice: int
    reason: str

    def apply(self, loan) -> None:
        loan.notices = tuple(replace(n, lapsed_on=None, lapse=None, accelerated=False, accelerated_version=None)
                             if n.version == self.notice else n for n in loan.notices)


class RepaymentDeferred(LoanEvent):
    changes_ledger = True

    kind: str  # free_months | due_date_extension
    months: int | None
    instalments: list  # the moved instalments' numbers
    moved: list  # [{"instalment", "due_date"}]: their new due dates
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        moved = {row["instalment"]: dt.date.fromisoformat(row["due_date"]) for row in self.moved}
        if self.kind == "free_months":  # R-INT-6: no interest on the days the first moved instalment moved by
            first = min(loan.plan, key=lambda r: (r.n not in moved, r.n))
            loan.free_windows = loan.free_windows + (FreeWindow(due_date(loan, first), moved[first.n]),)
        plan = []
        for row in loan.plan:
            if row.n in moved and self.kind == "free_months":
                row = replace(row, months=row.months + self.months,
                              extended_to=None if row.extended_to is None else moved[row.n])
            elif row.n in moved:
                row = replace(row, extended_to=moved[row.n])
            plan.append(row)
        loan.plan = tuple(plan)
        # A moved instalment falls due again on its new date.
        loan.fell_due = tuple(n for n in loan.fell_due if n not in moved)
        loan.late = tuple(n for n in loan.late if n not in moved)
        loan.change_dates = loan.change_dates + (self.effective_date,)


class RepaymentTermsChanged(LoanEvent):
    changes_ledger = True

    from_instalment: int
    instalment_amount: str
    instalments: list  # the re-planned tail: [{"instalment", "due_date", "amount"}]
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        first = next(r for r in loan.plan if r.n == self.from_instalment)
        head = tuple(r for r in loan.plan if r.n < self.from_instalment)
        replaced = tuple(r for r in loan.plan if r.n >= self.from_instalment)
        tail = []
        for row in self.instalments:
            months = first.months + row["instalment"] - self.from_instalment
            due = dt.date.fromisoformat(row["due_date"])
            # A due date off the month grid is an extension kept through a rule correction.
            tail.append(PlanRow(row["instalment"], months,
                                None if due == add_months(loan.first_due_date, months) else due, _cents(row["amount"])))
        loan.plan = head + tuple(tail)
        loan.fell_due = tuple(n for n in loan.fell_due if n < self.from_instalment)
        loan.late = tuple(n for n in loan.late if n < self.from_instalment)
        loan.change_dates = loan.change_dates + (self.effective_date,)
        correction = self.decided_by == "scheduler" and self.reasons.startswith(RULE_CORRECTION)
        earlier = tuple(replace(c, corrected=True) if correction and c.reached_back else c for c in loan.terms_changes)
        # R-TERMS-1: only changes recorded before that rule was corrected can reach back.
        loan.terms_changes = earlier + (TermsChange(
            self.originator_version, self.from_instalment, self.effective_date, _cents(self.instalment_amount),
            replaced, tuple(tail), correction, not correction and due_date(loan, first) <= self.effective_date),)


def due_date(loan, row: PlanRow) -> dt.date:
    """An instalment's due date: extended, or `months` after the first due date (R-SCHED-1)."""
    return row.extended_to or add_months(loan.first_due_date, row.months)


class PaymentWaived(LoanEvent):
    changes_ledger = True

    kind: str  # partial | full
    amount: str
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        loan.movements = loan.movements + (Movement(self.effective_date, self.originator_version,
                                                    f"waiver_{self.kind}", _cents(self.amount)),)
        loan.change_dates = loan.change_dates + (self.effective_date,)
        if self.kind == "full":
            loan.closed, loan.closed_on = "waived", self.effective_date


class OverpaymentRefunded(LoanEvent):
    changes_ledger = True

    amount: str
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        loan.movements = loan.movements + (Movement(self.effective_date, self.originator_version, "refund",
                                                    _cents(self.amount)),)


class LoanTransferredToCollection(LoanEvent):
    decided_by: str
    reasons: str
    legal_basis: str
    # Added with issue 20 (events stored before read them as the whole accelerated loan, no transfer id):
    transfer_id: str | None = None
    instalments: list | None = None  # the instalments handed over; None or empty: the accelerated loan
    amount: str | None = None  # what was handed over on the day (principal, interest, penalty interest)

    def apply(self, loan) -> None:
        loan.collection_on = self.effective_date
        loan.collections = loan.collections + (CollectionTransfer(
            self.transfer_id or f"T{self.originator_version}", self.effective_date, tuple(self.instalments or ()),
            self.originator_version),)


class CollectionRecalled(LoanEvent):
    """Issue 20: a transfer to the collection agency taken back (the organiser collects again itself)."""

    transfer_id: str
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        loan.collections = tuple(replace(t, recalled_on=self.effective_date) if t.transfer_id == self.transfer_id
                                 else t for t in loan.collections)
        if all(t.recalled_on is not None for t in loan.collections):
            loan.collection_on = None


class _LegalStepEvent(LoanEvent):
    court: str | None
    case_number: str
    amount: str | None
    decided_by: str
    reasons: str
    legal_basis: str
    kind = ""

    def apply(self, loan) -> None:
        loan.legal_steps = loan.legal_steps + (LegalStep(
            self.kind, self.effective_date, self.originator_version, self.court, self.case_number, _cents(self.amount),
            getattr(self, "outcome", None)),)


class ClaimFiled(_LegalStepEvent):
    """Issue 20: the organiser applied to the administrative court (administrative dispute) for the claim."""

    kind = "claim_filed"


class JudgmentGiven(_LegalStepEvent):
    """Issue 20: the court's decision on the claim; `amount` is what it ordered paid."""

    kind = "judgment"
    outcome: str  # granted | partly_granted | rejected


class EnforcementStarted(_LegalStepEvent):
    """Issue 20: the judgment handed to enforcement (ulosotto); `court` names the enforcement authority."""

    kind = "enforcement"


class LoanRepaid(LoanEvent):
    def apply(self, loan) -> None:
        loan.repaid_on = self.effective_date


class LoanWrittenOff(LoanEvent):
    amount: str
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        loan.closed, loan.closed_on = "written_off", self.effective_date


class LoanMigrated(LoanEvent):
    """R-MIG-3: the loan's earlier events were replayed from an organiser's file (its name and
    SHA-256) through the rules; the file's balance and Luotto's as of the import date, the
    differences and, when they differ, the reason they were accepted (sealed free text)."""

    source: str
    file_sha256: str
    replayed: int  # the versions 1..replayed came from the file's history
    spreadsheet: dict
    luotto: dict
    differences: list
    accepted_reason: str | None

    def apply(self, loan) -> None:
        pass  # evidence only: the replayed events already made the state


class LoanDisbursed(LoanEvent):
    """R-APP-8: money paid out to a payee of the decision, or (`returned`) a transfer the bank sent
    back. Interest runs from the day the money was drawn (R-INT-2)."""

    changes_ledger = True
    transfer_id: str
    payee: str  # the payee's id in the decision: no names or accounts here
    amount: str
    returned: bool

    def apply(self, loan) -> None:
        row = Disbursement(self.transfer_id, self.effective_date, _cents(self.amount), self.returned)
        loan.disbursements = tuple(d for d in loan.disbursements if d.transfer_id != self.transfer_id) + (row,)
        drawn = [d.on for d in loan.disbursements if not d.returned]
        # With several transfers, from the last one; with every one returned, not at all until the
        # money is paid out again: the readings that never charge for money not drawn.
        loan.interest_from = max(drawn) if drawn else dt.date.max


class AppealFiled(LoanEvent):
    """A request for rectification (oikaisuvaatimus) against a decision event of this loan."""

    decision: int  # version of the appealed decision event
    decision_type: str
    appellant: str
    grounds: str

    def apply(self, loan) -> None:
        loan.appeals = loan.appeals + (Appeal(self.originator_version, self.decision),)


class AppealDecided(LoanEvent):
    appeal: int  # version of the AppealFiled event
    outcome: str  # upheld | partly_upheld | rejected
    decided_by: str
    reasons: str
    legal_basis: str
    # Added with R-APP-9: the salted hash of the letter with the administrative court's appeal instructions.
    letter_hash: str | None = None

    def apply(self, loan) -> None:
        loan.appeals = tuple(replace(a, outcome=self.outcome) if a.filed == self.appeal else a for a in loan.appeals)


class AccelerationRevoked(LoanEvent):
    """An acceleration (or a pending notice) withdrawn by decision, e.g. an upheld appeal: the
    acceleration is treated as never having taken effect."""

    changes_ledger = True
    notice: int
    appeal: int | None
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        loan.notices = tuple(replace(n, lapsed_on=self.effective_date, lapse="revoked") if n.version == self.notice
                             else n for n in loan.notices)
        loan.accelerated_on = None
        loan.acm_rearmed = True


EVENT_TYPES = {cls.__name__: cls for cls in (
    LoanGranted, InstalmentFellDue, InstalmentLate, PaymentReceived, PaymentReversed, NoticeSent,
    NoticeDeliveryRecorded, AccelerationConditionsMet, HardshipRecorded, HardshipEnded, LoanAccelerated,
    AccelerationLapsed, AccelerationLapseRevoked,
    RepaymentDeferred, RepaymentTermsChanged, PaymentWaived, OverpaymentRefunded,
    LoanTransferredToCollection, LoanRepaid, LoanWrittenOff, AppealFiled, AppealDecided, AccelerationRevoked,
    LoanDisbursed, CollectionRecalled, ClaimFiled, JudgmentGiven, EnforcementStarted)}
