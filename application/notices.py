"""Notices: letters rendered before their NoticeSent is recorded, delivered through an outbox.

1. `NoticeRenderer` is the hasher the domain calls while it decides a NoticeSent: it renders the
   letter (Finnish or Swedish, the borrower's language), stores it sealed with the borrower's key
   and returns its salted hash, which the event records (R-DATA-2: a guessed letter cannot be
   confirmed from the events). The letter is deterministic, and so is its salt, so re-rendering
   the same content gives the same hash.
2. `NoticeDispatcher` follows the event log with its own tracking position: each NoticeSent goes
   into the outbox once (idempotent by loan and notice version), the outbox sends it through the
   channel adapter at most once successfully, and each delivery outcome is recorded on the loan
   as a NoticeDeliveryRecorded event. A process that dies between any two steps repeats only
   what it had not finished.
"""
from __future__ import annotations

import uuid

import structlog

from adapters.metrics import NOTICE_CHANNEL_FAULTS as CHANNEL_FAULTS
from adapters.metrics import NOTICE_PAPER_FALLBACKS as PAPER_FALLBACKS
from adapters.notices.outbox import PAPER_FALLBACK, Outbox, message_id
from adapters.notices.printfolder import PrintFolderAdapter
from adapters.notices.render import notice_text, render_notice
from adapters.notices.store import PdfStore
from domain.events import NoticeSent
from domain.loan import MIGRATED
from projections.follower import AlreadyClaimed, Follower
from domain.money import format_cents
from domain.errors import DomainError

log = structlog.get_logger("luotto.notices")
TRACKING = "notices"
DEV_IBAN = "FI2112345600000785"  # the banks' published example account: replace in LUOTTO_TENANTS


def _day(event_time: str | None):
    """The Helsinki date of a channel's event time (ISO 8601), or None."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    if not event_time:
        return None
    try:
        moment = dt.datetime.fromisoformat(event_time.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(ZoneInfo("Europe/Helsinki")).date() if moment.tzinfo else moment.date()


def organiser(settings, tenant: str) -> dict:
    spec = settings.tenants.get(tenant, {}).get("organiser") or {}
    return {"name": spec.get("name", tenant), "iban": spec.get("iban", DEV_IBAN), "phone": spec.get("phone", "")}


def letter_content(loan, books, content: dict) -> dict:
    """The domain's notice content plus what a letter shows: reference, per-instalment figures."""
    pos = books.position(content["sent_on"])
    rows = {r.number: r for r in pos.instalments}
    listed = [n for n in content["instalments"] if n in rows]
    out = {**content, "reference": loan.reference,
           "amounts": {n: format_cents(rows[n].unpaid or rows[n].amount) for n in listed},
           "due_dates": {n: rows[n].due_date.isoformat() for n in listed}}
    if content["kind"] == "reminder":
        out["pay_by"] = max(content["sent_on"], *(rows[n].deadline for n in listed)).isoformat() if listed else None
    return out


def borrower_of(container, loan) -> dict:
    try:
        found = container.borrowers.get(loan.tenant, loan.borrower_id)
    except DomainError:
        return {"name": "", "address": [], "language": "fi"}
    return {"name": found.get("name") or "", "address": found.get("address") or [],
            "language": found.get("language") or "fi", "recipient_id": found.get("identity_code")}


CO_PREFIX = "C|"


def co_borrower_key(loan_id: str, borrower_id: str) -> str:
    """The outbox key of a joint borrower's copy of a loan's notice (R-APP-7)."""
    return f"{CO_PREFIX}{loan_id}|{borrower_id}"


class _Whom:
    """What borrower_of reads of a loan: organiser and borrower."""

    def __init__(self, tenant: str, borrower_id: str):
        self.tenant, self.borrower_id = tenant, borrower_id


class NoticeRenderer:
    def __init__(self, container, pdfs: PdfStore):
        self.container, self.pdfs = container, pdfs

    def __call__(self, loan, content: dict) -> str:
        books = loan.books(self.container.service.rates)
        pdf = render_notice(letter_content(loan, books, content), borrower_of(self.container, loan),
                            organiser(self.container.settings, loan.tenant))
        return self.pdfs.put_sealed(pdf, self.container.borrowers.key(loan.tenant, loan.borrower_id, create=True))


