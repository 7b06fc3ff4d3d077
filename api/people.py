"""Borrowers' personal data (kept out of the loan events) and the access log for auditors."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api import schemas as s
from api.deps import ContainerDep, TenantDep, allow
from api.errors import error_responses

router = APIRouter(prefix="/v1", tags=["people"])


class BorrowerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: s.Text
    identity_code: s.IdentityCode = Field(description="Finnish personal identity code (henkilötunnus)",
                                          examples=["131052-308T"])
    address: list[s.AddressLine] = Field(min_length=1, max_length=6, description="1-6 lines of at most 100 "
                                                                                "characters")
    language: Literal["fi", "sv"] = Field("fi", description="fi or sv: the language of letters")


@router.put("/borrowers/{borrower_id}", dependencies=[allow("personal_data")], responses=error_responses())
def put_borrower(borrower_id: s.BorrowerIdPath, body: BorrowerIn, c: ContainerDep, tenant: TenantDep) -> dict:
    return c.borrowers.put(tenant, borrower_id, name=body.name, identity_code=body.identity_code,
                           address=body.address, language=body.language)


@router.get("/borrowers/{borrower_id}", dependencies=[allow("personal_data")], responses=error_responses("not_found"))
def get_borrower(borrower_id: s.BorrowerIdPath, c: ContainerDep, tenant: TenantDep) -> dict:
    return c.borrowers.get(tenant, borrower_id)


@router.delete("/borrowers/{borrower_id}", dependencies=[allow("decision")], responses=error_responses("not_found"))
def erase_borrower(borrower_id: s.BorrowerIdPath, c: ContainerDep, tenant: TenantDep) -> dict:
    """Erase the personal data when its retention ends; the loan's events keep only borrower_id."""
    return c.borrowers.erase(tenant, borrower_id)


@router.get("/access-log", dependencies=[allow("audit")])
def access_log(c: ContainerDep, tenant: TenantDep, loan_id: Annotated[s.Id | None, Query()] = None,
               subject: Annotated[s.Text | None, Query()] = None, since: Annotated[s.Text | None, Query()] = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict:
    """Who read or changed which loan's data, newest first."""
    return {"items": c.access_log.query(tenant, loan_id=loan_id, subject=subject, since=since, limit=limit)}
