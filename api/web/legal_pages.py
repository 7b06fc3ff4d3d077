"""After acceleration (issue 22): a loan's court steps and collection-agency transfers in the console.

One page lists the legal status (application.replay.legal_status) and holds the forms; each form
calls the same application functions as the API (api/legal.py, api/loans.py), recorded by the
signed-in person, never by a name typed in the form. Which forms a reader gets follows the access
table (api/access.py): court package, legal steps and the agency's file for `legal`; transfer and
recall for `decision`; the agency's payments for `payment_admin`.
"""
from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api import schemas as s
from api.web.core import PREFIX, Page, checked_form, signed_in
from api.web.loan_pages import TEXT_MAX, _day
from api.web.views import loan_page
from domain.errors import invalid
from domain.loan import Decision
from domain.money import parse_amount

router = APIRouter(prefix=PREFIX + "/loans/{loan_id}", include_in_schema=False)
SignedIn = Annotated[Page, Depends(signed_in)]
TRANSFER = "/collection-transfer/{transfer_id}"
STEPS = ("claim_filed", "judgment", "enforcement")
OUTCOMES = ("granted", "partly_granted", "rejected")


def _on(p: Page, form, field: str = "on"):
    """A form's date, today when left empty; never in the future (R-DATE-1)."""
    day = _day(str(form.get(field, "") or ""), field) or p.container.today()
    if day > p.container.today():
        raise invalid(f"{field} {day} is in the future (today is {p.container.today()})", rule="R-DATE-1",
                      field=field)
    return day


def _decision(p: Page, form) -> Decision:
    reasons, basis = str(form.get("reasons", "")).strip(), str(form.get("legal_basis", "")).strip()
    if not reasons or len(reasons) > TEXT_MAX or len(basis) > 200:
        raise invalid(f"reasons are required (at most {TEXT_MAX} characters)", field="reasons")
    return Decision(p.who.subject, reasons, basis or None)


def _text(form, field: str, required: bool = True, most: int = 200) -> str | None:
    value = str(form.get(field, "") or "").strip()
    if (required and not value) or len(value) > most:
        raise invalid(f"{field} is required (at most {most} characters)", rule="R-LEGAL-1", field=field)
    return value or None


def _done(p: Page, loan_id: str, what: str):
    p.container.read_model.catch_up()  # the work queue's legal_status list shows it at once
    return p.redirect(f"{PREFIX}/loans/{loan_id}/legal?done={what}")


@router.get("/legal")
def legal_page(p: SignedIn, loan_id: s.LoanIdPath, done: Annotated[str | None, Query(max_length=40)] = None):
    from application.replay import legal_status

    c = p.container
    view = loan_page(c, p.who.tenant, loan_id, p)
    status = legal_status(c.service.loan(p.who.tenant, loan_id), c.today())
    overdue = [r for r in view["schedule"] if r["unpaid"] != "0.00" and r["due_date"] < c.today().isoformat()]
    return p.render("legal.html", **view, legal=status, steps=STEPS, outcomes=OUTCOMES, overdue=overdue,
                    today=c.today().isoformat(), done=done if done in ("legal_step", "transfer", "payment",
                                                                       "recall") else None)


@router.get("/court-package")
def court_package(p: SignedIn, loan_id: s.LoanIdPath, on: Annotated[str | None, Query(max_length=10)] = None):
    """The same zip as GET /v1/loans/{id}/court-package (application.court_package.build_zip)."""
    from application.court_package import build_zip

    day = _on(p, {"on": on or ""})
    body = build_zip(p.container, p.who.tenant, loan_id, on=day)
    return Response(body, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="court-package-{loan_id}-{day}.zip"'})


@router.post("/legal-steps")
async def legal_step(request: Request, p: SignedIn, loan_id: s.LoanIdPath):
    """A claim filed (court, case number, amount), its judgment (outcome) or its enforcement (R-LEGAL-1)."""
    form = await checked_form(request, p)
    kind = str(form.get("kind", ""))
    if kind not in STEPS:
        raise invalid(f"kind must be one of {', '.join(STEPS)}", rule="R-LEGAL-1", field="kind")
    amount = str(form.get("amount", "") or "").strip()
    outcome = str(form.get("outcome", "") or "").strip() or None
    fields = dict(on=_on(p, form), decision=_decision(p, form), kind=kind, case_number=_text(form, "case_number"),
                  court=_text(form, "court", required=False), amount=parse_amount(amount, "amount") if amount else None,
                  outcome=outcome if kind == "judgment" else None)
    await run_in_threadpool(lambda: p.container.service.record_legal_step(p.who.tenant, loan_id, **fields))
    return _done(p, loan_id, "legal_step")


@router.post("/collection-transfer")
async def transfer(request: Request, p: SignedIn, loan_id: s.LoanIdPath):
    """Overdue instalments (ticked), or with none ticked the accelerated loan, to the agency (R-COL-1)."""
    form = await checked_form(request, p)
    numbers = form.getlist("instalments")
    if not all(n.isdigit() for n in numbers):
        raise invalid("instalments must be instalment numbers", rule="R-COL-1", field="instalments")
    fields = dict(on=_on(p, form), decision=_decision(p, form), instalments=[int(n) for n in numbers] or None)
    await run_in_threadpool(lambda: p.container.service.transfer_to_collection(p.who.tenant, loan_id, **fields))
    return _done(p, loan_id, "transfer")


@router.get(TRANSFER + "/export")
def export(p: SignedIn, loan_id: s.LoanIdPath, transfer_id: s.LoanIdPath,
           format: Annotated[str, Query(max_length=4)] = "json"):
    """The agency's file, as GET /v1/loans/{id}/collection-transfer/{t}/export (application.collection_export)."""
    from application.collection_export import transfer_csv, transfer_document

    if format not in ("json", "csv"):
        raise invalid(f"format must be json or csv, got {format!r}", rule="R-COL-1", field="format")
    document = transfer_document(p.container, p.who.tenant, loan_id, transfer_id)
    body, media = ((transfer_csv(document), "text/csv; charset=utf-8") if format == "csv" else
                   (json.dumps(document, ensure_ascii=False, indent=2), "application/json"))
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="collection-{transfer_id}.{format}"'})


@router.post(TRANSFER + "/payments")
async def agency_payment(request: Request, p: SignedIn, loan_id: s.LoanIdPath, transfer_id: s.LoanIdPath):
    from application.collection_export import post_agency_payment

    form = await checked_form(request, p)
    payment_id = _text(form, "payment_id", most=64)
    fields = dict(payment_id=payment_id, amount=parse_amount(str(form.get("amount", "")).strip(), "amount"),
                  value_date=_on(p, form, "value_date"), on=p.container.today())
    await run_in_threadpool(post_agency_payment, p.container, p.who.tenant, loan_id, transfer_id, **fields)
    return _done(p, loan_id, "payment")


@router.post(TRANSFER + "/recall")
async def recall(request: Request, p: SignedIn, loan_id: s.LoanIdPath, transfer_id: s.LoanIdPath):
    form = await checked_form(request, p)
    fields = dict(on=_on(p, form), decision=_decision(p, form), transfer_id=transfer_id)
    await run_in_threadpool(lambda: p.container.service.recall_collection(p.who.tenant, loan_id, **fields))
    return _done(p, loan_id, "recall")
