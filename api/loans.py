"""Loans: grant, read (as of a date, as known at an instant), schedule, events, decisions."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from adapters.reference_numbers import format_national, format_rf, rf_reference
from api import schemas as s
from api.deps import Authorised, ContainerDep, FreshReads, TenantDep, WhoDep, read_position
from api.errors import REPLAY, error_responses
from domain.errors import invalid
from domain.evidence import plain
from domain.interest import InterestTerms
from domain.loan import Decision
from domain.money import format_cents, parse_amount

router = APIRouter(prefix="/v1/loans", tags=["loans"], dependencies=[Authorised])
WHAT_IF_HORIZON_DAYS = 366  # a re-run costs time per simulated day; appeals look back, not decades ahead
DECISION_ERRORS = error_responses("not_found", "loan_closed", "not_eligible", "notice_pending", "hardship_active")


def _decision(body: s.DecisionIn) -> Decision:
    return Decision(body.decided_by, body.reasons, body.legal_basis)


def _on(c, body_on: dt.date | None) -> dt.date:
    today = c.today()
    if body_on is not None and body_on > today:
        raise invalid(f"on {body_on} is in the future (today is {today})", rule="R-DATE-1", field="on")
    return body_on or today


def _summary(c, tenant: str, loan, on: dt.date, rates=None) -> dict:
    return {"loan_id": loan.loan_id, "borrower_id": loan.borrower_id, "reference": format_national(loan.reference),
            "reference_rf": format_rf(rf_reference(loan.reference)), "granted_on": loan.granted_on.isoformat(),
            "version": loan.version, **loan.books(rates or c.service.rates).balance(on)}


@router.post("", status_code=201,
             responses={**REPLAY, **error_responses("limit_exceeded", "loan_exists", "not_found")})
def grant(body: s.GrantIn, c: ContainerDep, tenant: TenantDep, request: Request, response: Response) -> dict:
    """Grant a loan (R-SCHED, R-PORT-1). Grants of one organiser are serialised; a retry with the
    same loan_id and terms answers the existing loan."""
    request.state.loan_id, request.state.borrower_id = body.loan_id, body.borrower_id  # for the access log
    latest = c.today() + dt.timedelta(days=c.settings.grant_horizon_days)
    if body.granted_on > latest:
        raise invalid(f"granted_on {body.granted_on} is more than {c.settings.grant_horizon_days} days ahead "
                      f"(latest {latest}; LUOTTO_GRANT_HORIZON_DAYS)", rule="R-DATE-1", field="granted_on")
    terms: dict[str, Any] = {"granted_on": body.granted_on, "first_due_date": body.first_due_date,
                             "purpose": body.purpose, "decision_reference": body.decision_reference}
    if body.instalment_amount is not None:
        terms["instalment_amount"] = parse_amount(body.instalment_amount, "instalment_amount")
    if body.term_months is not None:
        terms["term_months"] = body.term_months
    if body.interest is not None:  # R-INT-1; without it the organiser's default terms apply
        terms["interest"] = InterestTerms.from_json(body.interest, "interest")
    if body.penalty_interest_agreed_on is not None:
        terms["penalty_interest_agreed_on"] = body.penalty_interest_agreed_on
    if body.purpose_class is not None:
        terms["purpose_class"] = body.purpose_class
    written = c.service.grant(tenant=tenant, loan_id=body.loan_id, borrower_id=body.borrower_id,
                              principal=parse_amount(body.principal, "principal"), decision=_decision(body),
                              applicant_total_debt=parse_amount(body.applicant_total_debt, "applicant_total_debt",
                                                                positive=False), **terms)
    if written.position is None:
        response.status_code = 200
    return {**_summary(c, tenant, written.result, max(body.granted_on, c.today())), "position": written.position}


@router.get("", dependencies=[FreshReads])
def list_loans(c: ContainerDep, tenant: TenantDep, request: Request,
               status: Annotated[str | None, Query(pattern="^(current|late|accelerated|repaid|waived|written_off)$")]
               = None, limit: Annotated[int, Query(ge=1, le=500)] = 50,
               offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> dict:
    """Loans of the organiser from the balances read model, paged by loan_id."""
    rows = c.read_model.loans(tenant, status=status, limit=limit, offset=offset)
    request.state.access = [(r["loan_id"], r["borrower_id"]) for r in rows]  # R-DATA-5: each loan shown
    money = ("principal", "principal_outstanding", "overdue_amount", "penalty_outstanding", "overpayment")
    items = [{k: (format_cents(v) if k in money else v) for k, v in r.items()
              if k not in ("tenant", "overdue_items", "principal_waived", "penalty_waived", "written_off",
                           "loan_uuid", "head")}
             for r in rows]
    return {"items": items, "limit": limit, "offset": offset, **read_position(c, request)}


def _loan(c, tenant: str, loan_id: str, known_at: dt.datetime | None):
    """The loan to read (never to change), as known now or at `known_at`; its borrower is told to
    the access log (R-DATA-5), which then needs no look-up of its own."""
    if known_at is None:
        loan = c.service.loan(tenant, loan_id, read_only=True)
    elif known_at.tzinfo is None:
        raise invalid("known_at must carry a time zone, e.g. 2025-05-01T12:00:00+03:00", rule="R-EVID-4",
                      field="known_at")
    else:
        loan = c.service.loan_known_at(tenant, loan_id, known_at)
    c.remember_borrower(tenant, loan.loan_id, loan.borrower_id)  # for the access log (R-DATA-5)
    return loan


def _as_of(c, loan, on: dt.date | None) -> dt.date:
    """The balance date: `on` (default today); a date before the grant has no balance to show."""
    if on is not None and on < loan.granted_on:
        raise invalid(f"on {on} is before the grant date {loan.granted_on}", rule="R-EVID-4", field="on")
    return on or c.today()


def _asked(on: dt.date | None, known_at: dt.datetime | None) -> dict:
    """A replay answer names the date and the instant it answers for (R-EVID-4)."""
    return {"on": on.isoformat() if on else None, "known_at": known_at.isoformat() if known_at else None}


@router.get("/{loan_id}", responses=error_responses("not_found"))
def get_loan(loan_id: s.LoanIdPath, c: ContainerDep, tenant: TenantDep, on: s.DayQuery = None,
             known_at: s.InstantQuery = None) -> dict:
    """Balance and status on `on` (default today), as known at `known_at` (default now) (R-EVID-4).
    The answer echoes `on` and `known_at` (null: today, now); `as_of` is the balance date used."""
    loan = _loan(c, tenant, loan_id, known_at)
    rates = c.service.rate_source.known_at(known_at) if known_at else None  # R-PEN-4: the rates known then
    # The hottest read: answered as JSON directly, without FastAPI validating the plain dict of
    # strings and integers against the `dict` annotation first.
    return JSONResponse({**_summary(c, tenant, loan, _as_of(c, loan, on), rates), **_asked(on, known_at)})


@router.get("/{loan_id}/schedule", responses=error_responses("not_found"))
def schedule(loan_id: s.LoanIdPath, c: ContainerDep, tenant: TenantDep, on: s.DayQuery = None,
             known_at: s.InstantQuery = None) -> dict:
    """The plan on `on`, with each unpaid instalment's payment instructions (reference, IBAN, barcode)."""
    from application.payment_files import payment_instructions

    loan = _loan(c, tenant, loan_id, known_at)
    pos = loan.books(c.service.rates).position(_as_of(c, loan, on))
    how_to_pay = {row["instalment"]: row for row in payment_instructions(loan, pos, c.settings, tenant)}
    return {"loan_id": loan.loan_id, **_asked(on, known_at), "reference": format_national(loan.reference),
            "reference_rf": format_rf(rf_reference(loan.reference)), "as_of": pos.as_of.isoformat(),
            "instalments": [{"instalment": r.number, "due_date": r.due_date.isoformat(),
                             "deadline": r.deadline.isoformat(), "amount": format_cents(r.amount + r.interest_part),
                             "principal_part": format_cents(r.amount), "interest_part": format_cents(r.interest_part),
                             "interest_estimated": r.interest is None,
                             "paid": format_cents(r.paid + r.interest_paid),
                             "waived": format_cents(r.waived + r.interest_waived),
                             "unpaid": format_cents(r.to_pay),
                             "payment": {k: v for k, v in how_to_pay[r.number].items()
                                         if k in ("iban", "payee", "barcode", "barcode_rf")}
                             if r.number in how_to_pay else None} for r in pos.instalments]}


