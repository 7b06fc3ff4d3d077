"""The organisers' reports in the console (issue 22): statistics for a chosen period with charts and
CSV/XLSX downloads (R-STAT-1 … 3), the national view for an administrator, lending capital by
source and the state grant's use (R-CAP-1, R-CAP-2), the journal per period (R-BOOK-1) and the bank
files reconciled (R-BOOK-2).

Every figure comes from the same application functions as the API's routes (api/statistics.py), so
a page and its download never disagree with GET /v1/statistics. Charts are server-rendered SVG
(no script) with every figure in a table beneath; suppressed cells (R-STAT-2) are neither drawn
nor shown.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.spreadsheets import to_csv, to_xlsx
from api.web.core import PREFIX, Page, checked_form, signed_in
from api.web.loan_pages import _day
from application.statistics import CATCH_UP_BATCHES, EXPORT_HEADER, JOURNAL_HEADER, books_journal, statistics
from domain.errors import invalid
from domain.money import format_cents, parse_amount

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SignedIn = Annotated[Page, Depends(signed_in)]
DateQuery = Annotated[str | None, Query(max_length=10)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CACHED = 64  # reports kept per app (by scope and period), each for the read model's position it was made at
JOURNAL_SHOWN = 200  # journal rows on the page; the download has all
FLOWS = ("received", "decided", "granted", "rejected", "withdrawn")
DIMENSIONS = (("by_purpose", "stat.purpose"), ("by_age_band", "stat.age"), ("by_household_type", "stat.household"))


def _period(p: Page, start: str | None, end: str | None, rule: str, month: bool = False) -> tuple[dt.date, dt.date]:
    """The chosen period; by default the year (or month) so far."""
    today = p.container.today()
    first = today.replace(day=1) if month else today.replace(month=1, day=1)
    start_, end_ = _day(start, "from") or first, _day(end, "to") or today
    if end_ < start_:
        raise invalid(f"to {end_} is before from {start_}", rule=rule, field="to")
    return start_, end_


def _report(p: Page, tenant: str | None, start: dt.date, end: dt.date) -> tuple[dict, list]:
    """application.statistics.statistics, kept for the statistics model's position: viewing the page
    again, or downloading what it shows, costs a lookup until any event moves the model."""
    c, state = p.container, p.request.app.state
    c.statistics.catch_up(max_batches=CATCH_UP_BATCHES)
    cache = getattr(state, "console_reports", None)
    if cache is None:
        cache = state.console_reports = {}
    key, position = (tenant, start, end), c.statistics.position()
    found = cache.get(key)
    if found is not None and found[0] == position:
        return found[1]
    made = statistics(c, tenant, start, end)
    cache.pop(key, None)
    cache[key] = (position, made)
    while len(cache) > CACHED:
        cache.pop(next(iter(cache)))
    return made


def _cents(euros: str | None) -> int:
    return 0 if euros is None else int(euros.replace(".", ""))


def _hbars(rows: list[tuple[str, int, str]], width: int = 640, label_w: int = 230) -> dict:
    """Horizontal bars (label, value, the value as shown): the label left, the bar, its figure after
    it. Integers only; a value below zero draws no bar."""
    text_w, row_h = 130, 24
    top = max([v for _, v, _ in rows] + [1])
    span = width - label_w - text_w
    bars = [{"label": label, "text": text, "y": i * row_h + 4, "w": max(v, 0) * span // top, "x": label_w,
             "text_x": label_w + max(v, 0) * span // top + 6, "label_y": i * row_h + 18} for i, (label, v, text) in
            enumerate(rows)]
    return {"bars": bars, "width": width, "height": max(len(rows), 1) * row_h + 8}


def _dimension(p: Page, cells: dict, prefix: str) -> dict:
    """One breakdown of the loans granted: the rows shown, how many small cells were suppressed, and
    the chart of the rest (R-STAT-2: a suppressed cell is neither drawn nor given a figure)."""
    rows = [{"label": p.value(prefix, key), "suppressed": cell["suppressed"], "count": cell["count"],
             "euros": cell["euros"]} for key, cell in cells.items()]
    shown = [r for r in rows if not r["suppressed"]]
    chart = _hbars([(r["label"], r["count"], f'{r["count"]} / {p.money(r["euros"])} €') for r in shown])
    return {"rows": shown, "suppressed": len(rows) - len(shown), "chart": chart}


def _view(p: Page, data: dict) -> dict:
    apps = data["applications"]
    loans = data["loans_granted"]
    money = data["principal_in_period"]
    grounds = [{"label": p.value("stat.ground", g), "count": cell["count"], "suppressed": cell["suppressed"]}
               for g, cell in apps["rejected_by_ground"].items()]
    days = apps["processing_days"]
    return {
        "flows": [(p.t(f"stat.{k}"), apps[k]) for k in FLOWS],
        "flows_chart": _hbars([(p.t(f"stat.{k}"), apps[k], str(apps[k])) for k in FLOWS]),
        "processing": None if days["median"] is None else {"median": _number(p, days["median"]),
                                                           "p90": _number(p, days["p90"])},
        "grounds": [g for g in grounds if not g["suppressed"]],
        "grounds_suppressed": sum(1 for g in grounds if g["suppressed"]),
        "relief": [(p.value("stat.relief", kind), counts) for kind, counts in data["relief_applications"].items()],
        "loans": loans,
        "dimensions": [(name, _dimension(p, loans[name], prefix)) for name, prefix in DIMENSIONS],
        "money": [(p.t(f"stat.in_period.{k}"), money[k]) for k in ("granted", "repaid", "exempted", "lost")],
        "money_chart": _hbars([(p.t(f"stat.in_period.{k}"), _cents(money[k]), p.money(money[k]) + " €")
                               for k in ("granted", "repaid", "exempted", "lost")]),
        "events": _events(p, data),
    }


def _number(p: Page, value) -> str:
    text = f"{value:g}"
    return text if p.lang == "en" else text.replace(".", ",")


def _percent(p: Page, value: str | None) -> str:
    return "–" if value is None else (value if p.lang == "en" else value.replace(".", ",")) + " %"


def _events(p: Page, data: dict) -> list[tuple[str, str]]:
    off, ex, appeals = data["written_off"], data["exemptions"], data["appeals"]
    return [
        (p.t("stat.ev.repaid"), str(data["repaid"])),
        (p.t("stat.ev.accelerated"), str(data["accelerated"])),
        (p.t("stat.ev.acceleration_revoked"), str(data["acceleration_revoked"])),
        (p.t("stat.ev.sent_to_collection"), str(data["sent_to_collection"])),
        (p.t("stat.ev.written_off"), str(off["count"])),
        (p.t("stat.ev.claims_written_off"), p.money(off["claims_written_off"]) + " €"),
        (p.t("stat.ev.credit_loss"), p.money(off["credit_loss"]) + " €"),
        (p.t("stat.ev.loss_share"), _percent(p, off["credit_loss_share_of_granted_in_period_percent"])),
        (p.t("stat.ev.loss_share_to_date"), _percent(p, off["credit_loss_to_date_share_of_granted_to_date_percent"])),
        (p.t("stat.ev.free_months"), f'{data["free_months"]["decisions"]} / {data["free_months"]["months"]}'),
        (p.t("stat.ev.exemptions"), f'{ex["partial"]} / {ex["full"]} ({p.money(ex["euros"])} €)'),
        (p.t("stat.ev.refunds"), f'{data["refunds"]["count"]} ({p.money(data["refunds"]["euros"])} €)'),
        (p.t("stat.ev.appeals"), " / ".join(str(v) for v in (appeals["filed"], *appeals["decided"].values()))),
    ]


def _download(data: dict, rows: list, fmt: str, name: str) -> Response:
    filename = f"{name}-{data['period']['from']}-{data['period']['to']}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return Response(to_csv(EXPORT_HEADER, rows), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(to_xlsx("statistics", EXPORT_HEADER, rows), media_type=XLSX, headers=headers)


def _statistics(p: Page, tenant: str | None, start: str | None, end: str | None, format: str):
    if format not in ("html", "csv", "xlsx"):
        raise invalid(f"format must be html, csv or xlsx, got {format!r}", rule="R-STAT-1", field="format")
    start_, end_ = _period(p, start, end, "R-STAT-1")
    data, rows = _report(p, tenant, start_, end_)
    if format != "html":
        return _download(data, rows, format, f"statistics-{tenant}" if tenant else "statistics-national")
    return p.render("report_statistics.html", data=data, start=start_.isoformat(), end=end_.isoformat(),
                    national=tenant is None, **_view(p, data))


@router.get("/statistics")
def organiser_statistics(p: SignedIn, start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
                         end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
                         format: Annotated[str, Query(max_length=4)] = "html"):
    """The organiser's statistics for [from, to] (R-STAT-1 … 3): the page, or its CSV or XLSX."""
    return _statistics(p, p.who.tenant, start, end, format)


