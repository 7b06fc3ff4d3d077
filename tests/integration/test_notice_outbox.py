"""Notice delivery: the PDF store, the outbox on SQLite and PostgreSQL, the print folder, and the
Suomi.fi Messages adapter against a local fake of its REST API.

A notice (NoticeSent, R-REM-1 / R-ACC-6) must reach the borrower once: the outbox sends each row
at most once successfully, recovers rows a dead worker left in 'sending', and relies on adapters
being idempotent by the message id for that recovery. The stored PDF and its hash are evidence
(R-EVID-3), so the store refuses to hand back bytes that no longer match their hash.

The Suomi.fi fake below follows the request/response shapes documented in
adapters/notices/suomifi.py (POST /v1/token, POST /v2/attachments, POST /v2/messages/electronic
with 409 for a repeated externalId, GET /v2/events with a continuation token). It runs as a real
HTTP server (uvicorn) on 127.0.0.1 and a free port, in a thread.
"""
from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import itertools
import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from adapters.notices.outbox import (Delivery, OutboundNotice, Outbox, OutboxConflict, PermanentDeliveryError,
                                     message_id)
from adapters.notices.printfolder import PrintFolderAdapter
from adapters.notices.render import render_notice
from adapters.notices.store import CorruptPdf, PdfNotFound, PdfStore, sha256_hex
from adapters.notices.suomifi import SuomiFiError, SuomiFiMessagesAdapter
from adapters.sql_store import PostgresStore, SQLiteStore

TENANT = "t1"
STALE = 60.0  # seconds after which a row left in 'sending' is re-claimed
ORGANISER = {"name": "Etelä-Karjalan hyvinvointialue", "iban": "FI2112345600000785", "phone": "040 123 4567"}
ADDRESSEE = {"name": "Aino Äijälä", "address": ["Kauppakatu 1 A 2", "53100 Lappeenranta"], "language": "fi",
             "recipient_id": "010101-123N"}


class Crash(BaseException):
    """The worker process dies (not an Exception: nothing in the outbox may swallow it)."""


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2025, 6, 3, 9, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def notice_pdf(loan_id: str = "L-1", amount: str = "1234.56") -> bytes:
    return render_notice({"kind": "acceleration", "loan": loan_id, "sent_on": "2025-06-03", "instalments": [3, 4],
                          "delayed_amount": amount, "period_days": 28, "cure_deadline": "2025-07-01",
                          "takes_effect_on": "2025-07-02", "reference": "1244564"}, ADDRESSEE, ORGANISER)


