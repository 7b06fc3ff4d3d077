"""The back office pages: payments (the unallocated queue and its allocation, bank-file upload
with its report), the portfolio with server-rendered SVG charts, and the access log for auditors."""
from __future__ import annotations

import datetime as dt
import tempfile
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from api import schemas as s
from api.web.core import PREFIX, Page, checked_form, signed_in
from application.payment_files import import_payments, organiser_accounts
from domain.errors import invalid
from domain.money import format_cents
from domain.policy import Policy
from domain.values import identifier_problem
from projections import console_figures as figures

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SignedIn = Annotated[Page, Depends(signed_in)]
MAX_FILE_BYTES = 64 * 1024 * 1024  # as POST /v1/payments/files


@router.get("/payments")
def payments(request: Request, p: SignedIn, done: Annotated[str | None, Query(max_length=64)] = None):
    rows = [{**r, "amount": format_cents(r["amount"])}
            for r in p.container.read_model.unallocated(p.who.tenant, limit=200)]
    return p.render("payments.html", rows=rows, report=None, done=done)


@router.post("/payments/{payment_id}/allocation")
async def allocate(request: Request, p: SignedIn, payment_id: s.PaymentIdPath):
    form = await checked_form(request, p)
    loan_id = str(form.get("loan_id", "")).strip()
    if identifier_problem(loan_id) is not None or not loan_id:
        raise invalid("give the loan id the payment belongs to", rule="R-PAY-2", field="loan_id")
    request.state.loan_id = loan_id  # the access log (R-DATA-5)
    c = p.container
    await run_in_threadpool(lambda: c.service.allocate_payment(tenant=p.who.tenant, payment_id=payment_id,
                                                               loan_id=loan_id, on=c.today(),
                                                               allocated_by=p.who.subject))
    c.read_model.catch_up()
    return p.redirect(f"{PREFIX}/payments?done={payment_id}")


@router.post("/payments/files")
async def upload(request: Request, p: SignedIn):
    """A camt.054 or KTL file, as the API imports it (R-PAY-1: a second import lists duplicates)."""
    form = await checked_form(request, p)
    upload_ = form.get("file")
    if upload_ is None or isinstance(upload_, str):
        raise invalid("choose the bank file to upload", field="file")
    c, tenant = p.container, p.who.tenant
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        size = 0
        while chunk := await upload_.read(1024 * 1024):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise invalid(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB", field="file")
            spool.write(chunk)
        spool.seek(0)
        report = await run_in_threadpool(lambda: import_payments(
            c.service, tenant, spool, on=c.today(), accounts=organiser_accounts(c.settings, tenant),
            queued_by=p.who.subject))
    if report.file_rejected:
        raise invalid(f"file refused, nothing imported: {report.file_rejected}", field="file")
    request.state.access = [(loan_id, None) for loan_id in sorted(report.loans)]  # R-DATA-5
    c.read_model.catch_up()
    rows = [{**r, "amount": format_cents(r["amount"])} for r in c.read_model.unallocated(tenant, limit=200)]
    return p.render("payments.html", rows=rows, report=report.as_dict(), done=None)


def _bars(values: list[tuple[str, int]], width: int = 480, height: int = 160) -> dict:
    """Pixel geometry of a bar chart (integers; the money shown beside it is text)."""
    top = max([v for _, v in values] + [1])
    step = width // max(len(values), 1)
    bars = [{"label": label, "value": v, "x": i * step + 4, "w": max(step - 8, 2),
             "h": v * (height - 20) // top, "y": height - 20 - v * (height - 20) // top}
            for i, (label, v) in enumerate(values)]
    return {"bars": bars, "width": width, "height": height}


def _figures(p: Page, tenant: str, today: dt.date) -> tuple:
    """The portfolio's figures; computed again whenever the read models moved (any event) or the
    day changed, else the ones computed for exactly this position are shown (kept per app)."""
    c = p.container
    state = p.request.app.state
    cache = getattr(state, "console_figures", None)
    if cache is None:
        cache = state.console_figures = {}
    key = (c.read_model.position(), today)
    found = cache.get(tenant)
    if found is not None and found[0] == key:
        return found[1]
    store = c.read_model.store
    first = (today.replace(day=1) - dt.timedelta(days=330)).replace(day=1)
    in_use, months = figures.capital_and_grants(store, tenant, first)
    computed = (in_use, figures.overdue_by_age(store, tenant, today), months)
    cache[tenant] = (key, computed)
    return computed


@router.get("/portfolio")
def portfolio(p: SignedIn):
    c, tenant = p.container, p.who.tenant
    today = c.today()
    in_use, ages, months = _figures(p, tenant, today)
    limit = Policy.from_json(c.service.register(tenant).policy).capital_limit
    share = None if not limit else min(in_use * 1000 // limit, 1000)  # per mille of the limit, for the bar
    return p.render("portfolio.html", day=today.isoformat(), in_use=format_cents(in_use),
                    limit=format_cents(limit) if limit is not None else None, share=share,
                    ages=[(k, format_cents(v)) for k, v in ages.items()],
                    ages_chart=_bars([(p.value("port.age", k), v) for k, v in ages.items()]),
                    months=[(m, n, format_cents(total)) for m, n, total in months],
                    months_chart=_bars([(m[2:], n) for m, n, _ in months]))  # "25-03": twelve fit


@router.get("/access-log")
def access_log(request: Request, p: SignedIn, loan_id: Annotated[str | None, Query(max_length=64)] = None,
               subject: Annotated[str | None, Query(max_length=128)] = None,
               offset: Annotated[int, Query(ge=0, le=10**9)] = 0):
    rows = p.container.access_log.query(p.who.tenant, loan_id=loan_id or None, subject=subject or None, limit=100,
                                        offset=offset)
    return p.render("access_log.html", rows=rows, loan_id=loan_id or "", subject=subject or "", offset=offset,
                    more=len(rows) == 100)