@router.get("/{loan_id}/events", responses=error_responses("not_found"))
def events(loan_id: s.LoanIdPath, c: ContainerDep, tenant: TenantDep, who: WhoDep,
           after_version: Annotated[int, Query(ge=0, le=s.MAX_VERSION, description="page on from this version")] = 0,
           limit: Annotated[int, Query(ge=1, le=1000)] = 1000) -> dict:
    """The loan's events in version order, `limit` at a time after `after_version`; `next_after_version`
    names the next page (null: this was the last). Sealed free text (R-DATA-2) is opened for a reader
    with the personal-data permission, a marker for others (api/access.py)."""
    from application.personal_text import show_fields

    loan = _loan(c, tenant, loan_id, None)
    show = c.service.sealer.opener(tenant, loan.borrower_id, may_read=who.may("personal_data"))
    out = []
    for event in c.service.events.get(loan.id, gt=after_version, limit=limit):
        data = {k: v for k, v in vars(event).items()
                if k not in ("originator_id", "originator_version", "timestamp", "originator_topic", "hash",
                             "effective_date")}
        out.append({"type": type(event).__name__, "version": event.originator_version,
                    "effective_date": event.effective_date.isoformat(), "recorded_at": event.timestamp.isoformat(),
                    "data": show_fields(plain(data), show), "hash": event.hash})
    more = bool(out) and out[-1]["version"] < loan.version
    return {"loan_id": loan_id, "events": out, "next_after_version": out[-1]["version"] if more else None}