@router.get("/statistics/national")
def national_statistics(p: SignedIn, start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
                        end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
                        format: Annotated[str, Query(max_length=4)] = "html"):
    """Every organiser together (R-STAT-2: no organiser, loan or person named)."""
    return _statistics(p, None, start, end, format)


def _source_name(p: Page, key: str) -> str:
    if key == "own_funds":
        return p.t("cap.own_funds")
    return p.t("cap.state_grant", decision=key.partition(":")[2])


CAPITAL_FIGURES = ("recorded", "lent_out", "returned", "lost", "outstanding", "available", "lent_out_in_period",
                   "returned_in_period", "lost_in_period")


@router.get("/capital")
def capital(p: SignedIn, start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
            end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
            done: Annotated[str | None, Query(max_length=16)] = None):
    """R-CAP-2: what each source lent out, got back and lost; the entries recorded (R-CAP-1); for
    finance the form recording capital."""
    from domain.capital import LendingCapital, capital_id

    from application.statistics import capital_report

    c, tenant = p.container, p.who.tenant
    start_, end_ = _period(p, start, end, "R-STAT-1")
    found, behind = capital_report(c, tenant, start_, end_)
    sources = [{"name": _source_name(p, key), **figures} for key, figures in found.items()]
    chart = _hbars([row for s in sources for row in (
        (f'{s["name"]}: {p.t("cap.outstanding")}', _cents(s["outstanding"]), p.money(s["outstanding"]) + " €"),
        (f'{s["name"]}: {p.t("cap.available")}', _cents(s["available"]), p.money(s["available"]) + " €"))],
        width=820, label_w=400)
    entries = [e for e in c.service.events.get(capital_id(tenant)) if isinstance(e, LendingCapital.CapitalRecorded)]
    return p.render("report_capital.html", start=start_.isoformat(), end=end_.isoformat(), sources=sources,
                    figures=CAPITAL_FIGURES, chart=chart, entries=entries, today=c.today().isoformat(),
                    behind=behind, done=done == "capital")


