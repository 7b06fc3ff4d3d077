"""The delivery outbox for notices: SQL rows beside the read models, sent by channel adapters.

One row per notice, keyed by (tenant, loan_id, notice_version) — the version of the NoticeSent
event — in table `luotto_notice_outbox` on the read-model store (`adapters.sql_store.SqlStore`:
SQLite or PostgreSQL, same SQL). The PDF itself lives in the content-addressed `PdfStore`; the row
holds its sha256.

A row names its addressee by borrower_id only (R-DATA-1): the name, address and identity code a
channel needs are read from the personal-data store (`people`: adapters.personal_data.Borrowers)
when the notice is sent, and the sealed letter is opened with the borrower's key then. Once the
borrower is erased the notice cannot be sent (it fails for good). Rows written by older versions
may still carry an addressee; erasure scrubs those (`erase_loans`).

Life of a row (`status`):

    pending --claim--> sending --adapter ok--> sent_for_printing | delivered   (--events--> read | returned)
                          |--adapter error--> pending (retried) or failed (permanent / max_attempts)
                          '--worker died----> still 'sending': re-claimed once `stale_after` seconds old

- `enqueue(...)` is idempotent: the same key twice is one row (a different PDF for the same key is
  refused with `OutboxConflict`).
- `deliver_pending(adapter, limit)` claims each row in its own short transaction with a conditional
  UPDATE (pending, or sending-and-stale -> sending, with a fresh claim token), commits, and only
  then calls the adapter; so two workers never both send a row, on SQLite (BEGIN IMMEDIATE) and
  on PostgreSQL (the second UPDATE re-checks its WHERE after the first commits and matches
  nothing). A worker that dies after the claim leaves the row in 'sending'; once it is older than
  `stale_after` it is claimed and sent again. That second send is safe only because adapters are
  idempotent by `message_id`, a UUID derived from (tenant, loan_id, notice_version).
- `sync_events(adapter)` polls the adapter's delivery events (e.g. Suomi.fi "read") and moves rows
  forward (never backward): sent_for_printing < delivered < read | returned.

Outcomes returned by `deliver_pending` / `apply_events`: "sent_for_printing", "delivered", "read",
"returned", "failed". A "failed" outcome from `deliver_pending` is one failed attempt: the row's
status tells whether it will be retried ('pending') or has given up ('failed').
"""
from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.notices.store import CorruptPdf, PdfNotFound, PdfStore
from adapters.sealing import Unsealable
from adapters.sql_store import SqlStore

# handed_over (issue 20): handed to a channel that itself decides electronic or paper (Suomi.fi multichannel);
# its events then tell which.
OUTCOMES = ("handed_over", "sent_for_printing", "delivered", "read", "returned", "failed")
STATUSES = ("pending", "sending") + OUTCOMES
# Events only move a row forward.
_RANK = {"pending": 0, "sending": 0, "failed": 0, "handed_over": 0.5, "sent_for_printing": 1, "delivered": 2, "returned": 3,
         "read": 3}
_NAMESPACE = uuid.UUID("6f1c3a2e-5d0b-4c8e-9a57-0e2f1b7d4c31")
_SHA256 = re.compile(r"[0-9a-f]{64}")

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS luotto_notice_outbox (
        tenant TEXT NOT NULL, loan_id TEXT NOT NULL, notice_version INTEGER NOT NULL,
        sha256 TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL,
        attempts INTEGER NOT NULL, last_error TEXT, created TEXT NOT NULL, updated TEXT NOT NULL,
        message_id TEXT NOT NULL, envelope TEXT NOT NULL, claim TEXT, provider_ref TEXT,
        PRIMARY KEY (tenant, loan_id, notice_version))""",
    "CREATE INDEX IF NOT EXISTS luotto_notice_outbox_due ON luotto_notice_outbox (channel, status, updated)",
    "CREATE UNIQUE INDEX IF NOT EXISTS luotto_notice_outbox_message ON luotto_notice_outbox (message_id)",
    """CREATE TABLE IF NOT EXISTS luotto_notice_cursor (
        channel TEXT PRIMARY KEY, token TEXT NOT NULL, updated TEXT NOT NULL)""",
]

Key = tuple[str, str, int]


def message_id(tenant: str, loan_id: str, notice_version: int) -> str:
    """The notice's delivery id: the same for every attempt, so adapters can deduplicate by it."""
    return str(uuid.uuid5(_NAMESPACE, f"luotto-notice\x1f{tenant}\x1f{loan_id}\x1f{int(notice_version)}"))


