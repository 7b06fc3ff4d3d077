"""An application's events (R-APP-1 … 5, 9): public evidence format, like the loan's.

Each records who (`by`, the person's identity from the credential) and its business date
(`effective_date`); the recording instant is the event's timestamp. Facts appear only as a version
and a salted hash; free text (reasons) only sealed.
"""
from __future__ import annotations

import datetime as dt

from eventsourcing.domain import Aggregate

from dataclasses import replace

from domain.case_state import (Assessed, Contract, FactsVersion, Judged, Letter, Offer, Outcome, Payee,
                               Signature)


class CaseEvent(Aggregate.Event):
    effective_date: dt.date
    by: str


def _prepared(case, by: str) -> tuple[str, ...]:
    return case.prepared_by if by in case.prepared_by else case.prepared_by + (by,)


class ApplicationReceived(Aggregate.Created):
    effective_date: dt.date
    by: str
    application_id: str
    tenant: str
    kind: str  # loan | free_months | exemption | terms_change | due_date_extension
    applicant: str
    co_applicant: str | None
    loan_id: str | None
    request: dict
    facts_version: int
    facts_hash: str

    def apply(self, case) -> None:
        case.application_id, case.tenant, case.kind = self.application_id, self.tenant, self.kind
        case.applicant, case.co_applicant, case.loan_id = self.applicant, self.co_applicant, self.loan_id
        case.request, case.received_on = dict(self.request), self.effective_date
        case.facts = (FactsVersion(self.facts_version, self.facts_hash, self.effective_date, self.by),)
        case.assessments, case.judged, case.prepared_by, case.deliveries = (), (), (self.by,), ()
        case.criteria_on = case.social_assistance = case.decision = case.withdrawn_on = None


class ApplicationFactsUpdated(CaseEvent):
    facts_version: int
    facts_hash: str

    def apply(self, case) -> None:
        case.facts = case.facts + (FactsVersion(self.facts_version, self.facts_hash, self.effective_date, self.by),)
        case.prepared_by = _prepared(case, self.by)


class ApplicationAssessed(CaseEvent):
    facts_version: int
    facts_hash: str
    assessment_hash: str
    grounds: list  # the computed grounds' codes (their figures are with the facts)
    warnings: list

    def apply(self, case) -> None:
        case.assessments = case.assessments + (Assessed(
            self.facts_version, self.facts_hash, self.assessment_hash, tuple(self.grounds), tuple(self.warnings),
            self.effective_date, self.by),)
        case.prepared_by = _prepared(case, self.by)


class JudgementGroundRecorded(CaseEvent):
    ground: str
    reasons: str

    def apply(self, case) -> None:
        case.judged = case.judged + (Judged(self.ground, self.reasons, self.by),)
        case.prepared_by = _prepared(case, self.by)


class GrantingCriteriaGiven(CaseEvent):
    """Act §4(3): the written granting criteria were given, and the official made sure the applicant
    understood the conditions and the obligations that follow from the loan."""

    understood: bool

    def apply(self, case) -> None:
        case.criteria_on = self.effective_date
        case.prepared_by = _prepared(case, self.by)


class SocialAssistanceLookedInto(CaseEvent):
    """Act §10: the applicant's right to social assistance was looked into before the decision."""

    finding: str
    reasons: str

    def apply(self, case) -> None:
        case.social_assistance = self.finding
        case.prepared_by = _prepared(case, self.by)


class ApplicationDecided(CaseEvent):
    outcome: str  # granted | rejected
    decided_by: str  # the official's name as the letter shows it (`by` is the credential's identity)
    grounds: list
    reasons: str  # sealed
    override_reasons: str | None  # sealed; a grant despite a computed ground (R-APP-5)
    legal_basis: str
    facts_version: int
    facts_hash: str
    terms: dict  # granted: what was granted (amount, plan, interest; relief: the decided terms)
    loan_id: str | None
    loan_version: int | None
    letters: list  # [{"borrower_id", "hash"}]: the decision letters, with appeal instructions

    def apply(self, case) -> None:
        case.decision = Outcome(self.outcome, self.effective_date, self.by, tuple(self.grounds), self.loan_id,
                                self.loan_version, tuple(Letter(x["borrower_id"], x["hash"]) for x in self.letters),
                                self.originator_version, self.decided_by, self.reasons)
        case.granted_terms = dict(self.terms)


class ApplicationWithdrawn(CaseEvent):
    reason: str  # sealed

    def apply(self, case) -> None:
        case.withdrawn_on = self.effective_date


class DecisionLetterDelivered(CaseEvent):
    """What became of a decision letter's delivery (sent_for_printing, delivered, read, returned, failed)."""

    borrower_id: str
    outcome: str
    channel: str
    letter_version: int | None = None  # added with contracts: which letter (its event's version)

    def apply(self, case) -> None:
        if (self.borrower_id, self.outcome) not in case.deliveries:
            case.deliveries = case.deliveries + ((self.borrower_id, self.outcome),)
        case.letter_deliveries = case.letter_deliveries + ((self.borrower_id, self.outcome, self.letter_version),)


class OfferMade(CaseEvent):
    """R-APP-6: the capital covers the grant now; it is reserved until `valid_until`."""

    valid_until: dt.date

    def apply(self, case) -> None:
        case.offer = Offer(self.effective_date, self.valid_until)


class OfferExpired(CaseEvent):
    """R-APP-6: the contract was not signed by `valid_until`; the reserved capital is free again."""

    def apply(self, case) -> None:
        case.offer = replace(case.offer, closed="expired", closed_on=self.effective_date)


class ContractDrawn(CaseEvent):
    """R-APP-7: the contract for the offer, one letter (PDF) to each borrower in their language; the
    plan runs from `first_due_date` (the decision's, or a later one when the offer came late)."""

    first_due_date: dt.date
    letters: list  # [{"borrower_id", "hash"}]

    def apply(self, case) -> None:
        case.contract = Contract(self.effective_date, self.first_due_date,
                                 tuple(Letter(x["borrower_id"], x["hash"]) for x in self.letters),
                                 self.originator_version)


class ContractSigned(CaseEvent):
    """R-APP-7: a borrower (their borrower id) or the official (`official`) signed the contract."""

    signer: str

    def apply(self, case) -> None:
        case.signatures = case.signatures + (Signature(self.signer, self.effective_date, self.by),)


class ContractConcluded(CaseEvent):
    """R-APP-7: everyone signed; the loan's LoanGranted is recorded in the same write."""

    loan_id: str

    def apply(self, case) -> None:
        case.contracted_loan = self.loan_id
        case.offer = replace(case.offer, closed="contracted", closed_on=self.effective_date)


class PayeesDecided(CaseEvent):
    """R-APP-8: the payees of a granted loan (with the grant, or a later decision: a new payee needs a new
    decision). Ids, kinds and amounts only; names, accounts and references by salted hash."""

    decided_by: str
    reasons: str  # sealed
    legal_basis: str
    payees: list  # [{"payee_id", "kind", "amount"}]
    details_hash: str

    def apply(self, case) -> None:
        case.payees = tuple(Payee(p["payee_id"], p["kind"], p["amount"]) for p in self.payees)
        case.payees_hash = self.details_hash
        case.payee_decisions = case.payee_decisions + 1


class GrantWithdrawn(CaseEvent):
    """R-APP-6: the applicant no longer wants the granted loan; it leaves the waiting list, or the offer's
    reserved capital is freed for the next in line."""

    reason: str  # sealed

    def apply(self, case) -> None:
        case.grant_withdrawn_on = self.effective_date
