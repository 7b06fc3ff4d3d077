"""Applications in the console (issue 22): the list, intake with the assessment shown as facts are
entered, preparation (judgement grounds, Act §4(3) criteria, Act §10 social assistance), the
decision by a second person with each applicant's letter previewed in their language, relief
applications on a loan, and requests for a personal discussion. Each form calls the same
application commands as the API (api/applications.py), as the signed-in person (`by` is the
session's subject, so four eyes, R-APP-5, compares people); every route is a row of api/access.py.

Addresses and form fields (plain forms; other pages and browser tests may fill them):
  GET  /console/applications?status=&page=      list by status (received|granted|rejected|withdrawn), 50 a page
  GET  /console/applications/new                intake form; POST /console/applications with
       action=recalculate (assessment shown, nothing stored) or action=save (received and assessed,
       303 to the application). Fields: application_id (hidden, fresh per form), applicant,
       co_applicant, home_municipality, purpose, requested_amount, first_due_date,
       requested_instalment, requested_term_months, adults, open_social_loans,
       debt_adjustment_ongoing, children-N-born, incomes-N-{kind,amount,from,to},
       expenses-N-{kind,amount,from,to}, debts-N-{creditor,basis,amount,monthly_payment,
       in_enforcement,paid_off_by_loan}, assets-N-{kind,value,realisable}; the applicant's details
       for letters person_name, person_identity_code, person_address (lines), person_language (fi|sv).
  POST /console/assessment-preview              the same fields: the assessment as an HTML fragment
       (static/application.js asks it as fields change; nothing stored)
  GET  /console/applications/{id}               the application: facts, assessment, preparation, decision
  GET|POST /console/applications/{id}/facts     the facts again (action=recalculate|save: a new version, assessed)
  POST /console/applications/{id}/assessment    record the assessment of the facts as they stand
  POST /console/applications/{id}/judgement-grounds   ground, reasons
  POST /console/applications/{id}/criteria      understood=yes (Act §4(3))
  POST /console/applications/{id}/social-assistance   finding, reasons (Act §10)
  POST /console/applications/{id}/decision      outcome (granted|rejected), decided_by (the name on the
       letter), grounds (repeated), reasons, override_reasons, legal_basis, principal, term_months,
       purpose_class; action=preview (rules and letters, nothing stored) or action=record
       (303 to /console/applications/{id}?done=decided; four eyes refused: 409 on the page)
  POST /console/applications/{id}/withdrawal    reason
  GET  /console/applications/{id}/letters/{borrower_id}   the decision letter sent (PDF)
  GET  /console/loans/{loan_id}/relief          relief application form; POST
       /console/loans/{loan_id}/relief-applications: application_id, kind, months, from_instalment,
       instalment, new_due_date, instalment_amount, exemption_kind, amount, explanation
  POST /console/discussions                     request_id, borrower_id, application_id, loan_id
  POST /console/discussions/{request_id}/meeting   held_on
"""
from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from api import schemas as s
from api.errors import STATUS
from api.web import application_forms as forms
from api.web.core import PREFIX, TEMPLATES, Page, checked_form, signed_in
from api.web.loan_pages import TEXT_MAX, _day
from domain.case_state import JUDGED_GROUNDS, LOAN, RELIEF_KINDS, SOCIAL_ASSISTANCE_FINDINGS
from domain.errors import DomainError, invalid
from domain.statistics import PURPOSE_CLASSES
from domain.values import identifier_problem

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SignedIn = Annotated[Page, Depends(signed_in)]
APP = "/applications/{application_id}"
STATUSES = ("received", "granted", "rejected", "withdrawn")
PAGE_SIZE = 50
SCRIPT = Path(__file__).parent / "static" / "application.js"
DONE = ("received", "facts", "assessed", "judged", "criteria", "social_assistance", "decided", "withdrawn",
        "discussion", "relief")


def _fresh_id(prefix: str, today: dt.date) -> str:
    """A new id for a form: a second send of the same form is the same application (idempotent)."""
    return f"{prefix}-{today:%Y%m%d}-{secrets.token_hex(3).upper()}"