class NoticeDispatcher:
    def __init__(self, container, pdfs: PdfStore, adapter=None, fallback=None):
        self.container, self.pdfs = container, pdfs
        self.outbox = Outbox(container.read_model.store, pdfs, people=container.borrowers)
        self.follower = Follower(container.service, container.read_model.store, TRACKING,
                                 topics=[NoticeSent.__module__ + ":NoticeSent"])
        self.adapter = adapter or PrintFolderAdapter(container.settings.notice_print_folder)
        # Issue 20: an electronic channel falls back to paper for a recipient without a mailbox in use.
        self.fallback = fallback if fallback is not None or isinstance(self.adapter, PrintFolderAdapter) \
            else PrintFolderAdapter(container.settings.notice_print_folder)

    def enqueue_new(self) -> int:
        """Put every NoticeSent recorded since the last call into the outbox (idempotent). A notice that
        cannot be queued is set aside (projections/set_aside.py) and retried; the others go on."""
        service = self.container.service
        batch = self.follower.next()
        if batch is None:
            return 0
        for notification in batch.notifications:
            try:
                event = service.mapper.to_domain_event(notification)
            except Exception as e:  # noqa: BLE001 - an event that cannot be read cannot be retried either
                self.set_aside.record("outbox", f"notification:{notification.id}", tenant=None,
                                      item=f"event {notification.id}", error=e)
                continue
            if getattr(event, "channel", None) == MIGRATED:
                continue  # R-MIG-2: sent before Luotto, by the organiser; recorded, never sent again
            self._guarded(f"notice:{event.originator_id}:{event.originator_version}",
                          lambda: self._enqueue(event.originator_id, event.originator_version))
        try:
            with self.container.read_model.store.transaction() as tx:
                self.follower.claim(tx, batch)
        except AlreadyClaimed:
            pass  # another process queued them too: the outbox takes each notice once
        return len(batch.notifications)

    def _enqueue(self, loan_uuid, version: int) -> tuple[str, str]:
        service = self.container.service
        loan = service.repository.get(loan_uuid, version=version)
        event = list(service.events.get(loan_uuid, gt=version - 1, lte=version))[0]
        books = loan.books(service.rates)
        content = {"loan": loan.loan_id, "kind": event.kind, "sent_on": event.effective_date,
                   "instalments": list(event.instalments), "delayed_amount": event.delayed_amount,
                   "cure_deadline": event.cure_deadline, "takes_effect_on": event.takes_effect_on,
                   "period_days": event.period_days}
        letter = letter_content(loan, books, content)
        # The message text carries no name or address (adapters.notices.render.notice_text); only the
        # language is the borrower's. The addressee is read when the notice is sent (R-DATA-1).
        language = {"language": borrower_of(self.container, loan)["language"]}
        title, body = notice_text(letter, language, organiser(self.container.settings, loan.tenant))
        if event.content_hash not in self.pdfs:
            # Recorded with the default (JSON) hasher, e.g. by an older version: render it now.
            log.warning("notice_pdf_missing", loan=loan.loan_id, notice=event.originator_version)
            return loan.tenant, loan.loan_id
        self.outbox.enqueue(tenant=loan.tenant, loan_id=loan.loan_id, notice_version=event.originator_version,
                            sha256=event.content_hash, channel=self.adapter.channel,
                            borrower_id=loan.borrower_id, title=title, body=body)
        if getattr(loan, "co_borrower_id", None):
            self._enqueue_co_borrower(loan, letter, event.originator_version)
        return loan.tenant, loan.loan_id

    def _enqueue_co_borrower(self, loan, letter: dict, version: int) -> None:
        """R-APP-7: a joint borrower receives every letter, §8 notices included: their own copy, in their
        language, sealed with their key. The event's content hash is the borrower's copy; this copy's
        sending is kept in the outbox (status, provider reference) under `C|loan|co-borrower`."""
        c, co = self.container, loan.co_borrower_id
        person = borrower_of(c, _Whom(loan.tenant, co))
        organiser_ = organiser(c.settings, loan.tenant)
        sha = self.pdfs.put_sealed(render_notice(letter, person, organiser_), c.borrowers.key(loan.tenant, co,
                                                                                              create=True))
        title, body = notice_text(letter, {"language": person["language"]}, organiser_)
        self.outbox.enqueue(tenant=loan.tenant, loan_id=co_borrower_key(loan.loan_id, co), notice_version=version,
                            sha256=sha, channel=self.adapter.channel, borrower_id=co, title=title, body=body)

    def deliver(self) -> int:
        """Send what is due and record each outcome on its loan, once. An outcome that cannot be
        recorded is set aside and retried; the others are recorded."""
        outcomes = self.outbox.deliver_pending(self.adapter, fallback=self.fallback)
        if self.outbox.last_fault is not None:
            self._alarm(self.outbox.last_fault)
        batches = self._seal_batches()
        if hasattr(self.adapter, "poll_events"):
            # Receipts are fetched every pass, long before Suomi.fi drops them (60 days).
            try:
                outcomes += self.outbox.sync_events(self.adapter)
            except Exception as e:  # noqa: BLE001 - the outcomes of this pass are recorded all the same
                self._alarm(e)
        for (tenant, loan_id, version), outcome in outcomes:
            reference = batches.get(message_id(tenant, loan_id, version)) or getattr(outcome, "reference", None)
            details = {"channel": getattr(outcome, "channel", None), "reference": reference,
                       "event_time": getattr(outcome, "event_time", None)}
            if outcome == PAPER_FALLBACK:
                PAPER_FALLBACKS.inc()
            self._guarded(f"delivery:{tenant}/{loan_id}/{version}/{outcome}",
                          lambda t=tenant, lid=loan_id, v=version, o=str(outcome), d=details:
                          self._record_delivery(t, lid, v, o, **d),
                          tenant=tenant, item=f"loan {loan_id} notice {version} {outcome}")
        return len(outcomes)

    def _seal_batches(self) -> dict[str, str]:
        """Issue 20: the letters handed to the printing service in this pass, in a signed batch manifest."""
        batches: dict[str, str] = {}
        printers = {id(a): a for a in (self.adapter, self.fallback) if hasattr(a, "seal_batch")}
        for printer in printers.values():
            batches.update(printer.seal_batch(self.container.signer, self.container.service.clock()))
        return batches

    def _alarm(self, fault: Exception) -> None:
        """A channel fault (e.g. Suomi.fi SERVICE_NOT_ACTIVE): the notices wait; an operator must act."""
        code = getattr(fault, "code", type(fault).__name__)
        CHANNEL_FAULTS.labels(code=code).inc()
        log.error("notice_channel_fault", channel=self.adapter.channel, code=code, error=str(fault))

    def _record_delivery(self, tenant: str, loan_id: str, version: int, outcome: str, *, channel: str | None = None,
                         reference: str | None = None, event_time: str | None = None) -> tuple[str, str]:
        letters = getattr(self.container, "letters", None)
        if letters is not None and loan_id.startswith("A|"):  # a decision letter of an application
            return letters.record_delivery(tenant, loan_id, version,
                                           "sent_for_printing" if outcome == PAPER_FALLBACK else outcome)
        if loan_id.startswith(CO_PREFIX):  # a joint borrower's copy: its outbox row is the record
            return tenant, loan_id.split("|")[1]
        today = self.container.today()
        self.container.service.record_notice_delivery(
            tenant, loan_id, notice=version, outcome=outcome, channel=channel or self.adapter.channel,
            on=min(_day(event_time) or today, today), reference=reference, reported_at=event_time)
        return tenant, loan_id

    @property
    def set_aside(self):
        return self.container.read_model.set_aside

    def _guarded(self, ref: str, step, *, tenant: str | None = None, item: str | None = None) -> bool:
        try:
            step()
        except Exception as e:  # noqa: BLE001 - one notice must not hold back the others
            self.set_aside.record("outbox", ref, tenant=tenant, item=item or ref, error=e)
            return False
        return True

    def retry_set_aside(self, older_than_seconds: float = 0.0) -> int:
        """Queue again the notices, and record again the outcomes, that were set aside."""
        recovered = 0
        for row in self.set_aside.due("outbox", older_than_seconds=older_than_seconds):
            kind, _, key = row["ref"].partition(":")
            try:
                if kind == "notice":
                    loan_uuid, _, version = key.rpartition(":")
                    self._enqueue(uuid.UUID(loan_uuid), int(version))
                elif kind == "delivery":
                    tenant, loan_id, version, outcome = key.split("/")
                    self._record_delivery(tenant, loan_id, int(version), outcome)
                else:
                    continue
            except Exception as e:  # noqa: BLE001 - still failing: it stays set aside
                self.set_aside.record("outbox", row["ref"], tenant=row["tenant"], item=row["item"], error=e)
                continue
            self.set_aside.clear("outbox", row["ref"])
            recovered += 1
        return recovered
