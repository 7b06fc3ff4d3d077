"""Legal staff (issue 20): the court package of a loan, and the loan's legal status."""
from __future__ import annotations

from fastapi import APIRouter, Response

from api import schemas as s
from api.deps import Authorised, ContainerDep, TenantDep
from api.errors import error_responses
from domain.errors import invalid

router = APIRouter(prefix="/v1/loans", tags=["legal"], dependencies=[Authorised])


@router.get("/{loan_id}/court-package", responses={200: {"content": {"application/zip": {}},
                                                        "description": "the court package as a zip"},
                                                   **error_responses("not_found")})
def court_package(loan_id: s.LoanIdPath, c: ContainerDep, tenant: TenantDep, on: s.DayQuery = None) -> Response:
    """The claim on `on` (default today) traced to its events and rules, the Act §8 trail with the letters
    and their delivery, the payment history, an account and a draft application to the administrative
    court in the borrower's language, all inside the signed evidence format: check it offline with
    `luotto verify-evidence`. It names the parties and holds the letters, so only legal staff and
    decision makers may fetch it."""
    from application.court_package import build_zip

    today = c.today()
    if on is not None and on > today:
        raise invalid(f"on {on} is in the future (today is {today})", rule="R-DATE-1", field="on")
    return Response(build_zip(c, tenant, loan_id, on=on), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="court-package-{loan_id}.zip"'})


TRANSFER = "/{loan_id}/collection-transfer/{transfer_id}"
TransferIdPath = s.LoanIdPath  # the same safe alphabet


def _decision(body: s.DecisionIn):
    from domain.loan import Decision

    return Decision(body.decided_by, body.reasons, body.legal_basis)


def _day(c, on):
    today = c.today()
    if on is not None and on > today:
        raise invalid(f"on {on} is in the future (today is {today})", rule="R-DATE-1", field="on")
    return on or today


def _answer(c, tenant: str, loan_id: str, written) -> dict:
    from application.replay import legal_status

    loan = c.service.loan(tenant, loan_id)
    return {"loan_id": loan_id, "version": loan.version, "legal_status": legal_status(loan, c.today()),
            "position": written.position}


@router.post(TRANSFER + "/recall", status_code=201, responses=error_responses("not_found", "loan_closed"))
def recall_collection(loan_id: s.LoanIdPath, transfer_id: TransferIdPath, body: s.DecisionIn, c: ContainerDep,
                      tenant: TenantDep) -> dict:
    """Issue 20: take a transfer back from the collection agency (R-COL-1)."""
    written = c.service.recall_collection(tenant, loan_id, on=_day(c, body.on), decision=_decision(body),
                                          transfer_id=transfer_id)
    return _answer(c, tenant, loan_id, written)


@router.get(TRANSFER + "/export", responses={200: {"content": {"text/csv": {}, "application/json": {}}},
                                             **error_responses("not_found")})
def collection_export(loan_id: s.LoanIdPath, transfer_id: TransferIdPath, c: ContainerDep, tenant: TenantDep,
                      format: str = "json") -> Response:
    """The file for the collection agency (application/collection_export.py): JSON, or CSV with `format=csv`.
    It names the debtor (personal data), so only legal staff and decision makers may fetch it."""
    import json

    from application.collection_export import transfer_csv, transfer_document

    if format not in ("json", "csv"):
        raise invalid(f"format must be json or csv, got {format!r}", rule="R-COL-1", field="format")
    document = transfer_document(c, tenant, loan_id, transfer_id)
    if format == "csv":
        return Response(transfer_csv(document), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="collection-{transfer_id}.csv"'})
    return Response(json.dumps(document, ensure_ascii=False, indent=2), media_type="application/json")


@router.post(TRANSFER + "/payments", status_code=201, responses=error_responses("not_found", "payment_conflict"))
def agency_payment(loan_id: s.LoanIdPath, transfer_id: TransferIdPath, body: s.AgencyPaymentIn, c: ContainerDep,
                   tenant: TenantDep) -> dict:
    """Money the collection agency collected, recorded with its source `collection_agency:<transfer>`; idempotent
    by `payment_id` like any payment (R-PAY-1). No fee is recorded (Act §6)."""
    from application.collection_export import post_agency_payment
    from domain.money import parse_amount

    written = post_agency_payment(c, tenant, loan_id, transfer_id, payment_id=body.payment_id,
                                  amount=parse_amount(body.amount, "amount"), value_date=_day(c, body.value_date),
                                  on=c.today())
    return {"loan_id": loan_id, "payment_id": body.payment_id, "source": f"collection_agency:{transfer_id}",
            "position": written.position}


@router.post("/{loan_id}/legal-steps", status_code=201,
             responses=error_responses("not_found", "not_eligible"))
def legal_step(loan_id: s.LoanIdPath, body: s.LegalStepIn, c: ContainerDep, tenant: TenantDep) -> dict:
    """Issue 20: record a claim filed (court, case number, amount), its judgment (outcome, amount) or its
    enforcement, with who, when and why (R-LEGAL-1)."""
    from domain.money import parse_amount

    written = c.service.record_legal_step(
        tenant, loan_id, on=_day(c, body.on), decision=_decision(body), kind=body.kind, case_number=body.case_number,
        court=body.court, amount=parse_amount(body.amount, "amount") if body.amount is not None else None,
        outcome=body.outcome)
    return _answer(c, tenant, loan_id, written)
