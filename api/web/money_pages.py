"""From decision to money (issue 22): the waiting list, offers, the contract and the disbursement in
the console.

Each form calls the same application functions as the API (api/contracts.py, R-APP-6 … 8) and is
recorded by the signed-in person. Which forms a reader gets follows the access table
(api/access.py), as in the API: the waiting list and the contract (they name the applicants) for
`personal_data`; offers, drawing and signing the contract for `decision`; the applicant giving up a
grant for `prepare`; the pain.001 file, earlier files and returned transfers for `payment_admin`;
each loan's disbursement status (payee ids, kinds and amounts: no names or accounts) for `read`.
Every page and form writes the access log for the people it shows (R-DATA-5).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api import schemas as s
from api.applications import AppIdPath
from api.web.core import PREFIX, Page, checked_form, signed_in
from api.web.legal_pages import _on
from api.web.loan_pages import TEXT_MAX, _day
from application.disbursements import PAYEE_KINDS
from domain.errors import DomainError, invalid
from domain.money import format_cents

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SignedIn = Annotated[Page, Depends(signed_in)]
APP = "/applications/{application_id}"
LOAN = "/loans/{loan_id}"
Done = Annotated[str | None, Query(max_length=40)]
DONE = ("offers", "withdrawn", "drawn", "signed", "concluded", "payees", "disbursed", "returned")
PAYEE_ROWS = 3  # rows of the payee form: those decided, and at least one empty
PAYEE_FORM = ("payee_id", "kind", "name", "iban", "bic", "reference", "message", "amount")


def _done(done: str | None) -> str | None:
    return done if done in DONE else None


def _log(request: Request, *pairs: tuple[str | None, str | None]) -> None:
    """R-DATA-5: one access-log row per (loan, person) the page or form showed or changed."""
    request.state.access = sorted({(loan, person) for loan, person in pairs if loan or person},
                                  key=lambda pair: tuple(x or "" for x in pair))


def _reason(form) -> str:
    reason = str(form.get("reason", "") or "").strip()
    if len(reason) > TEXT_MAX:
        raise invalid(f"reason has at most {TEXT_MAX} characters", rule="R-APP-6", field="reason")
    return reason


# --- the waiting list (R-APP-6) -------------------------------------------------------------------

@router.get("/waiting-list")
def waiting_list(request: Request, p: SignedIn, done: Done = None,
                 made: Annotated[int, Query(ge=0, le=10_000)] = 0, expired: Annotated[int, Query(ge=0, le=10_000)] = 0):
    c = p.container
    listed = c.service.waiting_list(p.who.tenant, c.today())
    _log(request, *((None, person) for row in listed["waiting"] + listed["offers"] for person in row["borrowers"]))
    return p.render("money_waiting_list.html", waiting=listed["waiting"], offers=listed["offers"],
                    capital=_capital(p), done=_done(done), made=made, expired=expired)


def _capital(p: Page) -> dict:
    """What the capital limit leaves for the first in line: principal outstanding as the read model
    knows it (running totals, projections/portfolio_sums.py: a lagging read model shows less in use;
    offering checks again after catching up), minus what standing offers reserve."""
    from projections import console_figures as figures

    c, tenant = p.container, p.who.tenant
    register = c.service.register(tenant)
    limit = c.service.policy(tenant).capital_limit
    in_use, _ = figures.capital_and_grants(c.read_model.store, tenant, c.today(), months=1)
    reserved = register.reserved()
    return {"limit": None if limit is None else format_cents(limit), "in_use": format_cents(in_use),
            "reserved": format_cents(reserved), "waiting": format_cents(register.waiting_total()),
            "free": None if limit is None else format_cents(limit - in_use - reserved)}


@router.post("/waiting-list/offers")
async def make_offers(request: Request, p: SignedIn):
    """Expire the offers whose time ran out, then offer the first in line while the freed capital
    covers it (never a later grant ahead of it), as the daily run does, today."""
    await checked_form(request, p)
    c = p.container
    written = await run_in_threadpool(c.service.process_waiting_list, p.who.tenant, c.today())
    changes = written.result
    register = c.service.register(p.who.tenant)
    _log(request, *((None, person) for row in (*register.waiting, *register.offers.values())
                    for person in row["borrowers"]))
    made = sum(1 for x in changes if x["change"] == "offered")
    c.read_model.catch_up()
    return p.redirect(f"{PREFIX}/waiting-list?done=offers&made={made}&expired={len(changes) - made}")


@router.post(APP + "/grant-withdrawal")
async def withdraw_grant(request: Request, p: SignedIn, application_id: AppIdPath):
    """The applicant gives up a waiting or offered grant; the next in line is offered in the same write."""
    form = await checked_form(request, p)
    c = p.container
    case = c.service.case(p.who.tenant, application_id)
    _log(request, *((None, person) for person in case.applicants))
    reason = _reason(form)
    await run_in_threadpool(lambda: c.service.withdraw_grant(p.who.tenant, application_id, reason=reason,
                                                             on=c.today(), by=p.who.subject))
    c.read_model.catch_up()
    back = str(form.get("back", ""))
    if back == "contract":
        return p.redirect(f"{PREFIX}/applications/{application_id}/contract?done=withdrawn")
    return p.redirect(f"{PREFIX}/waiting-list?done=withdrawn")


# --- the contract (R-APP-7) -----------------------------------------------------------------------

@router.get(APP + "/contract")
def contract_page(request: Request, p: SignedIn, application_id: AppIdPath, done: Done = None):
    c = p.container
    case = c.service.case(p.who.tenant, application_id)
    _log(request, *((case.contracted_loan, person) for person in case.applicants))
    if case.kind != "loan" or case.decision is None or case.decision.outcome != "granted":
        raise DomainError("not_eligible", f"application {application_id} is not a granted loan application",
                          rule="R-APP-7", field="application_id")
    position = c.service.register(p.who.tenant).position_of(application_id)
    signed = {x.signer: x for x in case.signatures}
    signers = [*case.applicants, "official"]
    details = c.service.payee_details(case)
    payees = [{**details.get(x.payee_id, {}), "payee_id": x.payee_id, "kind": x.kind, "amount": x.amount}
              for x in case.payees]
    rows = payees + [{} for _ in range(max(PAYEE_ROWS - len(payees), 1))]
    return p.render("money_contract.html", case=case, terms=case.granted_terms, position=position,
                    signers=signers, signed=signed, unsigned=case.unsigned() if case.grant_status == "offered" else [],
                    payees=payees, rows=rows, kinds=PAYEE_KINDS, today=c.today().isoformat(), done=_done(done))


def _payees_of(form) -> list[dict]:
    """The form's payee rows (payee_id_0, kind_0, …), rows left empty skipped; checked by parse_payees."""
    out = []
    for i in range(20):
        row = {f: str(form.get(f"{f}_{i}", "") or "").strip() for f in PAYEE_FORM}
        if not any(v for f, v in row.items() if f != "kind"):
            continue
        out.append({f: v for f, v in row.items() if v or f in ("payee_id", "kind", "name", "iban", "amount")})
    return out