@pytest.fixture(params=[pytest.param("sqlite", id="sqlite"),
                        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLiteStore | PostgresStore]:
    if request.param == "postgres":
        info = request.getfixturevalue("pg_schema")  # a fresh schema, dropped after this fixture
        store = PostgresStore(info.with_schema(None).dsn, info.schema, size=4)
    else:
        store = SQLiteStore(str(tmp_path / "read-model.sqlite"))
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pdfs(tmp_path: Path) -> PdfStore:
    return PdfStore(tmp_path / "pdfs")


@pytest.fixture
def outbox(sql_store, pdfs: PdfStore, clock: Clock) -> Outbox:
    box = Outbox(sql_store, pdfs, stale_after=STALE, max_attempts=3, clock=clock)
    box.setup()
    return box


def enqueue(outbox: Outbox, pdfs: PdfStore, loan_id: str = "L-1", version: int = 7, *, channel: str = "letter",
            pdf: bytes | None = None) -> tuple[str, int]:
    sha = pdfs.put(pdf if pdf is not None else notice_pdf(loan_id))
    outbox.enqueue(tenant=TENANT, loan_id=loan_id, notice_version=version, sha256=sha, channel=channel,
                   addressee=ADDRESSEE, title="Ilmoitus luoton eräännyttämisestä", body="Viivästynyt määrä ...")
    return loan_id, version


class Recording:
    """Wraps an adapter: counts deliver() calls per message id; can die after (or before) sending."""

    def __init__(self, inner, *, crash_after: int = 0, crash_before: int = 0, delay: float = 0.0):
        self.inner, self.channel = inner, inner.channel
        self.calls: list[str] = []
        self.crash_after, self.crash_before, self.delay = crash_after, crash_before, delay
        self._lock = threading.Lock()

    def deliver(self, notice):
        with self._lock:
            self.calls.append(notice.message_id)
            if self.crash_before:
                self.crash_before -= 1
                raise Crash("died after the claim, before sending")
        if self.delay:
            time.sleep(self.delay)
        result = self.inner.deliver(notice)
        with self._lock:
            if self.crash_after:
                self.crash_after -= 1
                raise Crash("died after sending, before marking done")
        return result

    def poll_events(self, token):
        return self.inner.poll_events(token)


# --------------------------------------------------------------------------------------------- #
# PdfStore (R-EVID-3)
# --------------------------------------------------------------------------------------------- #


def test_r_evid_3_pdf_store_is_content_addressed_and_idempotent(pdfs: PdfStore):
    pdf = notice_pdf()
    sha = pdfs.put(pdf)
    assert sha == sha256_hex(pdf)
    path = pdfs.root / sha[:2] / f"{sha}.pdf"
    assert path.read_bytes() == pdf
    stat = path.stat()
    assert pdfs.put(pdf) == sha  # same bytes again: nothing rewritten
    assert path.stat().st_ino == stat.st_ino and path.stat().st_mtime_ns == stat.st_mtime_ns
    assert pdfs.get(sha) == pdf
    assert sorted(p.name for p in pdfs.root.rglob("*")) == sorted([sha[:2], path.name])  # no temp files left


def test_r_evid_3_pdf_store_refuses_bytes_that_do_not_match_their_hash(pdfs: PdfStore):
    pdf = notice_pdf()
    sha = pdfs.put(pdf)
    path = pdfs.root / sha[:2] / f"{sha}.pdf"
    path.write_bytes(pdf + b"%% one more line\n")  # tampered on disk
    with pytest.raises(CorruptPdf):
        pdfs.get(sha)
    assert pdfs.put(pdf) == sha  # storing the true bytes again repairs it
    assert pdfs.get(sha) == pdf
    with pytest.raises(PdfNotFound):
        pdfs.get("0" * 64)
    with pytest.raises(ValueError):
        pdfs.get("../" + sha[3:])


# --------------------------------------------------------------------------------------------- #
# Outbox: idempotent enqueue, send at most once (R-REM-1 / R-ACC-6 notices reach the borrower once)
# --------------------------------------------------------------------------------------------- #


def test_r_acc_6_enqueue_is_idempotent_by_tenant_loan_and_notice_version(outbox: Outbox, pdfs: PdfStore):
    pdf = notice_pdf()
    sha = pdfs.put(pdf)
    args = dict(tenant=TENANT, loan_id="L-1", notice_version=7, sha256=sha, channel="letter", addressee=ADDRESSEE)
    assert outbox.enqueue(**args) is True
    assert outbox.enqueue(**args) is False
    rows = outbox.rows()
    assert len(rows) == 1
    assert rows[0]["status"] == "pending" and rows[0]["attempts"] == 0
    assert rows[0]["message_id"] == message_id(TENANT, "L-1", 7)
    other = pdfs.put(notice_pdf(amount="999.00"))
    with pytest.raises(OutboxConflict):
        outbox.enqueue(**{**args, "sha256": other})
    with pytest.raises(PdfNotFound):
        outbox.enqueue(**{**args, "notice_version": 8, "sha256": "a" * 64})
    # Another version of the same loan is another notice.
    assert outbox.enqueue(**{**args, "notice_version": 9}) is True
    assert len(outbox.rows()) == 2


def test_r_acc_6_message_id_is_stable_and_distinct_per_notice():
    assert message_id("t1", "L-1", 7) == message_id("t1", "L-1", 7)
    assert len({message_id("t1", "L-1", 7), message_id("t1", "L-1", 8), message_id("t2", "L-1", 7),
                message_id("t1", "L-17", 7)}) == 4
    uuid.UUID(message_id("t1", "L-1", 7))  # a UUID: safe as a file name and as an externalId


def test_r_acc_6_print_folder_gets_each_notice_once(outbox: Outbox, pdfs: PdfStore, tmp_path: Path):
    key = (TENANT, *enqueue(outbox, pdfs))
    enqueue(outbox, pdfs, "L-2", 3, channel="suomifi")  # another channel: not this adapter's
    printer = PrintFolderAdapter(tmp_path / "print")
    assert outbox.deliver_pending(printer) == [(key, "sent_for_printing")]
    assert outbox.deliver_pending(printer) == []
    mid = message_id(*key)
    assert (tmp_path / "print" / f"{mid}.pdf").read_bytes() == notice_pdf()
    sidecar = json.loads((tmp_path / "print" / f"{mid}.json").read_text("utf-8"))
    # R-DATA-1: only what printing needs (the address is in the letter's window), no identity code.
    assert sidecar == {"message_id": mid, "tenant": TENANT, "pdf": f"{mid}.pdf"}
    assert sorted(p.name for p in (tmp_path / "print").iterdir()) == [f"{mid}.json", f"{mid}.pdf"]
    row = outbox.get(*key)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent_for_printing", 1, None)
    assert outbox.get(TENANT, "L-2", 3)["status"] == "pending"


def test_r_acc_6_print_folder_adapter_is_idempotent_by_message_id(outbox: Outbox, pdfs: PdfStore, tmp_path: Path):
    enqueue(outbox, pdfs)
    printer = PrintFolderAdapter(tmp_path / "print")
    recorder = Recording(printer, crash_after=1)
    with pytest.raises(Crash):
        outbox.deliver_pending(recorder)
    writes = printer.writes
    assert writes == 2  # sidecar + PDF
    outbox.clock.advance(STALE + 1)
    assert [o for _k, o in outbox.deliver_pending(recorder)] == ["sent_for_printing"]
    assert printer.writes == writes  # found in place: nothing written twice


@pytest.mark.parametrize("crash", ["crash_after", "crash_before"])
def test_r_acc_6_worker_dying_after_the_claim_is_retried_exactly_once(outbox: Outbox, pdfs: PdfStore,
                                                                      clock: Clock, tmp_path: Path, crash):
    key = (TENANT, *enqueue(outbox, pdfs))
    printer = PrintFolderAdapter(tmp_path / "print")
    recorder = Recording(printer, **{crash: 1})
    with pytest.raises(Crash):
        outbox.deliver_pending(recorder)
    row = outbox.get(*key)
    assert (row["status"], row["attempts"]) == ("sending", 1)

    # Not stale yet: another worker leaves it alone (the first might still be sending).
    clock.advance(STALE - 1)
    assert outbox.deliver_pending(recorder) == []
    assert len(recorder.calls) == 1

    clock.advance(2)  # now older than STALE: retried, once
    assert outbox.deliver_pending(recorder) == [(key, "sent_for_printing")]
    assert outbox.deliver_pending(recorder) == []
    clock.advance(10 * STALE)
    assert outbox.deliver_pending(recorder) == []
    assert recorder.calls == [message_id(*key)] * 2
    row = outbox.get(*key)
    assert (row["status"], row["attempts"]) == ("sent_for_printing", 2)
    assert sorted(p.suffix for p in (tmp_path / "print").iterdir()) == [".json", ".pdf"]
    assert (tmp_path / "print" / f"{message_id(*key)}.pdf").read_bytes() == notice_pdf()


def test_r_acc_6_a_notice_that_keeps_killing_workers_is_given_up(outbox: Outbox, pdfs: PdfStore, clock: Clock,
                                                                 tmp_path: Path):
    key = (TENANT, *enqueue(outbox, pdfs))
    recorder = Recording(PrintFolderAdapter(tmp_path / "print"), crash_before=99)
    for _ in range(3):  # max_attempts = 3
        with pytest.raises(Crash):
            outbox.deliver_pending(recorder)
        clock.advance(STALE + 1)
    assert outbox.deliver_pending(recorder) == [(key, "failed")]
    row = outbox.get(*key)
    assert row["status"] == "failed" and "abandoned" in row["last_error"]
    assert len(recorder.calls) == 3


def test_r_acc_6_two_workers_never_send_the_same_notice(sql_store, pdfs: PdfStore, clock: Clock, tmp_path: Path):
    boxes = [Outbox(sql_store, pdfs, stale_after=STALE, clock=clock) for _ in range(2)]
    boxes[0].setup()
    keys = {(TENANT, *enqueue(boxes[0], pdfs, f"L-{n}", 1, pdf=notice_pdf(f"L-{n}"))) for n in range(12)}
    recorder = Recording(PrintFolderAdapter(tmp_path / "print"), delay=0.01)
    results: list[list] = [[], []]
    start = threading.Barrier(2)

    def work(i: int) -> None:
        start.wait()
        results[i] = boxes[i].deliver_pending(recorder)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    sent = [key for key, outcome in results[0] + results[1] if outcome == "sent_for_printing"]
    assert sorted(sent) == sorted(keys)  # every notice sent, none by both workers
    assert Counter(recorder.calls) == Counter({message_id(*k): 1 for k in keys})


def test_r_acc_6_channel_errors_are_retried_then_given_up(outbox: Outbox, pdfs: PdfStore):
    key = (TENANT, *enqueue(outbox, pdfs))
    permanent_key = (TENANT, *enqueue(outbox, pdfs, "L-2", 1, pdf=notice_pdf("L-2")))

    class Flaky:
        channel = "letter"

        def __init__(self):
            self.calls = Counter()

        def deliver(self, notice):
            self.calls[notice.loan_id] += 1
            if notice.loan_id == "L-2":
                raise PermanentDeliveryError("no such address")
            raise OSError("print server unreachable")

    flaky = Flaky()
    assert sorted(outbox.deliver_pending(flaky)) == sorted([(key, "failed"), (permanent_key, "failed")])
    assert outbox.get(*key)["status"] == "pending"  # retried
    assert "OSError: print server unreachable" in outbox.get(*key)["last_error"]
    assert outbox.get(*permanent_key)["status"] == "failed"  # not retried
    outbox.deliver_pending(flaky)
    outbox.deliver_pending(flaky)
    assert outbox.get(*key)["status"] == "failed" and outbox.get(*key)["attempts"] == 3
    assert outbox.deliver_pending(flaky) == []
    assert flaky.calls == Counter({"L-1": 3, "L-2": 1})


def test_r_evid_3_a_tampered_pdf_is_never_sent(outbox: Outbox, pdfs: PdfStore, tmp_path: Path):
    key = (TENANT, *enqueue(outbox, pdfs))
    sha = outbox.get(*key)["sha256"]
    (pdfs.root / sha[:2] / f"{sha}.pdf").write_bytes(b"%PDF-1.3 something else")
    recorder = Recording(PrintFolderAdapter(tmp_path / "print"))
    assert outbox.deliver_pending(recorder) == [(key, "failed")]
    assert recorder.calls == []
    assert "CorruptPdf" in outbox.get(*key)["last_error"]


def test_r_acc_6_delivery_events_only_move_a_notice_forward(outbox: Outbox, pdfs: PdfStore, tmp_path: Path):
    key = (TENANT, *enqueue(outbox, pdfs))
    outbox.deliver_pending(PrintFolderAdapter(tmp_path / "print"))
    mid = message_id(*key)
    assert outbox.apply_events([{"message_id": mid, "outcome": "delivered"}]) == [(key, "delivered")]
    assert outbox.apply_events([{"message_id": mid, "outcome": "sent_for_printing"}]) == []  # backwards
    assert outbox.apply_events([{"message_id": mid, "outcome": None, "type": "Posti: unresolved"},
                                {"message_id": "unknown", "outcome": "read"}]) == []
    assert outbox.apply_events([{"message_id": mid, "outcome": "returned"}]) == [(key, "returned")]
    assert outbox.get(*key)["status"] == "returned"


# --------------------------------------------------------------------------------------------- #
# Suomi.fi Messages: a fake of the REST API (shapes as documented in adapters/notices/suomifi.py)
# --------------------------------------------------------------------------------------------- #


class FakeSuomiFi:
    USERNAME, PASSWORD, SERVICE_ID = "luotto-api", "correct horse battery staple 123!", "luotto-service"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: set[str] = set()
        self.attachments: dict[str, dict] = {}
        self.messages: dict[str, dict] = {}  # externalId -> message
        self.events: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.message_posts = 0
        self._ids = itertools.count(1001)
        self.fail_next: int | None = None  # status for the next message POST
        # Issue 20: recipients without a mailbox in use, a configuration fault of ours, the password.
        self.no_mailbox: set[str] = set()
        self.inactive: str | None = None  # SERVICE_NOT_ACTIVE | SYSTEM_NOT_ACTIVE while set
        self.events_down = False  # /v2/events answers 503 while set
        self.app = self._build()

    def _auth(self, request: Request) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer ") or header[len("Bearer "):] not in self.tokens:
            return JSONResponse({"reason": "Invalid token"}, status_code=401)
        return None

    def read(self, external_id: str) -> None:
        """The recipient opens the message in their mailbox."""
        with self.lock:
            message = self.messages[external_id]
            self._event("Electronic message read", message)

    def _event(self, kind: str, message: dict) -> None:
        self.events.append({"type": kind, "eventTime": "2025-06-03T12:00:00.000+03:00",
                            "metadata": {"messageId": message["messageId"], "serviceId": self.SERVICE_ID,
                                         "externalId": message["externalId"]}})

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def log(request: Request, call_next):
            self.requests.append((request.method, str(request.url.path) + (f"?{request.url.query}" if
                                                                            request.url.query else "")))
            return await call_next(request)

        @app.post("/v1/token")
        async def token(request: Request):
            body = await request.json()
            if (body.get("username"), body.get("password")) != (self.USERNAME, self.PASSWORD):
                return JSONResponse({"reason": "Invalid credentials"}, status_code=400)
            issued = uuid.uuid4().hex
            with self.lock:
                self.tokens.add(issued)
            return {"access_token": issued, "token_type": "bearer", "expires_in": 3600}

        @app.post("/v2/attachments")
        async def attachments(request: Request):
            if (denied := self._auth(request)) is not None:
                return denied
            raw = await request.body()
            head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
            parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
            part = parts.get("file")
            if part is None or not part.get_filename():
                return JSONResponse({"reason": "file is required"}, status_code=400)
            attachment_id = str(uuid.uuid4())
            with self.lock:
                self.attachments[attachment_id] = {"filename": part.get_filename(),
                                                   "content_type": part.get_content_type(),
                                                   "data": part.get_payload(decode=True)}
            return {"attachmentId": attachment_id}

        @app.post("/v2/messages/electronic")
        async def electronic(request: Request):
            if (denied := self._auth(request)) is not None:
                return denied
            body = await request.json()
            e = body.get("electronic") or {}
            problems = [f for f in ("title", "body", "bodyFormat", "visibility", "replyAllowedBy") if not e.get(f)]
            if not (body.get("recipient") or {}).get("id"):
                problems.append("recipient.id")
            if (body.get("sender") or {}).get("serviceId") != self.SERVICE_ID:
                problems.append("sender.serviceId")
            if any(a.get("attachmentId") not in self.attachments for a in e.get("attachments") or []):
                problems.append("attachments")
            if not body.get("externalId"):
                problems.append("externalId")
            if problems:
                return JSONResponse({"reason": "Validation failed",
                                     "validationErrors": [{"error": p} for p in problems]}, status_code=400)
            if self.inactive is not None:
                return JSONResponse({"reason": "Sender not active", "validationErrors": [
                    {"error": "not active", "errorCode": self.inactive}]}, status_code=400)
            if body["recipient"]["id"] in self.no_mailbox:
                return JSONResponse({"reason": "Bad request", "validationErrors": [
                    {"error": "The recipient has no mailbox in use", "errorCode": "MAILBOX_NOT_IN_USE"}]},
                    status_code=400)
            with self.lock:
                self.message_posts += 1
                if self.fail_next is not None:
                    status, self.fail_next = self.fail_next, None
                    return JSONResponse({"reason": "Internal error"}, status_code=status)
                previous = self.messages.get(body["externalId"])
                if previous is not None:
                    return JSONResponse({"reason": "Message already exists", "messageId": previous["messageId"]},
                                        status_code=409)
                message = {**body, "messageId": next(self._ids)}
                self.messages[body["externalId"]] = message
                self._event("Electronic message created", message)
            return {"messageId": message["messageId"]}

        @app.post("/v2/messages")
        async def multichannel(request: Request):
            """Issue 20: electronic to a mailbox in use, else printed by the service (paperMail part)."""
            if (denied := self._auth(request)) is not None:
                return denied
            body = await request.json()
            paper = body.get("paperMail") or {}
            posti = (paper.get("printingAndEnvelopingService") or {}).get("postiMessaging") or {}
            address = (paper.get("recipient") or {}).get("address") or {}
            problems = [f for f in ("username", "password") if not posti.get(f)]
            problems += [f"recipient.address.{f}" for f in ("name", "streetAddress", "zipCode", "city")
                         if not address.get(f)]
            if problems or not (body.get("electronic") or {}).get("visibility"):
                return JSONResponse({"reason": "Validation failed",
                                     "validationErrors": [{"error": p} for p in problems]}, status_code=400)
            with self.lock:
                previous = self.messages.get(body["externalId"])
                if previous is not None:
                    return JSONResponse({"reason": "Message already exists", "messageId": previous["messageId"]},
                                        status_code=409)
                message = {**body, "messageId": next(self._ids)}
                self.messages[body["externalId"]] = message
                printed = body["recipient"]["id"] in self.no_mailbox
                self._event("Sent for printing and enveloping" if printed else "Electronic message created", message)
            return {"messageId": message["messageId"]}

        @app.post("/v1/change-password")
        async def change_password(request: Request):
            body = await request.json()
            if body.get("accessToken") not in self.tokens or body.get("currentPassword") != self.PASSWORD \
                    or len(body.get("newPassword") or "") < 32 or "authorization" in request.headers:
                return JSONResponse({"reason": "Invalid password change"}, status_code=400)
            with self.lock:
                self.PASSWORD = body["newPassword"]
                self.tokens.clear()
            return {}

        @app.get("/v2/events")
        async def events(request: Request, continuationToken: str | None = None):  # noqa: N803 - API name
            if (denied := self._auth(request)) is not None:
                return denied
            if self.events_down:
                return JSONResponse({"reason": "Service unavailable"}, status_code=503)
            start = int(continuationToken) if continuationToken else 0
            with self.lock:
                page = self.events[start:start + 1000]
                return {"continuationToken": str(start + len(page)), "events": page}

        return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def suomifi() -> Iterator[tuple[FakeSuomiFi, str]]:
    fake = FakeSuomiFi()
    server = uvicorn.Server(uvicorn.Config(fake.app, host="127.0.0.1", port=_free_port(), log_level="warning",
                                           lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the fake Suomi.fi server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def adapter(suomifi) -> Iterator[SuomiFiMessagesAdapter]:
    fake, url = suomifi
    a = SuomiFiMessagesAdapter(url, fake.USERNAME, fake.PASSWORD, fake.SERVICE_ID, timeout=10)
    try:
        yield a
    finally:
        a.close()


@pytest.fixture
def sqlite_outbox(tmp_path: Path, pdfs: PdfStore, clock: Clock) -> Iterator[Outbox]:
    store = SQLiteStore(str(tmp_path / "outbox.sqlite"))
    box = Outbox(store, pdfs, stale_after=STALE, max_attempts=3, clock=clock)
    box.setup()
    yield box
    store.close()


def test_r_acc_6_suomifi_token_is_fetched_with_the_api_credentials(suomifi, adapter):
    fake, url = suomifi
    token = adapter.access_token()
    assert token in fake.tokens
    assert adapter.access_token() == token  # cached while valid
    assert fake.requests.count(("POST", "/v1/token")) == 1
    wrong = SuomiFiMessagesAdapter(url, fake.USERNAME, "wrong", fake.SERVICE_ID)
    with pytest.raises(SuomiFiError):  # credentials can be fixed: the notice waits, not fails
        wrong.access_token()
    wrong.close()


def test_r_acc_6_suomifi_attachment_upload_carries_the_pdf(suomifi, adapter):
    fake, _url = suomifi
    pdf = notice_pdf()
    attachment_id = adapter.upload_attachment("notice-L-1-7.pdf", pdf)
    stored = fake.attachments[attachment_id]
    assert stored == {"filename": "notice-L-1-7.pdf", "content_type": "application/pdf", "data": pdf}


def test_r_acc_6_suomifi_sends_the_notice_once_as_an_electronic_message(suomifi, adapter, sqlite_outbox, pdfs):
    fake, _url = suomifi
    key = (TENANT, *enqueue(sqlite_outbox, pdfs, channel="suomifi"))
    assert sqlite_outbox.deliver_pending(adapter) == [(key, "delivered")]
    assert sqlite_outbox.deliver_pending(adapter) == []
    mid = message_id(*key)
    assert list(fake.messages) == [mid]
    message = fake.messages[mid]
    assert message["recipient"] == {"id": "010101-123N"}
    assert message["sender"] == {"serviceId": fake.SERVICE_ID}
    assert message["electronic"]["title"] == "Ilmoitus luoton eräännyttämisestä"
    assert message["electronic"]["body"] == "Viivästynyt määrä ..."
    [attachment] = message["electronic"]["attachments"]
    assert fake.attachments[attachment["attachmentId"]]["data"] == notice_pdf()
    assert fake.attachments[attachment["attachmentId"]]["filename"] == "notice-L-1-7.pdf"
    row = sqlite_outbox.get(*key)
    assert (row["status"], row["provider_ref"]) == ("delivered", str(message["messageId"]))


def test_r_acc_6_suomifi_resend_with_the_same_external_id_is_not_sent_twice(suomifi, adapter, sqlite_outbox,
                                                                            pdfs, clock):
    fake, _url = suomifi
    key = (TENANT, *enqueue(sqlite_outbox, pdfs, channel="suomifi"))
    recorder = Recording(adapter, crash_after=1)
    with pytest.raises(Crash):  # sent, then the worker died before recording it
        sqlite_outbox.deliver_pending(recorder)
    assert sqlite_outbox.get(*key)["status"] == "sending"
    first = fake.messages[message_id(*key)]["messageId"]
    clock.advance(STALE + 1)
    assert sqlite_outbox.deliver_pending(recorder) == [(key, "delivered")]
    assert fake.message_posts == 2  # the retry did reach Suomi.fi ...
    assert len(fake.messages) == 1  # ... which answered 409: one message in the mailbox
    assert sqlite_outbox.get(*key)["provider_ref"] == str(first)
    assert [e["type"] for e in fake.events] == ["Electronic message created"]


def test_r_acc_6_suomifi_renews_an_expired_token_and_retries_server_errors(suomifi, adapter, sqlite_outbox, pdfs):
    fake, _url = suomifi
    key = (TENANT, *enqueue(sqlite_outbox, pdfs, channel="suomifi"))
    adapter.access_token()
    fake.tokens.clear()  # the token expired on the server's side
    fake.fail_next = 503
    assert sqlite_outbox.deliver_pending(adapter) == [(key, "failed")]
    assert sqlite_outbox.get(*key)["status"] == "pending"  # a 5xx is retried
    assert sqlite_outbox.deliver_pending(adapter) == [(key, "delivered")]
    assert len(fake.messages) == 1
    assert fake.requests.count(("POST", "/v1/token")) == 2


def test_r_acc_6_suomifi_refusals_and_missing_recipient_are_permanent(suomifi, adapter, sqlite_outbox, pdfs):
    fake, _url = suomifi
    key = (TENANT, *enqueue(sqlite_outbox, pdfs, channel="suomifi"))
    fake.fail_next = 400
    assert sqlite_outbox.deliver_pending(adapter) == [(key, "failed")]
    assert sqlite_outbox.get(*key)["status"] == "failed"
    sha = pdfs.put(notice_pdf("L-2"))
    sqlite_outbox.enqueue(tenant=TENANT, loan_id="L-2", notice_version=1, sha256=sha, channel="suomifi",
                          addressee={"name": "No Id"})
    assert sqlite_outbox.deliver_pending(adapter) == [((TENANT, "L-2", 1), "failed")]
    assert "recipient_id" in sqlite_outbox.get(TENANT, "L-2", 1)["last_error"]


def test_r_acc_6_suomifi_events_mark_notices_delivered_then_read(suomifi, adapter, sqlite_outbox, pdfs):
    fake, _url = suomifi
    key = (TENANT, *enqueue(sqlite_outbox, pdfs, channel="suomifi"))
    other = (TENANT, *enqueue(sqlite_outbox, pdfs, "L-2", 4, channel="suomifi", pdf=notice_pdf("L-2")))
    sqlite_outbox.deliver_pending(adapter)
    # Events for our messages: both created; "delivered" is already recorded, so nothing changes.
    assert sqlite_outbox.sync_events(adapter) == []
    events, token = adapter.poll_events(None)
    assert [(e["message_id"], e["outcome"]) for e in events] == [(message_id(*key), "delivered"),
                                                                 (message_id(*other), "delivered")]
    assert token == "2"
    fake.read(message_id(*key))
    assert sqlite_outbox.sync_events(adapter) == [(key, "read")]
    assert sqlite_outbox.get(*key)["status"] == "read"
    assert sqlite_outbox.get(*other)["status"] == "delivered"
    # The continuation token is kept: the next poll asks only for what is new.
    assert ("GET", "/v2/events?continuationToken=3") in fake.requests
    assert sqlite_outbox.sync_events(adapter) == []


def test_r_acc_6_suomifi_adapter_delivers_idempotently_on_its_own(suomifi, adapter, pdfs):
    fake, _url = suomifi
    notice = OutboundNotice(message_id=message_id(TENANT, "L-9", 2), tenant=TENANT, loan_id="L-9", notice_version=2,
                            sha256=sha256_hex(notice_pdf()), pdf=notice_pdf(), addressee=ADDRESSEE,
                            title="Maksumuistutus", body="Erä 3 ...")
    first = adapter.deliver(notice)
    second = adapter.deliver(notice)
    assert first == second == Delivery("delivered", reference=str(fake.messages[notice.message_id]["messageId"]))
    assert len(fake.messages) == 1
