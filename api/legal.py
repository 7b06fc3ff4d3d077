"""Legal staff (issue 20): the court package of a loan, and the loan's legal status."""
from __future__ import annotations

from fastapi import APIRouter, Response

from api import schemas as s
from api.deps import Authorised, ContainerDep, TenantDep
from api.errors import error_responses
from domain.errors import invalid

router = APIRouter(prefix="/v1/loans", tags=["legal"], dependencies=[Authorised])


@router.get("/{loan_id}/court-package", responses={200: {"content": {"application/zip": {}},
                                                        "description": "the court package as a zip"},
                                                   **error_responses("not_found")})
def court_package(loan_id: s.LoanIdPath, c: ContainerDep, tenant: TenantDep, on: s.DayQuery = None) -> Response:
    """The claim on `on` (default today) traced to its events and rules, the Act §8 trail with the letters
    and their delivery, the payment history, an account and a draft application to the administrative
    court in the borrower's language, all inside the signed evidence format: check it offline with
    `luotto verify-evidence`. It names the parties and holds the letters, so only legal staff and
    decision makers may fetch it."""
    from application.court_package import build_zip

    today = c.today()
    if on is not None and on > today:
        raise invalid(f"on {on} is in the future (today is {today})", rule="R-DATE-1", field="on")
    return Response(build_zip(c, tenant, loan_id, on=on), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="court-package-{loan_id}.zip"'})
