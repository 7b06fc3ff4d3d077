"""The bench's HTTP server: the real app (api.app.create_app) plus GET /bench/noop.

Run as `python -m bench.server` with the same LUOTTO_* environment as `luotto serve`. It does what
api/serve.py does (container, uvicorn with log_level warning, the read-model thread unless
BENCH_READ_MODEL=process: then a `luotto projections follow` process beside it does that work, as
in deploy/) except the daily servicing trigger (like `luotto serve --no-scheduler`), and adds one
no-op endpoint that goes
through the same ASGI stack (FastAPI routing, uvicorn, uvloop/httptools) as the real endpoints,
so the two can be compared in the same process.
"""
from __future__ import annotations

import os
import threading

import uvicorn

from adapters.logging import configure as configure_logging
from adapters.settings import Settings
from api.app import create_app
from application.container import Container
from api.serve import freeze_startup_heap, keep_read_model_current


def build() -> tuple:
    settings = Settings()
    configure_logging(settings.log_format)  # as `luotto serve` does: one JSON line per request
    container = Container.build(settings)
    app = create_app(settings, container)

    @app.get("/bench/noop", include_in_schema=False)
    def noop() -> dict:
        return {}

    # First in the route table, as POST /v1/payments is (api/app.py): added last, Starlette would try
    # every router before it, the console's among them, and part (a)'s ratio would measure that.
    app.router.routes.insert(0, app.router.routes.pop())
    return settings, container, app


def gc_pauses() -> list:
    """Records how long each garbage collection of the server takes (a full collection walks every
    object in the aggregate cache); summarised on stderr when the server stops."""
    import gc
    import time

    pauses: list[tuple[int, float]] = []
    started: list[float] = [0.0]

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], time.perf_counter() - started[0]))

    gc.callbacks.append(callback)
    return pauses


def report_gc(pauses: list) -> None:
    import sys

    for generation in (0, 1, 2):
        times = sorted(t for g, t in pauses if g == generation)
        if times:
            print(f"gc generation {generation}: {len(times)} collections, total {sum(times) * 1000:.0f} ms, "
                  f"longest {times[-1] * 1000:.1f} ms", file=sys.stderr)


def main() -> None:
    pauses = gc_pauses()
    settings, container, app = build()
    freeze_startup_heap()
    stop = threading.Event()
    if os.environ.get("BENCH_READ_MODEL", "thread") == "thread":
        threading.Thread(target=keep_read_model_current, args=(container, stop), name="read-model",
                         daemon=True).start()
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        stop.set()
        container.close()
        report_gc(pauses)


if __name__ == "__main__":
    main()
