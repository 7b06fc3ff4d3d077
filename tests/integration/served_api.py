"""The HTTP API on one of the `stack` stores, signed in through a test OIDC issuer, with a fixed clock:
what the application tests (applications, waiting list, grant to money, statistics) each built alike."""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.app import create_app
from tests.integration.helpers import Clock, Stack
from tests.support.auth import TestIssuer


@contextlib.contextmanager
def served_api(stack: Stack, tmp_path, tenants: dict, day: dt.date | None = None) -> Iterator[tuple]:
    """Yields (client, issuer, container, clock); letters go under tmp_path."""
    issuer = TestIssuer(tmp_path / "oidc")
    settings = Settings(database_url=stack.database_url, postgres_schema=stack.postgres_schema, postgres_pool_size=1,
                        signing_key_file=str(tmp_path / "key"), notice_store=str(tmp_path / "letters"),
                        notice_print_folder=str(tmp_path / "print"), tenants=tenants, **issuer.settings_kwargs())
    app = create_app(settings)
    clock = Clock()
    if day is not None:
        clock.set_day(day)
    app.state.container.service.clock = clock
    try:
        with TestClient(app) as client:
            yield client, issuer, app.state.container, clock
    finally:
        app.state.container.close()
