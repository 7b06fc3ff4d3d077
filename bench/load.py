"""The HTTP load generator: several client processes, each with a few threads, each thread with its
own persistent httpx.Client (one keep-alive connection), all released together by a barrier.

A worker either runs for a fixed time (`duration`) or sends a fixed number of requests (`requests`).
It returns its latencies, status counts and its own CPU time, so the caller can tell whether the
clients or the server were the busy side.
"""
from __future__ import annotations

import multiprocessing as mp
import random
import resource
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Job:
    """What one client connection sends. kind: noop | payment | get_loan."""

    kind: str
    base_url: str
    tenant: str = "b"
    loans: tuple = ()          # payment: loan ids; get_loan: (tenant, loan_id) pairs
    headers: dict = field(default_factory=dict)  # tenant -> request headers (X-Tenant, Authorization)
    run_id: str = "run"
    amount: str = "1.00"
    seed: int = 0
    client: str = "httpx"      # httpx (httpx.Client) | raw (a minimal HTTP/1.1 keep-alive socket client)


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, sorted
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    client_cpu: float = 0.0
    warmup_requests: int = 0   # sent before the measured window (not in latencies)

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if isinstance(s, int) and 200 <= s < 300)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


def _requests(job: Job, conn_index: int, connections: int):
    """An endless generator of (method, path, headers, json body) for one connection."""
    if job.kind == "noop":
        while True:
            yield "GET", "/bench/noop", {}, None
    if job.kind == "payment":
        loans, i = job.loans, 0
        headers = job.headers.get(job.tenant, {"X-Tenant": job.tenant})
        while True:
            loan_id = loans[(conn_index + i * connections) % len(loans)]
            body = {"payment_id": f"{job.run_id}-{conn_index}-{i}", "amount": job.amount, "loan_id": loan_id}
            i += 1
            yield "POST", "/v1/payments", headers, body
    if job.kind == "get_loan":
        rnd = random.Random(job.seed * 1000 + conn_index)
        while True:
            tenant, loan_id = rnd.choice(job.loans)
            yield "GET", f"/v1/loans/{loan_id}", job.headers.get(tenant, {"X-Tenant": tenant}), None
    raise ValueError(f"unknown job kind {job.kind!r}")


class RawClient:
    """The least a keep-alive HTTP/1.1 client must do (~10x less CPU per request than httpx), so that
    the clients do not starve the server of CPU on a small machine. Only for this bench's server:
    expects Content-Length (no chunked bodies) and reconnects when the server closes."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        from urllib.parse import urlsplit

        url = urlsplit(base_url)
        self.address, self.timeout = (url.hostname, url.port or 80), timeout
        self.host = f"{url.hostname}:{url.port}".encode()
        self.sock = None
        self.buffer = b""

    def _connect(self) -> None:
        import socket

        self.sock = socket.create_connection(self.address, timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def request(self, method: str, path: str, headers: dict, body: bytes | None) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self.host]
        lines += [f"{k}: {v}".encode() for k, v in headers.items()]
        if body is not None:
            lines += [b"Content-Type: application/json", f"Content-Length: {len(body)}".encode()]
        data = b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")
        for attempt in (1, 2):
            if self.sock is None:
                self._connect()
            try:
                self.sock.sendall(data)
                return self._response()
            except (ConnectionError, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _response(self) -> tuple[int, bytes]:
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._fill()
        head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if close:
            self.close()
        return status, body

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _sender(job: Job, client):
    """A function (method, path, headers, json body) -> (status, error text or "")."""
    if job.client == "raw":
        import json

        def send(method, path, headers, body):
            try:
                status, data = client.request(method, path, headers,
                                              None if body is None else json.dumps(body).encode())
            except OSError as e:
                return type(e).__name__, str(e)
            return status, (data.decode(errors="replace") if status >= 300 else "")
        return send

    import httpx

    def send(method, path, headers, body):
        try:
            response = client.request(method, path, headers=headers, json=body)
        except httpx.HTTPError as e:
            return type(e).__name__, str(e)
        return response.status_code, (response.text if response.status_code >= 300 else "")
    return send


def _client(job: Job):
    if job.client == "raw":
        return RawClient(job.base_url)
    if job.client == "httpx":
        import httpx

        return httpx.Client(base_url=job.base_url, timeout=30.0,
                            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
    raise ValueError(f"unknown client {job.client!r} (httpx or raw)")


def _connection(job: Job, conn_index: int, connections: int, barrier, duration: float | None,
                count: int | None, warmup: int, out: list, lock: threading.Lock) -> None:
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: list[str] = []
    requests = _requests(job, conn_index, connections)
    with _client(job) as client:
        transmit = _sender(job, client)

        def send() -> tuple[float, int | str, str]:
            method, path, headers, body = next(requests)
            t = time.perf_counter()
            status, text = transmit(method, path, headers, body)
            return time.perf_counter() - t, status, text

        for _ in range(warmup):  # opens the connection and warms both sides up; not counted
            send()
        barrier.wait()
        start = time.perf_counter()
        n = 0
        while (count is None or n < count) and (duration is None or time.perf_counter() - start < duration):
            took, status, text = send()
            n += 1
            latencies.append(took)
            statuses[status] += 1
            if text and len(errors) < 5:
                errors.append(f"{status}: {text[:300]}")
    with lock:
        out.append((latencies, statuses, errors))


def _worker(job: Job, first_conn: int, threads: int, connections: int, barrier, duration, count_per_conn,
            warmup: int, results) -> None:
    out: list = []
    lock = threading.Lock()
    workers = [threading.Thread(target=_connection, args=(job, first_conn + k, connections, barrier, duration,
                                                           count_per_conn, warmup, out, lock))
               for k in range(threads)]
    for t in workers:
        t.start()
    barrier.wait()  # the process's own slot: CPU is counted from here
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    for t in workers:
        t.join()
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    latencies, statuses, errors = [], Counter(), []
    for lat, st, err in out:
        latencies.extend(lat)
        statuses.update(st)
        errors.extend(err)
    results.put((latencies, dict(statuses), errors[:5], wall, cpu))


def run_load(job: Job, *, processes: int, threads: int, duration: float | None = None,
             requests: int | None = None, warmup: int = 20, cpu_window=None) -> LoadResult:
    """Drive `processes` x `threads` keep-alive connections; `requests` is the total across them.

    `cpu_window`, if given, is a context manager entered when the barrier releases the clients
    and left when the last one finishes (bench.common.CpuWindow).
    """
    connections = processes * threads
    per_conn = None if requests is None else -(-requests // connections)
    ctx = mp.get_context("spawn")  # the parent may hold database connections: do not fork them
    barrier = ctx.Barrier(connections + processes + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(job, p * threads, threads, connections, barrier, duration,
                                               per_conn, warmup, results), daemon=True)
             for p in range(processes)]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)
    if cpu_window is not None:
        cpu_window.__enter__()
    t0 = time.perf_counter()
    result = LoadResult(warmup_requests=warmup * connections)
    collected = [results.get(timeout=(duration or 0) + 600) for _ in procs]
    result.wall = time.perf_counter() - t0
    if cpu_window is not None:
        cpu_window.__exit__(None, None, None)
    for p in procs:
        p.join(timeout=30)
    for latencies, statuses, errors, wall, cpu in collected:
        result.latencies.extend(latencies)
        result.statuses.update(statuses)
        result.errors.extend(errors)
        result.client_cpu += cpu
    result.wall = max(wall for *_, wall, _ in collected)
    result.latencies.sort()
    return result
