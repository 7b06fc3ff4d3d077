"""Issue 13, bounded cost, against a REAL `luotto serve` process (SQLite file):

- a request body larger than the limit is refused before it is read and before the credential is
  checked (a 150 MB body used to be read and parsed, 134 -> 369 MB of server memory, for a 401);
- waiting reads (`?min_position=`) hold no worker thread: 45 reads waiting for a position beyond the
  head used to delay unrelated reads to 4.5 s."""
from __future__ import annotations

import socket
import threading
import time

from tests.e2e.conftest import LuottoServer


def _raw(server: LuottoServer, request: bytes, timeout: float = 10.0) -> tuple[bytes, float]:
    """Send bytes as they are; the server's answer (status line, headers, body) and how long it took."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 20:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer, time.monotonic() - started


def test_a_body_announced_too_large_is_refused_before_it_is_read_or_the_credential_checked(server_factory,
                                                                                             sqlite_url):
    server = server_factory(sqlite_url)
    # 150 MB announced, none of it sent: an answer can only come without reading the body.
    head = (b"POST /v1/loans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 157286400\r\n\r\n")
    answer, took = _raw(server, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"code": "invalid_request"' in answer and b"larger than 1048576 bytes" in answer and took < 5
    # A bank file may be 64 MiB, and no more: the same refusal before the credential.
    files = (b"POST /v1/payments/files HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
             b"Content-Length: 67108865\r\n\r\n")
    assert _raw(server, files)[0].startswith(b"HTTP/1.1 413")
    within = (b"POST /v1/payments/files HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
              b"Content-Length: 2\r\n\r\nab")
    assert _raw(server, within)[0].startswith(b"HTTP/1.1 401")  # small enough: then the credential counts


def test_waiting_reads_hold_no_worker_thread_and_answer_stale(server_factory, sqlite_url):
    server = server_factory(sqlite_url)
    with server.client("t1") as client:
        head = client.get("/v1/loans").json()["position"]
    answers: list[tuple[int, bool, float]] = []

    def waiting_read() -> None:
        with server.client("t1", timeout=30) as c:
            started = time.monotonic()
            response = c.get("/v1/portfolio", params={"min_position": head + 10**9})
            answers.append((response.status_code, response.json().get("stale"), time.monotonic() - started))

    threads = [threading.Thread(target=waiting_read) for _ in range(45)]
    for t in threads:
        t.start()
    with server.client("t1") as client:
        started = time.monotonic()
        unrelated = client.get("/v1/loans")
        took = time.monotonic() - started
    for t in threads:
        t.join(30)
    assert unrelated.status_code == 200 and took < 2.0, took
    assert len(answers) == 45 and all(status == 200 and stale is True for status, stale, _ in answers), answers
    assert max(seconds for _, _, seconds in answers) < 5.0  # beyond the head: answered without waiting
