"""The Loan aggregate: commands that check the rules, then record events (rule book sections 4–10)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from eventsourcing.domain import Aggregate, Snapshot

from domain import events as ev
from domain.events import due_date
from domain.dates import Date, add_months, days
from domain.delinquency import acceleration_notice_fields, hardship_active, pending_notice
from domain.errors import DomainError, invalid
from domain.evidence import GENESIS, chain_hash
from domain.ledger import Movement
from domain.money import Cents, format_cents
from domain.policy import Policy
from domain.interest import PENALTY_LEGAL_BASIS, InterestTerms, check_cap
from domain.rates import ReferenceRates
from domain.statistics import PURPOSE_CLASSES
from domain.schedule import Instalment, build_plan, check_plan, replan
from domain.state import LoanState, state_from_json, state_to_json
from domain.values import ACT_IN_FORCE

NoticeHasher = Callable[["Loan", dict], str]
LOAN_NAMESPACE = uuid.UUID("6f1c1d2e-8d3b-4b8e-9a57-1f0b7c3e5a10")

HARDSHIP_CAUSES = ("illness", "unemployment", "other")
MIGRATED = "migrated"  # the channel of a notice a migrated file records: sent before Luotto, never again
APPEALABLE = ("LoanGranted", "RepaymentDeferred", "RepaymentTermsChanged", "PaymentWaived", "NoticeSent",
              "HardshipRecorded", "HardshipEnded", "LoanTransferredToCollection", "CollectionRecalled", "LoanWrittenOff",
              "OverpaymentRefunded", "AppealDecided", "AccelerationRevoked")


@dataclass(frozen=True)
class Decision:
    """Who decided, why, and on what legal ground: every decision event is appealable."""

    decided_by: str
    reasons: str = ""
    legal_basis: str | None = None

    def fields(self, default_basis: str) -> dict:
        return {"decided_by": self.decided_by, "reasons": self.reasons,
                "legal_basis": self.legal_basis or default_basis}


def loan_uuid(tenant: str, loan_id: str) -> uuid.UUID:
    return uuid.uuid5(LOAN_NAMESPACE, f"{tenant}/{loan_id}")


class Loan(LoanState, Aggregate):
    """A social credit loan; its state is declared in domain.state. Snapshots of an older state
    (`class_version`) are not used: the loan is folded from its events instead (aggregate_cache).
    2: issue 12 (lapse kinds, hardship versions, terms changes); 3: interest; 4: typed immutable state;
    5: ledger_version; 6: legal steps and collection agency transfers (issue 20)."""

    class_version = 6

    class Snapshot(Snapshot):
        """The state as plain JSON (domain.state), so that its value types need no transcodings."""

        @classmethod
        def take(cls, aggregate):
            snapshot = super().take(aggregate)
            state = {k: v for k, v in snapshot.state.items() if k not in LoanState.__annotations__}
            return dataclasses.replace(snapshot, state={**state, "loan": state_to_json(vars(aggregate))})

        def mutate(self, _):
            state = dict(self.state)
            values = state_from_json(state.pop("loan", {}))
            return Snapshot.mutate(dataclasses.replace(self, state={**state, **values}), None)

    def __init__(self) -> None:
        """State is set by LoanGranted.apply, so a replay and a grant build it the same way."""

    @staticmethod
    def id_for(tenant: str, loan_id: str) -> uuid.UUID:
        return loan_uuid(tenant, loan_id)

    # --- reading -------------------------------------------------------------------------

    def instalments(self) -> list[Instalment]:
        return [Instalment(row.n, due_date(self, row), row.amount) for row in self.plan]

    def movements_list(self) -> list[Movement]:
        return list(self.movements)

    def books(self, rates: ReferenceRates, notice_hasher: NoticeHasher | None = None) -> "LoanBooks":
        from domain.books import LoanBooks

        return LoanBooks(self, rates, notice_hasher)

    # --- recording -----------------------------------------------------------------------

    def _record(self, event_class, *, effective_date: Date, recorded_at: dt.datetime, **fields) -> None:
        payload = {"type": event_class.__name__, "loan": str(self.id), "version": self.version + 1,
                   "effective_date": effective_date, "recorded_at": recorded_at, **fields}
        self.trigger_event(event_class, timestamp=recorded_at, effective_date=effective_date,
                           hash=chain_hash(self.hash_head, payload), **fields)

    @classmethod
    def grant(cls, *, tenant: str, loan_id: str, borrower_id: str, purpose: str, principal: Cents,
              granted_on: Date, first_due_date: Date, policy: Policy, decision: Decision,
              recorded_at: dt.datetime, instalment_amount: Cents | None = None, term_months: int | None = None,
              reference: str | None = None, decision_reference: str | None = None,
              interest: InterestTerms | None = None, penalty_interest_agreed_on: Date | None = None,
              rates: ReferenceRates | None = None, co_borrower_id: str | None = None,
              purpose_class: str | None = None) -> "Loan":
        if granted_on < ACT_IN_FORCE:  # no social credit before the Act; no reference rates either
            raise invalid(f"granted_on {granted_on} is before the Act 1133/2002 came into force on {ACT_IN_FORCE}",
                          rule="R-DATE-1", field="granted_on")
        check_amount(policy, principal)
        plan = build_plan(principal, first_due_date, instalment_amount=instalment_amount, term_months=term_months)
        check_plan(plan, granted_on=granted_on, first_due_date=first_due_date, policy=policy)
        terms = interest if interest is not None else InterestTerms.from_json(policy.regular_interest)
        if terms.charged:
            check_cap(terms, granted_on, rates)
        check_agreed_on(penalty_interest_agreed_on, granted_on)
        loan_uuid_ = loan_uuid(tenant, loan_id)
        fields = {
            "loan_id": loan_id, "tenant": tenant, "borrower_id": borrower_id, "purpose": purpose,
            "principal": format_cents(principal), "first_due_date": first_due_date,
            "instalments": [{"instalment": i.number, "due_date": i.due_date.isoformat(),
                             "amount": format_cents(i.amount)} for i in plan],
            "policy": policy.to_json(), "reference": reference, "decision_reference": decision_reference,
            **decision.fields("Act 1133/2002 §4, §6"), "interest": terms.to_json(),
            "penalty_interest_agreed_on": penalty_interest_agreed_on,
        }
        if co_borrower_id is not None and co_borrower_id == borrower_id:
            raise invalid("co_borrower_id names the borrower again", rule="R-APP-1", field="co_borrower_id")
        fields["co_borrower_id"] = co_borrower_id
        if purpose_class is not None and purpose_class not in PURPOSE_CLASSES:
            raise invalid(f"purpose_class must be one of {', '.join(PURPOSE_CLASSES)}, got {purpose_class!r}",
                          rule="R-STAT-1", field="purpose_class")
        fields["purpose_class"] = purpose_class  # hashed as recorded (None too): events stored before lack it
        payload = {"type": "LoanGranted", "loan": str(loan_uuid_), "version": 1, "effective_date": granted_on,
                   "recorded_at": recorded_at, **fields}
        return cls._create(ev.LoanGranted, id=loan_uuid_, timestamp=recorded_at, effective_date=granted_on,
                           hash=chain_hash(GENESIS, payload), **fields)

    # --- guards shared by the commands ---------------------------------------------------

    def _open(self, on: Date, rule: str) -> None:
        if on < self.granted_on:
            raise invalid(f"the date {on} is before the grant date {self.granted_on}", rule="R-DATE-1", field="on")
        if self.closed:
            raise DomainError("loan_closed", f"the loan was {self.closed.replace('_', ' ')} on {self.closed_on}",
                              rule=rule)
        if self.repaid_on is not None:
            raise DomainError("loan_closed", f"the loan was repaid on {self.repaid_on}", rule=rule)

    def _not_accelerated(self, rule: str) -> None:
        if self.accelerated_on is not None:
            raise DomainError("not_eligible", f"the loan was accelerated on {self.accelerated_on}", rule=rule)

    def _not_in_pending_notice(self, numbers: list[int], rule: str) -> None:
        notice = pending_notice(self.notices)
        listed = sorted(set(numbers) & set(notice.instalments)) if notice else []
        if listed:
            raise DomainError("notice_pending", f"instalments {listed} are listed in the acceleration notice of "
                                                f"{notice.sent_on} (cure deadline {notice.cure_deadline})",
                              rule=rule)

    def _row(self, number: object, field: str) -> dict:
        row = next((r for r in self.plan if r.n == number), None)
        if row is None:
            raise invalid(f"{field} {number!r} is not an instalment of this loan (1..{self.plan[-1].n})",
                          field=field)
        return row

    # --- commands ------------------------------------------------------------------------

    def receive_payment(self, *, payment_id: str, amount: Cents, value_date: Date, on: Date,
                        recorded_at: dt.datetime, rates: ReferenceRates, source: str = "api",
                        reference: str | None = None) -> bool:
        """Record money in (R-PAY-1); False when the same payment was already recorded."""
        same = next((p for p in self.payments if p.payment_id == payment_id), None)
        if same is not None:
            if same.amount == amount and same.value_date == value_date:
                return False
            raise DomainError("payment_conflict", f"payment_id {payment_id!r} was already recorded with other "
                              "content", rule="R-PAY-1", field="payment_id")
        if value_date > on:
            raise invalid(f"value_date {value_date} is after the posting date {on}", rule="R-DATE-1",
                          field="value_date")
        if value_date < self.granted_on:
            raise invalid(f"value_date {value_date} is before the grant date {self.granted_on}", rule="R-DATE-1",
                          field="value_date")
        # Money is never refused for the loan's state: on a closed loan it is an overpayment (R-PAY-3).
        self._record(ev.PaymentReceived, effective_date=value_date, recorded_at=recorded_at,
                     payment_id=payment_id, amount=format_cents(amount), value_date=value_date, source=source,
                     reference=reference)
        self.record_cures(on=on, recorded_at=recorded_at, rates=rates)
        return True

    def reverse_payment(self, *, payment_id: str, reason: str, on: Date, recorded_at: dt.datetime,
                        rates: ReferenceRates) -> bool:
        payment = next((p for p in self.payments if p.payment_id == payment_id), None)
        if payment is None:
            raise DomainError("not_found", f"payment_id {payment_id!r} is not recorded on this loan",
                              rule="R-PAY-4", field="payment_id")
        if payment.reversed:
            return False
        self._record(ev.PaymentReversed, effective_date=on, recorded_at=recorded_at, payment_id=payment_id,
                     reason=reason)
        self.record_cures(on=on, recorded_at=recorded_at, rates=rates)
        return True

    def record_cures(self, *, on: Date, recorded_at: dt.datetime, rates: ReferenceRates) -> None:
        """R-ACC-7/8 at once when money moves: a notice lapses as soon as it is cured, and a lapse
        whose money was returned is revoked (the notice is pending again)."""
        from domain.servicing import cure_steps

        for step in cure_steps(self.books(rates), on):
            self._record(step.event_class, effective_date=step.effective_date, recorded_at=recorded_at,
                         **step.fields)

    def send_acceleration_notice(self, *, on: Date, recorded_at: dt.datetime, rates: ReferenceRates,
                                 decision: Decision, override_reason: str | None = None,
                                 channel: str = "letter", notice_hasher: NoticeHasher | None = None) -> None:
        self._open(on, "R-ACC-6")
        self._not_accelerated("R-ACC-6")
        notice = pending_notice(self.notices)
        if notice is not None:
            raise DomainError("notice_pending", f"a notice sent on {notice.sent_on} is pending until its cure "
                              f"deadline {notice.cure_deadline}", rule="R-ACC-6")
        if hardship_active(self.hardships, on) and not override_reason:
            raise DomainError("hardship_active", "a cause of delay under Act §8(2) is recorded; give "
                              "override_reason if not accelerating would be manifestly unreasonable",
                              rule="R-ACC-5")
        fields = acceleration_notice_fields(self.books(rates, notice_hasher), on, override_reason=override_reason,
                                            channel=channel, **decision.fields("Act 1133/2002 §8(1)(1), §8(3)"))
        self._record(ev.NoticeSent, effective_date=on, recorded_at=recorded_at, **fields)

    def record_hardship(self, *, cause: str, on: Date, recorded_at: dt.datetime, decision: Decision) -> None:
        self._open(on, "R-ACC-5")
        if cause not in HARDSHIP_CAUSES:
            raise invalid(f"cause must be one of {', '.join(HARDSHIP_CAUSES)}, got {cause!r}", rule="R-ACC-5",
                          field="cause")
        if hardship_active(self.hardships, on):
            raise invalid(f"a hardship recorded on {self.hardships[-1].start} is still active", rule="R-ACC-5")
        self._record(ev.HardshipRecorded, effective_date=on, recorded_at=recorded_at, cause=cause,
                     **decision.fields("Act 1133/2002 §8(2)"))

    def end_hardship(self, *, on: Date, recorded_at: dt.datetime, decision: Decision) -> None:
        self._open(on, "R-ACC-5")
        if not hardship_active(self.hardships, on):
            raise invalid("no hardship is active on this loan", rule="R-ACC-5")
        self._record(ev.HardshipEnded, effective_date=on, recorded_at=recorded_at,
                     decided_by=decision.decided_by, reasons=decision.reasons)

    def defer_free_months(self, *, months: int, from_instalment: int, on: Date, recorded_at: dt.datetime,
                          decision: Decision) -> None:
        """R-FREE-1 (Act §7a): instalments k.. move later by N months each; the term grows by N."""
        self._open(on, "R-FREE-1")
        self._not_accelerated("R-FREE-1")
        if isinstance(months, bool) or not isinstance(months, int) or months < 1:
            raise invalid(f"months must be a whole number of at least 1, got {months!r}", rule="R-FREE-1",
                          field="months")
        self._row(from_instalment, "from_instalment")
        rows = [r for r in self.plan if r.n >= from_instalment]
        self._not_in_pending_notice([r.n for r in rows], "R-FREE-1")
        moved = [{"instalment": r.n, "due_date": (
            add_months(r.extended_to, months) if r.extended_to
            else add_months(self.first_due_date, r.months + months)).isoformat()} for r in rows]
        self._record(ev.RepaymentDeferred, effective_date=on, recorded_at=recorded_at, kind="free_months",
                     months=months, instalments=[m["instalment"] for m in moved], moved=moved,
                     **decision.fields("Act 1133/2002 §7a"))

    def extend_due_date(self, *, instalment: int, new_due_date: Date, on: Date, recorded_at: dt.datetime,
                        decision: Decision) -> None:
        """R-EXT-1: one instalment moves later by at most max_due_date_extension_months."""
        policy = Policy.from_json(self.policy)
        self._open(on, "R-EXT-1")
        self._not_accelerated("R-EXT-1")
        row = self._row(instalment, "instalment")
        self._not_in_pending_notice([instalment], "R-EXT-1")
        scheduled = add_months(self.first_due_date, row.months)
        current = due_date(self, row)
        latest = add_months(scheduled, policy.max_due_date_extension_months)
        if not current < new_due_date <= latest:
            raise invalid(f"max_due_date_extension_months {policy.max_due_date_extension_months}: new_due_date "
                          f"must be after the current due date {current} and no later than {latest} (scheduled "
                          f"{scheduled} + {policy.max_due_date_extension_months} months), got {new_due_date}",
                          rule="R-EXT-1", field="new_due_date")
        self._record(ev.RepaymentDeferred, effective_date=on, recorded_at=recorded_at, kind="due_date_extension",
                     months=None, instalments=[instalment],
                     moved=[{"instalment": instalment, "due_date": new_due_date.isoformat()}],
                     **decision.fields("Act 1133/2002 §6 (repayment terms)"))

    def change_terms(self, *, from_instalment: int, instalment_amount: Cents, on: Date,
                     recorded_at: dt.datetime, rates: ReferenceRates, decision: Decision) -> None:
        """R-TERMS-1: a new instalment amount from instalment k on, k not yet due on the decision's
        effective date (a change never reaches back); the principal still unpaid in k.. is re-planned."""
        self._open(on, "R-TERMS-1")
        self._not_accelerated("R-TERMS-1")
        first = self._row(from_instalment, "from_instalment")
        due = due_date(self, first)
        if due <= on:
            raise DomainError("not_eligible", f"instalment {from_instalment} fell due on {due}: a change of terms "
                              f"applies only from an instalment not yet due on its effective date {on}",
                              rule="R-TERMS-1", field="from_instalment")
        rows = [r for r in self.plan if r.n >= from_instalment]
        self._not_in_pending_notice([r.n for r in rows], "R-TERMS-1")
        pos = self.books(rates).position(on)
        amounts = replan([pos.instalment(r.n) for r in rows], instalment_amount,
                         Policy.from_json(self.policy).max_term_months, from_instalment)
        tail = [{"instalment": from_instalment + j,
                 "due_date": add_months(self.first_due_date, first.months + j).isoformat(),
                 "amount": format_cents(a)} for j, a in enumerate(amounts)]
        self._record(ev.RepaymentTermsChanged, effective_date=on, recorded_at=recorded_at,
                     from_instalment=from_instalment, instalment_amount=format_cents(instalment_amount),
                     instalments=tail, **decision.fields("Act 1133/2002 §6 (repayment terms)"))

    def waive(self, *, kind: str, on: Date, recorded_at: dt.datetime, rates: ReferenceRates,
              decision: Decision, amount: Cents | None = None) -> None:
        """R-WAIVE-1 (Act §7b): partial from penalty interest first, full closes the loan."""
        self._open(on, "R-WAIVE-1")
        owed = self.books(rates).position(on).owed
        if kind == "full":
            if amount is not None:
                raise invalid("a full exemption waives everything owed; give no amount", rule="R-WAIVE-1",
                              field="amount")
            amount, basis = owed, "Act 1133/2002 §7b(3)"
        elif kind == "partial":
            if amount is None:
                raise invalid("a partial exemption needs an amount", rule="R-WAIVE-1", field="amount")
            if amount > owed:
                raise invalid(f"amount {format_cents(amount)} exceeds everything owed {format_cents(owed)}; "
                              f"use a full exemption", rule="R-WAIVE-1", field="amount")
            basis = "Act 1133/2002 §7b(2)"
        else:
            raise invalid(f"kind must be partial or full, got {kind!r}", rule="R-WAIVE-1", field="kind")
        if owed == 0:
            raise invalid("nothing is owed on this loan", rule="R-WAIVE-1")
        self._record(ev.PaymentWaived, effective_date=on, recorded_at=recorded_at, kind=kind,
                     amount=format_cents(amount), **decision.fields(basis))

    def refund_overpayment(self, *, amount: Cents, on: Date, recorded_at: dt.datetime, rates: ReferenceRates,
                           decision: Decision) -> None:
        over = self.books(rates).position(on).overpayment
        if amount > over:
            raise invalid(f"amount {format_cents(amount)} exceeds the overpayment {format_cents(over)} on {on}",
                          rule="R-PAY-3", field="amount")
        self._record(ev.OverpaymentRefunded, effective_date=on, recorded_at=recorded_at,
                     amount=format_cents(amount), **decision.fields("Act 1133/2002 §7 (no credit costs)"))

    def transfer_to_collection(self, *, on: Date, recorded_at: dt.datetime, decision: Decision,
                               rates: ReferenceRates | None = None, instalments: list[int] | None = None,
                               transfer_id: str | None = None) -> None:
        """The accelerated loan (no `instalments`), or overdue instalments before any acceleration (the
        Kittilä guideline: after two reminders, possibly one instalment at a time), to the agency."""
        self._open(on, "R-ACC-8")
        if instalments is not None and (not isinstance(instalments, list) or not all(
                isinstance(n, int) and not isinstance(n, bool) for n in instalments)):
            raise invalid("instalments must be a list of instalment numbers", rule="R-COL-1", field="instalments")
        if transfer_id is not None and not isinstance(transfer_id, str):
            raise invalid("transfer_id must be text", rule="R-COL-1", field="transfer_id")
        transfer_id = transfer_id or f"T{self.version + 1}"
        active = [t for t in self.collections if t.recalled_on is None]
        if any(t.transfer_id == transfer_id for t in self.collections):
            raise invalid(f"transfer {transfer_id!r} was already recorded", rule="R-COL-1", field="transfer_id")
        amount = None
        if instalments:
            pos = self.books(rates).position(on) if rates is not None else None
            handed = {n for t in active for n in (t.instalments or [r.n for r in self.plan])}
            for n in instalments:
                row = pos.instalment(n) if pos is not None and n in {r.n for r in self.plan} else None
                if row is None:
                    raise invalid(f"instalment {n} is not in the plan", rule="R-COL-1", field="instalments")
                if row.unpaid == 0 or not (pos.accelerated or row.deadline < on):
                    raise DomainError("not_eligible", f"instalment {n} is not overdue on {on}", rule="R-COL-1",
                                      field="instalments")
                if n in handed:
                    raise invalid(f"instalment {n} is already with the collection agency", rule="R-COL-1",
                                  field="instalments")
            amount = format_cents(sum(pos.instalment(n).unpaid for n in instalments))
        else:
            if self.accelerated_on is None or self.accelerated_on > on:
                raise DomainError("not_eligible", "only an accelerated loan can be transferred to collection whole; "
                                  "name the overdue instalments to transfer", rule="R-ACC-8", field="instalments")
            if any(not t.instalments for t in active):
                raise invalid(f"the loan was transferred to collection on {self.collection_on}", rule="R-ACC-8")
            if rates is not None:
                amount = format_cents(self.books(rates).position(on).owed)
        self._record(ev.LoanTransferredToCollection, effective_date=on, recorded_at=recorded_at,
                     **decision.fields("Act 1133/2002 §8"), transfer_id=transfer_id,
                     instalments=sorted(instalments) if instalments else None, amount=amount)

    def recall_collection(self, *, transfer_id: str, on: Date, recorded_at: dt.datetime, decision: Decision) -> None:
        transfer = next((t for t in self.collections if t.transfer_id == transfer_id and t.recalled_on is None), None)
        if transfer is None:
            raise DomainError("not_found", f"no transfer {transfer_id!r} is with the collection agency",
                              rule="R-COL-1", field="transfer_id")
        if on < transfer.on:
            raise invalid(f"the recall on {on} is before the transfer on {transfer.on}", rule="R-COL-1", field="on")
        self._record(ev.CollectionRecalled, effective_date=on, recorded_at=recorded_at, transfer_id=transfer_id,
                     **decision.fields("Act 1133/2002 §8"))

    def record_legal_step(self, *, kind: str, on: Date, recorded_at: dt.datetime, decision: Decision,
                          case_number: str, court: str | None = None, amount: Cents | None = None,
                          outcome: str | None = None, rates: ReferenceRates | None = None) -> None:
        """Issue 20: a claim filed with the administrative court, its judgment, its enforcement; in that order."""
        if on < self.granted_on:
            raise invalid(f"the date {on} is before the grant date {self.granted_on}", rule="R-DATE-1", field="on")
        steps = [s for s in self.legal_steps if s.case_number == case_number]
        fields = {"court": court, "case_number": case_number,
                  "amount": None if amount is None else format_cents(amount)}
        if kind == "claim_filed":
            if steps:
                raise invalid(f"case {case_number!r} was already filed", rule="R-LEGAL-1", field="case_number")
            owed = self.books(rates).position(on).overdue_amount if rates is not None else 1
            if owed == 0:
                raise DomainError("not_eligible", f"nothing is overdue on {on}", rule="R-LEGAL-1")
            self._record(ev.ClaimFiled, effective_date=on, recorded_at=recorded_at, **fields,
                         **decision.fields("Act 1133/2002 §8, §11; Act 808/2019 §20"))
        elif kind == "judgment":
            if not any(s.kind == "claim_filed" for s in steps) or any(s.kind == "judgment" for s in steps):
                raise DomainError("not_eligible", f"case {case_number!r} has no claim filed, or already a judgment",
                                  rule="R-LEGAL-1", field="case_number")
            if outcome not in ("granted", "partly_granted", "rejected"):
                raise invalid(f"outcome must be granted, partly_granted or rejected, got {outcome!r}",
                              rule="R-LEGAL-1", field="outcome")
            self._record(ev.JudgmentGiven, effective_date=on, recorded_at=recorded_at, **fields, outcome=outcome,
                         **decision.fields("Act 808/2019 §20"))
        elif kind == "enforcement":
            judged = [s for s in steps if s.kind == "judgment"]
            if not judged or judged[-1].outcome == "rejected":
                raise DomainError("not_eligible", f"case {case_number!r} has no judgment ordering payment",
                                  rule="R-LEGAL-1", field="case_number")
            self._record(ev.EnforcementStarted, effective_date=on, recorded_at=recorded_at, **fields,
                         **decision.fields("Act 705/2007 ch. 2 §2"))
        else:
            raise invalid(f"kind must be claim_filed, judgment or enforcement, got {kind!r}", rule="R-LEGAL-1",
                          field="kind")

    def write_off(self, *, on: Date, recorded_at: dt.datetime, rates: ReferenceRates, decision: Decision) -> None:
        self._open(on, "R-PORT-1")
        owed = self.books(rates).position(on).owed
        self._record(ev.LoanWrittenOff, effective_date=on, recorded_at=recorded_at, amount=format_cents(owed),
                     **decision.fields("credit loss (Act 1133/2002 §3(2))"))

    # --- migration (R-MIG) ------------------------------------------------------------------

    def record_past_reminder(self, *, on: Date, instalments: list[int], recorded_at: dt.datetime,
                             rates: ReferenceRates, source: str) -> None:
        """R-MIG-2: a reminder the migrated file says was sent on `on` (channel `migrated`: never sent again)."""
        from domain.servicing import reminder_fields

        self._open(on, "R-MIG-2")
        books = self.books(rates)
        unpaid = {row.number for row in books.position(on).instalments if row.unpaid > 0 and row.deadline < on}
        if not instalments or not set(instalments) <= unpaid:
            raise invalid(f"a reminder on {on} can only name instalments overdue and unpaid that day "
                          f"({sorted(unpaid) or 'none'}), got {instalments}", rule="R-MIG-2", field="instalments")
        self._record(ev.NoticeSent, effective_date=on, recorded_at=recorded_at,
                     **reminder_fields(books, on, sorted(instalments), channel=MIGRATED, decided_by="migration",
                                       reasons=f"reminder recorded in {source}"))

    def record_migration(self, *, on: Date, recorded_at: dt.datetime, source: str, file_sha256: str,
                         spreadsheet: dict, luotto: dict, differences: list, accepted_reason: str | None) -> None:
        """R-MIG-3: the events before this one were replayed from a migrated file, compared as of `on`."""
        self._record(ev.LoanMigrated, effective_date=on, recorded_at=recorded_at, source=source,
                     file_sha256=file_sha256, replayed=self.version, spreadsheet=spreadsheet, luotto=luotto,
                     differences=differences, accepted_reason=accepted_reason)

    def file_appeal(self, *, decision: int, decision_type: str, on: Date, recorded_at: dt.datetime,
                    appellant: str, grounds: str) -> None:
        """A request for rectification against one of this loan's decision events."""
        if decision_type not in APPEALABLE:
            raise invalid(f"version {decision} is a {decision_type}, not an appealable decision "
                          f"({', '.join(APPEALABLE)})", field="decision_version")
        if any(a.decision == decision and a.outcome is None for a in self.appeals):
            raise invalid(f"an appeal against version {decision} is already pending", field="decision_version")
        self._record(ev.AppealFiled, effective_date=on, recorded_at=recorded_at, decision=decision,
                     decision_type=decision_type, appellant=appellant, grounds=grounds)

    def decide_appeal(self, *, appeal: int, outcome: str, on: Date, recorded_at: dt.datetime,
                      decision: Decision, letter: Callable[["Loan", str, str], str] | None = None) -> None:
        """The appeal's outcome; an upheld appeal takes effect through its own decision event."""
        pending = next((a for a in self.appeals if a.filed == appeal), None)
        if pending is None:
            raise DomainError("not_found", f"no appeal was filed as version {appeal}", field="appeal")
        if pending.outcome is not None:
            raise invalid(f"the appeal of version {appeal} was already decided: {pending.outcome}",
                          field="appeal")
        if outcome not in ("upheld", "partly_upheld", "rejected"):
            raise invalid(f"outcome must be upheld, partly_upheld or rejected, got {outcome!r}", field="outcome")
        fields = decision.fields("Administrative Procedure Act 434/2003 §49d (rectification)")
        # R-APP-9: the decision is sent with the instructions for appealing to the administrative court.
        letter_hash = letter(self, outcome, fields["legal_basis"]) if letter is not None else None
        self._record(ev.AppealDecided, effective_date=on, recorded_at=recorded_at, appeal=appeal, outcome=outcome,
                     letter_hash=letter_hash, **fields)

    def revoke_acceleration(self, *, on: Date, recorded_at: dt.datetime, decision: Decision,
                            appeal: int | None = None) -> None:
        """Withdraw the pending notice or the acceleration it led to (e.g. on an upheld appeal)."""
        self._open(on, "R-ACC-8")
        notice = next((n for n in reversed(self.notices) if n.lapsed_on is None), None)
        if notice is None:
            raise DomainError("not_eligible", "no acceleration notice or acceleration stands on this loan",
                              rule="R-ACC-8")
        self._record(ev.AccelerationRevoked, effective_date=on, recorded_at=recorded_at, notice=notice.version,
                     appeal=appeal, **decision.fields("Act 1133/2002 §8; decision on rectification"))

    def record_disbursement(self, *, transfer_id: str, payee: str, amount: Cents, on: Date, recorded_at: dt.datetime,
                            returned: bool = False) -> bool:
        """R-APP-8: a transfer paid out (or returned by the bank); False when already recorded so."""
        known = next((d for d in self.disbursements if d.transfer_id == transfer_id), None)
        if known is not None and known.returned == returned:
            return False
        if returned and known is None:
            raise DomainError("not_found", f"transfer {transfer_id!r} was not paid out on this loan", rule="R-APP-8",
                              field="transfer_id")
        if on < self.granted_on:
            raise invalid(f"the date {on} is before the grant date {self.granted_on}", rule="R-DATE-1", field="on")
        drawn = sum(d.amount for d in self.disbursements if not d.returned)
        if not returned and drawn + amount > self.principal:
            raise DomainError("limit_exceeded", f"paying out {format_cents(amount)} would exceed the principal "
                              f"{format_cents(self.principal)}: {format_cents(drawn)} is paid out already",
                              rule="R-APP-8", field="amount")
        self._record(ev.LoanDisbursed, effective_date=on, recorded_at=recorded_at, transfer_id=transfer_id,
                     payee=payee, amount=format_cents(known.amount if returned else amount), returned=returned)
        return True

    def record_notice_delivery(self, *, notice: int, outcome: str, channel: str, on: Date,
                               recorded_at: dt.datetime, reference: str | None = None,
                               reported_at: str | None = None) -> bool:
        """What became of a notice's delivery (sent for printing, printed because no mailbox was in use,
        delivered, read, returned); once each."""
        if outcome not in ("handed_over", "sent_for_printing", "paper_fallback", "delivered", "read", "returned",
                           "failed"):
            raise invalid(f"unknown delivery outcome {outcome!r}", field="outcome")
        if any(d.notice == notice and d.outcome == outcome for d in self.deliveries):
            return False
        # Both always passed (None too): the hash covers exactly the fields the stored event carries.
        self._record(ev.NoticeDeliveryRecorded, effective_date=max(on, self.granted_on), recorded_at=recorded_at,
                     notice=notice, outcome=outcome, channel=channel, reference=reference, reported_at=reported_at)
        return True

    def service(self, *, on: Date, recorded_at: dt.datetime, rates: ReferenceRates,
                notice_hasher: NoticeHasher | None = None, letters: bool = True,
                books: "LoanBooks | None" = None) -> int:
        """Record what the daily run for `on` must record (domain.servicing); idempotent per date.
        `books`: this loan's books under `rates` and `notice_hasher`, to keep the positions computed
        for the caller (the run asks next_action_date after)."""
        from domain.servicing import next_step

        recorded, books = 0, books or self.books(rates, notice_hasher)
        while (step := next_step(books, on, letters=letters)) is not None:
            self._record(step.event_class, effective_date=step.effective_date, recorded_at=recorded_at,
                         **step.fields)
            recorded += 1
            assert recorded < 1000, "servicing did not converge"
        return recorded


