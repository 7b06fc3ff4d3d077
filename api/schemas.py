"""Request bodies. Amounts are decimal strings (R-MONEY-1): a JSON number is refused by the schema."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Amount = Annotated[str, StringConstraints(pattern=r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"),
                   Field(description="euros as a decimal string with at most two decimals, e.g. \"123.45\"",
                         examples=["123.45"])]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
MAX_INSTALMENT = 1000  # far beyond any plan (max_term_months + free months)
MAX_VERSION = 2**31 - 1  # event versions; larger numbers cannot name an event


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DecisionIn(Strict):
    decided_by: Text
    reasons: str = Field("", max_length=4000)
    legal_basis: str | None = Field(None, max_length=200)
    on: dt.date | None = Field(None, description="business date of the decision; default today (Europe/Helsinki)")

    model_config = ConfigDict(extra="forbid", strict=False)


class GrantIn(DecisionIn):
    loan_id: Text
    borrower_id: Text
    purpose: Text
    principal: Amount
    granted_on: dt.date
    first_due_date: dt.date
    instalment_amount: Amount | None = None
    term_months: int | None = Field(None, ge=1, le=600)
    applicant_total_debt: Amount = "0.00"
    decision_reference: str | None = Field(None, max_length=200)
    interest: dict | None = Field(None, description='R-INT-1: {"kind": "none"}, {"kind": "fixed", "rate": "2.50"} '
                                  'or {"kind": "reference", "margin": "-0.50"}; default: the organiser\'s terms',
                                  examples=[{"kind": "reference", "margin": "0.00"}])
    penalty_interest_agreed_on: dt.date | None = Field(
        None, description="R-PEN-6: for a contract made before 2023-08-01, the date of the amendment that added "
                          "the penalty-interest term (absent: no penalty interest)")


class PaymentIn(Strict):
    payment_id: Text
    amount: Amount
    value_date: dt.date | None = Field(None, description="default: the posting day")
    loan_id: str | None = Field(None, max_length=200)
    reference: str | None = Field(None, max_length=40, description="national reference or RF creditor reference")
    source: str = Field("api", max_length=40)

    model_config = ConfigDict(extra="forbid", strict=False)


class AllocationIn(Strict):
    loan_id: Text
    allocated_by: Text


class ReversalIn(Strict):
    reason: Text
    on: dt.date | None = None

    model_config = ConfigDict(extra="forbid", strict=False)


class NoticeIn(DecisionIn):
    override_reason: str | None = Field(None, max_length=4000, description="R-ACC-5: accelerate despite hardship")


class HardshipIn(DecisionIn):
    cause: Literal["illness", "unemployment", "other"]


class FreeMonthsIn(DecisionIn):
    months: int = Field(ge=1, le=60)
    from_instalment: int = Field(ge=1, le=MAX_INSTALMENT)


class ExtensionIn(DecisionIn):
    instalment: int = Field(ge=1, le=MAX_INSTALMENT)
    new_due_date: dt.date


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

    from_: dt.date = Field(alias="from", description="1 January or 1 July")
    rate: str = Field(pattern=r"^[0-9]{1,3}(\.[0-9]{1,2})?$", description="percent, e.g. \"2.50\"")
    source: str = Field(min_length=1, max_length=300, description="where it was published")
    recorded_by: str = Field(min_length=1, max_length=200)
    correction_reason: str | None = Field(None, max_length=2000,
                                          description="required to change a half-year already recorded")

    model_config = ConfigDict(extra="forbid", strict=False, populate_by_name=True)


class ServicingRunIn(Strict):
    business_date: dt.date

    model_config = ConfigDict(extra="forbid", strict=False)


class AppealIn(Strict):
    decision_version: int = Field(ge=1, le=MAX_VERSION, description="version of the appealed decision event")
    appellant: Text
    grounds: str = Field("", max_length=8000)
    on: dt.date | None = None

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
    payment_id: str | None = Field(None, max_length=200)
    value_date: dt.date | None = None
    remove_payment: str | None = Field(None, max_length=200)
    hardship: Literal["illness", "unemployment", "other"] | None = None
    from_: dt.date | None = Field(None, alias="from")
    until: dt.date | None = None

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
    corrections: list[Correction]
    until: dt.date | None = None
