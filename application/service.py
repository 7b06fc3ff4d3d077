"""The application service: turns commands into saved events.

This is where the clock is read, where the event store is chosen (in-memory, SQLite or
PostgreSQL through the eventsourcing library's environment settings), where payments are
made idempotent, and where a command that lost a race with a concurrent write is decided
again on freshly loaded aggregates.
"""
from __future__ import annotations

import datetime as dt
import inspect
import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Transcoding
from eventsourcing.utils import strtobool

from adapters.reference_numbers import normalise_reference, reference_for_loan
from adapters.snapshots import SignedSnapshotMapper, VerifiedSnapshotStore
from adapters.aggregate_cache import CopyingRepository, CurrentSnapshots
from adapters.group_commit import GroupCommit
from adapters.metrics import EVENTS_APPENDED
from application.payment_batch import PaymentCommand, post_batch
from domain.corrections import is_correction
from domain.errors import DomainError
from domain.loan import Decision, Loan, loan_uuid
from domain.money import Cents, format_cents
from domain.policy import Policy
from application.reference_rates import RateSource
from domain.rates import ReferenceRates
from domain.schedule import build_plan
from domain.servicing import next_action_date
from domain.register import (GrantRegister, PaymentMarker, ReferenceMarker, RunLog, payment_marker_id,
                             reference_marker_id, register_id, run_log_id)

Clock = Callable[[], dt.datetime]
SEALED_KWARGS = ("override_reason", "appellant", "grounds")  # a person's free text (R-DATA-2)
log = structlog.get_logger("luotto.service")


