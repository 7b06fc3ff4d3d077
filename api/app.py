"""The HTTP API (FastAPI) under /v1: thin, it parses, calls the service and shapes the answer."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from adapters.settings import Settings
from api import assessments, errors, loans, observability, operations, payment_files, payments, people
from api.deps import Container


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if owned:
            app.state.container.close()

    owned = container is None
    app = FastAPI(title="Luotto", version="0.1.0", lifespan=lifespan,
                  description="Servicing of Finnish social credit (Act 1133/2002). Every call is scoped to the "
                              "organiser named in the X-Tenant header. Amounts are decimal strings.")
    app.state.container = container or Container.build(settings)
    errors.install(app)
    for module in (loans, assessments, payments, payment_files, operations, people, observability):
        app.include_router(module.router)
    observability.install(app)
    errors.document(app)
    return app