def _log(request: Request, *people: str | None, loan_id: str | None = None) -> None:
    """R-DATA-5: one access-log row for each applicant whose data the page read or changed."""
    request.state.access = [(loan_id, p) for p in dict.fromkeys(p for p in people if p)]


def _text(form, field: str, *, required: bool = False, most: int = TEXT_MAX, rule: str = "R-APP-5") -> str:
    value = str(form.get(field, "") or "").strip()
    if (required and not value) or len(value) > most:
        raise invalid(f"{field} is required (at most {most} characters)" if required else
                      f"{field} is longer than {most} characters", rule=rule, field=field)
    return value


def _on(p: Page, form, field: str = "on") -> dt.date:
    """A form's business date, today when left empty; never in the future (R-DATE-1)."""
    day = _day(str(form.get(field, "") or ""), field) or p.container.today()
    if day > p.container.today():
        raise invalid(f"{field} {day} is in the future (today is {p.container.today()})", rule="R-DATE-1",
                      field=field)
    return day


def assessment_of(p: Page, facts: dict) -> tuple[dict | None, DomainError | None]:
    """The assessment (domain.assessment.assess, the one pure function) of facts as a form states them,
    under the organiser's policy, on today's date; or the refusal naming the field. Stores nothing."""
    from api.applications import check_texts
    from domain.applications import parse_application
    from domain.assessment import assess

    c = p.container
    try:
        check_texts(facts, "facts")
        parsed = parse_application(facts, "facts")
        return assess(parsed, c.service.policy(p.who.tenant), c.service.rates, c.today()).to_json(), None
    except DomainError as e:
        return None, e


def _people(facts: dict) -> tuple[str, ...]:
    return tuple(x for x in (facts.get("applicant"), facts.get("co_applicant")) if isinstance(x, str) and x)


def _check_people(facts: dict) -> None:
    for field in ("applicant", "co_applicant"):
        value = facts.get(field)
        if value and identifier_problem(value):
            raise invalid(f"facts.{field} {identifier_problem(value)}", rule="R-APP-1", field=f"facts.{field}")


# --- static: the progressive enhancement of the intake form ----------------------------------------

@router.get("/static/application.js")
async def script() -> FileResponse:
    return FileResponse(SCRIPT, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})


# --- the list ------------------------------------------------------------------------------------

@router.get("/applications")
def applications(request: Request, p: SignedIn, status: Annotated[str | None, Query(max_length=16)] = None,
                 page: Annotated[int, Query(ge=1, le=10**6)] = 1):
    """The organiser's applications, the latest change first, by status; 50 a page."""
    chosen = status if status in STATUSES else None
    cases = p.container.service.case_register(p.who.tenant).cases
    rows = sorted(((a, r) for a, r in cases.items() if chosen is None or r["status"] == chosen),
                  key=lambda pair: (pair[1]["on"], pair[0]), reverse=True)
    shown = [{"application_id": a, **r, "on": r["on"].isoformat()}
             for a, r in rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]]
    _log(request, *(x for r in shown for x in r["applicants"]))
    return p.render("application_list.html", rows=shown, status=chosen or "", statuses=STATUSES, page_no=page,
                    more=len(rows) > page * PAGE_SIZE, total=len(rows))


# --- intake --------------------------------------------------------------------------------------

def _intake(p: Page, *, values: dict, action: str, application_id: str, case=None, assessment=None,
            error: DomainError | None = None, status_code: int = 200, person: dict | None = None):
    return p.render("application_intake.html", status_code=status_code, v=values, action=action,
                    application_id=application_id, case=case, assessment=assessment, error=error,
                    person=person or {}, lists=forms.LISTS, max_rows=forms.MAX_ROWS)


@router.get("/applications/new")
def new_application(p: SignedIn):
    c = p.container
    return _intake(p, values=forms.form_of(None), action=f"{PREFIX}/applications",
                   application_id=_fresh_id("H", c.today()))


def _person_in(form) -> dict | None:
    from pydantic import ValidationError

    from api.people import BorrowerIn

    person = forms.person_of(form)
    if person is None:
        return None
    try:
        return BorrowerIn(**person).model_dump()
    except ValidationError as e:
        where = str(e.errors()[0]["loc"][0]) if e.errors() and e.errors()[0]["loc"] else "name"
        raise invalid(f"the applicant's {where.replace('_', ' ')}: {e.errors()[0]['msg']}", rule="R-DATA-1",
                      field=f"person_{where}") from None