@router.post(APP + "/payees")
async def decide_payees(request: Request, p: SignedIn, application_id: AppIdPath):
    """R-APP-8: who the loan is paid to (names and accounts to the personal-data store, not the events);
    a new payee after a returned transfer needs this decision too."""
    form = await checked_form(request, p)
    c = p.container
    case = c.service.case(p.who.tenant, application_id)
    _log(request, *((case.contracted_loan, person) for person in case.applicants))
    decided_by = str(form.get("decided_by", "") or "").strip()
    if not decided_by or len(decided_by) > 200:
        raise invalid("decided_by is required: the official's name (at most 200 characters)", rule="R-APP-8",
                      field="decided_by")
    reasons = str(form.get("reasons", "") or "").strip()[:TEXT_MAX]
    payees = _payees_of(form)
    await run_in_threadpool(lambda: c.service.decide_payees(p.who.tenant, application_id, payees=payees,
                                                            decided_by=decided_by, reasons=reasons, on=c.today(),
                                                            by=p.who.subject))
    return p.redirect(f"{PREFIX}/applications/{application_id}/contract?done=payees#payees-h")


@router.post(APP + "/contract")
async def draw_contract(request: Request, p: SignedIn, application_id: AppIdPath):
    """Draw the contract again (another first due date, or when the rules refused it at the offer)."""
    form = await checked_form(request, p)
    c = p.container
    case = c.service.case(p.who.tenant, application_id)
    _log(request, *((None, person) for person in case.applicants))
    first = _day(str(form.get("first_due_date", "") or "").strip(), "first_due_date")
    await run_in_threadpool(lambda: c.service.draw_contract(p.who.tenant, application_id, on=c.today(),
                                                            by=p.who.subject, first_due_date=first))
    return p.redirect(f"{PREFIX}/applications/{application_id}/contract?done=drawn")


@router.get(APP + "/contract/{borrower_id}")
def contract_pdf(request: Request, p: SignedIn, application_id: AppIdPath, borrower_id: s.BorrowerIdPath,
                 download: Annotated[bool, Query()] = False):
    """The contract as sent to one borrower, opened with their key: shown in the browser, or saved."""
    from adapters.notices.store import PdfNotFound

    c = p.container
    case = c.service.case(p.who.tenant, application_id)
    _log(request, (case.contracted_loan, borrower_id))
    found = next((x for x in (case.contract.letters if case.contract else ()) if x.borrower_id == borrower_id), None)
    if found is None:
        raise DomainError("not_found", f"application {application_id} has no contract to {borrower_id}",
                          rule="R-APP-7", field="borrower_id")
    try:
        pdf = c.notices.pdfs.get(found.hash, c.borrowers.key(p.who.tenant, borrower_id))
    except PdfNotFound:
        raise DomainError("not_found", "the contract is no longer stored (erased)", rule="R-DATA-2",
                          field="borrower_id") from None
    disposition = "attachment" if download else "inline"
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'{disposition}; filename="contract-{application_id}-{borrower_id}.pdf"'})


