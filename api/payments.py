"""Payments from payment systems: idempotent posting (R-PAY-1), matching and the unallocated queue (R-PAY-2)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api import schemas as s
from api.deps import Authorised, ContainerDep, FreshReads, TenantDep, WhoDep, read_position
from api.errors import REPLAY, error_responses
from adapters.metrics import PAYMENTS
from application.payment_batch import PaymentCommand
from domain.errors import DomainError, invalid
from domain.money import format_cents, parse_amount

router = APIRouter(prefix="/v1/payments", tags=["payments"], dependencies=[Authorised])


@router.post("", status_code=201,
             responses={**REPLAY, **error_responses("payment_conflict")})
async def post_payment(body: s.PaymentIn, c: ContainerDep, tenant: TenantDep, request: Request) -> dict:
    """Record a payment. The same payment_id with the same content answers the first result (200);
    with other content it is refused (409 payment_conflict). A payment that matches no loan by
    loan_id or reference waits in the unallocated queue. Concurrent posts are written together;
    this coroutine does no I/O itself, it awaits the group commit's writer."""
    today = c.today()
    value_date = body.value_date or today
    if value_date > today:
        raise invalid(f"value_date {value_date} is in the future (today is {today})", rule="R-DATE-1",
                      field="value_date")
    try:
        written = await c.service.post_payment_async(PaymentCommand(
            tenant, body.payment_id, parse_amount(body.amount, "amount"), value_date, today, body.loan_id,
            body.reference, body.source))
    except DomainError:
        PAYMENTS.labels("refused").inc()
        raise
    outcome = {"allocated": "recorded", "unallocated": "unallocated"}.get(written.result["status"], "recorded")
    PAYMENTS.labels("duplicate" if written.position is None else outcome).inc()
    request.state.loan_id = written.result["loan_id"]  # for the access log
    # Answered as JSON directly (the integration API's hottest call): no validation of this plain
    # dict against the `dict` annotation. A retry of a recorded payment answers 200, not 201.
    return JSONResponse({**written.result, "position": written.position},
                        status_code=200 if written.position is None else 201)


@router.get("/unallocated", dependencies=[FreshReads])
def unallocated(c: ContainerDep, tenant: TenantDep, request: Request,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> dict:
    """The unallocated queue, oldest value date first, `limit` at a time."""
    rows = c.read_model.unallocated(tenant, limit=limit, offset=offset)
    return {"items": [{k: (format_cents(v) if k == "amount" else v) for k, v in r.items() if k != "tenant"}
                      for r in rows], "limit": limit, "offset": offset, **read_position(c, request)}


@router.get("/returns")
def returns(c: ContainerDep, tenant: TenantDep, status: Annotated[str | None, Query(
        pattern="^(pending|applied|set_aside)$")] = "pending", limit: Annotated[int, Query(ge=1, le=1000)] = 100,
            offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> dict:
    """Returns from bank files posted by a payment system, waiting for finance (R-DATA-6)."""
    return {"items": c.pending_returns.list(tenant, status=status, limit=limit, offset=offset), "limit": limit,
            "offset": offset}


@router.post("/returns/{return_id}/decision", responses=error_responses("not_found"))
def decide_return(return_id: s.PaymentIdPath, body: s.ReturnDecisionIn, c: ContainerDep, tenant: TenantDep,
                  who: WhoDep, request: Request) -> dict:
    """Apply a queued return (the payment is reversed as a finance import would) or set it aside."""
    decided = c.pending_returns.decide(c.service, tenant, return_id, apply=body.apply, decided_by=who.subject,
                                       on=c.today())
    request.state.loan_id = (decided["outcome"] or {}).get("loan_id")
    return decided


@router.post("/{payment_id}/allocation", responses=error_responses("not_found", "payment_conflict"))
def allocate(payment_id: s.PaymentIdPath, body: s.AllocationIn, c: ContainerDep, tenant: TenantDep,
             request: Request) -> dict:
    """Assign an unallocated payment to a loan; a retry of the same assignment is a no-op."""
    request.state.loan_id = body.loan_id  # for the access log
    written = c.service.allocate_payment(tenant=tenant, payment_id=payment_id, loan_id=body.loan_id,
                                         on=c.today(), allocated_by=body.allocated_by)
    return {**written.result, "position": written.position}


@router.post("/{payment_id}/reversal", responses=error_responses("not_found"))
def reverse(payment_id: s.PaymentIdPath, body: s.ReversalIn, c: ContainerDep, tenant: TenantDep,
            request: Request) -> dict:
    """A returned or misapplied payment: later payments are re-allocated (R-PAY-4). The reason is
    sealed with the borrower's key like a decision's (R-DATA-2)."""
    today = c.today()
    if body.on is not None and body.on > today:
        raise invalid(f"on {body.on} is in the future (today is {today})", rule="R-DATE-1", field="on")
    written = c.service.reverse_payment(tenant=tenant, payment_id=payment_id, reason=body.reason,
                                        on=body.on or today)
    request.state.loan_id = written.result["loan_id"]  # for the access log
    return {**written.result, "reversed": True, "position": written.position}
