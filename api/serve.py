"""`luotto serve`: the HTTP API, the read-model updater and the daily servicing trigger in one process.

A deployment with a separate projection worker (`luotto projections follow`, deploy/compose.yaml)
runs `luotto serve --no-read-model`, so the API's CPU goes to requests."""
from __future__ import annotations

import gc
import threading
import time

import structlog
import uvicorn

from adapters.logging import configure as configure_logging
from adapters.settings import Settings
from api.app import create_app
from application.container import Container
from scheduler.trigger import DailyServicing

log = structlog.get_logger("luotto")


def keep_read_model_current(container: Container, stop: threading.Event) -> None:
    """The read models, and the notices' outbox, follow the event log; every LUOTTO_RETRY_SECONDS the
    items they set aside after a failure are tried again."""
    retry_every = container.settings.retry_seconds
    next_retry = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() >= next_retry:
                next_retry = time.monotonic() + retry_every
                container.read_model.retry_set_aside(older_than_seconds=retry_every / 2)
                if container.notices is not None:
                    container.notices.retry_set_aside(older_than_seconds=retry_every / 2)
                    container.letters.retry_set_aside(older_than_seconds=retry_every / 2)
            busy = container.read_model.run_once()
            busy += container.statistics.run_once() if container.statistics is not None else 0
            if container.notices is not None:
                busy += container.notices.enqueue_new() + container.letters.enqueue_new() + container.notices.deliver()
            if not busy:
                stop.wait(container.settings.projection_poll_seconds)
        except Exception:  # noqa: BLE001 - keep serving; the next poll retries from the tracked position
            log.exception("read_model_update_failed")
            stop.wait(1.0)


def freeze_startup_heap() -> None:
    """Objects made at start-up (modules, the app, the holiday calendar) live as long as the
    process: frozen, the collector's full passes no longer walk them (with 10,000 loans cached
    such a pass stalled every request for ~100 ms, bench part c)."""
    gc.collect()
    gc.freeze()


def start_background(app, container: Container, *, scheduler: bool, read_model: bool) \
        -> tuple[threading.Event, DailyServicing]:
    """Start the read-model thread and the daily trigger this process runs, each watched by /healthz."""
    stop = threading.Event()
    if read_model:
        follower = threading.Thread(target=keep_read_model_current, args=(container, stop), name="read-model",
                                    daemon=True)
        follower.start()
        app.state.health["read-model"] = lambda: None if follower.is_alive() else "the read-model thread has stopped"
    daily = DailyServicing(container, container.settings.servicing_time)
    if scheduler:
        daily.start()
        app.state.health["scheduler"] = lambda: None if daily.running() else "the daily servicing scheduler is " \
                                                                              "not running"
    return stop, daily


def serve(settings: Settings, *, scheduler: bool = True, read_model: bool = True) -> None:
    configure_logging(settings.log_format)
    container = Container.build(settings)
    app = create_app(settings, container)
    freeze_startup_heap()
    stop, daily = start_background(app, container, scheduler=scheduler, read_model=read_model)
    log.info("serving", host=settings.host, port=settings.port, database=settings.database_url.split("@")[-1],
             hint=f"calls need a credential, e.g. `luotto api-key create {next(iter(settings.tenants), 'TENANT')} "
                  "decision_maker`, then 'Authorization: Bearer lk_…'")
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        stop.set()
        daily.stop()
        container.close()
