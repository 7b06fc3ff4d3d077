"""Applications (R-APP-1 … 5, 9, 10): a caseworker prepares, a decision maker decides.

Who acts is the credential's identity (`by`), never a name in the body, so four eyes compares
people. Every read and change of an application is in the access log under each applicant
(R-DATA-5); the facts are personal data and only the roles that may read personal data see them.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from api import schemas as s
from api.assessments import EXAMPLE
from api.deps import Authorised, ContainerDep, TenantDep, WhoDep
from api.errors import error_responses
from domain.statistics import PURPOSE_CLASSES
from domain.case_state import JUDGED_GROUNDS, RELIEF_KINDS, SOCIAL_ASSISTANCE_FINDINGS
from domain.errors import DomainError, invalid
from domain.values import text_problem

router = APIRouter(prefix="/v1", tags=["applications"], dependencies=[Authorised])
AppIdPath = Annotated[str, Path(pattern=s.ID_PATTERN, description="the application's id")]
ERRORS = error_responses("not_found", "not_eligible", "four_eyes", "application_exists", "limit_exceeded",
                         "loan_exists")


GroundCode = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]
FACT_TEXT_MAX = 200  # names of creditors, kinds of income, a purpose: short texts


def check_texts(value: Any, where: str) -> Any:
    """Every text in free-form facts is printable and short (domain.values), like every other text the
    API takes: a refusal names the field."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_texts(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_texts(item, f"{where}[{i}]")
    elif isinstance(value, str):
        problem = text_problem(value) or (f"is longer than {FACT_TEXT_MAX} characters"
                                          if len(value) > FACT_TEXT_MAX else None)
        if problem:
            raise invalid(f"{where}: {problem}", rule="R-APP-1", field=where)
    return value


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: s.Day | None = Field(None, description="business date; default today (Europe/Helsinki), not in the future")


class FactsIn(Body):
    facts: dict[str, Any] = Field(description="R-APP-1 facts as in spec/application-format.md `application`; kept in "
                                              "the personal-data store, never in the events", examples=[EXAMPLE])

    @field_validator("facts")
    @classmethod
    def printable(cls, value: dict) -> dict:
        return check_texts(value, "facts")


class ReceiveIn(FactsIn):
    application_id: s.Id


class JudgementIn(Body):
    ground: Literal[JUDGED_GROUNDS]  # type: ignore[valid-type]
    reasons: s.LongText = Field(min_length=1)


class CriteriaIn(Body):
    understood: bool = Field(description="Act §4(3): the official made sure the applicant understood the criteria")


class SocialAssistanceIn(Body):
    finding: Literal[SOCIAL_ASSISTANCE_FINDINGS]  # type: ignore[valid-type]
    reasons: s.LongText = ""


class GrantTermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    loan_id: s.Id | None = Field(None, description="default: the application's id")
    principal: s.Amount | None = Field(None, description="default: the amount applied for")
    purpose: s.Text | None = None
    first_due_date: s.Day | None = None
    term_months: int | None = Field(None, ge=1, le=600, description="default: the assessed plan")
    instalment_amount: s.Amount | None = None
    interest: dict | None = None
    purpose_class: Literal[PURPOSE_CLASSES] | None = Field(  # type: ignore[valid-type]
        None, description="R-STAT-1: the purpose's class for the statistics")
    payees: list[dict[str, Any]] | None = Field(None, max_length=20, description=(
        "R-APP-8: who the loan is paid to, together the principal: {payee_id, kind (creditor|vendor|borrower), name, "
        "iban, bic?, reference? (Finnish or RF) or message?, amount}; personal data, kept out of the events"))

    @field_validator("payees")
    @classmethod
    def printable(cls, value: list | None) -> list | None:
        return check_texts(value, "grant.payees") if value is not None else None


class DecisionIn(Body):
    outcome: Literal["granted", "rejected"]
    decided_by: s.Text = Field(description="the official's name as the letter shows it")
    grounds: list[GroundCode] = Field(default_factory=list, max_length=20, description="R-APP-4 codes (a rejection)")
    reasons: s.LongText = ""
    override_reasons: s.LongText | None = Field(None, description="R-APP-5: granting despite a ground")
    legal_basis: s.Text | None = None
    grant: GrantTermsIn | None = None
    terms: dict[str, Any] | None = Field(None, description="relief: the terms granted (default: those applied for)")


class WithdrawalIn(Body):
    reason: s.LongText = ""


