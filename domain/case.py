"""The application aggregate (R-APP-1 … 5, 9): from receipt to a decision, every step an event.

A loan application is received with its facts (by version and salted hash), assessed, given
judgement grounds, the criteria given and understood (Act §4(3)) and the right to social
assistance looked into (Act §10), then decided by someone who did not prepare it (four eyes) or
withdrawn. A relief application (free months, an exemption, a terms change, a due-date extension)
concerns a loan and is decided either way too. Pure: dates and instants are passed in.
"""
from __future__ import annotations

import datetime as dt
import uuid

from eventsourcing.domain import Aggregate

from domain import case_events as ev
from domain.case_state import (COMPUTED_GROUNDS, JUDGED_GROUNDS, KINDS, LOAN, RELIEF_KINDS,
                               SOCIAL_ASSISTANCE_FINDINGS, CaseState, Letter)
from domain.errors import DomainError, invalid
from domain.policy import Policy

CASE_NAMESPACE = uuid.UUID("3c0e2f1a-7b64-4d2e-9f0a-5e8b1c7d2a44")
LEGAL_BASIS = {LOAN: "Act 1133/2002 §4, §5", "free_months": "Act 1133/2002 §7a",
               "exemption": "Act 1133/2002 §7b", "terms_change": "Act 1133/2002 §6 (repayment terms)",
               "due_date_extension": "Act 1133/2002 §6 (repayment terms)"}


def case_uuid(tenant: str, application_id: str) -> uuid.UUID:
    return uuid.uuid5(CASE_NAMESPACE, f"{tenant}/{application_id}")


