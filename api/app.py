"""The HTTP API (FastAPI) under /v1: thin, it parses, calls the service and shapes the answer."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse

from adapters.auth import Principal
from adapters.settings import Settings
from api import (applications, assessments, contracts, errors, legal, loans, observability, operations, payment_files,
                 payments, people, statistics)
from api import web  # the staff console (api/web)
from api.deps import Container, principal
from api.fresh import PositionWatch
from domain.errors import DomainError


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if owned:
            app.state.container.close()

    owned = container is None
    # Request bodies are limited by api/observability.ContentLengthLimit (LUOTTO_MAX_BODY_BYTES).
    # The library's own /docs and /openapi.json would answer anyone: ours follow LUOTTO_DOCS.
    app = FastAPI(title="Luotto", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None,
                  description="Servicing of Finnish social credit (Act 1133/2002). Every call is authenticated "
                              "(Authorization: Bearer with an OIDC access token or an API key) and scoped to the "
                              "organiser the credential names. Amounts are decimal strings; errors are "
                              '{"code", "message", "rule", "field"}.')
    app.state.container = container or Container.build(settings)
    app.state.position_watch = PositionWatch(app.state.container.read_model)
    app.state.health = {}  # name -> check() -> None or what is wrong; `luotto serve` adds its threads
    errors.install(app)
    # Starlette tries the routes in this order: the integration API's hottest calls (POST /v1/payments,
    # GET /v1/loans/{id}) first, the console's hundreds of routes last.
    for module in (payments, payment_files, loans, legal, assessments, applications, contracts, operations, people,
                   statistics, observability):
        app.include_router(module.router)
    web.install(app)  # the staff console under /console (api/web)
    observability.install(app)
    errors.document(app)
    _docs(app, app.state.container.settings.docs)
    return app


def _docs(app: FastAPI, exposure: str) -> None:
    """/openapi.json and /docs: not there (off), for any authenticated role, or for anyone."""
    if exposure == "off":
        return

    async def check(who: Annotated[Principal, Depends(principal)]) -> None:
        if not who.may("docs"):
            raise DomainError("forbidden", "no role that may read the API description", rule="R-DATA-6")

    guard = [] if exposure == "public" else [Depends(check)]

    @app.get("/openapi.json", include_in_schema=False, dependencies=guard)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=guard)
    async def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Luotto API")
