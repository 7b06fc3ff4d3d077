"""Commands on loans: the grant (R-PORT-1) and every decision, one typed method each.

Each decision loads the loan, calls the aggregate's command and saves it (Store.write, which
decides again after a lost race). A person's free text is sealed with the borrower's key before
it is recorded (R-DATA-2, application.personal_text).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from adapters.reference_numbers import reference_for_loan
from domain.errors import DomainError
from domain.loan import Decision, Loan
from domain.money import Cents, format_cents
from domain.policy import Policy
from domain.register import GrantRegister, ReferenceMarker
from domain.schedule import build_plan


class LoanCommands:
    notice_hasher = None  # set by the composition root: renders and stores notice letters
    sealer = None  # set by the composition root: seals free text with the borrower's key (R-DATA-2)

    # --- the grant -----------------------------------------------------------------------

    def grant(self, *, tenant: str, loan_id: str, borrower_id: str, principal: Cents, decision: Decision,
              applicant_total_debt: Cents = 0, co_borrower_id: str | None = None, **terms: Any):
        """R-PORT-1 checked against the register saved in the same transaction as the loan."""
        sealed = self._sealed_decision(tenant, borrower_id, decision)
        asked, terms = terms, {**terms, "purpose": self._seal(tenant, borrower_id, terms["purpose"])}

        def change() -> list:
            existing = self.existing_loan(tenant, loan_id)
            if existing is not None:
                differs = self._other_terms(existing, borrower_id=borrower_id, principal=principal, **asked)
                if differs:
                    raise DomainError("loan_exists", f"loan {loan_id!r} was already granted with other terms: "
                                      f"{', '.join(differs)} differ", field=differs[0])
                return []
            return self.grant_aggregates(tenant=tenant, loan_id=loan_id, borrower_id=borrower_id, principal=principal,
                                         decision=sealed, applicant_total_debt=applicant_total_debt,
                                         co_borrower_id=co_borrower_id, **terms)
        return self.write(change, lambda: self.loan(tenant, loan_id))

    def grant_aggregates(self, *, tenant: str, loan_id: str, borrower_id: str, principal: Cents, decision: Decision,
                         applicant_total_debt: Cents = 0, co_borrower_id: str | None = None,
                         register: GrantRegister | None = None, offer: str | None = None, **terms: Any) -> list:
        """The register, the borrowers' books, the new loan and its reference marker, to be saved
        together (free text already sealed). Also used by a concluded contract (application.contracts),
        in its own write, with the `offer` whose reserved capital the loan takes (R-APP-6)."""
        if self.existing_loan(tenant, loan_id) is not None:
            raise DomainError("loan_exists", f"loan {loan_id!r} already exists", field="loan_id")
        register = register or self.register(tenant)
        policy = Policy.from_json(register.policy)
        books = self.borrower_books(tenant, [borrower_id, co_borrower_id])
        exposure = self.exposure(tenant, register, books)
        if offer is not None:
            register.take_offer(offer, terms["granted_on"])
        sequence = register.register_grant(loan_id=loan_id, borrower_id=borrower_id, principal=principal,
                                           granted_on=terms["granted_on"], exposure=exposure,
                                           applicant_other_debt=applicant_total_debt, co_borrower_id=co_borrower_id,
                                           offer=offer)
        for book in books:
            book.add(loan_id, principal)
        reference = reference_for_loan(sequence)
        loan = Loan.grant(tenant=tenant, loan_id=loan_id, borrower_id=borrower_id, principal=principal,
                          policy=policy, decision=decision, recorded_at=self.clock(), reference=reference,
                          rates=self.rates, co_borrower_id=co_borrower_id, **terms)
        return [register, *books, loan, ReferenceMarker.assign(tenant, reference, loan_id)]

    def _other_terms(self, loan: Loan, *, borrower_id: str, principal: Cents,
                     granted_on: dt.date, first_due_date: dt.date, purpose: str, decision_reference: str | None = None,
                     instalment_amount: Cents | None = None, term_months: int | None = None,
                     interest: Any = None, penalty_interest_agreed_on: dt.date | None = None,
                     purpose_class: str | None = None) -> list[str]:
        """The terms in which a grant differs from the loan's LoanGranted: a retry must repeat every
        term of the loan and the decision it names, else it is another grant under the same loan_id.
        Who decided and why (decided_by, reasons, legal_basis) are not terms: a retry may word them
        differently; interest terms left out take the policy's default, so only given ones are compared."""
        granted = next(iter(self.events.get(loan.id, lte=1)))
        try:
            plan = [{"instalment": i.number, "due_date": i.due_date.isoformat(), "amount": format_cents(i.amount)}
                    for i in build_plan(principal, first_due_date, instalment_amount=instalment_amount,
                                        term_months=term_months)]
        except (DomainError, ValueError, OverflowError):
            plan = None
        asked = {"borrower_id": borrower_id, "principal": format_cents(principal), "granted_on": granted_on,
                 "first_due_date": first_due_date, "purpose": purpose, "decision_reference": decision_reference,
                 "instalment_amount" if instalment_amount is not None else "term_months": plan}
        if interest is not None:
            asked["interest"] = interest.to_json() if hasattr(interest, "to_json") else interest
        if penalty_interest_agreed_on is not None:
            asked["penalty_interest_agreed_on"] = penalty_interest_agreed_on
        if purpose_class is not None:
            asked["purpose_class"] = purpose_class
        stored = {**{k: getattr(granted, k) for k in asked if hasattr(granted, k)},
                  "granted_on": granted.effective_date, "instalment_amount": granted.instalments,
                  "term_months": granted.instalments}
        if self.sealer is not None:  # the purpose is stored sealed (R-DATA-2): compared as text
            stored["purpose"] = self.sealer.opener(loan.tenant, loan.borrower_id, may_read=True)(stored["purpose"])
        return [k for k, v in asked.items() if stored.get(k) != v]

    # --- decisions (each an appealable administrative decision) ----------------------------

    def send_acceleration_notice(self, tenant: str, loan_id: str, *, on: dt.date, decision: Decision,
                                 override_reason: str | None = None):
        """R-ACC-5/6: refused unless Act §8(1)(1) holds, no notice is pending and no hardship is active."""
        return self._decide(tenant, loan_id, decision, lambda loan, decision, seal: loan.send_acceleration_notice(
            on=on, decision=decision, override_reason=seal(override_reason), rates=self.rates,
            notice_hasher=self.notice_hasher, recorded_at=self.clock()))

    def record_hardship(self, tenant: str, loan_id: str, *, on: dt.date, decision: Decision, cause: str):
        return self._decide(tenant, loan_id, decision, lambda loan, decision, seal: loan.record_hardship(
            cause=cause, on=on, decision=decision, recorded_at=self.clock()))

    def end_hardship(self, tenant: str, loan_id: str, *, on: dt.date, decision: Decision):
        return self._decide(tenant, loan_id, decision, lambda loan, decision, seal: loan.end_hardship(
            on=on, decision=decision, recorded_at=self.clock()))

    def defer_free_months(self, tenant: str, loan_id: str, *, on: dt.date, decision: Decision, months: int,
                          from_instalment: int):
        return self._decide(tenant, loan_id, decision, lambda loan, decision, seal: loan.defer_free_months(
            months=months, from_instalment=from_instalment, on=on, decision=decision, recorded_at=self.clock()))

    def extend_due_date(self, tenant: str, loan_id: str, *, on: dt.date, decision: Decision, instalment: int,
                        new_due_date: dt.date):
        return self._decide(tenant, loan_id, decision, lambda loan, decision, seal: loan.extend_due_date(
            instalment=instalment, new_due_date=new_due_date, on=on, decision=decision, recorded_at=self.clock()))

    def change_terms(self, tenant: str, loan_id: str, *, on: dt.date, decision: Decision, from_instalment: int,
                     instalment_amount: Cents):
        return self._decide(tenant, loan_id, decision, lambda loan, decision, seal: loan.change_terms(
            from_instalment=from_instalment, instalment_amount=instalment_amount, on=on, decision=decision,
            rates=self.rates, recorded_at=self.clock()))

    def waive(self, tenant: str, loan_id: str, *, on: dt.date, decision: Decision, kind: str,
              amount: Cents | None = None):
        return self._decide(tenant, loan_id, decision, lambda loan, decision, seal: loan.waive(
            kind=kind, amount=amount, on=on, decision=decision, rates=self.rates, recorded_at=self.clock()))

    def refund_overpayment(self, tenant: str, loan_id: str, *, on: dt.date, decision: Decision, amount: Cents):
        return self._decide(tenant, loan_id, decision, lambda loan, decision, seal: loan.refund_overpayment(
            amount=amount, on=on, decision=decision, rates=self.rates, recorded_at=self.clock()))

    def transfer_to_collection(self, tenant: str, loan_id: str, *, on: dt.date, decision: Decision,
                               instalments: list[int] | None = None, transfer_id: str | None = None):
        """Issue 20: the accelerated loan, or overdue instalments, to the organiser's collection agency."""
        return self._decide(tenant, loan_id, decision, lambda loan, decision, seal: loan.transfer_to_collection(
            on=on, decision=decision, recorded_at=self.clock(), rates=self.rates, instalments=instalments,
            transfer_id=transfer_id))

    def recall_collection(self, tenant: str, loan_id: str, *, on: dt.date, decision: Decision, transfer_id: str):
        return self._decide(tenant, loan_id, decision, lambda loan, decision, seal: loan.recall_collection(
            transfer_id=transfer_id, on=on, decision=decision, recorded_at=self.clock()))

    def record_legal_step(self, tenant: str, loan_id: str, *, on: dt.date, decision: Decision, kind: str,
                          case_number: str, court: str | None = None, amount=None, outcome: str | None = None):
        """Issue 20: claim filed, judgment, enforcement (domain.loan.Loan.record_legal_step)."""
        return self._decide(tenant, loan_id, decision, lambda loan, decision, seal: loan.record_legal_step(
            kind=kind, on=on, decision=decision, recorded_at=self.clock(), case_number=case_number, court=court,
            amount=amount, outcome=outcome, rates=self.rates))

    def write_off(self, tenant: str, loan_id: str, *, on: dt.date, decision: Decision):
        return self._decide(tenant, loan_id, decision, lambda loan, decision, seal: loan.write_off(
            on=on, decision=decision, rates=self.rates, recorded_at=self.clock()))

    def file_appeal(self, tenant: str, loan_id: str, *, decision_version: int, on: dt.date, appellant: str,
                    grounds: str):
        """A request for rectification against one of the loan's decision events (by its version)."""
        loan = self.loan(tenant, loan_id)
        found = list(self.events.get(loan.id, gt=decision_version - 1, lte=decision_version))
        if not found:
            raise DomainError("not_found", f"loan {loan_id!r} has no event version {decision_version}",
                              field="decision_version")
        return self._decide(tenant, loan_id, None, lambda loan, decision, seal: loan.file_appeal(
            decision=decision_version, decision_type=type(found[0]).__name__, on=on, appellant=seal(appellant),
            grounds=seal(grounds), recorded_at=self.clock()))

    def decide_appeal(self, tenant: str, loan_id: str, *, on: dt.date, decision: Decision, appeal: int,
                      outcome: str):
        """With a letter to the borrower carrying the administrative court's appeal instructions (R-APP-9)."""
        letters = getattr(self, "letters", None)
        letter = None if letters is None else lambda loan, outcome, basis: letters.appeal_letter(
            loan, outcome=outcome, decided_by=decision.decided_by, reasons=decision.reasons, on=on,
            legal_basis=decision.legal_basis)  # None: the letter names the law in the borrower's language
        return self._decide(tenant, loan_id, decision, lambda loan, decision, seal: loan.decide_appeal(
            appeal=appeal, outcome=outcome, on=on, decision=decision, recorded_at=self.clock(), letter=letter))

    def revoke_acceleration(self, tenant: str, loan_id: str, *, on: dt.date, decision: Decision,
                            appeal: int | None = None):
        return self._decide(tenant, loan_id, decision, lambda loan, decision, seal: loan.revoke_acceleration(
            on=on, decision=decision, appeal=appeal, recorded_at=self.clock()))

    def record_notice_delivery(self, tenant: str, loan_id: str, *, notice: int, outcome: str, channel: str,
                               on: dt.date, reference: str | None = None, reported_at: str | None = None):
        """What became of a notice's delivery (application.notices), once each; `reference`: the channel's
        id for it (a Suomi.fi messageId, a signed print batch), `reported_at`: the channel's own time."""
        return self._decide(tenant, loan_id, None, lambda loan, decision, seal: loan.record_notice_delivery(
            notice=notice, outcome=outcome, channel=channel, on=on, recorded_at=self.clock(), reference=reference,
            reported_at=reported_at))

    def record_disbursement(self, tenant: str, loan_id: str, *, transfer_id: str, payee: str, amount: Cents,
                            on: dt.date, returned: bool = False):
        """R-APP-8: a transfer paid out to a payee of the decision, or returned by the bank."""
        return self._decide(tenant, loan_id, None, lambda loan, decision, seal: loan.record_disbursement(
            transfer_id=transfer_id, payee=payee, amount=amount, on=on, returned=returned, recorded_at=self.clock()))

    def _decide(self, tenant: str, loan_id: str, decision: Decision | None,
                command: Callable[[Loan, Decision | None, Callable], Any]):
        """Load the loan, run `command(loan, decision, seal)` with the decision's reasons sealed, save."""
        seal = lambda text: text  # noqa: E731 - the identity when no sealer is wired (tests, simulator)
        if self.sealer is not None:
            borrower_id = self.loan(tenant, loan_id, read_only=True).borrower_id
            decision = self._sealed_decision(tenant, borrower_id, decision) if decision is not None else None
            seal = lambda text: self._seal(tenant, borrower_id, text)  # noqa: E731

        def change() -> list:
            loan = self.loan(tenant, loan_id)
            command(loan, decision, seal)
            return [loan]
        return self.write(change)

    def _seal(self, tenant: str, borrower_id: str, text: str | None) -> str | None:
        return self.sealer.seal(tenant, borrower_id, text) if self.sealer is not None else text

    def _sealed_decision(self, tenant: str, borrower_id: str, decision: Decision) -> Decision:
        return Decision(decision.decided_by, self._seal(tenant, borrower_id, decision.reasons), decision.legal_basis)
