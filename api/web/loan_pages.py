"""A loan's further pages: the replay (as it stood on a date, as known at an instant, and what
each decision-maker saw, R-EVID-4), the decisions with their rule checks before submitting, and
the evidence bundle (R-EVID-3)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api import schemas as s
from api.web.core import PREFIX, Page, checked_form, signed_in
from api.web.views import loan_page
from application.decision_checks import KINDS, check, record
from domain.errors import DomainError, invalid
from domain.loan import HARDSHIP_CAUSES, Decision
from domain.money import parse_amount

router = APIRouter(prefix=PREFIX + "/loans/{loan_id}", include_in_schema=False)
SignedIn = Annotated[Page, Depends(signed_in)]
HELSINKI = ZoneInfo("Europe/Helsinki")
TEXT_MAX = 2000


def _day(text: str | None, field: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise invalid(f"{field} must be a date YYYY-MM-DD", rule="R-DATE-1", field=field) from None


def _instant(text: str | None) -> dt.datetime | None:
    """A datetime-local field (Europe/Helsinki wall time, as the person sees it) as an aware instant."""
    if not text:
        return None
    try:
        found = dt.datetime.fromisoformat(text)
    except ValueError:
        raise invalid("known_at must be a date and time", rule="R-EVID-4", field="known_at") from None
    return found if found.tzinfo else found.replace(tzinfo=HELSINKI)


@router.get("/replay")
def replay(p: SignedIn, loan_id: s.LoanIdPath, on: Annotated[str | None, Query(max_length=10)] = None,
           known_at: Annotated[str | None, Query(max_length=32)] = None):
    from application.replay import replay as run_replay

    c = p.container
    day, instant = _day(on, "on"), _instant(known_at)
    if day is not None and day > c.today():
        raise invalid(f"on {day} is in the future", rule="R-DATE-1", field="on")
    view = loan_page(c, p.who.tenant, loan_id, p, on=day, known_at=instant)
    seen = run_replay(c.service, p.who.tenant, loan_id, dt.date.fromisoformat(view["day"]), instant)["decisions"]
    return p.render("replay.html", **view, on=on or "", known_at=known_at or "", asked_instant=instant,
                    decisions=seen)


@router.get("/evidence")
def evidence(p: SignedIn, loan_id: s.LoanIdPath) -> Response:
    """The same bundle as GET /v1/loans/{id}/evidence; the letters and free text only for a reader
    who may see personal data (R-DATA-3)."""
    from application.evidence_export import export_zip

    body = export_zip(p.container, p.who.tenant, loan_id, personal_data=p.may("personal_data"))
    return Response(body, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="evidence-{loan_id}.zip"'})


def _values(kind, form) -> dict:
    values = {f: str(form.get(f, "")).strip() for f in kind.fields}
    if "instalment_amount" in values:
        values["instalment_amount_cents"] = parse_amount(values["instalment_amount"], "instalment_amount")
    if values.get("amount"):
        values["amount_cents"] = parse_amount(values["amount"], "amount")
    for f in ("months", "from_instalment", "instalment"):
        if f in values and not values[f].isdigit():
            raise invalid(f"{f} must be a whole number", field=f)
    if "new_due_date" in values and _day(values["new_due_date"], "new_due_date") is None:
        raise invalid("new_due_date must be a date YYYY-MM-DD", rule="R-DATE-1", field="new_due_date")
    return values


def _decision_page(p: Page, loan_id: str, kind, *, values: dict, outcome=None, checked: bool = False,
                   reasons: str = "", legal_basis: str = "", on: str = "", status: int = 200):
    view = loan_page(p.container, p.who.tenant, loan_id, p)
    return p.render("decision.html", status_code=status, **view, kind=kind, values=values, outcome=outcome,
                    checked=checked, reasons=reasons, legal_basis=legal_basis, on=on or p.container.today().isoformat(),
                    causes=HARDSHIP_CAUSES)


def _make(kind_name: str):
    kind = KINDS[kind_name]

    def form_page(p: SignedIn, loan_id: s.LoanIdPath):
        return _decision_page(p, loan_id, kind, values={})

    async def submit(request: Request, p: SignedIn, loan_id: s.LoanIdPath):
        form = await checked_form(request, p)
        return await _submit(p, loan_id, kind, form)

    form_page.__name__, submit.__name__ = f"{kind_name}_form", f"{kind_name}_submit"
    router.add_api_route(f"/decisions/{kind_name}", form_page, methods=["GET"])
    router.add_api_route(f"/decisions/{kind_name}", submit, methods=["POST"])


async def _submit(p: Page, loan_id: str, kind, form):
    """`check`: the rules' verdict, shown with the form; `record` (after a check): recorded for
    real, by the signed-in person (never a name typed in the form)."""
    from starlette.concurrency import run_in_threadpool

    c = p.container
    reasons, legal_basis = str(form.get("reasons", "")).strip(), str(form.get("legal_basis", "")).strip()
    if not reasons or len(reasons) > TEXT_MAX or len(legal_basis) > 200:
        raise invalid(f"reasons are required (at most {TEXT_MAX} characters)", field="reasons")
    on = _day(str(form.get("on", "")), "on") or c.today()
    if on > c.today():
        raise invalid(f"on {on} is in the future", rule="R-DATE-1", field="on")
    values = _values(kind, form)
    decision = Decision(p.who.subject, reasons, legal_basis or None)
    outcome = await run_in_threadpool(check, c.service, p.who.tenant, loan_id, kind, on, decision, values)
    if form.get("action") == "record" and outcome is None:
        await run_in_threadpool(record, c.service, p.who.tenant, loan_id, kind, on, decision, values)
        c.read_model.catch_up()  # the work queue shows it at once
        return p.redirect(f"{PREFIX}/loans/{loan_id}?done={kind.name}")
    return await run_in_threadpool(lambda: _decision_page(
        p, loan_id, kind, values={k: v for k, v in values.items() if not k.endswith("_cents")}, outcome=outcome,
        checked=True, reasons=reasons, legal_basis=legal_basis, on=on.isoformat(),
        status=200 if outcome is None else 409 if outcome.code != "invalid_request" else 422))


for _name in KINDS:
    _make(_name)