def check_agreed_on(agreed_on: Date | None, granted_on: Date) -> None:
    """R-PEN-6: the amendment that added the penalty-interest term can only be valid from 1 Aug 2023."""
    if agreed_on is not None and (agreed_on < PENALTY_LEGAL_BASIS or agreed_on < granted_on):
        raise invalid(f"penalty_interest_agreed_on {agreed_on} must be on or after {PENALTY_LEGAL_BASIS} (Act §6(4), "
                      f"956/2022) and the grant date {granted_on}", rule="R-PEN-6",
                      field="penalty_interest_agreed_on")


def check_amount(policy: Policy, principal: Cents) -> list[str]:
    """R-PORT-1 amount limits; returns warnings for a tolerated deviation above the maximum."""
    if policy.min_loan_amount is not None and principal < policy.min_loan_amount:
        raise DomainError("limit_exceeded", f"min_loan_amount {format_cents(policy.min_loan_amount)} not reached: "
                          f"requested {format_cents(principal)}", rule="R-PORT-1", field="principal")
    if policy.max_loan_amount is not None and principal > policy.max_loan_amount:
        tolerated = policy.max_loan_amount + (policy.max_loan_amount * policy.max_loan_deviation / 100)
        if principal > tolerated:
            raise DomainError("limit_exceeded", f"max_loan_amount {format_cents(policy.max_loan_amount)} would be "
                              f"exceeded: requested {format_cents(principal)}", rule="R-PORT-1", field="principal")
        return [f"max_loan_amount {format_cents(policy.max_loan_amount)} exceeded by a tolerated deviation "
                f"(max_loan_deviation {policy.max_loan_deviation} %): requested {format_cents(principal)}"]
    return []