@router.post("/applications")
async def receive(request: Request, p: SignedIn):
    """Recalculate: the assessment of the facts as typed, nothing stored. Save: the application
    received with its facts (the personal-data store, never the events) and assessed (R-APP-1 … 4)."""
    form = await checked_form(request, p)
    c, tenant, who = p.container, p.who.tenant, p.who
    application_id = str(form.get("application_id", "")).strip()
    if identifier_problem(application_id):
        raise invalid(f"application_id {identifier_problem(application_id)}", rule="R-APP-1", field="application_id")
    facts = forms.facts_of(form)
    _log(request, *_people(facts))
    values = forms.form_of(facts)
    assessment, error = assessment_of(p, facts)
    person = forms.person_of(form) or {}
    if error is None:
        try:
            _check_people(facts)
            person = _person_in(form) or {}
        except DomainError as e:
            error = e
    if error is not None or form.get("action") != "save":
        return _intake(p, values=values, action=f"{PREFIX}/applications", application_id=application_id,
                       assessment=assessment, error=error, person=person,
                       status_code=STATUS[error.code] if error else 200)

    def save() -> None:
        if person:
            c.borrowers.put(tenant, facts["applicant"], **person)
        c.service.receive_application(tenant, application_id, kind=LOAN, facts=facts, on=c.today(), by=who.subject)
        c.service.assess_application(tenant, application_id, on=c.today(), by=who.subject)

    await run_in_threadpool(save)
    return p.redirect(f"{PREFIX}/applications/{application_id}?done=received")


@router.post("/assessment-preview")
async def assessment_preview(request: Request, p: SignedIn):
    """The assessment section for the facts a form holds now (static/application.js); stores nothing."""
    form = await checked_form(request, p)
    facts = forms.facts_of(form)
    _log(request, *_people(facts))
    assessment, error = assessment_of(p, facts)
    html = TEMPLATES.get_template("application_assessment.html").render(
        page=p, _=p.t, lang=p.lang, assessment=assessment, error=error, recorded=None)
    return p.finish(HTMLResponse(html))


# --- one application -----------------------------------------------------------------------------

def _case(p: Page, request: Request, application_id: str):
    case = p.container.service.case(p.who.tenant, application_id)
    _log(request, *case.applicants, loan_id=case.loan_id)
    return case


def _application_page(p: Page, case, *, status_code: int = 200, done: str | None = None, decision: dict | None = None,
                      preview: dict | None = None):
    from api.applications import view

    c = p.container
    shown = view(c, case, facts=True)
    facts = shown.get("facts") or {}
    current = case.current_assessment()
    assessed_now = current is not None and current.facts_version == case.current_facts().version
    live, live_error = (None, None)
    if case.kind == LOAN and not assessed_now and facts:
        live, live_error = assessment_of(p, facts)
    found = sorted(set(current.grounds if current else ()) | {j.ground for j in case.judged})
    open_ = case.decision is None and case.withdrawn_on is None
    return p.render("application.html", status_code=status_code, a=shown, case=case, facts=facts,
                    assessment=shown.get("assessment") if assessed_now else live, assessed_now=assessed_now,
                    live_error=live_error, open=open_, done=done if done in DONE else None,
                    judged_grounds=JUDGED_GROUNDS, findings=SOCIAL_ASSISTANCE_FINDINGS, grounds_found=found,
                    purpose_classes=PURPOSE_CLASSES, d=decision or {}, preview=preview,
                    prepared_it=p.who.subject in case.prepared_by, today=c.today().isoformat(),
                    request_id=_fresh_id("K", c.today()))


@router.get(APP)
def application(request: Request, p: SignedIn, application_id: s.LoanIdPath,
                done: Annotated[str | None, Query(max_length=32)] = None):
    return _application_page(p, _case(p, request, application_id), done=done)