class ReliefIn(Body):
    application_id: s.Id
    kind: Literal[RELIEF_KINDS]  # type: ignore[valid-type]
    request: dict[str, Any] = Field(description="free_months {months, from_instalment}; due_date_extension "
                                                "{instalment, new_due_date}; terms_change {from_instalment, "
                                                "instalment_amount}; exemption {kind, amount}")
    explanation: s.LongText = Field("", description="the applicant's reasons; personal data, kept out of the events")

    @field_validator("request")
    @classmethod
    def printable(cls, value: dict) -> dict:
        return check_texts(value, "request")


class DiscussionIn(Body):
    request_id: s.Id
    borrower_id: s.Id
    application_id: s.Id | None = None
    loan_id: s.Id | None = None


class MeetingIn(Body):
    held_on: s.Day


def _on(c, day: dt.date | None) -> dt.date:
    today = c.today()
    if day is not None and day > today:
        raise invalid(f"on {day} is in the future (today is {today})", rule="R-DATE-1", field="on")
    return day or today


def _log(request: Request, *people: str | None) -> None:
    """R-DATA-5: one access-log row for each applicant whose data the call read or changed."""
    request.state.access = [(None, p) for p in people if p]


def view(c, case, *, facts: bool) -> dict:
    """The application as staff see it; facts and their assessment only with `facts`."""
    out = {"application_id": case.application_id, "kind": case.kind, "status": case.status,
           "applicant": case.applicant, "co_applicant": case.co_applicant, "loan_id": case.loan_id,
           "request": case.request, "received_on": case.received_on.isoformat(), "version": case.version,
           "facts_version": case.current_facts().version, "prepared_by": list(case.prepared_by),
           "assessed": case.current_assessment() is not None,
           "judgement_grounds": [j.ground for j in case.judged],
           "criteria_given_on": case.criteria_on.isoformat() if case.criteria_on else None,
           "social_assistance": case.social_assistance,
           "withdrawn_on": case.withdrawn_on.isoformat() if case.withdrawn_on else None,
           "decision": None if case.decision is None else {
               "outcome": case.decision.outcome, "on": case.decision.on.isoformat(), "by": case.decision.by,
               "grounds": list(case.decision.grounds), "loan_id": case.decision.loan_id,
               "loan_version": case.decision.loan_version,
               "letters": [{"borrower_id": x.borrower_id, "hash": x.hash} for x in case.decision.letters]},
           "deliveries": [{"borrower_id": b, "outcome": o} for b, o in case.deliveries],
           # R-APP-6/7: where a granted loan application stands on its way to a loan.
           "grant_status": case.grant_status,
           "offer": None if case.offer is None else {
               "offered_on": case.offer.offered_on.isoformat(), "valid_until": case.offer.valid_until.isoformat(),
               "closed": case.offer.closed},
           "contract": None if case.contract is None else {
               "drawn_on": case.contract.drawn_on.isoformat(), "first_due_date": case.contract.first_due_date.isoformat(),
               "letters": [{"borrower_id": x.borrower_id, "hash": x.hash} for x in case.contract.letters]},
           "signatures": [{"signer": x.signer, "on": x.on.isoformat()} for x in case.signatures],
           "unsigned": case.unsigned() if case.grant_status == "offered" else [],
           "contracted_loan": case.contracted_loan}
    if facts:
        current = case.current_facts()
        out["facts"] = c.service.application_facts(case)
        # The stored facts still hash to what the events recorded (None: erased).
        out["facts_verified"] = c.service.facts.verify(case.tenant, case.application_id, current.hash)
        out["assessment"] = c.service.application_assessment(case)
    return out


@router.post("/applications", status_code=201, responses=ERRORS)
def receive(body: ReceiveIn, c: ContainerDep, tenant: TenantDep, who: WhoDep, request: Request,
            response: Response) -> dict:
    """R-APP-1: an application received with its facts (a joint application names both spouses)."""
    applicant, co = body.facts.get("applicant"), body.facts.get("co_applicant")
    _log(request, applicant if isinstance(applicant, str) else None, co if isinstance(co, str) else None)
    written = c.service.receive_application(tenant, body.application_id, kind="loan", facts=body.facts,
                                            on=_on(c, body.on), by=who.subject)
    if written.position is None:
        response.status_code = 200
    return {**view(c, written.result, facts=False), "position": written.position}