def _decide(c, tenant: str, loan_id: str, command: Callable, body: s.DecisionIn, **kwargs: Any) -> dict:
    """Run one of the service's decision commands (application.loans) and answer the loan as it is now."""
    on = _on(c, body.on)
    written = command(tenant, loan_id, on=on, decision=_decision(body), **kwargs)
    return {**_summary(c, tenant, _loan(c, tenant, loan_id, None), on), "position": written.position}


@router.post("/{loan_id}/acceleration-notices", status_code=201,
             responses=DECISION_ERRORS)
def acceleration_notice(loan_id: s.LoanIdPath, body: s.NoticeIn, c: ContainerDep, tenant: TenantDep) -> dict:
    """R-ACC-5/6: refused unless Act §8(1)(1) holds, no notice is pending and no hardship is active."""
    return _decide(c, tenant, loan_id, c.service.send_acceleration_notice, body,
                   override_reason=body.override_reason)


@router.post("/{loan_id}/hardships", status_code=201, responses=DECISION_ERRORS)
def hardship(loan_id: s.LoanIdPath, body: s.HardshipIn, c: ContainerDep, tenant: TenantDep) -> dict:
    return _decide(c, tenant, loan_id, c.service.record_hardship, body, cause=body.cause)


@router.post("/{loan_id}/hardships/end", status_code=201, responses=DECISION_ERRORS)
def hardship_end(loan_id: s.LoanIdPath, body: s.DecisionIn, c: ContainerDep, tenant: TenantDep) -> dict:
    return _decide(c, tenant, loan_id, c.service.end_hardship, body)


@router.post("/{loan_id}/free-months", status_code=201, responses=DECISION_ERRORS)
def free_months(loan_id: s.LoanIdPath, body: s.FreeMonthsIn, c: ContainerDep, tenant: TenantDep) -> dict:
    return _decide(c, tenant, loan_id, c.service.defer_free_months, body, months=body.months,
                   from_instalment=body.from_instalment)


@router.post("/{loan_id}/due-date-extensions", status_code=201,
             responses=DECISION_ERRORS)
def due_date_extension(loan_id: s.LoanIdPath, body: s.ExtensionIn, c: ContainerDep, tenant: TenantDep) -> dict:
    return _decide(c, tenant, loan_id, c.service.extend_due_date, body, instalment=body.instalment,
                   new_due_date=body.new_due_date)


@router.post("/{loan_id}/terms", status_code=201, responses=DECISION_ERRORS)
def terms(loan_id: s.LoanIdPath, body: s.TermsIn, c: ContainerDep, tenant: TenantDep) -> dict:
    return _decide(c, tenant, loan_id, c.service.change_terms, body, from_instalment=body.from_instalment,
                   instalment_amount=parse_amount(body.instalment_amount, "instalment_amount"))


@router.post("/{loan_id}/exemptions", status_code=201, responses=DECISION_ERRORS)
def exemption(loan_id: s.LoanIdPath, body: s.ExemptionIn, c: ContainerDep, tenant: TenantDep) -> dict:
    amount = parse_amount(body.amount, "amount") if body.amount is not None else None
    return _decide(c, tenant, loan_id, c.service.waive, body, kind=body.kind, amount=amount)


@router.post("/{loan_id}/refunds", status_code=201, responses=DECISION_ERRORS)
def refund(loan_id: s.LoanIdPath, body: s.RefundIn, c: ContainerDep, tenant: TenantDep) -> dict:
    return _decide(c, tenant, loan_id, c.service.refund_overpayment, body, amount=parse_amount(body.amount, "amount"))


