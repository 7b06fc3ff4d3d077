"""Request ids, JSON logs, Prometheus metrics, the access log, and health endpoints."""
from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import structlog
from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from adapters.auth import Unauthenticated
from adapters.metrics import HTTP_LATENCY, PROJECTION_LAG
from domain.errors import DomainError
from domain.values import identifier_problem
from projections.set_aside import clean

log = structlog.get_logger("luotto.http")
router = APIRouter(tags=["operations"])
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
# Everything under /v1 may hold personal data: never stored by a browser or a proxy.
NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache"),
            (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")]
# The console (api/web): its own stylesheet and inline SVG, forms only to itself, and only its own
# script files (the intake form's live assessment, api/web/static/application.js), which may ask
# only the console itself: no inline script, no eval.
CONSOLE = [(b"cache-control", b"no-store"), (b"content-security-policy",
           b"default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; "
           b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")]
# A PDF the console shows in the browser (a contract, a letter): Chromium's own PDF viewer is an embedded
# object in a page it makes, which `default-src 'none'` (hence object-src 'none') blocks (crbug 271452);
# the PDF is ours and runs no script of a page, so it may be shown, but never framed by another site.
CONSOLE_PDF = [(b"cache-control", b"no-store"),
               (b"content-security-policy", b"frame-ancestors 'none'; base-uri 'none'; form-action 'none'")]


def install(app: FastAPI) -> None:
    # Added last, Observe is outermost: every answer (a 413 and a 500 too) carries the request id.
    app.add_middleware(ContentLengthLimit, limits=body_limits(app.state.container.settings))
    app.add_middleware(Observe)


def body_limits(settings) -> dict[tuple[str, str], int]:
    from api.payment_files import MAX_FILE_BYTES

    return {("POST", "/v1/payments/files"): MAX_FILE_BYTES, ("POST", "/console/payments/files"): MAX_FILE_BYTES,
            ("*", "*"): settings.max_body_bytes}


class ContentLengthLimit:
    """A body announced larger than the route's limit is refused (413) before anything reads it and
    before the credential is checked. A body sent without a length is counted as it is read and
    refused once it passes the limit (JSON bodies are read before the credential is checked)."""

    def __init__(self, app, limits: dict[tuple[str, str], int]) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get((scope["method"], scope["path"]), self.limits[("*", "*")])
        message = f"the request body is larger than {limit} bytes"
        announced = _header(scope, b"content-length")
        if announced is not None and (not announced.isdigit() or int(announced) > limit):
            await _send_json(send, 413, {"code": "invalid_request", "rule": None, "field": None, "message": message})
            return
        received = 0

        async def counted():
            nonlocal received
            event = await receive()
            received += len(event.get("body", b""))
            if received > limit:
                raise HTTPException(413, message)  # answered by api/errors.py as the JSON error body
            return event

        await self.app(scope, counted, send)


async def _send_json(send, status: int, body: dict, request_id: str | None = None) -> None:
    content = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode()),
               *SECURITY_HEADERS, *NO_STORE]
    if request_id is not None:
        headers.append((b"x-request-id", request_id.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class Observe:
    """Request id, latency metric, one JSON log line, and the access log for loan data.

    A plain ASGI middleware (Starlette's BaseHTTPMiddleware costs a task and two memory streams
    per request). The access-log row is committed before the response starts, so an answer that
    reached the caller is always in the log; refused requests are logged too.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A caller's own request id is kept only if it is short and plain: it goes into log lines,
        # a response header, error messages and the access log (R-DATA-5).
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        responded = False

        async def observed_send(message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                console = CONSOLE_PDF if _response_type(message) == b"application/pdf" else CONSOLE
                extra = SECURITY_HEADERS + (NO_STORE if scope["path"].startswith("/v1/") else
                                            console if scope["path"].startswith("/console") else [])
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode()), *extra]
                await _access_log(scope, message["status"], request_id)  # before the answer leaves
                status, responded = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        except Exception:  # noqa: BLE001 - any error nobody answered becomes a JSON 500, logged once here
            log.exception("unexpected_error", method=scope["method"], path=clean(scope["path"]))
            if responded:
                raise  # the answer is under way: only the connection can tell the caller now
            status = 500
            # The same shape as every refusal, without the exception's text or a stack trace: the
            # request id finds them in the log. Sent past the access log, which may be what failed.
            await _send_json(send, 500, {
                "code": "internal_error", "rule": None, "field": None,
                "message": f"an unexpected error occurred; the operators can find it by request id {request_id}"},
                request_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            HTTP_LATENCY.labels(scope["method"], route, str(status)).observe(elapsed)
            who = scope.get("state", {}).get("principal")
            log.info("request", method=scope["method"], route=route, status=status, ms=round(elapsed * 1000, 1),
                     tenant=who.tenant if who else None, subject=who.subject if who else None)


async def _access_log(scope, status: int, request_id: str) -> None:
    """Every request of an identified caller under /v1 or /console, one row per loan or borrower whose data it
    read or changed (R-DATA-5): a handler lists them in `request.state.access` (list views, bank
    files), else the path's or the handler's loan_id / borrower_id. A loan's borrower is looked up
    when the answer held its data."""
    state = scope.get("state", {})
    who = state.get("principal")
    if who is None or not scope["path"].startswith(("/v1/", "/console/")):
        return
    params = scope.get("path_params", {})
    pairs = state.get("access") or [(params.get("loan_id") or state.get("loan_id"),
                                     params.get("borrower_id") or state.get("borrower_id"))]
    # A path the API refused is logged too, escaped: it may hold a NUL.
    pairs = [tuple(clean(x, 64) if x is not None and identifier_problem(x) is not None else x for x in pair)
             for pair in pairs]
    container = scope["app"].state.container
    wanted = [loan for loan, borrower in pairs if loan and borrower is None]
    if wanted and status < 400:
        known = container.borrowers_known(who.tenant, wanted)
        if known is None:  # needs the database: not on the event loop
            known = await run_in_threadpool(container.borrowers_of, who.tenant, wanted)
        pairs = [(loan, borrower or known.get(loan)) for loan, borrower in pairs]
    route = getattr(scope.get("route"), "path", "unmatched")
    roles = ",".join(sorted(who.roles))
    await container.access_log.arecord_many([
        {"subject": who.subject, "via": who.via, "tenant": who.tenant, "loan_id": loan, "borrower_id": borrower,
         "method": scope["method"], "endpoint": route, "status": status, "request_id": request_id, "roles": roles}
        for loan, borrower in pairs])


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


@router.get("/healthz", include_in_schema=True,
            responses={503: {"description": "a part of the process has stopped (the scheduler, the read-model "
                                            "thread)"}})
async def healthz(request: Request, response: Response) -> dict:
    """Liveness: the process answers (on the event loop itself, so busy worker threads cannot stop it)
    and its background parts run: the daily servicing scheduler and the read-model thread, where
    this process runs them. A stopped part fails it (503), so the container is restarted."""
    problems = [p for p in (check() for check in getattr(request.app.state, "health", {}).values()) if p]
    if problems:
        response.status_code = 503
        return {"status": "failing", "problems": problems}
    return {"status": "ok"}


_HEALTH_CHECKS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz")


def _readiness(c) -> tuple[int, int, float, dict]:
    newest = c.service.recorder.max_notification_id() or 0
    position = c.read_model.position()
    return newest, position, c.read_model.lag_seconds(position, newest), c.read_model.set_aside.summary()


@router.get("/readyz", responses={503: {"description": "the database does not answer, or the read models lag"}})
async def readyz(request: Request, response: Response) -> dict:
    """Readiness: the database answers within LUOTTO_READY_TIMEOUT_SECONDS and the read models are
    within LUOTTO_READY_LAG_SECONDS. Checked on threads of its own, so it answers while the database
    hangs."""
    c = request.app.state.container
    loop = asyncio.get_running_loop()
    try:
        newest, position, lag_seconds, set_aside = await asyncio.wait_for(
            loop.run_in_executor(_HEALTH_CHECKS, _readiness, c), c.settings.ready_timeout_seconds)
    except Exception as e:  # noqa: BLE001 - no answer in time, or an error: either way not ready
        response.status_code = 503
        return {"status": "database unreachable", "error": type(e).__name__}
    PROJECTION_LAG.set(newest - position)
    ready = lag_seconds <= c.settings.ready_lag_seconds
    response.status_code = 200 if ready else 503
    # Items set aside after a failure are listed, but do not make the process unready: the rest is
    # served (taking this instance out of service would stop every organiser for one loan).
    return {"status": "ready" if ready else "read models behind", "events_behind": newest - position,
            "lag_seconds": round(lag_seconds, 1), "set_aside": set_aside}


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus metrics as LUOTTO_METRICS says: off (404), authenticated (a credential whose role
    holds the `metrics` permission, api/access.py) or public."""
    c = request.app.state.container
    exposure = c.settings.metrics
    if exposure == "off":
        raise DomainError("not_found", "metrics are switched off (LUOTTO_METRICS)")
    if exposure == "authenticated":
        try:
            who = c.auth.authenticate(request.headers.get("authorization"))
        except Unauthenticated as e:
            raise DomainError("unauthenticated", str(e), field="Authorization") from None
        if who.tenant not in c.settings.tenants or not who.may("metrics"):
            raise DomainError("forbidden", f"roles {sorted(who.roles) or '(none)'} may not read the metrics",
                              rule="R-DATA-6")
    try:
        PROJECTION_LAG.set((c.service.recorder.max_notification_id() or 0) - c.read_model.position())
        c.read_model.set_aside.summary(limit=0)  # sets luotto_set_aside_items from the shared table
    except Exception:  # noqa: BLE001 - metrics must answer even when the database does not
        pass
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _response_type(message) -> bytes:
    found = next((v for k, v in message.get("headers", []) if k.lower() == b"content-type"), b"")
    return found.split(b";")[0].strip().lower()
