"""Statistics (R-STAT-1 … 3): one organiser's, and the national view across organisers for an
administrator (counts and euros only, small cells suppressed). JSON, or a CSV or XLSX download."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from api import schemas as s
from api.deps import Authorised, ContainerDep, TenantDep
from api.errors import error_responses
from application.statistics import EXPORT_HEADER, statistics
from adapters.spreadsheets import to_csv, to_xlsx

router = APIRouter(prefix="/v1", tags=["statistics"], dependencies=[Authorised])
Format = Annotated[Literal["json", "csv", "xlsx"], Query(description="json (default), csv or xlsx")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _answer(data: dict, rows: list, fmt: str, name: str):
    if fmt == "json":
        return data
    filename = f"{name}-{data['period']['from']}-{data['period']['to']}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return Response(to_csv(EXPORT_HEADER, rows), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(to_xlsx("statistics", EXPORT_HEADER, rows), media_type=XLSX, headers=headers)


@router.get("/statistics", responses=error_responses())
async def organiser_statistics(c: ContainerDep, tenant: TenantDep, start: Annotated[s.Day, Query(alias="from")],
                               end: Annotated[s.Day, Query(alias="to")], format: Format = "json"):
    """The organiser's statistics for the period [from, to] (both days included)."""
    data, rows = await run_in_threadpool(statistics, c, tenant, start, end)
    return _answer(data, rows, format, f"statistics-{tenant}")


@router.get("/statistics/national", responses=error_responses())
async def national_statistics(c: ContainerDep, start: Annotated[s.Day, Query(alias="from")],
                              end: Annotated[s.Day, Query(alias="to")], format: Format = "json"):
    """Every organiser together (R-STAT-2: no personal data, small cells suppressed)."""
    data, rows = await run_in_threadpool(statistics, c, None, start, end)
    return _answer(data, rows, format, "statistics-national")


