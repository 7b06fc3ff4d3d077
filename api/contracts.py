"""From a granted decision to money (R-APP-6 … 8): the waiting list, offers and the contract.

A decision maker runs the waiting list and signs the contract for the organiser, recording each
borrower's signature as given; everything is in the access log under each borrower (R-DATA-5).
"""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import Field

from api import schemas as s
from api.applications import AppIdPath, Body, _log, _on, view
from api.deps import Authorised, ContainerDep, TenantDep, WhoDep
from api.errors import error_responses
from domain.errors import DomainError

router = APIRouter(prefix="/v1", tags=["contracts"], dependencies=[Authorised])
ERRORS = error_responses("not_found", "not_eligible", "limit_exceeded", "loan_exists")


class ContractIn(Body):
    first_due_date: s.Day | None = Field(None, description="default: the decision's; a later one when the offer came "
                                                           "late (R-SCHED-3 counts from the contract)")


class SignatureIn(Body):
    signer: s.Id = Field(description="a borrower's id (their signature, as given on the contract) or `official` "
                                     "(the decision maker signs for the organiser)")


@router.get("/waiting-list")
def waiting_list(c: ContainerDep, tenant: TenantDep, request: Request) -> dict:
    """R-APP-6: the grants waiting for capital in strict order of decision, each with its position,
    and the offers with the capital they reserve until signed or expired (`valid_until`)."""
    out = c.service.waiting_list(tenant, c.today())
    _log(request, *sorted({p for row in out["waiting"] + out["offers"] for p in row["borrowers"]}))
    return out


@router.post("/waiting-list/offers", status_code=201, responses=ERRORS)
def offer(body: Body, c: ContainerDep, tenant: TenantDep, request: Request) -> dict:
    """R-APP-6 now rather than at the next daily run: expire offers whose time ran out, then offer the
    first in line while the capital covers it (never a later grant ahead of it)."""
    written = c.service.process_waiting_list(tenant, _on(c, body.on))
    register = c.service.register(tenant)
    people = {p for row in (*register.waiting, *register.offers.values()) for p in row["borrowers"]}
    _log(request, *sorted(people))
    return {"changes": written.result, "position": written.position}


@router.post("/applications/{application_id}/contract", status_code=201, responses=ERRORS)
def draw(application_id: AppIdPath, body: ContractIn, c: ContainerDep, tenant: TenantDep, who: WhoDep,
         request: Request) -> dict:
    """R-APP-7: the contract for a standing offer, with every Act §6 term, one PDF to each borrower in
    their language (sent through the notice channel); drawn again only until someone signs."""
    case = c.service.case(tenant, application_id)
    _log(request, *case.applicants)
    written = c.service.draw_contract(tenant, application_id, on=_on(c, body.on), by=who.subject,
                                      first_due_date=body.first_due_date)
    return {**view(c, written.result, facts=False), "position": written.position}


@router.get("/applications/{application_id}/contract/{borrower_id}",
            responses={200: {"content": {"application/pdf": {}}, "description": "the contract"},
                       **error_responses("not_found")})
def contract_pdf(application_id: AppIdPath, borrower_id: s.BorrowerIdPath, c: ContainerDep, tenant: TenantDep,
                 request: Request) -> Response:
    """The contract as sent to one borrower (PDF), opened with their key."""
    from adapters.notices.store import PdfNotFound

    case = c.service.case(tenant, application_id)
    request.state.access = [(None, borrower_id)]
    found = next((x for x in (case.contract.letters if case.contract else ()) if x.borrower_id == borrower_id), None)
    if found is None:
        raise DomainError("not_found", f"application {application_id} has no contract to {borrower_id}",
                          field="borrower_id")
    try:
        pdf = c.notices.pdfs.get(found.hash, c.borrowers.key(tenant, borrower_id))
    except PdfNotFound:
        raise DomainError("not_found", "the contract is no longer stored (erased)", field="borrower_id") from None
    return Response(pdf, media_type="application/pdf")


@router.post("/applications/{application_id}/contract/signatures", status_code=201, responses=ERRORS)
def sign(application_id: AppIdPath, body: SignatureIn, c: ContainerDep, tenant: TenantDep, who: WhoDep,
         request: Request) -> dict:
    """R-APP-7: a borrower's or the official's signature on the contract, within the offer's time.
    The last signature records LoanGranted (servicing starts as for `POST /v1/loans`)."""
    case = c.service.case(tenant, application_id)
    _log(request, *case.applicants)
    written = c.service.sign_contract(tenant, application_id, signer=body.signer, on=_on(c, body.on),
                                      by=who.subject)
    out = {**view(c, written.result, facts=False), "position": written.position}
    if written.result.contracted_loan:
        request.state.access = [(written.result.contracted_loan, p) for p in written.result.applicants]
    return out
