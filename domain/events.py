"""The loan's events (rule book section 4) and the fold that turns them into loan state.

Event names are part of the public evidence format. Amounts are decimal strings and dates
are `datetime.date`, so an event reads the same in storage, in the API and in evidence.
Each `apply` is plain assignment: it runs again on every replay.
"""
from __future__ import annotations

import datetime as dt

from eventsourcing.domain import Aggregate

from domain.dates import add_months, days, next_banking_day_on_or_after
from domain.money import parse_amount


class LoanEvent(Aggregate.Event):
    effective_date: dt.date
    hash: str


HARDSHIP_LAPSE = "hardship"  # AccelerationLapsed.reason of a notice that lapsed at a hardship's end
RULE_CORRECTION = "rule correction"  # reasons of events the run records to correct a stored history


def _cents(value: str | None) -> int | None:
    return None if value is None else parse_amount(value, "amount", positive=False)


class LoanGranted(Aggregate.Created):
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

    def apply(self, loan) -> None:
        loan.loan_id = self.loan_id
        loan.tenant = self.tenant
        loan.borrower_id = self.borrower_id
        loan.principal = _cents(self.principal)
        loan.granted_on = self.effective_date
        loan.first_due_date = self.first_due_date
        loan.policy = self.policy
        loan.reference = self.reference
        loan.plan = [{"n": row["instalment"], "months": row["instalment"] - 1, "extended_to": None,
                      "amount": _cents(row["amount"])} for row in self.instalments]
        loan.fell_due = []
        loan.late = []
        loan.payments = []
        loan.movements = []  # [on, seq, kind, amount]: what the ledger folds
        loan.change_dates = []  # effective dates of facts that can make acceleration conditions fail
        loan.notices = []  # acceleration notices, see NoticeSent
        loan.notice_dates = []  # [effective date, kind] of every notice
        loan.acm_dates = []
        loan.acm_rearmed = False
        loan.hardships = []  # [start, end or None, version of the HardshipRecorded]
        loan.accelerated_on = None
        loan.repaid_on = None
        loan.closed = None  # "waived" or "written_off"
        loan.closed_on = None
        loan.collection_on = None
        loan.appeals = []
        loan.deliveries = []  # [notice version, outcome]
        loan.terms_changes = []  # see RepaymentTermsChanged
        loan.interest = self.interest  # R-INT-1 terms as JSON; None: interest-free
        loan.interest_from = self.effective_date  # R-INT-2: the disbursement date once one is recorded
        loan.penalty_agreed_on = self.penalty_interest_agreed_on
        loan.free_windows = []  # [after, through]: days of free months on which no interest accrues (R-INT-6)
        loan.disbursements = []  # [transfer_id, effective date, cents, returned]
        loan.hash_head = self.hash


class InstalmentFellDue(LoanEvent):
    instalment: int
    amount: str  # principal_part + interest_part
    # Recorded since regular interest (R-INT-3); events stored before read them as None.
    principal_part: str | None = None
    interest_part: str | None = None

    def apply(self, loan) -> None:
        loan.fell_due = loan.fell_due + [self.instalment]
        loan.hash_head = self.hash


class InstalmentLate(LoanEvent):
    instalment: int
    amount: str

    def apply(self, loan) -> None:
        loan.late = loan.late + [self.instalment]
        loan.hash_head = self.hash


class PaymentReceived(LoanEvent):
    payment_id: str
    amount: str
    value_date: dt.date
    source: str
    reference: str | None

    def apply(self, loan) -> None:
        loan.payments = loan.payments + [{"payment_id": self.payment_id, "amount": _cents(self.amount),
                                          "value_date": self.value_date, "seq": self.originator_version,
                                          "reversed": False}]
        loan.movements = loan.movements + [[self.value_date, self.originator_version, "payment",
                                            _cents(self.amount)]]
        loan.change_dates = loan.change_dates + [self.value_date]
        loan.hash_head = self.hash