@dataclass(frozen=True)
class OutboundNotice:
    """What an adapter is asked to deliver."""

    message_id: str
    tenant: str
    loan_id: str
    notice_version: int
    sha256: str
    pdf: bytes = field(repr=False)
    addressee: dict
    title: str = ""
    body: str = ""
    attempt: int = 1

    @property
    def filename(self) -> str:
        """A unique, descriptive attachment name (Suomi.fi asks for one), file-system safe."""
        loan = re.sub(r"[^A-Za-z0-9._-]+", "_", self.loan_id).strip("._") or "loan"
        return f"notice-{loan}-{self.notice_version}.pdf"


@dataclass(frozen=True)
class Delivery:
    outcome: str  # sent_for_printing | delivered (or read/returned if already known)
    reference: str | None = None  # the channel's own id, e.g. the Suomi.fi messageId


class PermanentDeliveryError(Exception):
    """The channel refused the notice for good (e.g. no mailbox): retrying will not help."""


class MailboxNotInUse(PermanentDeliveryError):
    """Issue 20: the recipient has no electronic mailbox in use (Suomi.fi MAILBOX_NOT_IN_USE): the letter
    goes on paper instead (`deliver_pending(..., fallback=)`), never 'failed' while a paper channel exists."""


class ChannelUnavailable(Exception):
    """Issue 20: the channel itself is not usable now (a configuration fault such as Suomi.fi's
    SERVICE_NOT_ACTIVE or SYSTEM_NOT_ACTIVE): the notice waits without the attempt counting against it,
    the pass stops (every other notice would fail the same way) and the fault is reported (`last_fault`)."""


class Outcome(str):
    """An outcome string that also carries what the evidence wants: the channel it went through, the
    channel's reference (a Suomi.fi messageId, a print batch) and the channel's own time of the event."""

    channel: str | None = None
    reference: str | None = None
    event_time: str | None = None

    def __new__(cls, value: str, *, channel: str | None = None, reference: str | None = None,
                event_time: str | None = None) -> "Outcome":
        out = super().__new__(cls, value)
        out.channel, out.reference, out.event_time = channel, reference, event_time
        return out


PAPER_FALLBACK = "paper_fallback"  # the outcome returned for a letter printed because no mailbox was in use


class OutboxConflict(Exception):
    """The same notice key was enqueued again with a different PDF or channel."""