@router.post("/loans/{loan_id}/relief-applications", status_code=201, responses=ERRORS)
def receive_relief(loan_id: s.LoanIdPath, body: ReliefIn, c: ContainerDep, tenant: TenantDep, who: WhoDep,
                   request: Request, response: Response) -> dict:
    """R-APP-9: an application for free months, an exemption, a terms change or a due-date extension."""
    request.state.loan_id = loan_id
    written = c.service.receive_application(tenant, body.application_id, kind=body.kind,
                                            facts={"explanation": body.explanation}, on=_on(c, body.on),
                                            by=who.subject, loan_id=loan_id, request=body.request)
    _log(request, *written.result.applicants)
    request.state.access = [(loan_id, p) for p in written.result.applicants]
    if written.position is None:
        response.status_code = 200
    return {**view(c, written.result, facts=False), "position": written.position}


@router.get("/applications")
def list_applications(c: ContainerDep, tenant: TenantDep, request: Request,
                      status: Annotated[str | None, Query(pattern="^(received|granted|rejected|withdrawn)$")] = None,
                      limit: Annotated[int, Query(ge=1, le=500)] = 50,
                      offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> dict:
    """The organiser's applications by id (status `received` includes those assessed)."""
    rows = [{"application_id": a, **row, "on": row["on"].isoformat()}
            for a, row in sorted(c.service.case_register(tenant).cases.items())
            if status is None or row["status"] == status][offset:offset + limit]
    _log(request, *sorted({p for r in rows for p in r["applicants"]}))
    return {"items": rows, "limit": limit, "offset": offset}


@router.get("/applications/{application_id}", responses=error_responses("not_found"))
def get_application(application_id: AppIdPath, c: ContainerDep, tenant: TenantDep, request: Request) -> dict:
    """The application, its facts as they stand (checked against the hash the events recorded) and
    their assessment, its preparation and decision."""
    case = c.service.case(tenant, application_id)
    _log(request, *case.applicants)
    return view(c, case, facts=True)


def _change(c, tenant: str, request: Request, application_id: str, command) -> dict:
    case = c.service.case(tenant, application_id)
    _log(request, *case.applicants)
    written = command()
    result = written.result if hasattr(written.result, "application_id") else c.service.case(tenant, application_id)
    return {**view(c, result, facts=False), "position": written.position}


@router.put("/applications/{application_id}/facts", responses=ERRORS)
def update_facts(application_id: AppIdPath, body: FactsIn, c: ContainerDep, tenant: TenantDep, who: WhoDep,
                 request: Request) -> dict:
    """R-APP-1: a new version of the facts while the application is open (a new assessment is needed)."""
    return _change(c, tenant, request, application_id, lambda: c.service.update_application_facts(
        tenant, application_id, facts=body.facts, on=_on(c, body.on), by=who.subject))


@router.post("/applications/{application_id}/assessment", status_code=201, responses=ERRORS)
def assessment(application_id: AppIdPath, body: Body, c: ContainerDep, tenant: TenantDep, who: WhoDep,
               request: Request) -> dict:
    """R-APP-2 … 4 on the facts as they stand, with the organiser's policy; recorded with their hash."""
    case = c.service.case(tenant, application_id)
    _log(request, *case.applicants)
    written = c.service.assess_application(tenant, application_id, on=_on(c, body.on), by=who.subject)
    return {"assessment": written.result, "position": written.position}


@router.post("/applications/{application_id}/judgement-grounds", status_code=201, responses=ERRORS)
def judgement(application_id: AppIdPath, body: JudgementIn, c: ContainerDep, tenant: TenantDep, who: WhoDep,
              request: Request) -> dict:
    """R-APP-4: a ground only a caseworker can judge, with reasons (sealed, R-DATA-2)."""
    return _change(c, tenant, request, application_id, lambda: c.service.record_judgement_ground(
        tenant, application_id, ground=body.ground, reasons=body.reasons, on=_on(c, body.on), by=who.subject))


@router.post("/applications/{application_id}/criteria", status_code=201, responses=ERRORS)
def criteria(application_id: AppIdPath, body: CriteriaIn, c: ContainerDep, tenant: TenantDep, who: WhoDep,
             request: Request) -> dict:
    """Act §4(3): the written granting criteria given, and the applicant understood them."""
    return _change(c, tenant, request, application_id, lambda: c.service.give_granting_criteria(
        tenant, application_id, understood=body.understood, on=_on(c, body.on), by=who.subject))


@router.post("/applications/{application_id}/social-assistance", status_code=201, responses=ERRORS)
def social_assistance(application_id: AppIdPath, body: SocialAssistanceIn, c: ContainerDep, tenant: TenantDep,
                      who: WhoDep, request: Request) -> dict:
    """Act §10: the applicant's right to social assistance looked into."""
    return _change(c, tenant, request, application_id, lambda: c.service.look_into_social_assistance(
        tenant, application_id, finding=body.finding, reasons=body.reasons, on=_on(c, body.on), by=who.subject))


@router.post("/applications/{application_id}/decision", status_code=201, responses=ERRORS)
def decide(application_id: AppIdPath, body: DecisionIn, c: ContainerDep, tenant: TenantDep, who: WhoDep,
           request: Request) -> dict:
    """R-APP-5 / R-APP-9: rejected with grounds and reasons, or granted (a loan is recorded as
    `POST /v1/loans` records one; a relief is recorded on its loan). Four eyes: whoever prepared the
    application may not decide it. A letter goes to each applicant in their language."""
    grant = body.grant.model_dump(exclude_none=True, mode="json") if body.grant else None
    out = _change(c, tenant, request, application_id, lambda: c.service.decide_application(
        tenant, application_id, outcome=body.outcome, decided_by=body.decided_by, on=_on(c, body.on),
        by=who.subject, reasons=body.reasons, grounds=body.grounds, override_reasons=body.override_reasons,
        grant=grant, terms=body.terms, legal_basis=body.legal_basis))
    if out["decision"]["loan_id"]:
        request.state.access = [(out["decision"]["loan_id"], p) for p in (out["applicant"], out["co_applicant"]) if p]
    return out


@router.post("/applications/{application_id}/withdrawal", status_code=201, responses=ERRORS)
def withdraw(application_id: AppIdPath, body: WithdrawalIn, c: ContainerDep, tenant: TenantDep, who: WhoDep,
             request: Request) -> dict:
    return _change(c, tenant, request, application_id, lambda: c.service.withdraw_application(
        tenant, application_id, reason=body.reason, on=_on(c, body.on), by=who.subject))


@router.get("/applications/{application_id}/letters/{borrower_id}",
            responses={200: {"content": {"application/pdf": {}}, "description": "the decision letter"},
                       **error_responses("not_found")})
def letter(application_id: AppIdPath, borrower_id: s.BorrowerIdPath, c: ContainerDep, tenant: TenantDep,
           request: Request) -> Response:
    """The decision letter sent to one applicant (PDF), opened with their key."""
    from adapters.notices.store import PdfNotFound

    case = c.service.case(tenant, application_id)
    request.state.access = [(None, borrower_id)]
    found = next((x for x in (case.decision.letters if case.decision else ()) if x.borrower_id == borrower_id), None)
    if found is None:
        raise DomainError("not_found", f"application {application_id} has no decision letter to {borrower_id}",
                          field="borrower_id")
    try:
        pdf = c.notices.pdfs.get(found.hash, c.borrowers.key(tenant, borrower_id))
    except PdfNotFound:
        raise DomainError("not_found", "the letter is no longer stored (erased)", field="borrower_id") from None
    return Response(pdf, media_type="application/pdf")


@router.post("/discussions", status_code=201, responses=error_responses("not_found"))
def request_discussion(body: DiscussionIn, c: ContainerDep, tenant: TenantDep, who: WhoDep, request: Request) -> dict:
    """R-APP-10 (Act §9): a request for a personal discussion; in the work queue until the meeting is
    recorded, due within the policy's `discussion_within_days`."""
    request.state.access = [(body.loan_id, body.borrower_id)]
    written = c.service.request_discussion(tenant, body.request_id, borrower_id=body.borrower_id, on=_on(c, body.on),
                                           by=who.subject, application_id=body.application_id, loan_id=body.loan_id)
    return {"request_id": body.request_id, **_plain(written.result), "position": written.position}


@router.post("/discussions/{request_id}/meeting", status_code=201, responses=error_responses("not_found",
                                                                                             "not_eligible"))
def record_meeting(request_id: s.LoanIdPath, body: MeetingIn, c: ContainerDep, tenant: TenantDep, who: WhoDep,
                   request: Request) -> dict:
    pending = c.service.case_register(tenant).discussions.get(request_id) or {}
    request.state.access = [(pending.get("loan_id"), pending.get("borrower_id"))]
    written = c.service.record_discussion(tenant, request_id, held_on=_on(c, body.held_on), by=who.subject)
    return {"request_id": request_id, **_plain(written.result), "position": written.position}


def _plain(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()}


def discussions_due(c, tenant: str, today: dt.date) -> list[dict]:
    """The work queue's list (api/operations.py): discussions requested and not yet held."""
    return [_plain(r) for r in c.service.case_register(tenant).pending_discussions(today)]