class ApplicationCase(CaseState, Aggregate):
    """One application of one organiser; its state is declared in domain.case_state."""

    def __init__(self) -> None:
        """State is set by ApplicationReceived.apply, so a replay and a receipt build it the same way."""

    @classmethod
    def receive(cls, *, tenant: str, application_id: str, kind: str, applicant: str, co_applicant: str | None,
                facts_hash: str, on: dt.date, by: str, recorded_at: dt.datetime, loan_id: str | None = None,
                request: dict | None = None) -> "ApplicationCase":
        if kind not in KINDS:
            raise invalid(f"kind must be one of {', '.join(KINDS)}, got {kind!r}", rule="R-APP-1", field="kind")
        if co_applicant is not None and co_applicant == applicant:
            raise invalid("co_applicant names the applicant again", rule="R-APP-1", field="co_applicant")
        if (kind in RELIEF_KINDS) != (loan_id is not None):
            raise invalid("a relief application names its loan, a loan application none", rule="R-APP-9",
                          field="loan_id")
        return cls._create(ev.ApplicationReceived, id=case_uuid(tenant, application_id), timestamp=recorded_at,
                           effective_date=on, by=by, application_id=application_id, tenant=tenant, kind=kind,
                           applicant=applicant, co_applicant=co_applicant, loan_id=loan_id, request=request or {},
                           facts_version=1, facts_hash=facts_hash)

    # --- guards ------------------------------------------------------------------------------

    def _still_open(self, on: dt.date, rule: str = "R-APP-1") -> None:
        if self.withdrawn_on is not None:
            raise DomainError("not_eligible", f"application {self.application_id} was withdrawn on "
                              f"{self.withdrawn_on}", rule=rule)
        if self.decision is not None:
            raise DomainError("not_eligible", f"application {self.application_id} was decided "
                              f"({self.decision.outcome}) on {self.decision.on}", rule=rule)
        if on < self.received_on:
            raise invalid(f"the date {on} is before the application was received on {self.received_on}",
                          rule="R-DATE-1", field="on")

    def _loan_kind(self, what: str) -> None:
        if self.kind != LOAN:
            raise invalid(f"{what} belongs to a loan application; this is a {self.kind} application",
                          rule="R-APP-2", field="kind")

    def _record(self, event_class, *, on: dt.date, by: str, recorded_at: dt.datetime, **fields) -> None:
        self.trigger_event(event_class, timestamp=recorded_at, effective_date=on, by=by, **fields)

    # --- preparation -------------------------------------------------------------------------

    def update_facts(self, *, facts_hash: str, on: dt.date, by: str, recorded_at: dt.datetime) -> int:
        """R-APP-1: facts may change while the application is open; returns the new version."""
        self._still_open(on)
        version = self.current_facts().version + 1
        self._record(ev.ApplicationFactsUpdated, on=on, by=by, recorded_at=recorded_at, facts_version=version,
                     facts_hash=facts_hash)
        return version

    def record_assessment(self, *, facts_version: int, assessment_hash: str, grounds: list[str],
                          warnings: list[str], on: dt.date, by: str, recorded_at: dt.datetime) -> None:
        """R-APP-2 … 4 on the facts as they stand: the decision rests on this version."""
        self._still_open(on, "R-APP-2")
        self._loan_kind("an assessment")
        facts = self.current_facts()
        if facts_version != facts.version:
            raise invalid(f"facts version {facts_version} is not the current one ({facts.version})", rule="R-APP-2",
                          field="facts_version")
        self._record(ev.ApplicationAssessed, on=on, by=by, recorded_at=recorded_at, facts_version=facts.version,
                     facts_hash=facts.hash, assessment_hash=assessment_hash, grounds=list(grounds),
                     warnings=list(warnings))

    def record_judgement(self, *, ground: str, reasons: str, on: dt.date, by: str, recorded_at: dt.datetime) -> None:
        """R-APP-4: a ground only a caseworker can judge, always with reasons."""
        self._still_open(on, "R-APP-4")
        self._loan_kind("a judgement ground")
        if ground not in JUDGED_GROUNDS:
            raise invalid(f"ground must be one of {', '.join(JUDGED_GROUNDS)}, got {ground!r}", rule="R-APP-4",
                          field="ground")
        if not reasons:
            raise invalid("a judged ground needs its reasons", rule="R-APP-4", field="reasons")
        self._record(ev.JudgementGroundRecorded, on=on, by=by, recorded_at=recorded_at, ground=ground, reasons=reasons)

    def give_criteria(self, *, understood: bool, on: dt.date, by: str, recorded_at: dt.datetime) -> None:
        """Act §4(3): recorded only once the official has made sure the applicant understood them."""
        self._still_open(on, "R-APP-5")
        self._loan_kind("the granting criteria")
        if understood is not True:
            raise invalid("Act §4(3): the official must make sure the applicant understood the criteria before "
                          "this is recorded", rule="R-APP-5", field="understood")
        self._record(ev.GrantingCriteriaGiven, on=on, by=by, recorded_at=recorded_at, understood=True)

    def look_into_social_assistance(self, *, finding: str, reasons: str, on: dt.date, by: str,
                                    recorded_at: dt.datetime) -> None:
        """Act §10: the right to social assistance is looked into before a grant."""
        self._still_open(on, "R-APP-5")
        self._loan_kind("the right to social assistance")
        if finding not in SOCIAL_ASSISTANCE_FINDINGS:
            raise invalid(f"finding must be one of {', '.join(SOCIAL_ASSISTANCE_FINDINGS)}, got {finding!r}",
                          rule="R-APP-5", field="finding")
        self._record(ev.SocialAssistanceLookedInto, on=on, by=by, recorded_at=recorded_at, finding=finding,
                     reasons=reasons)

    def withdraw(self, *, reason: str, on: dt.date, by: str, recorded_at: dt.datetime) -> None:
        self._still_open(on)
        self._record(ev.ApplicationWithdrawn, on=on, by=by, recorded_at=recorded_at, reason=reason)

    # --- the decision (R-APP-5, R-APP-9) ---------------------------------------------------------

    def check_decision(self, *, outcome: str, grounds: list[str], reasons: str, override_reasons: str | None,
                       on: dt.date, by: str, policy: Policy) -> None:
        """Everything R-APP-5 asks of a decision before anything is recorded or granted."""
        self._still_open(on, "R-APP-5")
        if policy.four_eyes and by in self.prepared_by:
            raise DomainError("four_eyes", f"four eyes: {by} prepared application {self.application_id} and may not "
                              "decide it; another decision maker must (policy four_eyes)", rule="R-APP-5",
                              field="decided_by")
        if outcome not in ("granted", "rejected"):
            raise invalid(f"outcome must be granted or rejected, got {outcome!r}", rule="R-APP-5", field="outcome")
        assessment = self.current_assessment()
        if self.kind == LOAN and assessment is None:
            raise DomainError("not_eligible", f"facts version {self.current_facts().version} is not assessed: the "
                              "decision rests on an assessment of the facts as they stand", rule="R-APP-5")
        unknown = [g for g in grounds if g not in COMPUTED_GROUNDS + JUDGED_GROUNDS]
        if unknown:
            raise invalid(f"unknown grounds {unknown}", rule="R-APP-4", field="grounds")
        if outcome == "rejected":
            self._check_rejection(grounds, reasons, assessment)
            return
        if grounds:
            raise invalid("a grant names no grounds for refusal; give override_reasons instead", rule="R-APP-5",
                          field="grounds")
        if self.kind != LOAN:
            return
        if self.criteria_on is None:
            raise DomainError("not_eligible", "Act §4(3): the record does not show that the written granting "
                              "criteria were given and understood", rule="R-APP-5")
        if self.social_assistance is None:
            raise DomainError("not_eligible", "Act §10: the record does not show that the applicant's right to "
                              "social assistance was looked into", rule="R-APP-5")
        standing = list(assessment.grounds) + [j.ground for j in self.judged]
        if standing and not override_reasons:
            raise invalid(f"granting despite the grounds {sorted(set(standing))} needs override_reasons",
                          rule="R-APP-5", field="override_reasons")

    def _check_rejection(self, grounds: list[str], reasons: str, assessment) -> None:
        if not reasons:
            raise invalid("a rejection gives its reasons", rule="R-APP-5", field="reasons")
        if self.kind != LOAN:
            return  # R-APP-9: a relief application is refused with reasons
        if not grounds:
            raise invalid("a rejection names at least one ground (R-APP-4)", rule="R-APP-5", field="grounds")
        computed = set(assessment.grounds)
        judged = {j.ground for j in self.judged}
        missing = [g for g in grounds if g not in (computed if g in COMPUTED_GROUNDS else judged)]
        if missing:
            raise invalid(f"grounds {missing} are not in the record: a computed ground must be found by the "
                          "assessment, a judged one recorded with reasons first", rule="R-APP-5", field="grounds")

    def decide(self, *, outcome: str, grounds: list[str], reasons: str, override_reasons: str | None, terms: dict,
               letters: list[Letter], on: dt.date, by: str, decided_by: str, recorded_at: dt.datetime, policy: Policy,
               loan_id: str | None = None, loan_version: int | None = None, legal_basis: str | None = None) -> None:
        self.check_decision(outcome=outcome, grounds=grounds, reasons=reasons, override_reasons=override_reasons,
                            on=on, by=by, policy=policy)
        facts = self.current_facts()
        self._record(ev.ApplicationDecided, on=on, by=by, recorded_at=recorded_at, outcome=outcome,
                     decided_by=decided_by, grounds=list(grounds), reasons=reasons, override_reasons=override_reasons or None,
                     legal_basis=legal_basis or LEGAL_BASIS[self.kind], facts_version=facts.version,
                     facts_hash=facts.hash, terms=terms, loan_id=loan_id, loan_version=loan_version,
                     letters=[{"borrower_id": x.borrower_id, "hash": x.hash} for x in letters])

    def record_letter_delivery(self, *, borrower_id: str, outcome: str, channel: str, on: dt.date,
                               recorded_at: dt.datetime, letter_version: int | None = None) -> bool:
        """Once per letter (the decision's, the contract's) and outcome."""
        if letter_version is None or letter_version == (self.decision.version if self.decision else None):
            if (borrower_id, outcome) in self.deliveries:
                return False
        if (borrower_id, outcome, letter_version) in self.letter_deliveries:
            return False
        self._record(ev.DecisionLetterDelivered, on=on, by="outbox", recorded_at=recorded_at,
                     borrower_id=borrower_id, outcome=outcome, channel=channel, letter_version=letter_version)
        return True

    # --- from a granted decision to a loan (R-APP-6, R-APP-7) ------------------------------------

    def _granted_loan(self, rule: str) -> None:
        if self.grant_status is None:
            raise DomainError("not_eligible", f"application {self.application_id} is not a granted loan "
                              "application", rule=rule, field="application_id")

    def record_offer(self, *, valid_until: dt.date, on: dt.date, recorded_at: dt.datetime) -> None:
        """Recorded in the same write as the register's GrantOffered (by the waiting list, not a person)."""
        self._granted_loan("R-APP-6")
        self._record(ev.OfferMade, on=on, by="waiting_list", recorded_at=recorded_at, valid_until=valid_until)

    def expire_offer(self, *, on: dt.date, recorded_at: dt.datetime) -> None:
        self._granted_loan("R-APP-6")
        self._record(ev.OfferExpired, on=on, by="waiting_list", recorded_at=recorded_at)

    def draw_contract(self, *, first_due_date: dt.date, letters: list[Letter], on: dt.date, by: str,
                      recorded_at: dt.datetime) -> None:
        """R-APP-7: the contract for a standing offer; drawn again (e.g. a later first due date) only
        until someone has signed it, since a signature is given to one text."""
        self.check_drawable(on)
        self._record(ev.ContractDrawn, on=on, by=by, recorded_at=recorded_at, first_due_date=first_due_date,
                     letters=[{"borrower_id": x.borrower_id, "hash": x.hash} for x in letters])

    def check_drawable(self, on: dt.date) -> None:
        self._granted_loan("R-APP-7")
        if self.grant_status != "offered":
            raise DomainError("not_eligible", f"application {self.application_id} has no standing offer to contract: "
                              f"its grant is {self.grant_status.replace('_', ' ')}", rule="R-APP-6")
        if self.signatures:
            raise DomainError("not_eligible", "the contract was already signed by "
                              f"{[s.signer for s in self.signatures]}; it is not drawn again", rule="R-APP-7")
        if not self.offer.offered_on <= on <= self.offer.valid_until:
            raise invalid(f"the contract is drawn within the offer ({self.offer.offered_on} … "
                          f"{self.offer.valid_until}), not on {on}", rule="R-APP-6", field="on")

    def sign_contract(self, *, signer: str, on: dt.date, by: str, recorded_at: dt.datetime) -> bool:
        """R-APP-7: each borrower and the official sign; True when this signature completes it.
        Only within the offer's time (R-APP-6); a signature given twice is recorded once."""
        self._granted_loan("R-APP-7")
        status = self.grant_status
        if status != "offered":
            raise DomainError("not_eligible", f"application {self.application_id} cannot be signed: its grant is "
                              f"{status.replace('_', ' ')}", rule="R-APP-7")
        if signer not in (*self.applicants, "official"):
            raise invalid(f"signer must be one of the borrowers {list(self.applicants)} or \"official\", got "
                          f"{signer!r}", rule="R-APP-7", field="signer")
        if on < self.offer.offered_on:
            raise invalid(f"the contract cannot be signed on {on}, before the offer of {self.offer.offered_on}",
                          rule="R-APP-7", field="on")
        if on > self.offer.valid_until:
            raise DomainError("not_eligible", f"the offer expired on {self.offer.valid_until} (policy "
                              "offer_valid_days)", rule="R-APP-6", field="on")
        if self.contract is None:
            raise DomainError("not_eligible", "no contract has been drawn for the offer yet", rule="R-APP-7")
        if on < self.contract.drawn_on:
            raise invalid(f"the contract cannot be signed on {on}, before it was drawn on {self.contract.drawn_on}",
                          rule="R-APP-7", field="on")
        if any(s.signer == signer for s in self.signatures):
            return False
        self._record(ev.ContractSigned, on=on, by=by, recorded_at=recorded_at, signer=signer)
        return self.unsigned() == []

    def unsigned(self) -> list[str]:
        signed = {s.signer for s in self.signatures}
        return [p for p in (*self.applicants, "official") if p not in signed]

    def conclude_contract(self, *, loan_id: str, on: dt.date, by: str, recorded_at: dt.datetime) -> None:
        if self.unsigned():
            raise DomainError("not_eligible", f"the contract still lacks the signatures of {self.unsigned()}",
                              rule="R-APP-7")
        self._record(ev.ContractConcluded, on=on, by=by, recorded_at=recorded_at, loan_id=loan_id)

    # --- payees (R-APP-8) ----------------------------------------------------------------------

    def decide_payees(self, *, payees: list[dict], details_hash: str, standing: dict[str, str], decided_by: str,
                      reasons: str, on: dt.date, by: str, recorded_at: dt.datetime) -> None:
        """The payees the loan is paid to; together exactly the principal. `standing` maps the payees
        whose transfer was paid out and not returned to its amount: they stay as they are, since that
        money has gone; a returned transfer's payee may be replaced (a new payee, a new decision)."""
        self.check_payees(payees, standing)
        self._record(ev.PayeesDecided, on=on, by=by, recorded_at=recorded_at, decided_by=decided_by, reasons=reasons,
                     legal_basis="Act 1133/2002 §5, §6 (payment of the loan)", details_hash=details_hash,
                     payees=[{"payee_id": p["payee_id"], "kind": p["kind"], "amount": p["amount"]} for p in payees])

    def check_payees(self, payees: list[dict], standing: dict[str, str]) -> None:
        """Everything decide_payees asks, before the details are stored anywhere."""
        self._granted_loan("R-APP-8")
        from domain.money import format_cents, parse_amount

        principal = parse_amount(self.granted_terms["principal"], "principal")
        total = sum(parse_amount(p["amount"], "amount") for p in payees)
        if total != principal:
            raise invalid(f"the payees' amounts add up to {format_cents(total)}, the loan is "
                          f"{format_cents(principal)}", rule="R-APP-8", field="payees")
        named = {p["payee_id"]: p for p in payees}
        if len(named) != len(payees):
            raise invalid("a payee_id is named twice", rule="R-APP-8", field="payees")
        for payee_id, amount in standing.items():
            if payee_id not in named or named[payee_id]["amount"] != amount:
                raise DomainError("not_eligible", f"payee {payee_id} was paid {amount} and the transfer was not "
                                  "returned: it stays a payee with that amount", rule="R-APP-8", field="payees")

    def withdraw_grant(self, *, reason: str, on: dt.date, by: str, recorded_at: dt.datetime) -> None:
        """R-APP-6: a waiting or offered grant given up by the applicant (before the contract is concluded)."""
        self._granted_loan("R-APP-6")
        if self.grant_status not in ("waiting", "offered"):
            raise DomainError("not_eligible", f"application {self.application_id}'s grant is "
                              f"{self.grant_status.replace('_', ' ')}: only a waiting or offered grant is withdrawn",
                              rule="R-APP-6")
        self._record(ev.GrantWithdrawn, on=on, by=by, recorded_at=recorded_at, reason=reason)
