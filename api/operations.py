"""Operations: servicing runs, the portfolio and the caseworkers' work queue."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api import schemas as s
from api.deps import Authorised, ContainerDep, FreshReads, TenantDep, WhoDep, read_position
from api.errors import error_responses
from domain.errors import invalid
from domain.money import format_cents
from domain.policy import Policy

router = APIRouter(prefix="/v1", tags=["operations"], dependencies=[Authorised])


@router.post("/servicing-runs", status_code=201,
             responses=error_responses())
def run_servicing(body: s.ServicingRunIn, c: ContainerDep, tenant: TenantDep) -> dict:
    """Run the daily servicing for a business date over the organiser's loans (idempotent). R-ACC-4:
    the date is not after today (Europe/Helsinki): a run records what is due by its date, and the
    run log would otherwise skip the days up to it; nor before the organiser's first grant (no
    earlier than today when it has granted nothing), where there is nothing to run."""
    day, today = body.business_date, c.today()
    if day > today:
        raise invalid(f"business_date {day} is after today {today}", rule="R-ACC-4", field="business_date")
    first = c.service.first_grant_date(tenant) or today
    if day < first:
        raise invalid(f"business_date {day} is before the organiser's first grant ({first})", rule="R-ACC-4",
                      field="business_date")
    return c.servicing.run(tenant, day)


@router.get("/reference-rates")
def reference_rates(c: ContainerDep) -> dict:
    """The half-year reference rates in force (R-PEN-4): shipped, and recorded ones (`recorded`)."""
    return {"items": c.service.rate_source.listing()}


@router.post("/reference-rates", status_code=201)
def record_reference_rate(body: s.ReferenceRateIn, c: ContainerDep) -> dict:
    """Record a half-year's reference rate with its source (R-PEN-4); loans that follow the rate and
    penalty interest use it from that half-year. Recording the same rate again changes nothing."""
    written = c.service.rate_source.record(starts=body.from_, rate=body.rate, source=body.source,
                                           recorded_by=body.recorded_by, correction_reason=body.correction_reason)
    return {"items": c.service.rate_source.listing(), "position": written.position}


@router.get("/servicing-runs")
def servicing_runs(c: ContainerDep, tenant: TenantDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict:
    """The organiser's latest servicing runs, newest first."""
    return {"items": c.service.runs(tenant, limit=limit), "limit": limit}


@router.get("/portfolio", dependencies=[FreshReads])
def portfolio(c: ContainerDep, tenant: TenantDep, request: Request) -> dict:
    """Outstanding capital against capital_limit, this year's grants against annual_grant_limit,
    counts and sums by status, overdue amounts by age, penalty interest, waived and written off."""
    today = c.today()
    register = c.service.register(tenant)
    policy = Policy.from_json(register.policy)
    limit = policy.capital_limit
    figures = c.read_model.portfolio(tenant, today)
    return {
        "as_of": today.isoformat(), **figures,
        "capital_limit": format_cents(limit) if limit is not None else None,
        "granted_this_year": format_cents(register.granted_by_year.get(str(today.year), 0)),
        "annual_grant_limit": (format_cents(policy.annual_grant_limit)
                               if policy.annual_grant_limit is not None else None),
        **read_position(c, request),
    }


@router.get("/work-queue", dependencies=[FreshReads])
def work_queue(c: ContainerDep, tenant: TenantDep, who: WhoDep, request: Request,
               limit: Annotated[int, Query(ge=1, le=1000, description="items per list")] = 100,
               offset: Annotated[int, Query(ge=0, le=10**9, description="items skipped in each list")] = 0) -> dict:
    """What needs a caseworker, `limit` items per list after `offset` (`counts` gives each list's
    length). The unallocated payments only for a caller who may handle them (api/access.py): a
    caseworker gets no list here that it may not fetch directly (R-DATA-6)."""
    queue = c.read_model.work_queue(tenant, c.today(), limit=limit, offset=offset,
                                    unallocated=who.may("payment_admin"))
    shown = {(row["loan_id"], row["borrower_id"]) for key in ("acceleration_conditions_met",
             "notices_near_cure_deadline", "hardships_active", "legal_status") for row in queue[key]}
    from api.applications import discussions_due

    queue["discussions_requested"] = discussions_due(c, tenant, c.today())  # R-APP-10, most urgent first
    shown |= {(row["loan_id"], row["borrower_id"]) for row in queue["discussions_requested"]}
    request.state.access = sorted(shown, key=lambda pair: tuple(x or "" for x in pair))  # R-DATA-5: each shown
    return {**queue, "limit": limit, "offset": offset, **read_position(c, request)}


@router.get("/digests/latest", )
def latest_digest(c: ContainerDep, tenant: TenantDep) -> dict:
    """The latest signed digest (Merkle root over every loan's chain head), for safekeeping elsewhere."""
    from application import digest

    found = digest.latest(c, tenant)
    if found is None:
        from domain.errors import DomainError

        raise DomainError("not_found", "no digest has been signed yet; one is signed after each servicing run")
    return found
