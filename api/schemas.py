"""Request bodies. Amounts are decimal strings (R-MONEY-1): a JSON number is refused by the schema.

Every text is printable Unicode with a length limit, every identifier is from a safe alphabet and
every date lies in the window the rules can serve (domain/values.py): the checks run here, so a
refusal is a 422 naming the field, and nothing a caller sends reaches a store that cannot hold it.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from domain.statistics import PURPOSE_CLASSES
from domain.values import (ACT_IN_FORCE, ID_MAX, ID_PATTERN, LATEST_DAY, PAYMENT_ID_PATTERN, day_problem,
                           identifier_problem, text_problem)

Amount = Annotated[str, StringConstraints(pattern=r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"),
                   Field(description="euros as a decimal string with at most two decimals, e.g. \"123.45\"",
                         examples=["123.45"])]
MAX_INSTALMENT = 1000  # far beyond any plan (max_term_months + free months)
MAX_VERSION = 2**31 - 1  # event versions; larger numbers cannot name an event
MAX_CORRECTIONS = 20  # what-if: corrections of one appeal, not a second history
# A pattern for the OpenAPI description only (so generated requests know it); the check itself is
# domain.values.text_problem, which also refuses unassigned and private-use code points.
_PRINTABLE = r"^[^\x00-\x1F\x7F-\x9F\u2028\u2029\uD800-\uDFFF]*$"
_PRINTABLE_LINES = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u2028\u2029\uD800-\uDFFF]*$"
REFERENCE_PATTERN = r"^[A-Za-z0-9 -]{1,40}$"


def _printable(multiline: bool):
    def check(value: str) -> str:
        problem = text_problem(value, multiline=multiline)
        if problem:
            raise PydanticCustomError("unprintable_text", problem)
        return value
    return AfterValidator(check)


def text(max_length: int, *, min_length: int = 0, multiline: bool = False):
    """Printable Unicode of at most `max_length` characters; `multiline` allows line breaks and tabs."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length), _printable(multiline),
                     Field(json_schema_extra={"pattern": _PRINTABLE_LINES if multiline else _PRINTABLE})]


def _identifier(payment: bool):
    def check(value: str) -> str:
        problem = identifier_problem(value, payment=payment)
        if problem:
            raise PydanticCustomError("unsafe_identifier", problem)
        return value
    return AfterValidator(check)


def _day(value: dt.date | None) -> dt.date | None:
    problem = day_problem(value) if value is not None else None
    if problem:
        raise PydanticCustomError("date_window", "R-DATE-1: " + problem)
    return value


def _instant(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and not ACT_IN_FORCE <= value.date() <= LATEST_DAY:
        raise PydanticCustomError("date_window", f"R-DATE-1: {value.isoformat()} is outside "
                                                 f"{ACT_IN_FORCE.isoformat()}..{LATEST_DAY.isoformat()}")
    return value


_ID_DOC = f"1-{ID_MAX} letters, digits or . _ : -, starting with a letter or a digit"
Text = text(200, min_length=1)
LongText = text(4000, multiline=True)
Grounds = text(8000, multiline=True)
Source = text(40, min_length=1)
IdentityCode = text(11, min_length=11)
AddressLine = text(100, min_length=1)
RateSource = text(300, min_length=1)
Reason = text(2000, multiline=True)
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN), _identifier(False), Field(description=_ID_DOC)]
PaymentId = Annotated[str, StringConstraints(pattern=PAYMENT_ID_PATTERN), _identifier(True),
                      Field(description=_ID_DOC.replace(" or . _ : -", ", . _ : - or /"))]
Reference = Annotated[str, StringConstraints(pattern=REFERENCE_PATTERN),
                      Field(description="national reference or RF creditor reference (digits, letters, spaces)")]
Day = Annotated[dt.date, AfterValidator(_day),
                Field(description=f"a date from {ACT_IN_FORCE.isoformat()} to {LATEST_DAY.isoformat()}")]
# Query and path parameters
DayQuery = Annotated[dt.date | None, Query(description=f"a date from {ACT_IN_FORCE} to {LATEST_DAY}"),
                     AfterValidator(_day)]
FromDayQuery = Annotated[dt.date | None, Query(alias="from", description=f"a date from {ACT_IN_FORCE} to "
                                                                        f"{LATEST_DAY}"), AfterValidator(_day)]
InstantQuery = Annotated[dt.datetime | None, Query(description="an instant with a time zone, e.g. "
                                                               "2025-05-01T12:00:00+03:00"), AfterValidator(_instant)]
LoanIdPath = Annotated[str, Path(pattern=ID_PATTERN, description=_ID_DOC)]
PaymentIdPath = Annotated[str, Path(pattern=ID_PATTERN, description=_ID_DOC + " (a payment id with '/' "
                                                                                  "cannot be named in a path)")]
BorrowerIdPath = LoanIdPath


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DecisionIn(Strict):
    decided_by: Text
    reasons: LongText = ""
    legal_basis: Text | None = None
    on: Day | None = Field(None, description="business date of the decision; default today (Europe/Helsinki)")

    model_config = ConfigDict(extra="forbid", strict=False)


