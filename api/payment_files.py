"""Bank files of incoming payments (issue 7): the payment system posts the bank's file as it is.

    POST /v1/payments/files
    Content-Type: application/xml (or text/xml) for camt.054, text/plain for KTL
    (application/octet-stream is accepted too: the format is recognised from the content)
    Body: the raw file, at most 64 MiB (spooled to a temporary file, never held whole in memory
    beyond 8 MiB). Multipart uploads are not accepted.

Answers 200 with the import report (application.payment_files.ImportReport.as_dict: counts and
lists of matched, unmatched (unallocated queue), duplicates, reversed and rejected entries with
reasons, and `position` for read-your-writes). A file refused whole (not XML, a DTD / external
entity / entity bomb, wrong root, KTL totals that do not add up) answers 422 invalid_request with
the reason, and nothing of it is imported; so is a file that reports on an account that is not
one of the organiser's (LUOTTO_TENANTS `organiser.accounts` / `organiser.iban`). Importing the same file again is safe: every payment
counts once (R-PAY-1), the second import lists them as duplicates.
"""
from __future__ import annotations

import tempfile

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from api.deps import Authorised, ContainerDep, TenantDep, WhoDep
from api.errors import ErrorBody, error_responses
from application.payment_files import import_payments, organiser_accounts
from domain.errors import invalid

router = APIRouter(prefix="/v1/payments", tags=["payments"], dependencies=[Authorised])

MAX_FILE_BYTES = 64 * 1024 * 1024
SPOOL_BYTES = 8 * 1024 * 1024
MEDIA_TYPES = ("application/xml", "text/xml", "text/plain", "application/octet-stream")
_BODY = {"schema": {"type": "string", "format": "binary"}}


RESPONSES = {**error_responses("not_found"),
             413: {"model": ErrorBody, "description": "codes: invalid_request (the file is too large)"},
             415: {"model": ErrorBody, "description": "codes: invalid_request (not a raw XML or text body)"}}


@router.post("/files", responses=RESPONSES,
             openapi_extra={"requestBody": {"required": True, "content": {m: _BODY for m in MEDIA_TYPES}}})
async def import_file(request: Request, c: ContainerDep, tenant: TenantDep, who: WhoDep) -> dict:
    """Import a camt.054 (001.02 or 001.08) or KTL file of incoming reference payments. Payments are
    matched by reference (national or RF) or queued as unallocated; returns reverse the original
    payment when the caller may reverse payments (finance), and otherwise wait for finance in
    `GET /v1/payments/returns` (listed as `queued`, R-DATA-6); bad entries are listed with their
    reason while the rest imports."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise HTTPException(415, f"send the bank file as the raw body with Content-Type one of "
                                 f"{', '.join(MEDIA_TYPES)} (got {media or 'none'})")
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise HTTPException(413, f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
            spool.write(chunk)
        queue = None if who.may("payment_admin") else c.pending_returns
        report = await run_in_threadpool(lambda: import_payments(
            c.service, tenant, spool, on=c.today(), accounts=organiser_accounts(c.settings, tenant), returns=queue,
            queued_by=who.subject))
    if report.file_rejected:
        raise invalid(f"file refused, nothing imported: {report.file_rejected}", field="file")
    request.state.access = [(loan_id, None) for loan_id in sorted(report.loans)]  # R-DATA-5
    return report.as_dict()
