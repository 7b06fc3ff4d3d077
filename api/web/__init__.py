"""The staff console: server-rendered pages (Jinja2, plain forms, no script) served by Luotto
itself under /console, with the API's container, roles, organiser scoping and access log."""
from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from api.web import (application_pages, core, legal_pages, loan_pages, money_pages, office, oidc, pages,
                         report_pages)

    for module in (pages, oidc, loan_pages, legal_pages, money_pages, office, application_pages, report_pages):
        app.include_router(module.router)
    core.install_errors(app)
