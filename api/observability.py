"""Request ids, JSON logs, Prometheus metrics, the access log, and health endpoints."""
from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.metrics import HTTP_LATENCY, PROJECTION_LAG

log = structlog.get_logger("luotto.http")
router = APIRouter(tags=["operations"])
LOAN_DATA = ("/v1/loans", "/v1/payments", "/v1/borrowers", "/v1/assessments")  # an applicant's finances too


def install(app: FastAPI) -> None:
    app.add_middleware(Observe)


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
        request_id = _header(scope, b"x-request-id") or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def observed_send(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                await _access_log(scope, status, request_id)
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            HTTP_LATENCY.labels(scope["method"], route, str(status)).observe(elapsed)
            who = scope.get("state", {}).get("principal")
            log.info("request", method=scope["method"], route=route, status=status, ms=round(elapsed * 1000, 1),
                     tenant=who.tenant if who else None, subject=who.subject if who else None)


async def _access_log(scope, status: int, request_id: str) -> None:
    state = scope.get("state", {})
    who = state.get("principal")
    if who is None or not scope["path"].startswith(LOAN_DATA):
        return
    loan_id = scope.get("path_params", {}).get("loan_id") or state.get("loan_id")
    route = getattr(scope.get("route"), "path", "unmatched")
    await scope["app"].state.container.access_log.arecord(
        subject=who.subject, via=who.via, tenant=who.tenant, loan_id=loan_id, method=scope["method"],
        endpoint=route, status=status, request_id=request_id)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


@router.get("/healthz", include_in_schema=True)
async def healthz() -> dict:
    """Liveness: the process answers (on the event loop itself, so busy worker threads cannot stop it)."""
    return {"status": "ok"}


_HEALTH_CHECKS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz")


def _readiness(c) -> tuple[int, int, float]:
    newest = c.service.recorder.max_notification_id() or 0
    position = c.read_model.position()
    return newest, position, c.read_model.lag_seconds(position, newest)


@router.get("/readyz", responses={503: {"description": "the database does not answer, or the read models lag"}})
async def readyz(request: Request, response: Response) -> dict:
    """Readiness: the database answers within LUOTTO_READY_TIMEOUT_SECONDS and the read models are
    within LUOTTO_READY_LAG_SECONDS. Checked on threads of its own, so it answers while the database
    hangs."""
    c = request.app.state.container
    loop = asyncio.get_running_loop()
    try:
        newest, position, lag_seconds = await asyncio.wait_for(
            loop.run_in_executor(_HEALTH_CHECKS, _readiness, c), c.settings.ready_timeout_seconds)
    except Exception as e:  # noqa: BLE001 - no answer in time, or an error: either way not ready
        response.status_code = 503
        return {"status": "database unreachable", "error": type(e).__name__}
    PROJECTION_LAG.set(newest - position)
    ready = lag_seconds <= c.settings.ready_lag_seconds
    response.status_code = 200 if ready else 503
    return {"status": "ready" if ready else "read models behind", "events_behind": newest - position,
            "lag_seconds": round(lag_seconds, 1)}


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    c = request.app.state.container
    try:
        PROJECTION_LAG.set((c.service.recorder.max_notification_id() or 0) - c.read_model.position())
    except Exception:  # noqa: BLE001 - metrics must answer even when the database does not
        pass
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