@router.get(APP + "/facts")
def facts_form(request: Request, p: SignedIn, application_id: s.LoanIdPath):
    c = p.container
    case = _case(p, request, application_id)
    facts = c.service.application_facts(case) if case.kind == LOAN else None
    if case.kind != LOAN or facts is None:
        raise DomainError("not_eligible", "only a loan application's stored facts can be edited", rule="R-APP-1")
    assessment, error = assessment_of(p, facts)
    return _intake(p, values=forms.form_of(facts), action=f"{PREFIX}/applications/{application_id}/facts",
                   application_id=application_id, case=case, assessment=assessment, error=error)


@router.post(APP + "/facts")
async def update_facts(request: Request, p: SignedIn, application_id: s.LoanIdPath):
    """A new version of the facts while the application is open (R-APP-1), assessed at once."""
    form = await checked_form(request, p)
    c, tenant, who = p.container, p.who.tenant, p.who
    case = _case(p, request, application_id)
    facts = forms.facts_of(form, keep=c.service.application_facts(case))
    assessment, error = assessment_of(p, facts)
    if error is not None or form.get("action") != "save":
        return _intake(p, values=forms.form_of(facts), action=f"{PREFIX}/applications/{application_id}/facts",
                       application_id=application_id, case=case, assessment=assessment, error=error,
                       status_code=STATUS[error.code] if error else 200)

    def save() -> None:
        c.service.update_application_facts(tenant, application_id, facts=facts, on=c.today(), by=who.subject)
        c.service.assess_application(tenant, application_id, on=c.today(), by=who.subject)

    await run_in_threadpool(save)
    return p.redirect(f"{PREFIX}/applications/{application_id}?done=facts")


async def _prepare(request: Request, p: SignedIn, application_id: str, done: str, command):
    form = await checked_form(request, p)
    _case(p, request, application_id)
    await run_in_threadpool(command, form, p.container.service, p.who.tenant, p.who.subject)
    return p.redirect(f"{PREFIX}/applications/{application_id}?done={done}#preparation")


@router.post(APP + "/assessment")
async def record_assessment(request: Request, p: SignedIn, application_id: s.LoanIdPath):
    """R-APP-2 … 4 on the facts as they stand, recorded with their hash (the decision rests on it)."""
    return await _prepare(request, p, application_id, "assessed", lambda form, sv, t, by: sv.assess_application(
        t, application_id, on=_on(p, form), by=by))


@router.post(APP + "/judgement-grounds")
async def judgement(request: Request, p: SignedIn, application_id: s.LoanIdPath):
    """R-APP-4: a ground only a caseworker can judge, with reasons (sealed, R-DATA-2)."""
    return await _prepare(request, p, application_id, "judged", lambda form, sv, t, by: sv.record_judgement_ground(
        t, application_id, ground=_text(form, "ground", required=True, most=40, rule="R-APP-4"),
        reasons=_text(form, "reasons", required=True, rule="R-APP-4"), on=_on(p, form), by=by))


@router.post(APP + "/criteria")
async def criteria(request: Request, p: SignedIn, application_id: s.LoanIdPath):
    """Act §4(3): the written granting criteria given, and the applicant understood them."""
    return await _prepare(request, p, application_id, "criteria", lambda form, sv, t, by: sv.give_granting_criteria(
        t, application_id, understood=form.get("understood") == "yes", on=_on(p, form), by=by))


@router.post(APP + "/social-assistance")
async def social_assistance(request: Request, p: SignedIn, application_id: s.LoanIdPath):
    """Act §10: the applicant's right to social assistance looked into."""
    return await _prepare(request, p, application_id, "social_assistance",
                          lambda form, sv, t, by: sv.look_into_social_assistance(
                              t, application_id, finding=_text(form, "finding", required=True, most=40),
                              reasons=_text(form, "reasons"), on=_on(p, form), by=by))


@router.post(APP + "/withdrawal")
async def withdrawal(request: Request, p: SignedIn, application_id: s.LoanIdPath):
    return await _prepare(request, p, application_id, "withdrawn", lambda form, sv, t, by: sv.withdraw_application(
        t, application_id, reason=_text(form, "reason"), on=_on(p, form), by=by))


# --- the decision (R-APP-5, R-APP-9) ---------------------------------------------------------------

