"""The event store behind every command: persistence settings, saving, loading, and the write
that decides again after a lost race (application.retry). The eventsourcing library's internals
that Luotto overrides for speed live in adapters.eventsourcing_internals."""
from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Transcoding
from eventsourcing.utils import strtobool

from adapters.eventsourcing_internals import CopyingRepository, CurrentSnapshots, save_quickly
from adapters.metrics import EVENTS_APPENDED
from adapters.eventsourcing_internals.snapshots import SignedSnapshotMapper, VerifiedSnapshotStore
from application.reference_rates import RateSource
from application.retry import retrying
from domain.errors import DomainError
from domain.loan import Loan, loan_uuid
from domain.money import Cents
from domain.policy import Policy
from domain.rates import ReferenceRates
from domain.register import GrantRegister, register_id

Clock = Callable[[], dt.datetime]


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

    def outstanding_of(self, tenant: str, loan_ids: list[str]) -> dict[str, Cents]: ...

    def repaid_principal(self, tenant: str) -> Cents: ...

    def catch_up(self) -> int: ...

    def due_loans(self, tenant: str, on: dt.date) -> list[tuple[str, str]]: ...

    def reschedule(self, tenant: str, moves: list[tuple[str, str, dt.date | None]]) -> None: ...


@dataclass(frozen=True)
class Written:
    """What a command did; `position` is the last notification id it wrote (read-your-writes)."""

    result: Any
    position: int | None


class Store(Application):
    name = "Luotto"
    snapshotting_intervals = {Loan: 100, GrantRegister: 100}

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock = utc_now,
                 rates: ReferenceRates | None = None, read_model: ReadModelPort | None = None) -> None:
        super().__init__(env)
        self.clock = clock
        self.rate_source = RateSource(self, rates)
        self.read_model = read_model
        self.write_lock = threading.RLock()

    @property
    def rates(self) -> ReferenceRates:
        """The reference rates in force (R-PEN-4): given, or shipped with the recorded ones over them."""
        return self.rate_source.current()

    @rates.setter
    def rates(self, table: ReferenceRates) -> None:
        self.rate_source.fixed = table

    def save(self, *objs: Any, **kwargs: Any) -> list:
        return save_quickly(self, *objs, **kwargs)

    def construct_repository(self) -> CopyingRepository:
        """The library's repository, built from the same settings (adapters.eventsourcing_internals)."""
        size = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        snapshots = CurrentSnapshots(self.snapshots) if self.snapshots is not None else None
        return CopyingRepository(self.events, snapshot_store=snapshots,
                                 cache_maxsize=int(size) if size else None,
                                 fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")))

    def construct_snapshot_store(self) -> VerifiedSnapshotStore:
        """Snapshots carry a MAC keyed outside the database (R-DATA-8, eventsourcing_internals.snapshots).
        The key comes from the environment (the composition root derives it from the signing key, so
        every process shares it); without one, a key of this process's own: its snapshots then serve
        only itself, and the others fold the events."""
        key = self.env.get("SNAPSHOT_MAC_KEY")
        self.snapshot_mapper = SignedSnapshotMapper(self.construct_transcoder(),
                                                    bytes.fromhex(key) if key else os.urandom(32))
        return VerifiedSnapshotStore(mapper=self.snapshot_mapper,
                                     recorder=self.factory.aggregate_recorder(purpose="snapshots"))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def write(self, change: Callable[[], list], result: Callable[[], Any] | None = None) -> Written:
        """Decide on freshly loaded aggregates and save them in one transaction, again on a conflict.

        Writers in this process take turns (the event table's lock serialises commits anyway), so
        conflicts come only from other processes; those are retried (application.retry).
        """
        def attempt() -> Written | None:
            with self.write_lock:
                aggregates = change()
                count = sum(len(a.pending_events) for a in aggregates)
                try:
                    recordings = self.save(*aggregates) if aggregates else []
                except RecordConflictError:
                    return None
                EVENTS_APPENDED.inc(len(recordings))
                position = max((r.notification.id for r in recordings), default=None)
                return Written(result() if result else count, position)
        return retrying(attempt)

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
        self.write(change)

    def register(self, tenant: str) -> GrantRegister:
        try:
            return self.repository.get(register_id(tenant))
        except AggregateNotFoundError:
            raise DomainError("not_found", f"organiser {tenant!r} is not configured", field="tenant") from None

    def policy(self, tenant: str) -> Policy:
        return Policy.from_json(self.register(tenant).policy)

    # --- loans ---------------------------------------------------------------------------

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

    def borrower_held(self, tenant: str, loan_id: str) -> str | None:
        """The loan's borrower when this process holds the loan (no I/O; a loan's borrower never
        changes), else None."""
        loan = self.repository.cached(loan_uuid(tenant, loan_id))
        return loan.borrower_id if loan is not None else None

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

    def existing_loan(self, tenant: str, loan_id: str) -> Loan | None:
        try:
            return self.loan(tenant, loan_id)  # one way to read a current loan
        except DomainError:
            return None
