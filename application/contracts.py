"""From a granted decision to a loan (R-APP-6, R-APP-7): the waiting list, offers and the contract.

A granted loan application does not record a loan. It joins the organiser's waiting list in the
grant register (domain.waiting_list), in the same write as the decision, and is offered at once
when the capital covers it and nobody waits ahead of it; otherwise it is offered when capital frees
(the daily servicing run, or `process_waiting_list` on demand), strictly in decision order. An offer
reserves its capital until everyone has signed the contract, which records LoanGranted (as
`POST /v1/loans` does) in the same write, or until it expires (policy `offer_valid_days`).
"""
from __future__ import annotations

import datetime as dt

import structlog

from domain.case import ApplicationCase
from domain.errors import DomainError, invalid
from domain.interest import InterestTerms
from domain.loan import Decision, Loan
from domain.money import Cents, format_cents, parse_amount
from domain.register import GrantRegister
from domain.waiting_list import contract_first_due_date

log = structlog.get_logger()


class ContractCommands:
    # --- the waiting list (R-APP-6) ------------------------------------------------------------

    def probe_loan(self, tenant: str, loan_id: str, case: ApplicationCase, terms: dict, granted_on: dt.date) -> Loan:
        """The loan the decision grants, built but never saved: it checks the plan and the amount
        (R-SCHED-3, R-PORT-1 amounts, R-INT-1) and gives the letter its figures."""
        if self.existing_loan(tenant, loan_id) is not None:
            raise DomainError("loan_exists", f"loan {loan_id!r} already exists", field="grant.loan_id")
        return Loan.grant(tenant=tenant, loan_id=loan_id, borrower_id=case.applicant, co_borrower_id=case.co_applicant,
                          principal=parse_amount(terms["principal"], "grant.principal"), purpose="", policy=self.policy(tenant), decision=Decision("probe"),
                          recorded_at=self.clock(), rates=self.rates, **loan_terms(terms, granted_on))

    def queue_grant(self, tenant: str, case: ApplicationCase, principal: Cents,
                    on: dt.date) -> tuple[GrantRegister, list[tuple[str, str]]]:
        """The register with the decision queued behind those before it, and what the waiting list
        did (offers made, offers expired) on `on`."""
        register = self.register(tenant)
        exposure = self.exposure(tenant, register, self.borrower_books(tenant, [case.applicant, case.co_applicant]))
        register.check_borrowers(borrower_id=case.applicant, co_borrower_id=case.co_applicant,
                                 exposure=exposure)
        register.enqueue_grant(application_id=case.application_id, principal=principal, decided_on=on,
                               borrowers=list(case.applicants))
        changes = register.offer_waiting(on=on, outstanding=exposure.total,
                                         valid_days=self.policy(tenant).offer_valid_days)
        return register, changes

    def record_offer_changes(self, tenant: str, register: GrantRegister, changes: list[tuple[str, str]],
                             on: dt.date, current: ApplicationCase | None = None) -> list[ApplicationCase]:
        """Each offer made or expired by the register recorded on its application too (same write)."""
        cases = []
        for kind, application_id in changes:
            case = current if current is not None and application_id == current.application_id \
                else self.case(tenant, application_id)
            if kind == "offered":
                case.record_offer(valid_until=register.offers[application_id]["valid_until"], on=on,
                                  recorded_at=self.clock())
                self._draw_at_offer(case, on)
            else:
                case.expire_offer(on=on, recorded_at=self.clock())
            if case is not current:
                cases.append(case)
        return cases

    def _draw_at_offer(self, case: ApplicationCase, on: dt.date) -> None:
        """The borrowers learn of the offer by receiving the contract to sign (R-APP-6, 7). A plan the rules
        refuse as it stands (e.g. another organiser's due day) is left for the official to draw."""
        if self.letters is None:
            return  # no letters wired (the simulator, bare services)
        try:
            self._draw(case, on=on, by="waiting_list", first_due_date=None)
        except DomainError as refused:
            log.warning("contract_not_drawn_at_offer", application=case.application_id, reason=refused.message)

    def process_waiting_list(self, tenant: str, on: dt.date):
        """R-APP-6 on `on`: expire the offers whose time ran out, offer the first in line while the
        capital covers it. Idempotent for a date; the daily servicing run calls it."""
        def change() -> list:
            register = self.register(tenant)
            # The capital in use decides only whether the first in line can be offered: with nobody
            # waiting it is not read (it catches the read model up, each daily run).
            outstanding = self.capital_in_use(tenant, register) if register.waiting else 0
            changes = register.offer_waiting(on=on, outstanding=outstanding,
                                             valid_days=self.policy(tenant).offer_valid_days)
            done.extend(changes)
            return [register, *self.record_offer_changes(tenant, register, changes, on)] if changes else []
        done: list[tuple[str, str]] = []
        written = self.write(change, lambda: [{"change": k, "application_id": a} for k, a in done])
        return written

    def withdraw_grant(self, tenant: str, application_id: str, *, reason: str, on: dt.date, by: str):
        """R-APP-6: the applicant gives up a waiting or offered grant; in the same write the next in line
        is offered what the capital now covers (strict order)."""
        def change() -> list:
            case = self.case(tenant, application_id)
            case.withdraw_grant(reason=self._seal(tenant, case.applicant, reason), on=on, by=by,
                                recorded_at=self.clock())
            register = self.register(tenant)
            register.withdraw_grant(application_id, on)
            outstanding = self.capital_in_use(tenant, register)
            changes = register.offer_waiting(on=on, outstanding=outstanding,
                                             valid_days=self.policy(tenant).offer_valid_days)
            return [case, register, *self.record_offer_changes(tenant, register, changes, on)]
        return self.write(change, lambda: self.case(tenant, application_id))

    def waiting_list(self, tenant: str, today: dt.date) -> dict:
        """The queue with each applicant's position, and the offers with the capital they reserve. An
        offer whose time ran out shows `expired` before the next run records it (a date decides it)."""
        register = self.register(tenant)
        waiting = [{**w, "decided_on": w["decided_on"].isoformat()} for w in register.positions()]
        offers = [{"application_id": a, "principal": o["principal"], "borrowers": o["borrowers"],
                   "offered_on": o["offered_on"].isoformat(), "valid_until": o["valid_until"].isoformat(),
                   "expired": o["valid_until"] < today} for a, o in sorted(register.offers.items())]
        return {"waiting": waiting, "offers": offers}

    # --- the contract (R-APP-7) ------------------------------------------------------------------

    def draw_contract(self, tenant: str, application_id: str, *, on: dt.date, by: str,
                      first_due_date: dt.date | None = None):
        """The contract for a standing offer, one PDF to each borrower in their language (stored sealed
        with their key, its salted hash in ContractDrawn); the outbox sends each of them theirs. Drawn
        at the offer already (`record_offer_changes`); again here, e.g. with another first due date."""
        def change() -> list:
            case = self.case(tenant, application_id)
            self._draw(case, on=on, by=by, first_due_date=first_due_date)
            return [case]
        return self.write(change, lambda: self.case(tenant, application_id))

    def _draw(self, case: ApplicationCase, *, on: dt.date, by: str, first_due_date: dt.date | None) -> None:
        case.check_drawable(on)  # before anything is rendered or stored
        terms = dict(case.granted_terms)
        terms["first_due_date"] = (first_due_date or contract_first_due_date(
            dt.date.fromisoformat(str(terms["first_due_date"])), case.offer.valid_until)).isoformat()
        loan = self.probe_loan(case.tenant, case.decision.loan_id, case, terms, on)  # R-SCHED-3 from today
        content = self.contract_content(case, terms, loan, on)
        letters = [self.letters.contract(case.tenant, person, content) for person in case.applicants]
        case.draw_contract(first_due_date=loan.first_due_date, letters=letters, on=on, by=by,
                           recorded_at=self.clock())

    def contract_content(self, case: ApplicationCase, terms: dict, loan: Loan, on: dt.date) -> dict:
        """Everything the contract shows (Act §6): figures from the loan the signatures will grant."""
        opener = self.sealer.opener(case.tenant, case.applicant, may_read=True) if self.sealer else (lambda x: x)
        policy = self.policy(case.tenant)
        details = self.payee_details(case)
        return {"reference": case.application_id, "loan_id": loan.loan_id, "drawn_on": on.isoformat(),
                "decided_on": case.decision.on.isoformat(), "valid_until": case.offer.valid_until.isoformat(),
                "borrowers": [{"borrower_id": p, "name": self.letters.name_of(case.tenant, p)} for p in case.applicants],
                "purpose": opener(terms.get("purpose_sealed") or "") or "", "principal": terms["principal"],
                "interest": loan.interest, "penalty_interest": policy.penalty_interest,
                "instalments": [{"n": i.number, "due_date": i.due_date.isoformat(), "amount": format_cents(i.amount)}
                                for i in loan.instalments()],
                "payees": [{"payee_id": p.payee_id, "kind": p.kind, "amount": p.amount,
                            "name": details.get(p.payee_id, {}).get("name")} for p in case.payees]}

    def sign_contract(self, tenant: str, application_id: str, *, signer: str, on: dt.date, by: str):
        """A borrower's or the official's signature; the last one records LoanGranted, taking the
        offer's reserved capital (R-APP-6), in the same write."""
        def change() -> list:
            case = self.case(tenant, application_id)
            if not case.sign_contract(signer=signer, on=on, by=by, recorded_at=self.clock()):
                return [case] if case.pending_events else []
            terms = {**case.granted_terms, "first_due_date": case.contract.first_due_date.isoformat()}
            loan_id = case.decision.loan_id
            register = self.register(tenant)
            reserved = register.offers.get(application_id, {}).get("principal")
            if reserved is not None and reserved != terms["principal"]:
                raise invalid(f"the offer reserved {reserved}, the decision granted {terms['principal']}",
                              rule="R-APP-6", field="principal")
            decision = Decision(case.decision.decided_by or "official", case.decision.reasons)
            others = self.grant_aggregates(
                tenant=tenant, loan_id=loan_id, borrower_id=case.applicant, co_borrower_id=case.co_applicant,
                principal=parse_amount(terms["principal"], "principal"), decision=decision,
                purpose=terms.get("purpose_sealed") or "", decision_reference=application_id, register=register,
                offer=application_id, **loan_terms(terms, on))
            case.conclude_contract(loan_id=loan_id, on=on, by=by, recorded_at=self.clock())
            return [case, *others]
        return self.write(change, lambda: self.case(tenant, application_id))


def loan_terms(terms: dict, granted_on: dt.date) -> dict:
    """The Loan.grant keywords of a decision's terms (amounts as strings, dates as ISO text)."""
    out = {"granted_on": granted_on, "first_due_date": dt.date.fromisoformat(str(terms["first_due_date"]))}
    if terms.get("plan_by", "term_months") == "instalment_amount":
        out["instalment_amount"] = parse_amount(terms["instalment_amount"], "grant.instalment_amount")
    else:
        out["term_months"] = terms["term_months"]
    interest = terms.get("interest")
    out["interest"] = InterestTerms.from_json(interest, "grant.interest") if interest else None
    out["purpose_class"] = terms.get("purpose_class")  # R-STAT-1
    return out