class PaymentReversed(LoanEvent):
    payment_id: str
    reason: str

    def apply(self, loan) -> None:
        seq = next(p["seq"] for p in loan.payments if p["payment_id"] == self.payment_id)
        loan.payments = [dict(p, reversed=True) if p["seq"] == seq else p for p in loan.payments]
        loan.movements = [m for m in loan.movements if not (m[1] == seq and m[2] == "payment")]
        loan.repaid_on = None  # the servicing run records LoanRepaid again if nothing is owed still
        loan.hash_head = self.hash


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
        loan.notice_dates = loan.notice_dates + [[self.effective_date, self.kind]]
        if self.kind == "acceleration":
            # R-ACC-6: a deadline on a weekend or holiday ends on the next banking day. Notices
            # recorded before that correction carry the unmoved date and are read as the Act says.
            deadline = next_banking_day_on_or_after(self.cure_deadline)
            takes_effect = self.takes_effect_on if deadline == self.cure_deadline else deadline + days(1)
            loan.notices = loan.notices + [{
                "version": self.originator_version, "sent_on": self.effective_date,
                "instalments": list(self.instalments), "delayed_amount": _cents(self.delayed_amount),
                "cure_deadline": deadline, "takes_effect_on": takes_effect, "lapsed_on": None,
                "lapse": None, "accelerated": False, "accelerated_version": None,
                "override": bool(self.override_reason)}]
        loan.hash_head = self.hash


class NoticeDeliveryRecorded(LoanEvent):
    """What became of a notice's delivery: sent_for_printing, delivered, read, returned or failed."""

    notice: int  # version of the NoticeSent
    outcome: str
    channel: str

    def apply(self, loan) -> None:
        loan.deliveries = loan.deliveries + [[self.notice, self.outcome]]
        loan.hash_head = self.hash


class AccelerationConditionsMet(LoanEvent):
    delayed_amount: str
    instalments: list
    branch: str

    def apply(self, loan) -> None:
        loan.acm_dates = loan.acm_dates + [self.effective_date]
        loan.acm_rearmed = False
        loan.hash_head = self.hash


class HardshipRecorded(LoanEvent):
    cause: str
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        loan.hardships = loan.hardships + [[self.effective_date, None, self.originator_version]]
        loan.hash_head = self.hash


class HardshipEnded(LoanEvent):
    decided_by: str
    reasons: str

    def apply(self, loan) -> None:
        loan.hardships = loan.hardships[:-1] + [[loan.hardships[-1][0], self.effective_date, loan.hardships[-1][2]]]
        loan.acm_rearmed = True  # R-ACC-4: recorded again when a hardship ends while it still qualifies
        loan.hash_head = self.hash


class LoanAccelerated(LoanEvent):
    accelerated_amount: str
    notice: int  # version of the NoticeSent that took effect

    def apply(self, loan) -> None:
        loan.notices = [dict(n, accelerated=True, accelerated_version=self.originator_version)
                        if n["version"] == self.notice else n for n in loan.notices]
        loan.accelerated_on = self.effective_date
        loan.hash_head = self.hash


class AccelerationLapsed(LoanEvent):
    """The notice lapsed: cured by money (R-ACC-7/8), or at a hardship's end (R-ACC-10)."""

    notice: int
    reason: str

    def apply(self, loan) -> None:
        lapsed = next(n for n in loan.notices if n["version"] == self.notice)
        kind = "hardship" if self.reason.startswith(HARDSHIP_LAPSE) else "cure"
        loan.notices = [dict(n, lapsed_on=self.effective_date, lapse=kind) if n is lapsed else n
                        for n in loan.notices]
        if lapsed["accelerated"]:  # R-ACC-8: cured in time, the acceleration never took effect
            loan.accelerated_on = None
        loan.acm_rearmed = True
        loan.hash_head = self.hash


