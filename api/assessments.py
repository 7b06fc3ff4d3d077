"""Assessment of an application (R-APP-2 … R-APP-4) with the organiser's own policy; stores nothing."""
from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Authorised, ContainerDep, TenantDep
from api.errors import error_responses
from domain.applications import parse_application
from domain.assessment import assess

router = APIRouter(prefix="/v1/assessments", tags=["applications"], dependencies=[Authorised])

EXAMPLE = {
    "applicant": "B-1", "co_applicant": None, "home_municipality": "Lappeenranta", "purpose": "debt restructuring",
    "requested_amount": "2400.00", "first_due_date": "2026-04-10", "requested_instalment": None,
    "requested_term_months": None, "interest": None,
    "household": {"adults": 1, "children": [{"born": "2015-05-01"}]},
    "incomes": [{"kind": "salary", "amount": "1650.00"},
                {"kind": "child_benefit", "amount": "94.88", "to": "2033-04"}],
    "expenses": [{"kind": "housing", "amount": "620.00"}, {"kind": "health", "amount": "30.00"}],
    "debts": [{"creditor": "Example Finance Oy", "basis": "consumer credit", "amount": "2400.00",
               "monthly_payment": "180.00", "in_enforcement": False, "paid_off_by_loan": True}],
    "assets": [{"kind": "car", "value": "800.00", "realisable": False}],
    "open_social_loans": 0, "debt_adjustment_ongoing": False,
}


class AssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    application: dict[str, Any] = Field(
        description="the application's facts as in spec/application-format.md: amounts as decimal strings, "
                    "months YYYY-MM, dates YYYY-MM-DD; an unknown field is refused naming it",
        examples=[EXAMPLE])
    assessed_on: dt.date | None = Field(None, description="default today (Europe/Helsinki); interest is "
                                                          "estimated as if granted on this day")


@router.post("", responses=error_responses("limit_exceeded"))
def assessment(body: AssessmentIn, c: ContainerDep, tenant: TenantDep, request: Request) -> dict:
    """Payment capacity month by month, the plan that fits it and the computed grounds with their
    figures, under the organiser's policy (its living-cost norm must be set) and the service's
    reference rates. Nothing is recorded; the access log notes the call."""
    applicant = body.application.get("applicant")
    request.state.borrower_id = applicant if isinstance(applicant, str) else None  # R-DATA-5: whose finances
    application = parse_application(body.application, "application")
    return assess(application, c.service.policy(tenant), c.service.rates, body.assessed_on or c.today()).to_json()