def _decision_fields(p: Page, form, case) -> tuple[dict, dict]:
    """(what the form holds, to show again; the decision's arguments)."""
    shown = {k: str(form.get(k, "") or "").strip() for k in ("outcome", "decided_by", "reasons", "override_reasons",
                                                              "legal_basis", "principal", "term_months",
                                                              "purpose_class")}
    shown["grounds"] = [g for g in form.getlist("grounds") if isinstance(g, str)][:20]
    if shown["outcome"] not in ("granted", "rejected"):
        raise invalid("outcome must be granted or rejected", rule="R-APP-5", field="outcome")
    grant: dict = {}
    if shown["principal"]:
        grant["principal"] = forms.amount(shown["principal"])
    if shown["term_months"]:
        if not shown["term_months"].isdigit() or not 1 <= int(shown["term_months"]) <= 600:
            raise invalid("term_months must be a whole number 1..600", rule="R-APP-3", field="term_months")
        grant["term_months"] = int(shown["term_months"])
    if shown["purpose_class"]:
        if shown["purpose_class"] not in PURPOSE_CLASSES:
            raise invalid("purpose_class is not one of the statistics' classes", rule="R-STAT-1", field="purpose_class")
        grant["purpose_class"] = shown["purpose_class"]
    for field, most in (("decided_by", 200), ("reasons", TEXT_MAX), ("override_reasons", TEXT_MAX),
                        ("legal_basis", 200)):
        _text(form, field, required=field == "decided_by", most=most)
    args = dict(outcome=shown["outcome"], decided_by=shown["decided_by"], on=_on(p, form), by=p.who.subject,
                reasons=shown["reasons"], grounds=shown["grounds"], override_reasons=shown["override_reasons"] or None,
                legal_basis=shown["legal_basis"] or None,
                grant=(grant or None) if case.kind == LOAN else None)
    return shown, args


@router.post(APP + "/decision")
async def decide(request: Request, p: SignedIn, application_id: s.LoanIdPath):
    """Preview: the rules and each applicant's letter in their language, nothing stored. Record: the
    decision, by the signed-in person; a refusal (four eyes: 409) is shown on the page, with the form."""
    from application.decision_preview import preview_decision

    form = await checked_form(request, p)
    c, tenant = p.container, p.who.tenant
    case = _case(p, request, application_id)
    shown, args = _decision_fields(p, form, case)
    if form.get("action") != "record":
        preview = await run_in_threadpool(lambda: preview_decision(c, tenant, application_id, **args))
        refusal = preview["refusal"]
        return _application_page(p, case, decision=shown, preview=preview,
                                 status_code=STATUS[refusal.code] if refusal else 200)
    try:
        await run_in_threadpool(lambda: c.service.decide_application(tenant, application_id, **args))
    except DomainError as e:
        return _application_page(p, c.service.case(tenant, application_id), decision=shown,
                                 preview={"refusal": e, "letters": []}, status_code=STATUS[e.code])
    c.read_model.catch_up()
    return p.redirect(f"{PREFIX}/applications/{application_id}?done=decided")


@router.get(APP + "/letters/{borrower_id}")
def letter(request: Request, p: SignedIn, application_id: s.LoanIdPath, borrower_id: s.BorrowerIdPath) -> Response:
    """The decision letter sent to one applicant (PDF), as GET /v1/applications/{id}/letters/{borrower}."""
    from api.applications import letter as api_letter

    return api_letter(application_id, borrower_id, p.container, p.who.tenant, request)


# --- relief applications (R-APP-9) -----------------------------------------------------------------

@router.get("/loans/{loan_id}/relief")
def relief_form(request: Request, p: SignedIn, loan_id: s.LoanIdPath):
    c = p.container
    loan = c.service.loan(p.who.tenant, loan_id, read_only=True)
    _log(request, loan.borrower_id, loan.co_borrower_id, loan_id=loan_id)
    return p.render("application_relief.html", loan=loan, kinds=RELIEF_KINDS,
                    application_id=_fresh_id("R", c.today()))