class AccelerationLapseRevoked(LoanEvent):
    """R-ACC-7: a cure rests on money actually received. When a reversal (or a back-dated fact)
    shows the notice was not cured by its deadline after all, it is pending again; the lapse
    itself is never edited. R-ACC-8 applies from here."""

    notice: int
    reason: str

    def apply(self, loan) -> None:
        loan.notices = [dict(n, lapsed_on=None, lapse=None, accelerated=False, accelerated_version=None)
                        if n["version"] == self.notice else n for n in loan.notices]
        loan.hash_head = self.hash


class RepaymentDeferred(LoanEvent):
    kind: str  # free_months | due_date_extension
    months: int | None
    instalments: list  # the moved instalments' numbers
    moved: list  # [{"instalment", "due_date"}]: their new due dates
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        moved = {row["instalment"]: row for row in self.moved}
        if self.kind == "free_months":  # R-INT-6: no interest on the days the first moved instalment moved by
            first = min(loan.plan, key=lambda r: (r["n"] not in moved, r["n"]))
            new = dt.date.fromisoformat(moved[first["n"]]["due_date"])
            loan.free_windows = loan.free_windows + [[_due_date(loan, first), new]]
        plan = []
        for row in loan.plan:
            if row["n"] in moved and self.kind == "free_months":
                ext = row["extended_to"]
                row = dict(row, months=row["months"] + self.months,
                           extended_to=None if ext is None else dt.date.fromisoformat(moved[row["n"]]["due_date"]))
            elif row["n"] in moved:
                row = dict(row, extended_to=dt.date.fromisoformat(moved[row["n"]]["due_date"]))
            plan.append(row)
        loan.plan = plan
        # A moved instalment falls due again on its new date.
        loan.fell_due = [n for n in loan.fell_due if n not in moved]
        loan.late = [n for n in loan.late if n not in moved]
        loan.change_dates = loan.change_dates + [self.effective_date]
        loan.hash_head = self.hash


class RepaymentTermsChanged(LoanEvent):
    from_instalment: int
    instalment_amount: str
    instalments: list  # the re-planned tail: [{"instalment", "due_date", "amount"}]
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        first = next(r for r in loan.plan if r["n"] == self.from_instalment)
        head = [r for r in loan.plan if r["n"] < self.from_instalment]
        replaced = [r for r in loan.plan if r["n"] >= self.from_instalment]
        tail = []
        for row in self.instalments:
            months = first["months"] + row["instalment"] - self.from_instalment
            due = dt.date.fromisoformat(row["due_date"])
            # A due date off the month grid is an extension kept through a rule correction.
            tail.append({"n": row["instalment"], "months": months, "amount": _cents(row["amount"]),
                         "extended_to": None if due == add_months(loan.first_due_date, months) else due})
        loan.plan = head + tail
        loan.fell_due = [n for n in loan.fell_due if n < self.from_instalment]
        loan.late = [n for n in loan.late if n < self.from_instalment]
        loan.change_dates = loan.change_dates + [self.effective_date]
        correction = self.decided_by == "scheduler" and self.reasons.startswith(RULE_CORRECTION)
        earlier = [dict(c, corrected=True) if correction and c["reached_back"] else c for c in loan.terms_changes]
        loan.terms_changes = earlier + [{
            "version": self.originator_version, "from": self.from_instalment, "on": self.effective_date,
            "amount": _cents(self.instalment_amount), "replaced": replaced, "rows": tail, "corrected": correction,
            # R-TERMS-1: only changes recorded before that rule was corrected can reach back.
            "reached_back": not correction and _due_date(loan, first) <= self.effective_date}]
        loan.hash_head = self.hash


def _due_date(loan, row: dict) -> dt.date:
    return row["extended_to"] or add_months(loan.first_due_date, row["months"])


