"""An application's state (R-APP-1 … 5, 9), declared in one place like the loan's (domain.state).

Values are immutable: an event replaces an attribute, never changes one in place. No personal data:
the applicant and co-applicant by borrower id, the facts by version and salted hash (their text is
in the personal-data store, adapters.application_facts), free text sealed by the application layer.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

Date = dt.date

LOAN = "loan"
RELIEF_KINDS = ("free_months", "exemption", "terms_change", "due_date_extension")  # R-APP-9
KINDS = (LOAN, *RELIEF_KINDS)
# R-APP-4: grounds the assessment computes, and grounds only a caseworker can judge (with reasons).
COMPUTED_GROUNDS = ("no_payment_capacity", "amount_below_minimum", "amount_above_maximum", "total_debt_limit",
                    "open_loan", "not_resident", "can_save", "unsettled_debts_remain", "debt_adjustment_ongoing")
JUDGED_GROUNDS = ("market_credit_available", "business_purpose", "social_assistance_covers", "realisable_assets",
                  "no_commitment_to_counselling", "unstable_finances", "same_need_granted_before",
                  "student_loan_alternative", "moving_away", "other")
# Act §10: what looking into the right to social assistance found.
SOCIAL_ASSISTANCE_FINDINGS = ("no_right", "right_for_other_needs", "right_covers_need", "application_made")


@dataclass(frozen=True)
class FactsVersion:
    version: int
    hash: str  # salted SHA-256 of the facts as stored (adapters.application_facts)
    on: Date
    by: str


@dataclass(frozen=True)
class Assessed:
    facts_version: int
    facts_hash: str
    assessment_hash: str  # salted SHA-256 of the assessment's JSON, kept with the facts
    grounds: tuple[str, ...]
    warnings: tuple[str, ...]
    on: Date
    by: str


@dataclass(frozen=True)
class Judged:
    ground: str
    reasons: str  # sealed
    by: str


@dataclass(frozen=True)
class Letter:
    borrower_id: str
    hash: str  # salted content hash of the letter (adapters.sealing.letter_salt)


@dataclass(frozen=True)
class Outcome:
    outcome: str  # granted | rejected
    on: Date
    by: str
    grounds: tuple[str, ...]
    loan_id: str | None
    loan_version: int | None  # the loan's event that carries out a granted relief, or LoanGranted
    letters: tuple[Letter, ...]
    version: int  # of the ApplicationDecided
    decided_by: str = ""  # the official's name (the loan's LoanGranted repeats it at the contract)
    reasons: str = ""  # sealed


@dataclass(frozen=True)
class Offer:
    """R-APP-6: the capital reserved for a granted loan until the contract is signed or it expires."""

    offered_on: Date
    valid_until: Date
    closed: str | None = None  # expired | contracted
    closed_on: Date | None = None


@dataclass(frozen=True)
class Contract:
    """R-APP-7: the contract drawn for an offer, one PDF per borrower (salted hashes)."""

    drawn_on: Date
    first_due_date: Date
    letters: tuple[Letter, ...]
    version: int  # of the ContractDrawn


@dataclass(frozen=True)
class Payee:
    """R-APP-8: who a granted loan is paid to; name, account and reference are in the personal-data store."""

    payee_id: str
    kind: str  # creditor | vendor | borrower
    amount: str


@dataclass(frozen=True)
class Signature:
    """R-APP-7: a borrower (by borrower id) or the official (`official`) signed the contract."""

    signer: str
    on: Date
    by: str  # the credential that recorded it


class CaseState:
    application_id: str
    tenant: str
    kind: str
    applicant: str
    co_applicant: str | None
    loan_id: str | None  # relief: the loan the application concerns
    request: dict  # relief: the terms applied for (months, instalments, amounts as strings)
    received_on: Date
    facts: tuple[FactsVersion, ...]
    assessments: tuple[Assessed, ...]
    judged: tuple[Judged, ...]
    criteria_on: Date | None  # Act §4(3): criteria given in writing and understood
    social_assistance: str | None  # Act §10: finding
    prepared_by: tuple[str, ...]  # everyone who prepared it (four eyes, R-APP-5)
    decision: Outcome | None
    withdrawn_on: Date | None
    deliveries: tuple[tuple[str, str], ...]  # (borrower_id, outcome) of the decision letters
    # From a granted decision to a loan (R-APP-6, 7). Class defaults: older cases load without them.
    granted_terms: dict = {}  # what ApplicationDecided granted (amounts as strings, the purpose sealed)
    offer: Offer | None = None
    contract: Contract | None = None
    signatures: tuple[Signature, ...] = ()
    letter_deliveries: tuple[tuple[str, str, int | None], ...] = ()  # (borrower, outcome, event version)
    contracted_loan: str | None = None  # the loan id once the contract is concluded (LoanGranted)
    grant_withdrawn_on: Date | None = None  # the applicant no longer wants the granted loan (R-APP-6)
    payees: tuple[Payee, ...] = ()  # R-APP-8: as the latest payee decision names them
    payees_hash: str | None = None  # salted hash of their details (adapters.application_facts, version 0)
    payee_decisions: int = 0

    @property
    def open(self) -> bool:
        return self.decision is None and self.withdrawn_on is None

    @property
    def status(self) -> str:
        if self.withdrawn_on is not None:
            return "withdrawn"
        if self.decision is not None:
            return self.decision.outcome
        return "assessed" if self.current_assessment() else "received"

    @property
    def applicants(self) -> tuple[str, ...]:
        return (self.applicant,) + ((self.co_applicant,) if self.co_applicant else ())

    @property
    def grant_status(self) -> str | None:
        """Where a granted loan application stands: waiting, offered, offer_expired or contracted."""
        if self.kind != LOAN or self.decision is None or self.decision.outcome != "granted":
            return None
        if self.contracted_loan is not None:
            return "contracted"
        if self.grant_withdrawn_on is not None:
            return "withdrawn"
        if self.offer is None:
            return "waiting"
        return "offer_expired" if self.offer.closed == "expired" else "offered"

    def current_facts(self) -> FactsVersion:
        return self.facts[-1]

    def current_assessment(self) -> Assessed | None:
        """The assessment of the facts as they stand (an update of the facts needs a new one)."""
        last = self.assessments[-1] if self.assessments else None
        return last if last is not None and last.facts_version == self.current_facts().version else None
