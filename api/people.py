"""Borrowers' personal data (kept out of the loan events), its erasure, and the access log."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api import schemas as s
from api.deps import Authorised, ContainerDep, TenantDep
from api.errors import error_responses

router = APIRouter(prefix="/v1", tags=["people"], dependencies=[Authorised])
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10**9)]


class BorrowerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: s.Text
    identity_code: s.IdentityCode = Field(description="Finnish personal identity code (henkilötunnus)",
                                          examples=["131052-308T"])
    address: list[s.AddressLine] = Field(min_length=1, max_length=6, description="1-6 lines of at most 100 "
                                                                                "characters")
    language: Literal["fi", "sv"] = Field("fi", description="fi or sv: the language of letters")


@router.put("/borrowers/{borrower_id}", responses=error_responses())
def put_borrower(borrower_id: s.BorrowerIdPath, body: BorrowerIn, c: ContainerDep, tenant: TenantDep) -> dict:
    return c.borrowers.put(tenant, borrower_id, name=body.name, identity_code=body.identity_code,
                           address=body.address, language=body.language)


@router.get("/borrowers/{borrower_id}", responses=error_responses("not_found"))
def get_borrower(borrower_id: s.BorrowerIdPath, c: ContainerDep, tenant: TenantDep) -> dict:
    return c.borrowers.get(tenant, borrower_id)


@router.delete("/borrowers/{borrower_id}", responses=error_responses("not_found", "erasure_not_allowed"))
def erase_borrower(borrower_id: s.BorrowerIdPath, c: ContainerDep, tenant: TenantDep) -> dict:
    """Erase the borrower's personal data and the key of their sealed text (R-DATA-2), when the law
    allows it (R-DATA-4: no open loan, claim or appeal, and the retention period has run out)."""
    from application.erasure import erase

    return erase(c, tenant, borrower_id, c.today())


@router.get("/borrowers/{borrower_id}/access-log", responses=error_responses())
def who_processed(borrower_id: s.BorrowerIdPath, c: ContainerDep, tenant: TenantDep, request: Request,
                  from_: s.FromDayQuery = None, to: s.DayQuery = None) -> dict:
    """A client's question "who processed my data, and on what basis" (R-DATA-5): every logged read
    or change of the borrower's data or loans from `from` to `to` (Helsinki dates, inclusive)."""
    from api.who_processed import who_processed as answer

    request.state.borrower_id = borrower_id
    return answer(c, tenant, borrower_id, from_, to)


@router.get("/access-log")
def access_log(c: ContainerDep, tenant: TenantDep, request: Request, loan_id: Annotated[s.Id | None, Query()] = None,
               subject: Annotated[s.Text | None, Query()] = None, borrower_id: Annotated[s.Id | None, Query()] = None,
               since: Annotated[s.Text | None, Query()] = None, limit: Limit = 100, offset: Offset = 0) -> dict:
    """Who read or changed which loan's or borrower's data, newest first."""
    request.state.loan_id, request.state.borrower_id = loan_id, borrower_id
    return {"items": c.access_log.query(tenant, loan_id=loan_id, subject=subject, borrower_id=borrower_id,
                                        since=since, limit=limit, offset=offset), "limit": limit, "offset": offset}