class DateAsISO(Transcoding):
    type = dt.date
    name = "date_iso"

    def encode(self, obj: dt.date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> dt.date:
        return dt.date.fromisoformat(data)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class ReadModelPort(Protocol):
    """What the service asks of the read models (projections.read_model.ReadModel)."""

    def outstanding_by_loan(self, tenant: str) -> dict[str, Cents]: ...

    def catch_up(self) -> int: ...

    def due_loans(self, tenant: str, on: dt.date) -> list[tuple[str, str]]: ...

    def reschedule(self, tenant: str, moves: list[tuple[str, str, dt.date | None]]) -> None: ...


@dataclass(frozen=True)
class Written:
    """What a command did; `position` is the last notification id it wrote (read-your-writes)."""

    result: Any
    position: int | None


class LoanService(Application):
    name = "Luotto"
    snapshotting_intervals = {Loan: 100, GrantRegister: 100}
    retries = 20

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock = utc_now,
                 rates: ReferenceRates | None = None, read_model: ReadModelPort | None = None) -> None:
        super().__init__(env)
        self.clock = clock
        self.rate_source = RateSource(self, rates)
        self.read_model = read_model
        self.notice_hasher = None  # set by the composition root: renders and stores notice letters
        self.sealer = None  # set by the composition root: seals free text with the borrower's key (R-DATA-2)
        self._write_lock = threading.RLock()
        self._payment_commits: GroupCommit[PaymentCommand, Written] = GroupCommit(self._post_payments, name="payments")
        self._reference_owners: dict[tuple[str, str], str] = {}

    @property
    def rates(self) -> ReferenceRates:
        """The reference rates in force (R-PEN-4): given, or shipped with the recorded ones over them."""
        return self.rate_source.current()

    @rates.setter
    def rates(self, table: ReferenceRates) -> None:
        self.rate_source.fixed = table

    def save(self, *objs: Any, **kwargs: Any) -> list:
        """The library's save(), collecting our aggregates' events without its Protocol checks
        (`isinstance` against a runtime-checkable Protocol costs ~30 µs a call on Python 3.11,
        a third of a bulk save's client time)."""
        processing_event = _AggregateEvents()
        processing_event.collect_events(*objs, **kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def construct_repository(self) -> CopyingRepository:
        """The library's repository, built from the same settings (adapters.aggregate_cache)."""
        size = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        snapshots = CurrentSnapshots(self.snapshots) if self.snapshots is not None else None
        return CopyingRepository(self.events, snapshot_store=snapshots,
                                 cache_maxsize=int(size) if size else None,
                                 fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")))

    def construct_snapshot_store(self) -> VerifiedSnapshotStore:
        """Snapshots carry a MAC keyed outside the database (adapters.snapshots, R-DATA-8). The key
        comes from the environment (the composition root derives it from the signing key, so every
        process shares it); without one, a key of this process's own: its snapshots then serve
        only itself, and the others fold the events."""
        key = self.env.get("SNAPSHOT_MAC_KEY")
        self.snapshot_mapper = SignedSnapshotMapper(self.construct_transcoder(),
                                                    bytes.fromhex(key) if key else os.urandom(32))
        return VerifiedSnapshotStore(mapper=self.snapshot_mapper,
                                     recorder=self.factory.aggregate_recorder(purpose="snapshots"))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # --- organisers ----------------------------------------------------------------------

    def configure_tenant(self, tenant: str, policy: Policy) -> None:
        """Open the organiser's register, or record a changed policy (applies to later grants)."""
        def change() -> list:
            try:
                register = self.repository.get(register_id(tenant))
            except AggregateNotFoundError:
                return [GrantRegister.open(tenant, policy)]
            register.set_policy(policy)
            return [register]
        self._write(change)

    def register(self, tenant: str) -> GrantRegister:
        try:
            return self.repository.get(register_id(tenant))
        except AggregateNotFoundError:
            raise DomainError("not_found", f"organiser {tenant!r} is not configured", field="tenant") from None

    def policy(self, tenant: str) -> Policy:
        return Policy.from_json(self.register(tenant).policy)

    # --- reading -------------------------------------------------------------------------

    def loan(self, tenant: str, loan_id: str, *, version: int | None = None, read_only: bool = False) -> Loan:
        """The loan, current or at `version`. `read_only`: the caller only reads it, so it may be
        handed the cached instance itself rather than a copy."""
        try:
            if version is None:  # one query whether cached or not (the library's get needs two if not)
                found = self.repository.get_many([loan_uuid(tenant, loan_id)], copies=not read_only)
                return found[loan_uuid(tenant, loan_id)]
            return self.repository.get(loan_uuid(tenant, loan_id), version=version)
        except (AggregateNotFoundError, KeyError):
            raise DomainError("not_found", f"loan {loan_id!r} not found", field="loan_id") from None

    def loan_known_at(self, tenant: str, loan_id: str, known_at: dt.datetime) -> Loan:
        """The loan as it was known at an instant (R-EVID-4): only events recorded up to it."""
        version = None
        for event in self.events.get(loan_uuid(tenant, loan_id)):
            if event.timestamp > known_at:
                break
            version = event.originator_version
        if version is None:
            raise DomainError("not_found", f"loan {loan_id!r} was not known at {known_at.isoformat()}",
                              field="known_at")
        return self.loan(tenant, loan_id, version=version)

    def first_grant_date(self, tenant: str) -> dt.date | None:
        """The grant date of the organiser's earliest loan: servicing has nothing to do before it."""
        return min((row["granted_on"] for row in self.register(tenant).loans.values()), default=None)

    def loan_ids(self, tenant: str) -> list[str]:
        return list(self.register(tenant).loans)

    # --- commands ------------------------------------------------------------------------

    def grant(self, *, tenant: str, loan_id: str, borrower_id: str, principal: Cents, decision: Decision,
              applicant_total_debt: Cents = 0, **terms: Any) -> Written:
        """R-PORT-1 checked against the register saved in the same transaction as the loan."""
        sealed = self._sealed_decision(tenant, borrower_id, decision)
        asked, terms = terms, {**terms, "purpose": self._seal(tenant, borrower_id, terms["purpose"])}

        def change() -> list:
            existing = self._existing_loan(tenant, loan_id)
            if existing is not None:
                differs = self._other_terms(existing, borrower_id=borrower_id, principal=principal, **asked)
                if differs:
                    raise DomainError("loan_exists", f"loan {loan_id!r} was already granted with other terms: "
                                      f"{', '.join(differs)} differ", field=differs[0])
                return []
            register = self.register(tenant)
            policy = Policy.from_json(register.policy)
            if self.read_model is not None:
                # Everything committed so far (a reversal too) counts: a lagging read model must
                # not make the limit looser.
                self.read_model.catch_up()
                known = self.read_model.outstanding_by_loan(tenant)
            else:
                known = self._outstanding(tenant, register)
            sequence = register.register_grant(loan_id=loan_id, borrower_id=borrower_id, principal=principal,
                                               granted_on=terms["granted_on"], known_outstanding=known,
                                               applicant_other_debt=applicant_total_debt)
            reference = reference_for_loan(sequence)
            loan = Loan.grant(tenant=tenant, loan_id=loan_id, borrower_id=borrower_id, principal=principal,
                              policy=policy, decision=sealed, recorded_at=self.clock(), reference=reference,
                              rates=self.rates, **terms)
            return [register, loan, ReferenceMarker.assign(tenant, reference, loan_id)]
        return self._write(change, lambda: self.loan(tenant, loan_id))

    def _other_terms(self, loan: Loan, *, borrower_id: str, principal: Cents,
                     granted_on: dt.date, first_due_date: dt.date, purpose: str, decision_reference: str | None = None,
                     instalment_amount: Cents | None = None, term_months: int | None = None,
                     interest: Any = None, penalty_interest_agreed_on: dt.date | None = None) -> list[str]:
        """The terms in which a grant differs from the loan's LoanGranted: a retry must repeat every
        term of the loan and the decision it names, else it is another grant under the same loan_id.
        Who decided and why (decided_by, reasons, legal_basis) are not terms: a retry may word them
        differently; interest terms left out take the policy's default, so only given ones are compared."""
        granted = next(iter(self.events.get(loan.id, lte=1)))
        try:
            plan = [{"instalment": i.number, "due_date": i.due_date.isoformat(), "amount": format_cents(i.amount)}
                    for i in build_plan(principal, first_due_date, instalment_amount=instalment_amount,
                                        term_months=term_months)]
        except (DomainError, ValueError, OverflowError):
            plan = None
        asked = {"borrower_id": borrower_id, "principal": format_cents(principal), "granted_on": granted_on,
                 "first_due_date": first_due_date, "purpose": purpose, "decision_reference": decision_reference,
                 "instalment_amount" if instalment_amount is not None else "term_months": plan}
        if interest is not None:
            asked["interest"] = interest.to_json() if hasattr(interest, "to_json") else interest
        if penalty_interest_agreed_on is not None:
            asked["penalty_interest_agreed_on"] = penalty_interest_agreed_on
        stored = {**{k: getattr(granted, k) for k in asked if hasattr(granted, k)},
                  "granted_on": granted.effective_date, "instalment_amount": granted.instalments,
                  "term_months": granted.instalments}
        if self.sealer is not None:  # the purpose is stored sealed (R-DATA-2): compared as text
            stored["purpose"] = self.sealer.opener(loan.tenant, loan.borrower_id, may_read=True)(stored["purpose"])
        return [k for k, v in asked.items() if stored.get(k) != v]

    def _existing_loan(self, tenant: str, loan_id: str) -> Loan | None:
        try:
            return self.loan(tenant, loan_id)  # one way to read a current loan
        except DomainError:
            return None

    def _outstanding(self, tenant: str, register: GrantRegister) -> dict[str, Cents]:
        """Exact but slow: used only when no read model is attached (tests, the simulator)."""
        today = self.clock().date()
        return {lid: self.loan(tenant, lid).books(self.rates).position(today).principal_outstanding
                for lid in register.loans}

    def post_payment(self, *, tenant: str, payment_id: str, amount: Cents, value_date: dt.date, on: dt.date,
                     loan_id: str | None = None, reference: str | None = None, source: str = "api") -> Written:
        """R-PAY-1/2: idempotent by payment_id; unmatched payments wait in the unallocated queue.
        Concurrent posts are decided together and saved in one transaction (group commit)."""
        return self._payment_commits.submit(PaymentCommand(tenant, payment_id, amount, value_date, on, loan_id,
                                                           reference, source))

    async def post_payment_async(self, command: PaymentCommand) -> Written:
        """post_payment for the event loop: waits for the group commit without a thread of its own."""
        return await self._payment_commits.asubmit(command)

    def _post_payments(self, commands: list[PaymentCommand]) -> list[Written | Exception]:
        outcomes = post_batch(self, commands)
        if outcomes is None:  # lost a race with another process: each on its own, with retries
            outcomes = []
            for command in commands:
                try:
                    outcomes.append(self._post_payment_alone(command))
                except Exception as e:  # noqa: BLE001 - the outcome of that command's caller
                    outcomes.append(e)
            return outcomes
        return [o if isinstance(o, DomainError) else Written(self._payment_result(o.marker), o.position)
                for o in outcomes]

    def _post_payment_alone(self, command: PaymentCommand) -> Written:
        for attempt in range(self.retries):
            outcome = post_batch(self, [command])
            if outcome is not None:
                if isinstance(outcome[0], DomainError):
                    raise outcome[0]
                return Written(self._payment_result(outcome[0].marker), outcome[0].position)
            time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
        raise DomainError("busy", f"the loan was changed concurrently {self.retries} times; try again", field=None)

    def _match(self, tenant: str, loan_id: str | None, reference: str | None) -> Loan | None:
        if loan_id is not None:
            return self._existing_loan(tenant, loan_id)
        owner = self._reference_owner(tenant, reference)
        return self.loan(tenant, owner) if owner else None

    def loan_uuid_for(self, command: PaymentCommand) -> UUID | None:
        """The loan a payment names: by loan_id, else by its reference (R-PAY-2)."""
        owner = command.loan_id or self._reference_owner(command.tenant, command.reference)
        return loan_uuid(command.tenant, owner) if owner else None

    def _reference_owner(self, tenant: str, reference: str | None) -> str | None:
        national = normalise_reference(reference) if reference else None
        if national is None:
            return None
        owner = self._reference_owners.get((tenant, national))
        if owner is None:
            try:
                owner = self.repository.get(reference_marker_id(tenant, national)).loan_id
            except AggregateNotFoundError:
                return None  # not remembered: a later grant may still be given this reference
            if len(self._reference_owners) > 100_000:
                self._reference_owners.clear()
            # A reference is assigned once, at the grant, and never moves: safe to remember.
            self._reference_owners[(tenant, national)] = owner
        return owner

    def _payment_result(self, marker: UUID | PaymentMarker) -> dict:
        if not isinstance(marker, PaymentMarker):
            marker = self.repository.get(marker)
        status = "returned" if marker.returned else "allocated" if marker.loan_id else "unallocated"
        return {**marker.content, "payment_id": marker.payment_id, "status": status, "loan_id": marker.loan_id}

    def allocate_payment(self, *, tenant: str, payment_id: str, loan_id: str, on: dt.date,
                         allocated_by: str) -> Written:
        marker_id = payment_marker_id(tenant, payment_id)

        def change() -> list:
            marker = self._marker(marker_id, payment_id)
            if marker.loan_id == loan_id:
                return []  # a retry of the same allocation
            marker.allocate(loan_id, allocated_by)
            loan = self.loan(tenant, loan_id)
            loan.receive_payment(payment_id=payment_id, amount=_cents(marker.content["amount"]),
                                 value_date=dt.date.fromisoformat(marker.content["value_date"]), on=on,
                                 recorded_at=self.clock(), rates=self.rates, source="allocation",
                                 reference=marker.content["reference"])
            return [marker, loan]
        return self._write(change, lambda: self._payment_result(marker_id))

    def reverse_payment(self, *, tenant: str, payment_id: str, reason: str, on: dt.date,
                        seal_reason: bool = True) -> Written:
        """`seal_reason`: the reason is a person's free text (from the API), sealed like a decision's
        reasons; a bank return's reason is the system's own text and stays readable."""
        marker_id = payment_marker_id(tenant, payment_id)

        def change() -> list:
            marker = self._marker(marker_id, payment_id)
            if marker.loan_id is None:
                marker.return_unallocated(reason)
                return [marker]
            loan = self.loan(tenant, marker.loan_id)
            text = self._seal(tenant, loan.borrower_id, reason) if seal_reason else reason
            loan.reverse_payment(payment_id=payment_id, reason=text, on=on, recorded_at=self.clock(),
                                 rates=self.rates)
            return [loan]
        return self._write(change, lambda: self._payment_result(marker_id))

    def _marker(self, marker_id: UUID, payment_id: str) -> PaymentMarker:
        try:
            return self.repository.get(marker_id)
        except AggregateNotFoundError:
            raise DomainError("not_found", f"payment_id {payment_id!r} not found", field="payment_id") from None

    def decide(self, tenant: str, loan_id: str, command: str, **kwargs: Any) -> Written:
        """Run a decision command of the aggregate (send_acceleration_notice, waive, …)."""
        method = getattr(Loan, command)
        parameters = inspect.signature(method).parameters
        extra = {"rates": self.rates} if "rates" in parameters else {}
        if "notice_hasher" in parameters:
            extra["notice_hasher"] = self.notice_hasher
        decision = kwargs.get("decision")
        if self.sealer is not None and (isinstance(decision, Decision) or any(k in kwargs for k in SEALED_KWARGS)):
            borrower_id = self.loan(tenant, loan_id, read_only=True).borrower_id
            if isinstance(decision, Decision):
                kwargs["decision"] = self._sealed_decision(tenant, borrower_id, kwargs["decision"])
            for name in SEALED_KWARGS:
                if name in kwargs:
                    kwargs[name] = self._seal(tenant, borrower_id, kwargs[name])

        def change() -> list:
            loan = self.loan(tenant, loan_id)
            method(loan, recorded_at=self.clock(), **extra, **kwargs)
            return [loan]
        return self._write(change)

    def _seal(self, tenant: str, borrower_id: str, text: str | None) -> str | None:
        return self.sealer.seal(tenant, borrower_id, text) if self.sealer is not None else text

    def _sealed_decision(self, tenant: str, borrower_id: str, decision: Decision) -> Decision:
        return Decision(decision.decided_by, self._seal(tenant, borrower_id, decision.reasons), decision.legal_basis)

    def file_appeal(self, tenant: str, loan_id: str, *, decision_version: int, on: dt.date, appellant: str,
                    grounds: str) -> Written:
        loan = self.loan(tenant, loan_id)
        found = list(self.events.get(loan.id, gt=decision_version - 1, lte=decision_version))
        if not found:
            raise DomainError("not_found", f"loan {loan_id!r} has no event version {decision_version}",
                              field="decision_version")
        return self.decide(tenant, loan_id, "file_appeal", decision=decision_version,
                           decision_type=type(found[0]).__name__, on=on, appellant=appellant, grounds=grounds)

    def service(self, tenant: str, loan_id: str, on: dt.date) -> int:
        """The daily servicing run for one loan and one business date (domain.servicing)."""
        summary = self.service_many(tenant, [loan_id], on)
        if summary["failures"]:  # one loan asked for by name: its failure is the caller's to see
            raise RuntimeError(f"servicing {loan_id} for {on} failed: {summary['failures'][0]['error']}")
        return summary["events_recorded"]

    def service_many(self, tenant: str, loan_ids: Iterable[str], on: dt.date, batch: int = 100) -> dict:
        """Service many loans, saving a batch of them in one transaction. One failing loan does not
        stop the others: it is reported, and retried by the next run. `next_dates` gives each
        serviced loan's next agenda date."""
        examined, recorded, failures, next_dates, corrected = 0, 0, [], {}, []
        ids = list(loan_ids)
        for start in range(0, len(ids), batch):
            loans = []
            chunk = ids[start:start + batch]
            loaded = self.repository.get_many([loan_uuid(tenant, lid) for lid in chunk])  # one query
            for lid in chunk:
                examined += 1
                try:
                    loan = loaded.get(loan_uuid(tenant, lid)) or self.loan(tenant, lid)  # not found: raises
                    if loan.service(on=on, recorded_at=self.clock(), rates=self.rates,
                                    notice_hasher=self.notice_hasher):
                        loans.append(loan)
                        corrected += [{"loan_id": lid, "event": type(e).__name__, "version": e.originator_version}
                                      for e in loan.pending_events if is_correction(e)]
                    next_dates[lid] = next_action_date(loan.books(self.rates), on)
                except Exception as e:  # noqa: BLE001 - one loan's failure must not stop the run
                    log.exception("loan_servicing_failed", tenant=tenant, loan_id=lid, business_date=on.isoformat())
                    failures.append({"loan_id": lid, "error": f"{type(e).__name__}: {e}"})
            pending = sum(len(loan.pending_events) for loan in loans)
            try:
                self.save(*loans)
                recorded += pending
                EVENTS_APPENDED.inc(pending)
            except RecordConflictError:
                # A concurrent command touched one of them: redo this batch loan by loan.
                for loan in loans:
                    recorded += self._write(lambda lid=loan.loan_id: self._serviced(tenant, lid, on)).result
        return {"business_date": on.isoformat(), "loans_examined": examined, "events_recorded": recorded,
                "failures": failures, "corrections": corrected, "next_dates": next_dates}

    def run_servicing(self, tenant: str, business_date: dt.date) -> dict:
        """The daily run for one organiser and date over all its loans, recorded in its run log.

        Running a date again records nothing new on the loans (idempotent per loan and date).
        """
        started = self.clock()
        if self.read_model is not None:
            self.read_model.catch_up()  # so that the agenda knows every loan granted so far
            due = self.read_model.due_loans(tenant, business_date)
        else:
            due = [(lid, None) for lid in self.loan_ids(tenant)]
        summary = self.service_many(tenant, [lid for lid, _ in due], business_date)
        next_dates = summary.pop("next_dates")
        if self.read_model is not None:
            self.read_model.reschedule(tenant, [(lid, was, next_dates[lid]) for lid, was in due
                                                if lid in next_dates])

        def record() -> list:
            try:
                log = self.repository.get(run_log_id(tenant))
            except AggregateNotFoundError:
                log = RunLog.start(tenant)
            log.record(business_date=business_date, started_at=started, finished_at=self.clock(),
                       loans_examined=summary["loans_examined"], events_recorded=summary["events_recorded"],
                       failures=summary["failures"])
            return [log]
        self._write(record)
        return {**summary, "started_at": started.isoformat()}

    def last_run_date(self, tenant: str) -> dt.date | None:
        try:
            return self.repository.get(run_log_id(tenant)).last_date
        except AggregateNotFoundError:
            return None

    def runs(self, tenant: str, limit: int = 100) -> list[dict]:
        out = []
        if run_log_id(tenant) in self.repository:
            for event in self.events.get(run_log_id(tenant), desc=True, limit=limit):
                if isinstance(event, RunLog.RunRecorded):
                    out.append({"business_date": event.business_date.isoformat(), "started_at": event.started_at,
                                "finished_at": event.finished_at, "loans_examined": event.loans_examined,
                                "events_recorded": event.events_recorded, "failures": event.failures})
        return out

    def _serviced(self, tenant: str, loan_id: str, on: dt.date) -> list:
        loan = self.loan(tenant, loan_id)
        loan.service(on=on, recorded_at=self.clock(), rates=self.rates, notice_hasher=self.notice_hasher)
        return [loan]

    def _write(self, change: Callable[[], list], result: Callable[[], Any] | None = None) -> Written:
        """Decide on freshly loaded aggregates and save them in one transaction, again on a conflict.

        Writers in this process take turns (the event table's lock serialises commits anyway), so
        conflicts come only from other processes; those are retried after a short random pause.
        """
        for attempt in range(self.retries):
            with self._write_lock:
                aggregates = change()
                count = sum(len(a.pending_events) for a in aggregates)
                try:
                    recordings = self.save(*aggregates) if aggregates else []
                except RecordConflictError:
                    recordings = None
                if recordings is not None:
                    EVENTS_APPENDED.inc(len(recordings))
                    position = max((r.notification.id for r in recordings), default=None)
                    return Written(result() if result else count, position)
            time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
        raise DomainError("busy", f"the loan was changed concurrently {self.retries} times; try again",
                          field=None)


class _AggregateEvents(ProcessingEvent):
    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        others = []
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            elif obj is not None:
                others.append(obj)
        super().collect_events(*others, **kwargs)


def _cents(value: str) -> Cents:
    from domain.money import parse_amount

    return parse_amount(value, "amount")