class DeliveryAdapter(Protocol):
    channel: str

    def deliver(self, notice: OutboundNotice) -> Delivery | str: ...


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _stamp(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("the outbox clock must return aware datetimes")
    # Fixed width, UTC: ISO text that sorts like the instants it names.
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _key(row: Mapping[str, Any]) -> Key:
    return (row["tenant"], row["loan_id"], int(row["notice_version"]))


def _key_params(key: Key) -> dict:
    return {"tenant": key[0], "loan_id": key[1], "notice_version": key[2]}


_WHERE_KEY = "tenant = :tenant AND loan_id = :loan_id AND notice_version = :notice_version"
_CLAIMABLE = "channel = :channel AND (status = 'pending' OR (status = 'sending' AND updated < :stale))"


class Outbox:
    def __init__(self, store: SqlStore, pdfs: PdfStore, *, stale_after: float = 600.0, max_attempts: int = 8,
                 clock: Callable[[], dt.datetime] = _utc_now, people: Any = None):
        if stale_after <= 0 or max_attempts < 1:
            raise ValueError("stale_after must be positive and max_attempts at least 1")
        self.store, self.pdfs, self.people = store, pdfs, people
        self.stale_after = dt.timedelta(seconds=stale_after)
        self.max_attempts = max_attempts
        self.clock = clock

    def setup(self) -> None:
        with self.store.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement)

    # ------------------------------------------------------------------------------------- #
    # Writing
    # ------------------------------------------------------------------------------------- #

    def enqueue(self, *, tenant: str, loan_id: str, notice_version: int, sha256: str, channel: str,
                addressee: Mapping[str, Any] | None = None, title: str = "", body: str = "",
                borrower_id: str | None = None) -> bool:
        """Queue a stored PDF for delivery. True if a row was added, False if it was already there.
        `borrower_id`: the addressee is looked up when sending; `addressee` (kept for channels fed
        by hand) is stored as given."""
        if not _SHA256.fullmatch(sha256 or ""):
            raise ValueError(f"sha256 must be a lower-case hex digest, got {sha256!r}")
        if sha256 not in self.pdfs:
            raise PdfNotFound(sha256)
        if not channel:
            raise ValueError("channel is required")
        now = _stamp(self.clock())
        row = {"tenant": tenant, "loan_id": loan_id, "notice_version": int(notice_version), "sha": sha256,
               "channel": channel, "now": now,
               "message_id": message_id(tenant, loan_id, notice_version),
               "envelope": json.dumps({"addressee": dict(addressee or {}), "title": title, "body": body,
                                       **({"borrower_id": borrower_id} if borrower_id is not None else {})},
                                      ensure_ascii=False, sort_keys=True)}
        with self.store.transaction() as tx:
            tx.execute(
                """INSERT INTO luotto_notice_outbox (tenant, loan_id, notice_version, sha256, channel, status,
                       attempts, last_error, created, updated, message_id, envelope, claim, provider_ref)
                   VALUES (:tenant, :loan_id, :notice_version, :sha, :channel, 'pending', 0, NULL, :now, :now,
                       :message_id, :envelope, NULL, NULL)
                   ON CONFLICT (tenant, loan_id, notice_version) DO NOTHING""", row)
            if tx.cursor.rowcount == 1:
                return True
            existing = tx.execute(f"SELECT sha256, channel FROM luotto_notice_outbox WHERE {_WHERE_KEY}",
                                  row).one()
        if existing is None or existing["sha256"] != sha256 or existing["channel"] != channel:
            raise OutboxConflict(f"notice {(tenant, loan_id, notice_version)} is already queued as "
                                 f"{existing}; refusing sha256={sha256} channel={channel}")
        return False

    # ------------------------------------------------------------------------------------- #
    # Delivering
    # ------------------------------------------------------------------------------------- #

    last_fault: Exception | None = None  # the ChannelUnavailable that stopped the last pass (None: none did)

    def deliver_pending(self, adapter: DeliveryAdapter, limit: int = 100,
                        fallback: DeliveryAdapter | None = None) -> list[tuple[Key, str]]:
        """Send up to `limit` due rows of the adapter's channel; [(key, outcome)] in send order.
        `fallback`: the paper channel for a recipient without a mailbox in use (MailboxNotInUse)."""
        channel = adapter.channel
        self.last_fault = None
        stale = _stamp(self.clock() - self.stale_after)
        with self.store.transaction() as tx:
            candidates = tx.execute(
                f"""SELECT tenant, loan_id, notice_version FROM luotto_notice_outbox WHERE {_CLAIMABLE}
                    ORDER BY created, tenant, loan_id, notice_version LIMIT :limit""",
                {"channel": channel, "stale": stale, "limit": int(limit)}).all()
        outcomes: list[tuple[Key, str]] = []
        for candidate in candidates:
            key = _key(candidate)
            claimed = self._claim(key, channel)
            if claimed is None:
                continue  # another worker has it, or it is no longer due
            if claimed == "abandoned":
                outcomes.append((key, "failed"))
                continue
            outcome = self._send(adapter, claimed, fallback)
            if outcome is None:  # the channel is down: the rest would fail the same way
                break
            outcomes.append((key, outcome))
        return outcomes

    def _claim(self, key: Key, channel: str) -> dict | str | None:
        now = self.clock()
        params = {**_key_params(key), "channel": channel, "stale": _stamp(now - self.stale_after),
                  "now": _stamp(now), "claim": uuid.uuid4().hex}
        with self.store.transaction() as tx:
            row = tx.execute(f"SELECT * FROM luotto_notice_outbox WHERE {_WHERE_KEY} AND {_CLAIMABLE}",
                             params).one()
            if row is None:
                return None
            if row["status"] == "sending" and row["attempts"] >= self.max_attempts:
                # Workers keep dying on this one: stop re-sending it.
                tx.execute(f"""UPDATE luotto_notice_outbox SET status = 'failed', claim = NULL, updated = :now,
                                   last_error = :error WHERE {_WHERE_KEY} AND {_CLAIMABLE}""",
                           {**params, "error": f"abandoned in 'sending' after {row['attempts']} attempts"})
                return "abandoned" if tx.cursor.rowcount == 1 else None
            tx.execute(f"""UPDATE luotto_notice_outbox SET status = 'sending', claim = :claim,
                               attempts = attempts + 1, updated = :now
                           WHERE {_WHERE_KEY} AND {_CLAIMABLE}""", params)
            if tx.cursor.rowcount != 1:
                return None
        return {**row, "claim": params["claim"], "attempts": row["attempts"] + 1}

    def _send(self, adapter: DeliveryAdapter, row: dict, fallback: DeliveryAdapter | None = None) -> str | None:
        key = _key(row)
        envelope = json.loads(row["envelope"])
        try:
            pdf, addressee = self._letter(row, envelope)
        except (PdfNotFound, CorruptPdf, Unsealable) as exc:
            self._finish(key, row["claim"], "failed", error=f"{type(exc).__name__}: {exc}")
            return "failed"
        notice = OutboundNotice(message_id=row["message_id"], tenant=row["tenant"], loan_id=row["loan_id"],
                                notice_version=int(row["notice_version"]), sha256=row["sha256"], pdf=pdf,
                                addressee=addressee, title=envelope.get("title") or "",
                                body=envelope.get("body") or "", attempt=row["attempts"])
        # Exceptions that are not Exceptions (a crash, SystemExit, KeyboardInterrupt) leave the row
        # in 'sending' on purpose: it is retried once stale.
        try:
            result = adapter.deliver(notice)
        except MailboxNotInUse as exc:
            if fallback is None:
                self._finish(key, row["claim"], "failed", error=f"{type(exc).__name__}: {exc}")
                return "failed"
            return self._on_paper(fallback, notice, key, row, exc)
        except ChannelUnavailable as exc:
            # Not the notice's fault: it waits, and this attempt does not count towards max_attempts.
            self.last_fault = exc
            self._finish(key, row["claim"], "pending", error=f"{type(exc).__name__}: {exc}", uncount=True)
            return None
        except PermanentDeliveryError as exc:
            self._finish(key, row["claim"], "failed", error=f"{type(exc).__name__}: {exc}")
            return "failed"
        except Exception as exc:  # noqa: BLE001 - any channel error is retried up to max_attempts
            status = "failed" if row["attempts"] >= self.max_attempts else "pending"
            self._finish(key, row["claim"], status, error=f"{type(exc).__name__}: {exc}")
            return "failed"
        delivery = result if isinstance(result, Delivery) else Delivery(str(result))
        if delivery.outcome not in OUTCOMES:
            self._finish(key, row["claim"], "failed", error=f"adapter returned unknown outcome {delivery.outcome!r}")
            return "failed"
        self._finish(key, row["claim"], delivery.outcome, reference=delivery.reference)
        return Outcome(delivery.outcome, channel=adapter.channel, reference=delivery.reference)

    def _on_paper(self, fallback: DeliveryAdapter, notice: OutboundNotice, key: Key, row: dict, why: Exception) -> str:
        """The recipient has no mailbox in use: the same letter goes to the paper channel."""
        try:
            result = fallback.deliver(notice)
        except Exception as exc:  # noqa: BLE001 - retried like any channel error
            status = "failed" if row["attempts"] >= self.max_attempts else "pending"
            self._finish(key, row["claim"], status, error=f"paper fallback: {type(exc).__name__}: {exc}")
            return "failed"
        delivery = result if isinstance(result, Delivery) else Delivery(str(result))
        reference = f"{fallback.channel}:{delivery.reference}" if delivery.reference else fallback.channel
        self._finish(key, row["claim"], "sent_for_printing", error=f"{type(why).__name__}: {why}", reference=reference)
        return Outcome(PAPER_FALLBACK, channel=fallback.channel, reference=delivery.reference)

    def _letter(self, row: dict, envelope: dict) -> tuple[bytes, dict]:
        """The letter and its addressee, from the personal-data store when the row names a borrower."""
        borrower_id = envelope.get("borrower_id")
        if envelope.get("erased"):
            raise Unsealable("the addressee's personal data was erased")
        if borrower_id is None or self.people is None:
            return self.pdfs.get(row["sha256"]), envelope.get("addressee") or {}
        person = self.people.find(row["tenant"], borrower_id)
        key = self.people.key(row["tenant"], borrower_id)
        if person is None or person.get("erased_at") or key is None:
            raise Unsealable(f"borrower {borrower_id}: no personal data to address the letter with (erased?)")
        addressee = {"name": person.get("name") or "", "address": person.get("address") or [],
                     "language": person.get("language") or "fi", "recipient_id": person.get("identity_code")}
        return self.pdfs.get(row["sha256"], key), addressee

    def strip_addressees(self, borrower_of: Callable[[str, str], str | None]) -> int:
        """`luotto migrate`: rows written by an older version carry the addressee (name, address,
        identity code); each is given its borrower_id instead, so the outbox holds no personal
        data (R-DATA-1). Returns how many rows were changed."""
        with self.store.transaction() as tx:
            rows = tx.execute("SELECT tenant, loan_id, notice_version, envelope FROM luotto_notice_outbox "
                              "WHERE envelope LIKE :carries", {"carries": '%"addressee": {"%'}).all()
        changed = 0
        for row in rows:
            envelope = json.loads(row["envelope"])
            borrower_id = borrower_of(row["tenant"], row["loan_id"])
            kept = {k: v for k, v in envelope.items() if k != "addressee"}
            kept.update({"borrower_id": borrower_id} if borrower_id else {"erased": True})
            with self.store.transaction() as tx:
                tx.execute(f"UPDATE luotto_notice_outbox SET envelope = :envelope WHERE {_WHERE_KEY}",
                           {**_key_params(_key(row)), "envelope": json.dumps(kept, ensure_ascii=False, sort_keys=True)})
            changed += 1
        return changed

    def erase_loans(self, tenant: str, loan_ids: Iterable[str]) -> list[str]:
        """Erasure: every row of these loans keeps only its keys and status, and can no longer be
        sent; returns their message ids (so copies left with a channel can be removed too)."""
        ids = []
        with self.store.transaction() as tx:
            for loan_id in loan_ids:
                rows = tx.execute("SELECT message_id FROM luotto_notice_outbox WHERE tenant = :tenant AND "
                                  "loan_id = :loan_id", {"tenant": tenant, "loan_id": loan_id}).all()
                ids += [r["message_id"] for r in rows]
                tx.execute("UPDATE luotto_notice_outbox SET envelope = :envelope, last_error = NULL WHERE "
                           "tenant = :tenant AND loan_id = :loan_id",
                           {"tenant": tenant, "loan_id": loan_id, "envelope": json.dumps({"erased": True})})
        return ids

    def _finish(self, key: Key, claim: str, status: str, *, error: str | None = None,
                reference: str | None = None, uncount: bool = False) -> bool:
        """Record the result of a claimed send; False if the claim was lost meanwhile. `uncount`: the
        attempt does not count (the channel was unavailable, not the notice at fault)."""
        with self.store.transaction() as tx:
            tx.execute(f"""UPDATE luotto_notice_outbox SET status = :status, claim = NULL, updated = :now,
                               attempts = attempts - {1 if uncount else 0},
                               last_error = :error, provider_ref = COALESCE(:reference, provider_ref)
                           WHERE {_WHERE_KEY} AND claim = :claim AND status = 'sending'""",
                       {**_key_params(key), "status": status, "now": _stamp(self.clock()),
                        "error": (error or None) and error[:2000], "reference": reference, "claim": claim})
            return tx.cursor.rowcount == 1

    # ------------------------------------------------------------------------------------- #
    # Delivery events
    # ------------------------------------------------------------------------------------- #

    def apply_events(self, events: Iterable[Mapping[str, Any]]) -> list[tuple[Key, str]]:
        """Move rows forward by channel events ({"message_id", "outcome"}); [(key, new status)]."""
        changed: list[tuple[Key, str]] = []
        for event in events:
            outcome = event.get("outcome")
            if outcome not in OUTCOMES or outcome == "failed" or not event.get("message_id"):
                continue
            with self.store.transaction() as tx:
                row = tx.execute("SELECT * FROM luotto_notice_outbox WHERE message_id = :message_id",
                                 {"message_id": event["message_id"]}).one()
                if row is None or _RANK[outcome] <= _RANK[row["status"]]:
                    continue
                tx.execute(f"""UPDATE luotto_notice_outbox SET status = :status, updated = :now, claim = NULL,
                                   last_error = NULL, provider_ref = COALESCE(provider_ref, :reference)
                               WHERE {_WHERE_KEY} AND status = :old""",
                           {**_key_params(_key(row)), "status": outcome, "old": row["status"],
                            "now": _stamp(self.clock()), "reference": event.get("provider_message_id")})
                if tx.cursor.rowcount == 1:
                    changed.append((_key(row), Outcome(outcome, channel=row["channel"],
                                                       reference=event.get("provider_message_id"),
                                                       event_time=event.get("event_time"))))
        return changed

    def sync_events(self, adapter: Any, max_pages: int = 100) -> list[tuple[Key, str]]:
        """Poll `adapter.poll_events(token) -> (events, next_token)` from the stored token onwards."""
        channel = adapter.channel
        with self.store.transaction() as tx:
            row = tx.execute("SELECT token FROM luotto_notice_cursor WHERE channel = :channel",
                             {"channel": channel}).one()
        token = row["token"] if row else None
        changed: list[tuple[Key, str]] = []
        for _ in range(max_pages):
            events, next_token = adapter.poll_events(token)
            changed += self.apply_events(events)
            if next_token and next_token != token:
                with self.store.transaction() as tx:
                    tx.execute("""INSERT INTO luotto_notice_cursor (channel, token, updated)
                                  VALUES (:channel, :token, :now)
                                  ON CONFLICT (channel) DO UPDATE SET token = :token, updated = :now""",
                               {"channel": channel, "token": next_token, "now": _stamp(self.clock())})
                token = next_token
            if not events:
                break
        return changed

    # ------------------------------------------------------------------------------------- #
    # Reading
    # ------------------------------------------------------------------------------------- #

    def get(self, tenant: str, loan_id: str, notice_version: int) -> dict | None:
        with self.store.transaction() as tx:
            return tx.execute(f"SELECT * FROM luotto_notice_outbox WHERE {_WHERE_KEY}",
                              _key_params((tenant, loan_id, int(notice_version)))).one()

    def rows(self, *, tenant: str | None = None, status: str | None = None) -> list[dict]:
        sql = "SELECT * FROM luotto_notice_outbox WHERE 1 = 1"
        params: dict[str, Any] = {}
        if tenant is not None:
            sql += " AND tenant = :tenant"
            params["tenant"] = tenant
        if status is not None:
            sql += " AND status = :status"
            params["status"] = status
        with self.store.transaction() as tx:
            return tx.execute(sql + " ORDER BY created, tenant, loan_id, notice_version", params).all()
