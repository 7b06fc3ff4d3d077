"""From a granted decision to money (R-APP-6 … 8): the waiting list, offers and the contract.

A decision maker runs the waiting list and signs the contract for the organiser, recording each
borrower's signature as given; everything is in the access log under each borrower (R-DATA-5).
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field, field_validator

from api import schemas as s
from api.applications import AppIdPath, Body, _log, _on, check_texts, view
from api.deps import Authorised, ContainerDep, TenantDep, WhoDep
from api.errors import error_responses
from domain.errors import DomainError

router = APIRouter(prefix="/v1", tags=["contracts"], dependencies=[Authorised])
ERRORS = error_responses("not_found", "not_eligible", "limit_exceeded", "loan_exists")


class ContractIn(Body):
    first_due_date: s.Day | None = Field(None, description="default: the decision's; a later one when the offer came "
                                                           "late (R-SCHED-3 counts from the contract)")


class PayeesIn(Body):
    payees: list[dict[str, Any]] = Field(max_length=20, description=(
        "{payee_id, kind (creditor|vendor|borrower), name, iban, bic?, reference? (Finnish or RF) or message?, "
        "amount}: together the principal; a payee whose transfer stands (paid, not returned) stays as it is"))
    decided_by: s.Text = Field(description="the official's name")
    reasons: s.LongText = ""

    @field_validator("payees")
    @classmethod
    def printable(cls, value: list) -> list:
        return check_texts(value, "payees")


class GrantWithdrawalIn(Body):
    reason: s.LongText = Field("", description="the applicant's words; personal data, sealed in the event")


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


@router.post("/applications/{application_id}/grant-withdrawal", status_code=201, responses=ERRORS)
def withdraw_grant(application_id: AppIdPath, body: GrantWithdrawalIn, c: ContainerDep, tenant: TenantDep,
                   who: WhoDep, request: Request) -> dict:
    """R-APP-6: the applicant no longer wants a waiting or offered grant: it leaves the waiting list (or its
    reserved capital is freed) and the next in line is offered what the capital now covers."""
    case = c.service.case(tenant, application_id)
    _log(request, *case.applicants)
    written = c.service.withdraw_grant(tenant, application_id, reason=body.reason, on=_on(c, body.on),
                                       by=who.subject)
    return {**view(c, written.result, facts=False), "position": written.position}


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


@router.post("/applications/{application_id}/payees", status_code=201, responses=ERRORS)
def payees(application_id: AppIdPath, body: PayeesIn, c: ContainerDep, tenant: TenantDep, who: WhoDep,
           request: Request) -> dict:
    """R-APP-8: a decision naming the payees of a granted loan (a new payee needs a new decision, e.g.
    after a returned transfer); names and accounts go to the personal-data store, not the events."""
    case = c.service.case(tenant, application_id)
    _log(request, *case.applicants)
    written = c.service.decide_payees(tenant, application_id, payees=body.payees, decided_by=body.decided_by,
                                      reasons=body.reasons, on=_on(c, body.on), by=who.subject)
    return {**view(c, written.result, facts=False), "position": written.position}


@router.post("/loans/{loan_id}/disbursements", status_code=201, responses=ERRORS)
def disburse(loan_id: s.LoanIdPath, body: Body, c: ContainerDep, tenant: TenantDep, who: WhoDep,
             request: Request) -> dict:
    """R-APP-8: pay the loan out to the payees of the decision who have no transfer standing: `file` is the
    ISO 20022 pain.001.001.03 credit-transfer file for the organiser's bank (one transfer per payee); each
    transfer is recorded on the loan (LoanDisbursed) and interest runs from `on` (R-INT-2)."""
    loan = c.service.loan(tenant, loan_id, read_only=True)
    request.state.access = [(loan_id, p) for p in (loan.borrower_id, loan.co_borrower_id) if p]
    out = c.service.disburse(tenant, loan_id, on=_on(c, body.on), by=who.subject)
    return {**out, "file": out["file"].decode("utf-8")}


@router.get("/loans/{loan_id}/disbursements/{message_id}",
            responses={200: {"content": {"application/xml": {}}, "description": "the pain.001.001.03 file"},
                       **error_responses("not_found", "not_eligible")})
def disbursement_file(loan_id: s.LoanIdPath, message_id: s.LoanIdPath, c: ContainerDep, tenant: TenantDep,
                      request: Request) -> Response:
    """R-APP-8: an earlier disbursement's credit-transfer file again, byte for byte (`message_id` as the
    disbursement answered it)."""
    loan = c.service.loan(tenant, loan_id, read_only=True)
    request.state.access = [(loan_id, p) for p in (loan.borrower_id, loan.co_borrower_id) if p]
    return Response(c.service.disbursement_file(tenant, loan_id, message_id), media_type="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{message_id}.xml"'})


@router.post("/loans/{loan_id}/disbursements/{transfer_id}/return", status_code=201, responses=ERRORS)
def returned(loan_id: s.LoanIdPath, transfer_id: s.LoanIdPath, body: Body, c: ContainerDep, tenant: TenantDep,
             request: Request) -> dict:
    """R-APP-8: the bank returned a transfer; recorded on the loan (LoanDisbursed `returned`)."""
    loan = c.service.loan(tenant, loan_id, read_only=True)
    request.state.access = [(loan_id, p) for p in (loan.borrower_id, loan.co_borrower_id) if p]
    written = c.service.return_transfer(tenant, loan_id, transfer_id, on=_on(c, body.on))
    return {"loan_id": loan_id, "transfer_id": transfer_id, "returned": True, "position": written.position}