@router.post("/capital")
async def record(request: Request, p: SignedIn):
    """R-CAP-1: capital from own funds or a state grant (its decision number), as POST /v1/capital."""
    from application.capital import record_capital

    form = await checked_form(request, p)
    source = str(form.get("source", ""))
    if source not in ("own_funds", "state_grant"):
        raise invalid("source must be own_funds or state_grant", rule="R-CAP-1", field="source")
    on = _day(str(form.get("on", "") or ""), "on")
    if on is None:
        raise invalid("on is required (YYYY-MM-DD)", rule="R-CAP-1", field="on")
    decision = str(form.get("decision_number", "") or "").strip()
    if len(decision) > 200:
        raise invalid("decision_number is at most 200 characters", rule="R-CAP-1", field="decision_number")
    amount = parse_amount(str(form.get("amount", "")).strip(), "amount", positive=False)
    await run_in_threadpool(lambda: record_capital(p.container.service, p.who.tenant, source=source, amount=amount,
                                                   on=on, decision_number=decision or None, by=p.who.subject))
    return p.redirect(f"{PREFIX}/capital?done=capital")


@router.get("/books")
def books(p: SignedIn, start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
          end: Annotated[str | None, Query(alias="to", max_length=10)] = None):
    """The journal for a period (by default this month so far) and every bank file reconciled."""
    from application.bank_file_records import bank_file_reconciliations
    from domain.bank_files import OUTCOMES

    c, tenant = p.container, p.who.tenant
    start_, end_ = _period(p, start, end, "R-BOOK-1", month=True)
    journal = books_journal(c, tenant, start_, end_)
    files = bank_file_reconciliations(c.service, tenant)
    return p.render("report_books.html", start=start_.isoformat(), end=end_.isoformat(),
                    journal=journal[:JOURNAL_SHOWN], journal_total=len(journal), files=files, outcomes=OUTCOMES,
                    cents=format_cents)


@router.get("/books/journal")
def journal_csv(p: SignedIn, start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
                end: Annotated[str | None, Query(alias="to", max_length=10)] = None):
    """R-BOOK-1: the journal's CSV, as GET /v1/books/journal."""
    start_, end_ = _period(p, start, end, "R-BOOK-1", month=True)
    rows = books_journal(p.container, p.who.tenant, start_, end_)
    return Response(to_csv(JOURNAL_HEADER, rows), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="journal-{p.who.tenant}-{start_}-{end_}.csv"'})


@router.get("/books/bank-files")
def bank_files_csv(p: SignedIn):
    """R-BOOK-2: the reconciliation's CSV, as GET /v1/books/bank-files?format=csv."""
    from application.bank_file_records import CSV_HEADER, bank_file_reconciliations, csv_rows

    files = bank_file_reconciliations(p.container.service, p.who.tenant)
    return Response(to_csv(CSV_HEADER, csv_rows(files)), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="bank-files-{p.who.tenant}.csv"'})