class GrantIn(DecisionIn):
    loan_id: Id
    borrower_id: Id
    purpose: Text
    principal: Amount
    granted_on: Day = Field(description="not before 2003-01-01 (Act 1133/2002 in force), not more than "
                                        "LUOTTO_GRANT_HORIZON_DAYS ahead")
    first_due_date: Day
    instalment_amount: Amount | None = None
    term_months: int | None = Field(None, ge=1, le=600)
    applicant_total_debt: Amount = "0.00"
    decision_reference: Text | None = None
    interest: dict | None = Field(None, description='R-INT-1: {"kind": "none"}, {"kind": "fixed", "rate": "2.50"} '
                                  'or {"kind": "reference", "margin": "-0.50"}; default: the organiser\'s terms',
                                  examples=[{"kind": "reference", "margin": "0.00"}])
    penalty_interest_agreed_on: Day | None = Field(
        None, description="R-PEN-6: for a contract made before 2023-08-01, the date of the amendment that added "
                          "the penalty-interest term (absent: no penalty interest)")
    purpose_class: Literal[PURPOSE_CLASSES] | None = Field(  # type: ignore[valid-type]
        None, description="R-STAT-1: the purpose's class for the statistics (the purpose itself is free text)")


class PaymentIn(Strict):
    payment_id: PaymentId
    amount: Amount
    value_date: Day | None = Field(None, description="default: the posting day")
    loan_id: Id | None = None
    reference: Reference | None = None
    source: Source = "api"

    model_config = ConfigDict(extra="forbid", strict=False)


class AllocationIn(Strict):
    loan_id: Id
    allocated_by: Text


class ReturnDecisionIn(Strict):
    apply: bool = Field(description="true: reverse the payment as the bank reported; false: set the return aside")


class ReversalIn(Strict):
    reason: Text
    on: Day | None = Field(None, description="default today; not in the future")

    model_config = ConfigDict(extra="forbid", strict=False)


class CollectionTransferIn(DecisionIn):
    """Issue 20: the accelerated loan (no instalments) or overdue instalments to the collection agency."""
    instalments: list[Annotated[int, Field(ge=1, le=MAX_INSTALMENT)]] | None = Field(None, max_length=MAX_INSTALMENT)
    transfer_id: Id | None = Field(None, description="the transfer's id (default: T<version>); names its export file")


class LegalStepIn(DecisionIn):
    """Issue 20: a claim filed with the administrative court, its judgment, or its enforcement."""
    kind: Literal["claim_filed", "judgment", "enforcement"]
    case_number: Text
    court: Text | None = Field(None, description="the court (or, for enforcement, the enforcement authority)")
    amount: Amount | None = Field(None, description="claimed, ordered paid, or handed to enforcement")
    outcome: Literal["granted", "partly_granted", "rejected"] | None = None


class AgencyPaymentIn(Strict):
    payment_id: PaymentId
    amount: Amount
    value_date: Day | None = Field(None, description="default: the posting day")

    model_config = ConfigDict(extra="forbid", strict=False)


class NoticeIn(DecisionIn):
    override_reason: LongText | None = Field(None, description="R-ACC-5: accelerate despite hardship")


class HardshipIn(DecisionIn):
    cause: Literal["illness", "unemployment", "other"]


class FreeMonthsIn(DecisionIn):
    months: int = Field(ge=1, le=60)
    from_instalment: int = Field(ge=1, le=MAX_INSTALMENT)


class ExtensionIn(DecisionIn):
    instalment: int = Field(ge=1, le=MAX_INSTALMENT)
    new_due_date: Day


class TermsIn(DecisionIn):
    from_instalment: int = Field(ge=1, le=MAX_INSTALMENT)
    instalment_amount: Amount


class ExemptionIn(DecisionIn):
    kind: Literal["partial", "full"]
    amount: Amount | None = None


class RefundIn(DecisionIn):
    amount: Amount


class ReferenceRateIn(Strict):
    """R-PEN-4: a half-year's reference rate (Interest Act §12) as the Bank of Finland published it."""

    from_: Day = Field(alias="from", description="1 January or 1 July")
    rate: str = Field(pattern=r"^[0-9]{1,3}(\.[0-9]{1,2})?$", description="percent, e.g. \"2.50\"")
    source: RateSource = Field(description="where it was published")
    recorded_by: Text
    correction_reason: Reason | None = Field(None, description="required to change a half-year already recorded")

    model_config = ConfigDict(extra="forbid", strict=False, populate_by_name=True)


class ServicingRunIn(Strict):
    business_date: Day = Field(description="R-ACC-4: not after today (Europe/Helsinki), not before the organiser's "
                                           "first grant")

    model_config = ConfigDict(extra="forbid", strict=False)


class AppealIn(Strict):
    decision_version: int = Field(ge=1, le=MAX_VERSION, description="version of the appealed decision event")
    appellant: Text
    grounds: Grounds = ""
    on: Day | None = None

    model_config = ConfigDict(extra="forbid", strict=False)


class AppealDecisionIn(DecisionIn):
    outcome: Literal["upheld", "partly_upheld", "rejected"]


class RevocationIn(DecisionIn):
    appeal_version: int | None = Field(None, ge=1, le=MAX_VERSION,
                                       description="the upheld appeal this revocation carries out")


class Correction(BaseModel):
    """One corrected fact: a payment's value date ({payment_id, value_date}), a payment that never
    was ({remove_payment}), or a hardship over some days ({hardship, from[, until]})."""

    model_config = ConfigDict(extra="forbid")
    payment_id: PaymentId | None = None
    value_date: Day | None = None
    remove_payment: PaymentId | None = None
    hardship: Literal["illness", "unemployment", "other"] | None = None
    from_: Day | None = Field(None, alias="from")
    until: Day | None = None

    @model_validator(mode="after")
    def one_kind(self) -> "Correction":
        kinds = [self.payment_id is not None and self.value_date is not None, self.remove_payment is not None,
                 self.hardship is not None and self.from_ is not None]
        if sum(kinds) != 1:
            raise ValueError("a correction is exactly one of {payment_id, value_date}, {remove_payment} or "
                             "{hardship, from[, until]}")
        return self


class WhatIfIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    corrections: list[Correction] = Field(max_length=MAX_CORRECTIONS)
    until: Day | None = None
