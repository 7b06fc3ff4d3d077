"""Statistics (R-STAT-1 … 3): one organiser's, and the national view across organisers for an
administrator (counts and euros only, small cells suppressed). JSON, or a CSV or XLSX download."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from api import schemas as s
from api.deps import Authorised, ContainerDep, TenantDep, WhoDep
from application.bank_file_records import CSV_HEADER as BANK_FILES_HEADER, bank_file_reconciliations, csv_rows
from application.capital import record_capital
from domain.money import parse_amount
from api.errors import error_responses
from application.statistics import EXPORT_HEADER, JOURNAL_HEADER, books_journal, statistics
from adapters.spreadsheets import to_csv, to_xlsx

router = APIRouter(prefix="/v1", tags=["statistics"], dependencies=[Authorised])
Format = Annotated[Literal["json", "csv", "xlsx"], Query(description="json (default), csv or xlsx")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _answers(*media_types: str) -> dict:
    """The error answers, and the 200 answer in each media type the route can give (format=...)."""
    return {200: {"content": {media_type: {} for media_type in media_types}}, **error_responses()}


def _answer(data: dict, rows: list, fmt: str, name: str):
    if fmt == "json":
        return data
    filename = f"{name}-{data['period']['from']}-{data['period']['to']}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return Response(to_csv(EXPORT_HEADER, rows), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(to_xlsx("statistics", EXPORT_HEADER, rows), media_type=XLSX, headers=headers)


@router.get("/statistics", responses=_answers("application/json", "text/csv", XLSX))
async def organiser_statistics(c: ContainerDep, tenant: TenantDep, start: Annotated[s.Day, Query(alias="from")],
                               end: Annotated[s.Day, Query(alias="to")], format: Format = "json"):
    """The organiser's statistics for the period [from, to] (both days included)."""
    data, rows = await run_in_threadpool(statistics, c, tenant, start, end)
    return _answer(data, rows, format, f"statistics-{tenant}")


@router.get("/statistics/national", responses=_answers("application/json", "text/csv", XLSX))
async def national_statistics(c: ContainerDep, start: Annotated[s.Day, Query(alias="from")],
                              end: Annotated[s.Day, Query(alias="to")], format: Format = "json"):
    """Every organiser together (R-STAT-2: no personal data, small cells suppressed)."""
    data, rows = await run_in_threadpool(statistics, c, None, start, end)
    return _answer(data, rows, format, "statistics-national")




SignedAmount = Annotated[str, StringConstraints(pattern=r"^-?(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"),
                         Field(description="euros, e.g. 50000.00; negative: returned to the source")]


class CapitalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: Literal["own_funds", "state_grant"]
    amount: SignedAmount
    on: s.Day
    decision_number: s.Text | None = None


@router.post("/capital", status_code=201, responses=error_responses())
def capital(body: CapitalIn, c: ContainerDep, tenant: TenantDep, who: WhoDep) -> dict:
    """R-CAP-1: lending capital from a source (negative: returned to it); the statistics report shows
    what each source lent out, got back and lost (`capital_sources`)."""
    written = record_capital(c.service, tenant, source=body.source, amount=parse_amount(body.amount, "amount",
                             positive=False), on=body.on, decision_number=body.decision_number, by=who.subject)
    return {"recorded": True, "position": written.position}


@router.get("/books/journal", responses=_answers("text/csv"))
async def books(c: ContainerDep, tenant: TenantDep, start: Annotated[s.Day, Query(alias="from")],
                end: Annotated[s.Day, Query(alias="to")]):
    """R-BOOK-1: journal entries per day for the organiser's ledger, as CSV."""
    rows = await run_in_threadpool(books_journal, c, tenant, start, end)
    return Response(to_csv(JOURNAL_HEADER, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="journal-{tenant}-{start}-{end}.csv"'})


@router.get("/books/bank-files", responses=_answers("application/json", "text/csv"))
async def bank_files(c: ContainerDep, tenant: TenantDep, format: Literal["json", "csv"] = "json"):
    """R-BOOK-2: each imported bank file reconciled with the payments it produced."""
    files = await run_in_threadpool(bank_file_reconciliations, c.service, tenant)
    if format == "csv":
        return Response(to_csv(BANK_FILES_HEADER, csv_rows(files)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="bank-files-{tenant}.csv"'})
    return {"files": files}
