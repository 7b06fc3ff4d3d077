"""The HTTP API (FastAPI) under /v1: thin, it parses, calls the service and shapes the answer."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from adapters.settings import Settings
from api import assessments, errors, loans, observability, operations, payment_files, payments, people
from api.deps import Container
from api.fresh import PositionWatch


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if owned:
            app.state.container.close()

    owned = container is None
    # Request bodies are limited by api/observability.ContentLengthLimit (LUOTTO_MAX_BODY_BYTES).
    app = FastAPI(title="Luotto", version="0.1.0", lifespan=lifespan,
                  description="Servicing of Finnish social credit (Act 1133/2002). Every call is authenticated "
                              "(Authorization: Bearer with an OIDC access token or an API key) and scoped to the "
                              "organiser the credential names. Amounts are decimal strings; errors are "
                              '{"code", "message", "rule", "field"}.')
    app.state.container = container or Container.build(settings)
    app.state.position_watch = PositionWatch(app.state.container.read_model)
    app.state.health = {}  # name -> check() -> None or what is wrong; `luotto serve` adds its threads
    errors.install(app)
    for module in (loans, assessments, payments, payment_files, operations, people, observability):
        app.include_router(module.router)
    observability.install(app)
    errors.document(app)
    return app
