"""`luotto projections follow` as deploy/ runs it beside `luotto serve --no-read-model`: it keeps the
read models current, and stops cleanly (exit 0, no traceback) on SIGTERM (systemd, docker stop) and
on SIGINT (Ctrl-C)."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

from tests.e2e.conftest import LUOTTO, TENANTS


def _env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LUOTTO_", "POSTGRES_"))}
    env.update({"LUOTTO_DATABASE_URL": f"sqlite:///{tmp_path / 'luotto.sqlite'}",
                "LUOTTO_TENANTS": json.dumps(TENANTS), "LUOTTO_PROJECTION_POLL_SECONDS": "0.1"})
    return env


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_projects_then_stops_cleanly_on_a_signal(tmp_path, stop_signal):
    env = _env(tmp_path)
    subprocess.run([str(LUOTTO), "migrate"], env=env, cwd=tmp_path, check=True, capture_output=True, timeout=120)
    worker = subprocess.Popen([str(LUOTTO), "projections", "follow"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        tracked = None
        while time.monotonic() < deadline and not tracked:  # the organisers' registers get projected
            time.sleep(0.2)
            with sqlite3.connect(tmp_path / "luotto.sqlite") as db:
                try:
                    tracked = db.execute("SELECT position FROM luotto_tracking WHERE projection = 'read_model'"
                                         ).fetchone()
                except sqlite3.OperationalError:
                    tracked = None
        assert tracked and tracked[0] > 0, "the worker projected nothing"
        worker.send_signal(stop_signal)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output.decode(errors="replace")[-2000:]
    assert b"Traceback" not in output
