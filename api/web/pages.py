"""The console's foundation pages: sign-in (local development only here; OpenID Connect in
api/web/oidc.py), language, the work queue and a loan. Every route is a row of api/access.py."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse

from adapters.auth import ROLES
from api import schemas as s
from api.web import i18n
from api.web.core import PREFIX, Page, anyone, checked_form, local, signed_in
from api.web.session import LANG_COOKIE
from api.web.views import loan_page
from domain.errors import DomainError
from domain.money import format_cents

router = APIRouter(prefix=PREFIX, include_in_schema=False)
STATIC = Path(__file__).parent / "static"
Anyone = Annotated[Page, Depends(anyone)]
SignedIn = Annotated[Page, Depends(signed_in)]


def dev_sign_in_allowed(settings) -> bool:
    """The local sign-in of `make run`: never with an identity provider set, never in production."""
    return settings.environment == "development" and not settings.oidc_issuer


@router.get("/static/console.css")
async def stylesheet() -> FileResponse:
    return FileResponse(STATIC / "console.css", media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("")
async def home(p: Anyone):
    return p.redirect(f"{PREFIX}/work-queue")


@router.get("/sign-in")
async def sign_in(p: Anyone, next: str | None = None):
    settings = p.container.settings
    return p.render("sign_in.html", next=local(next), oidc=bool(settings.oidc_issuer and settings.console_client_id),
                    dev=dev_sign_in_allowed(settings), tenants=sorted(settings.tenants), roles=ROLES)


@router.post("/dev-sign-in")
async def dev_sign_in(request: Request, p: Anyone):
    form = await checked_form(request, p)
    settings = p.container.settings
    if not dev_sign_in_allowed(settings):
        raise DomainError("forbidden", "the development sign-in is refused: an identity provider is set or this "
                                       "is not a development environment", rule="R-WEB-2")
    subject, tenant = str(form.get("subject", "")).strip(), str(form.get("tenant", ""))
    roles = [r for r in form.getlist("roles") if r in ROLES]
    if not subject or tenant not in settings.tenants or not roles:
        raise DomainError("invalid_request", "give a user id, an organiser served here and at least one role",
                          field="subject" if not subject else "tenant" if tenant not in settings.tenants else "roles")
    p.start_session(sub=subject, tenant=tenant, roles=roles, via="dev")
    return p.redirect(local(str(form.get("next", ""))))


@router.post("/sign-out")
async def sign_out(request: Request, p: Anyone):
    await checked_form(request, p)
    p.start_session()
    return p.redirect(f"{PREFIX}/sign-in")


@router.post("/language")
async def language(request: Request, p: Anyone):
    form = await checked_form(request, p)
    chosen = str(form.get("lang", ""))
    if chosen in i18n.LANGUAGES:
        p.cookies[LANG_COOKIE] = chosen
    return p.redirect(local(str(form.get("next", ""))))


@router.get("/work-queue")
def work_queue(request: Request, p: SignedIn):
    """What needs doing today, by role: the loans a caseworker or decision maker must act on, the
    discussions requested, and for finance the unallocated payments."""
    c, who = p.container, p.who
    today = c.today()
    queue = c.read_model.work_queue(who.tenant, today, limit=50, unallocated=who.may("payment_admin"))
    lists = []
    if who.may("hardship") or who.may("audit") or who.may("decision"):
        for key in ("acceleration_conditions_met", "notices_near_cure_deadline", "hardships_active"):
            lists.append((key, queue[key], queue["counts"][key]))
        if who.may("prepare"):
            from api.applications import discussions_due

            due = discussions_due(c, who.tenant, today)
            lists.append(("discussions_requested", due, len(due)))
        if who.may("decision"):  # issue 22: received applications wait for a second person's decision
            from api.web.application_pages import awaiting_decision

            waiting = awaiting_decision(c, who.tenant)
            lists.append(("applications_to_decide", waiting[:50], len(waiting)))
    unallocated = None
    if who.may("payment_admin"):
        rows = [{**r, "amount": format_cents(r["amount"])} for r in c.read_model.unallocated(who.tenant, limit=50)]
        unallocated = (rows, queue["counts"]["unallocated_payments"])
    shown = {(r.get("loan_id"), r.get("borrower_id")) for _, rows, _ in lists for r in rows}
    request.state.access = sorted(shown, key=lambda pair: tuple(x or "" for x in pair))  # R-DATA-5
    return p.render("work_queue.html", day=today.isoformat(), lists=lists, unallocated=unallocated)


@router.get("/loans")
async def find_loan(p: SignedIn, loan_id: Annotated[str, Query(max_length=64, pattern=s.ID_PATTERN)]):
    return p.redirect(f"{PREFIX}/loans/{loan_id}")


@router.get("/loans/{loan_id}")
def loan(p: SignedIn, loan_id: s.LoanIdPath, done: Annotated[str | None, Query(max_length=32)] = None):
    """Balances, the schedule with payment instructions, and every event in words; links to the
    replay, the evidence and the decisions the reader's roles may make."""
    from application.decision_checks import KINDS

    view = loan_page(p.container, p.who.tenant, loan_id, p)
    return p.render("loan.html", **view, kinds=list(KINDS.values()), done=done if done in KINDS else None)