@router.post("/{loan_id}/collection-transfer", status_code=201,
             responses=DECISION_ERRORS)
def collection_transfer(loan_id: s.LoanIdPath, body: s.CollectionTransferIn, c: ContainerDep,
                        tenant: TenantDep) -> dict:
    """Issue 20: the accelerated loan, or the overdue `instalments`, to the collection agency (R-COL-1)."""
    return _decide(c, tenant, loan_id, c.service.transfer_to_collection, body, instalments=body.instalments,
                   transfer_id=body.transfer_id)


@router.post("/{loan_id}/write-off", status_code=201, responses=DECISION_ERRORS)
def write_off(loan_id: s.LoanIdPath, body: s.DecisionIn, c: ContainerDep, tenant: TenantDep) -> dict:
    return _decide(c, tenant, loan_id, c.service.write_off, body)


@router.post("/{loan_id}/appeals", status_code=201, responses=DECISION_ERRORS)
def file_appeal(loan_id: s.LoanIdPath, body: s.AppealIn, c: ContainerDep, tenant: TenantDep) -> dict:
    """A request for rectification against a decision event of the loan (by its version)."""
    on = _on(c, body.on)
    written = c.service.file_appeal(tenant, loan_id, decision_version=body.decision_version, on=on,
                                    appellant=body.appellant, grounds=body.grounds)
    return {**_summary(c, tenant, _loan(c, tenant, loan_id, None), on), "position": written.position}


@router.post("/{loan_id}/appeals/{appeal_version}/decision", status_code=201,
             responses=DECISION_ERRORS)
def decide_appeal(loan_id: s.LoanIdPath, appeal_version: Annotated[int, Path(ge=1, le=s.MAX_VERSION)],
                  body: s.AppealDecisionIn, c: ContainerDep, tenant: TenantDep) -> dict:
    """The appeal's outcome; an upheld appeal then takes effect through its own decision."""
    return _decide(c, tenant, loan_id, c.service.decide_appeal, body, appeal=appeal_version, outcome=body.outcome)


@router.post("/{loan_id}/acceleration-revocation", status_code=201,
             responses=DECISION_ERRORS)
def revoke_acceleration(loan_id: s.LoanIdPath, body: s.RevocationIn, c: ContainerDep, tenant: TenantDep) -> dict:
    return _decide(c, tenant, loan_id, c.service.revoke_acceleration, body, appeal=body.appeal_version)


@router.post("/{loan_id}/what-if", responses=error_responses("not_found"))
def what_if(loan_id: s.LoanIdPath, body: s.WhatIfIn, c: ContainerDep, tenant: TenantDep) -> dict:
    """Re-run the loan's history with corrected facts and show the difference; writes nothing."""
    from application.replay import what_if as run_what_if
    from application.simulation import ScenarioError

    today = c.today()
    until = body.until or today
    latest = today + dt.timedelta(days=WHAT_IF_HORIZON_DAYS)
    if until > latest:
        raise invalid(f"until {until} is more than {WHAT_IF_HORIZON_DAYS} days ahead (latest {latest})",
                      rule="R-EVID-4", field="until")
    corrections = [{k: (v.isoformat() if isinstance(v, dt.date) else v)
                    for k, v in corr.model_dump(by_alias=True).items() if v is not None} for corr in body.corrections]
    try:
        return run_what_if(c.service, tenant, loan_id, corrections, until)
    except ScenarioError as e:
        raise invalid(str(e), rule="R-EVID-4", field="corrections") from None


@router.get("/{loan_id}/evidence", responses={200: {"content": {"application/zip": {}},
                                                  "description": "the evidence bundle (R-EVID-3) as a zip"},
                                              **error_responses("not_found")})
def evidence(loan_id: s.LoanIdPath, c: ContainerDep, tenant: TenantDep, who: WhoDep) -> Response:
    """Every event and hash, the chain head and its inclusion proof in the latest signed digest, the
    balances at each decision and a readable PDF report; check it with `luotto verify-evidence`.
    The letters and the opened free text only for a reader who may see personal data (R-DATA-3)."""
    from application.evidence_export import export_zip

    # loan_id is from the safe alphabet (LoanIdPath), so the name needs no quoting.
    # The letters and the opened free text only for a reader who may see personal data (R-DATA-3).
    return Response(export_zip(c, tenant, loan_id, personal_data=who.may("personal_data")),
                    media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="evidence-{loan_id}.zip"'})
