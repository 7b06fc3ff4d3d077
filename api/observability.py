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
LOAN_DATA = ("/v1/loans", "/v1/payments", "/v1/borrowers")


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def observe(request: Request, call_next):
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = time.perf_counter() - started
        route = getattr(request.scope.get("route"), "path", "unmatched")
        HTTP_LATENCY.labels(request.method, route, str(response.status_code)).observe(elapsed)
        response.headers["X-Request-ID"] = request_id
        who = getattr(request.state, "principal", None)
        if who is not None and request.url.path.startswith(LOAN_DATA):
            loan_id = request.scope.get("path_params", {}).get("loan_id") or getattr(request.state, "loan_id", None)
            # Committed before the answer leaves, by the access log's writer thread (batched).
            await request.app.state.container.access_log.arecord(
                subject=who.subject, via=who.via, tenant=who.tenant, loan_id=loan_id,
                method=request.method, endpoint=route, status=response.status_code, request_id=request_id)
        log.info("request", method=request.method, route=route, status=response.status_code,
                 ms=round(elapsed * 1000, 1), tenant=who.tenant if who else None,
                 subject=who.subject if who else None)
        return response


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