def _relief_request(form, kind: str) -> dict:
    get = lambda name: str(form.get(name, "") or "").strip()  # noqa: E731
    whole = lambda name: int(get(name)) if get(name).isdigit() else get(name)  # noqa: E731
    if kind == "free_months":
        return {"months": whole("months"), "from_instalment": whole("from_instalment")}
    if kind == "due_date_extension":
        return {"instalment": whole("instalment"), "new_due_date": get("new_due_date")}
    if kind == "terms_change":
        return {"from_instalment": whole("terms_from_instalment"),
                "instalment_amount": forms.amount(get("instalment_amount"))}
    out = {"kind": get("exemption_kind")}
    if get("amount"):
        out["amount"] = forms.amount(get("amount"))
    return out


@router.post("/loans/{loan_id}/relief-applications")
async def receive_relief(request: Request, p: SignedIn, loan_id: s.LoanIdPath):
    """R-APP-9: free months, an exemption, a terms change or a due-date extension applied for."""
    from api.applications import check_texts

    form = await checked_form(request, p)
    c, tenant, who = p.container, p.who.tenant, p.who
    application_id, kind = str(form.get("application_id", "")).strip(), str(form.get("kind", ""))
    if identifier_problem(application_id):
        raise invalid(f"application_id {identifier_problem(application_id)}", rule="R-APP-9", field="application_id")
    if kind not in RELIEF_KINDS:
        raise invalid(f"kind must be one of {', '.join(RELIEF_KINDS)}", rule="R-APP-9", field="kind")
    request_ = check_texts(_relief_request(form, kind), "request")
    explanation = _text(form, "explanation", rule="R-APP-9")
    written = await run_in_threadpool(lambda: c.service.receive_application(
        tenant, application_id, kind=kind, facts={"explanation": explanation}, on=_on(p, form), by=who.subject,
        loan_id=loan_id, request=request_))
    _log(request, *written.result.applicants, loan_id=loan_id)
    return p.redirect(f"{PREFIX}/applications/{application_id}?done=relief")


# --- personal discussions (R-APP-10, Act §9) -------------------------------------------------------

@router.post("/discussions")
async def request_discussion(request: Request, p: SignedIn):
    """A request for a personal discussion: in the work queue with its deadline until it is held."""
    form = await checked_form(request, p)
    c, tenant, who = p.container, p.who.tenant, p.who
    fields = {k: str(form.get(k, "") or "").strip() or None for k in ("request_id", "borrower_id", "application_id",
                                                                       "loan_id")}
    for k, value in fields.items():
        if (value is None and k in ("request_id", "borrower_id")) or (value and identifier_problem(value)):
            raise invalid(f"{k} must be an id", rule="R-APP-10", field=k)
    _log(request, fields["borrower_id"], loan_id=fields["loan_id"])
    await run_in_threadpool(lambda: c.service.request_discussion(
        tenant, fields["request_id"], borrower_id=fields["borrower_id"], on=_on(p, form), by=who.subject,
        application_id=fields["application_id"], loan_id=fields["loan_id"]))
    back = f"{PREFIX}/applications/{fields['application_id']}?done=discussion" if fields["application_id"] \
        else f"{PREFIX}/work-queue"
    return p.redirect(back)


@router.post("/discussions/{request_id}/meeting")
async def record_meeting(request: Request, p: SignedIn, request_id: s.LoanIdPath):
    form = await checked_form(request, p)
    c, tenant, who = p.container, p.who.tenant, p.who
    pending = c.service.case_register(tenant).discussions.get(request_id) or {}
    _log(request, pending.get("borrower_id"), loan_id=pending.get("loan_id"))
    await run_in_threadpool(lambda: c.service.record_discussion(tenant, request_id, held_on=_on(p, form, "held_on"),
                                                                by=who.subject))
    return p.redirect(f"{PREFIX}/work-queue#wq-discussions_requested")


def awaiting_decision(c, tenant: str) -> list[dict]:
    """The work queue's list for decision makers: applications received and not yet decided, oldest first."""
    cases = c.service.case_register(tenant).cases
    return [{"application_id": a, **r, "on": r["on"].isoformat()}
            for a, r in sorted(cases.items(), key=lambda pair: (pair[1]["on"], pair[0])) if r["status"] == "received"]