@router.post(APP + "/contract/signatures")
async def sign(request: Request, p: SignedIn, application_id: AppIdPath):
    """A borrower's signature as given on the contract, or the official's for the organiser; the last
    one concludes the contract and grants the loan (LoanGranted) in the same write."""
    form = await checked_form(request, p)
    c = p.container
    signer = str(form.get("signer", "") or "").strip()
    if not signer or len(signer) > 64:
        raise invalid("signer is required: a borrower's id or official", rule="R-APP-7", field="signer")
    case = c.service.case(p.who.tenant, application_id)
    _log(request, *((None, person) for person in case.applicants))
    written = await run_in_threadpool(lambda: c.service.sign_contract(p.who.tenant, application_id, signer=signer,
                                                                      on=c.today(), by=p.who.subject))
    if written.result.contracted_loan:
        _log(request, *((written.result.contracted_loan, person) for person in written.result.applicants))
        c.read_model.catch_up()  # the new loan is on the work queue and the portfolio at once
        return p.redirect(f"{PREFIX}/applications/{application_id}/contract?done=concluded")
    return p.redirect(f"{PREFIX}/applications/{application_id}/contract?done=signed")


# --- the disbursement (R-APP-8) -------------------------------------------------------------------

@router.get("/disbursements")
def to_follow(request: Request, p: SignedIn):
    """Each loan contracted through an application with its disbursement status (newest first)."""
    c = p.container
    loans = c.service.disbursements_to_follow(p.who.tenant)
    _log(request, *((x["loan_id"], None) for x in loans))
    return p.render("money_disbursements.html", loans=loans)


@router.get(LOAN + "/disbursements")
def disbursement_page(request: Request, p: SignedIn, loan_id: s.LoanIdPath, done: Done = None,
                      file: Annotated[str | None, Query(max_length=64, pattern=s.ID_PATTERN)] = None):
    c = p.container
    loan = c.service.loan(p.who.tenant, loan_id, read_only=True)  # 404 for another organiser's loan
    _log(request, *((loan_id, person) for person in (loan.borrower_id, loan.co_borrower_id)))
    try:
        status = c.service.disbursement_status(p.who.tenant, loan_id)
    except DomainError as outside:
        if outside.code != "not_eligible":
            raise
        status = None  # granted outside an application (POST /v1/loans): paid out outside Luotto
    return p.render("money_loan.html", loan_id=loan_id, status=status, today=c.today().isoformat(),
                    done=_done(done), file=file)


@router.post(LOAN + "/disbursements")
async def disburse(request: Request, p: SignedIn, loan_id: s.LoanIdPath):
    """One pain.001 file for every payee without a standing transfer; the page then offers it."""
    form = await checked_form(request, p)
    c = p.container
    loan = c.service.loan(p.who.tenant, loan_id, read_only=True)
    _log(request, *((loan_id, person) for person in (loan.borrower_id, loan.co_borrower_id)))
    on = _on(p, form)
    out = await run_in_threadpool(lambda: c.service.disburse(p.who.tenant, loan_id, on=on, by=p.who.subject))
    c.read_model.catch_up()
    return p.redirect(f"{PREFIX}/loans/{loan_id}/disbursements?done=disbursed&file={out['message_id']}")


@router.get(LOAN + "/disbursements/{message_id}")
def disbursement_file(request: Request, p: SignedIn, loan_id: s.LoanIdPath, message_id: s.LoanIdPath):
    """An earlier pain.001 file again, byte for byte (application.disbursements.disbursement_file)."""
    c = p.container
    loan = c.service.loan(p.who.tenant, loan_id, read_only=True)
    _log(request, *((loan_id, person) for person in (loan.borrower_id, loan.co_borrower_id)))
    body = c.service.disbursement_file(p.who.tenant, loan_id, message_id)
    return Response(body, media_type="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{message_id}.xml"'})


@router.post(LOAN + "/disbursements/{transfer_id}/return")
async def returned(request: Request, p: SignedIn, loan_id: s.LoanIdPath, transfer_id: s.LoanIdPath):
    """The bank returned a transfer: its payee may be paid again or replaced by a new payee decision."""
    form = await checked_form(request, p)
    c = p.container
    loan = c.service.loan(p.who.tenant, loan_id, read_only=True)
    _log(request, *((loan_id, person) for person in (loan.borrower_id, loan.co_borrower_id)))
    on = _on(p, form)
    await run_in_threadpool(lambda: c.service.return_transfer(p.who.tenant, loan_id, transfer_id, on=on))
    c.read_model.catch_up()
    return p.redirect(f"{PREFIX}/loans/{loan_id}/disbursements?done=returned")