class PaymentWaived(LoanEvent):
    kind: str  # partial | full
    amount: str
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        loan.movements = loan.movements + [[self.effective_date, self.originator_version,
                                            f"waiver_{self.kind}", _cents(self.amount)]]
        loan.change_dates = loan.change_dates + [self.effective_date]
        if self.kind == "full":
            loan.closed, loan.closed_on = "waived", self.effective_date
        loan.hash_head = self.hash


class OverpaymentRefunded(LoanEvent):
    amount: str
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        loan.movements = loan.movements + [[self.effective_date, self.originator_version, "refund",
                                            _cents(self.amount)]]
        loan.hash_head = self.hash


class LoanTransferredToCollection(LoanEvent):
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        loan.collection_on = self.effective_date
        loan.hash_head = self.hash


class LoanRepaid(LoanEvent):
    def apply(self, loan) -> None:
        loan.repaid_on = self.effective_date
        loan.hash_head = self.hash


class LoanWrittenOff(LoanEvent):
    amount: str
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        loan.closed, loan.closed_on = "written_off", self.effective_date
        loan.hash_head = self.hash


class LoanDisbursed(LoanEvent):
    """R-APP-8: money paid out to a payee of the decision, or (`returned`) a transfer the bank sent
    back. Interest runs from the day the money was drawn (R-INT-2)."""

    transfer_id: str
    payee: str  # the payee's id in the decision: no names or accounts here
    amount: str
    returned: bool

    def apply(self, loan) -> None:
        row = [self.transfer_id, self.effective_date, _cents(self.amount), self.returned]
        loan.disbursements = [d for d in loan.disbursements if d[0] != self.transfer_id] + [row]
        drawn = [d[1] for d in loan.disbursements if not d[3]]
        # With several transfers, from the last one; with every one returned, not at all until the
        # money is paid out again: the readings that never charge for money not drawn.
        loan.interest_from = max(drawn) if drawn else dt.date.max
        loan.hash_head = self.hash


class AppealFiled(LoanEvent):
    """A request for rectification (oikaisuvaatimus) against a decision event of this loan."""

    decision: int  # version of the appealed decision event
    decision_type: str
    appellant: str
    grounds: str

    def apply(self, loan) -> None:
        loan.appeals = loan.appeals + [{"filed": self.originator_version, "decision": self.decision,
                                                        "outcome": None}]
        loan.hash_head = self.hash


class AppealDecided(LoanEvent):
    appeal: int  # version of the AppealFiled event
    outcome: str  # upheld | partly_upheld | rejected
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        loan.appeals = [dict(a, outcome=self.outcome) if a["filed"] == self.appeal else a for a in loan.appeals]
        loan.hash_head = self.hash


class AccelerationRevoked(LoanEvent):
    """An acceleration (or a pending notice) withdrawn by decision, e.g. an upheld appeal: the
    acceleration is treated as never having taken effect."""

    notice: int
    appeal: int | None
    decided_by: str
    reasons: str
    legal_basis: str

    def apply(self, loan) -> None:
        loan.notices = [dict(n, lapsed_on=self.effective_date, lapse="revoked") if n["version"] == self.notice
                        else n for n in loan.notices]
        loan.accelerated_on = None
        loan.acm_rearmed = True
        loan.hash_head = self.hash


EVENT_TYPES = {cls.__name__: cls for cls in (
    LoanGranted, InstalmentFellDue, InstalmentLate, PaymentReceived, PaymentReversed, NoticeSent,
    NoticeDeliveryRecorded, AccelerationConditionsMet, HardshipRecorded, HardshipEnded, LoanAccelerated,
    AccelerationLapsed, AccelerationLapseRevoked,
    RepaymentDeferred, RepaymentTermsChanged, PaymentWaived, OverpaymentRefunded,
    LoanTransferredToCollection, LoanRepaid, LoanWrittenOff, AppealFiled, AppealDecided, AccelerationRevoked,
    LoanDisbursed)}
