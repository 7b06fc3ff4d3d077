"""FastAPI dependencies: who is calling, for which organiser, with which permission; the
container (application.container) the app was built with."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from adapters.auth import Principal, Unauthenticated
from api.access import BY_KEY
from application.container import Container
from domain.errors import DomainError


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency on a worker
# thread, and each such hop costs more than the dependency itself.
async def container(request: Request) -> Container:
    return request.app.state.container


async def principal(request: Request, authorization: Annotated[str | None, Header(
        description="Bearer <OIDC access token> for people, Bearer <API key lk_…> for systems")] = None) -> Principal:
    """Who is calling. The organiser comes from the credential, never from the request."""
    c: Container = request.app.state.container
    try:
        found = c.auth.authenticate_cached(authorization)
        if found is None:  # needs a query or a key fetch: not on the event loop
            found = await run_in_threadpool(c.auth.authenticate, authorization)
    except Unauthenticated as e:
        raise DomainError("unauthenticated", str(e), field="Authorization") from None
    if found.tenant not in c.settings.tenants:
        raise DomainError("forbidden", f"the credential's organiser {found.tenant!r} is not served here")
    request.state.principal = found
    return found


async def tenant(who: Annotated[Principal, Depends(principal)]) -> str:
    return who.tenant


# What each permission lets a caller do, as a 403 says it ("roles [...] may not export evidence").
ACTIONS = {"read": "read loans", "hardship": "record hardships", "acceleration_notice": "send acceleration notices",
           "decision": "make decisions", "appeal": "file appeals", "payment": "post payments",
           "payment_admin": "allocate, reverse or refund payments", "evidence": "export evidence bundles",
           "audit": "read the audit records", "operations": "start servicing runs",
           "operations_read": "read servicing runs", "personal_data": "read or change personal data",
           "admin": "administer the service", "assess": "assess applications",
           "prepare": "prepare applications", "erasure": "erase personal data",
           "metrics": "read the metrics", "statistics": "read the organiser's statistics",
           "national_statistics": "read the national statistics", "books": "read the books",
           "docs": "read the API description"}


async def authorise(request: Request, who: Annotated[Principal, Depends(principal)]) -> None:
    """Every /v1 router's dependency: the caller's roles must grant the permission api/access.py
    gives the route (R-DATA-6); a route missing from that table is refused to everyone."""
    route = BY_KEY.get((request.method, getattr(request.scope.get("route"), "path", "")))
    if route is None or route.permission == "public" or not who.may(route.permission):
        action = ACTIONS.get(route.permission, route.what) if route else "call a route missing from the access table"
        raise DomainError("forbidden", f"roles {sorted(who.roles) or '(none)'} may not {action}")


Authorised = Depends(authorise)


MAX_POSITION = 2**63 - 1  # a notification id is a BIGINT


async def fresh_reads(request: Request, min_position: Annotated[int | None, Query(
        ge=0, le=MAX_POSITION, description="wait (up to LUOTTO_READ_WAIT_SECONDS) until the read models include "
                                           "this write position (read-your-writes); the answer's `stale` says "
                                           "whether they did")] = None) -> None:
    """Awaited on the event loop (api/fresh.py): a waiting read holds no worker thread."""
    if min_position is None:
        return
    c: Container = request.app.state.container
    reached = await request.app.state.position_watch.wait(min_position, c.settings.read_wait_seconds)
    request.state.stale_read = not reached


def read_position(c: Container, request: Request) -> dict:
    """`position` of the read models an answer comes from, and `stale`: true when the read asked for a
    `min_position` they had not reached when its wait ended."""
    return {"position": c.read_model.position(), "stale": getattr(request.state, "stale_read", False)}


ContainerDep = Annotated[Container, Depends(container)]
WhoDep = Annotated[Principal, Depends(principal)]
TenantDep = Annotated[str, Depends(tenant)]
FreshReads = Depends(fresh_reads)
