"""The application service: turns commands into saved loan events.

This is where the clock is read, where the event store is chosen (in-memory, SQLite or
PostgreSQL through the eventsourcing library's environment settings) and where a command
that lost a race with a concurrent write is retried on a freshly loaded aggregate.
"""
from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Transcoding

from domain.errors import DomainError
from domain.loan import Decision, Loan, loan_uuid
from domain.money import Cents
from domain.policy import Policy
from domain.rates import ReferenceRates, shipped_rates

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


class LoanService(Application):
    name = "Luotto"
    snapshotting_intervals = {Loan: 100}
    retries = 5

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock = utc_now,
                 rates: ReferenceRates | None = None) -> None:
        super().__init__(env)
        self.clock = clock
        self.rates = rates or shipped_rates()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # --- reading -------------------------------------------------------------------------

    def loan(self, tenant: str, loan_id: str, *, version: int | None = None) -> Loan:
        try:
            return self.repository.get(loan_uuid(tenant, loan_id), version=version)
        except AggregateNotFoundError:
            raise DomainError("not_found", f"loan {loan_id!r} not found", field="loan_id") from None

    def balance(self, tenant: str, loan_id: str, on: dt.date) -> dict:
        return self.loan(tenant, loan_id).books(self.rates).balance(on)

    # --- commands ------------------------------------------------------------------------

    def grant(self, *, tenant: str, loan_id: str, policy: Policy, decision: Decision, **terms: Any) -> UUID:
        if loan_uuid(tenant, loan_id) in self.repository:
            raise DomainError("invalid_request", f"loan {loan_id!r} already exists", field="loan_id")
        loan = Loan.grant(tenant=tenant, loan_id=loan_id, policy=policy, decision=decision,
                          recorded_at=self.clock(), **terms)
        self.save(loan)
        return loan.id

    def receive_payment(self, tenant: str, loan_id: str, *, payment_id: str, amount: Cents, value_date: dt.date,
                        on: dt.date, source: str = "api", reference: str | None = None) -> bool:
        return self._update(tenant, loan_id, lambda loan, now: loan.receive_payment(
            payment_id=payment_id, amount=amount, value_date=value_date, on=on, recorded_at=now,
            rates=self.rates, source=source, reference=reference))

    def reverse_payment(self, tenant: str, loan_id: str, *, payment_id: str, reason: str, on: dt.date) -> bool:
        return self._update(tenant, loan_id, lambda loan, now: loan.reverse_payment(
            payment_id=payment_id, reason=reason, on=on, recorded_at=now))

    def decide(self, tenant: str, loan_id: str, command: str, **kwargs: Any) -> Any:
        """Run a decision command of the aggregate (send_acceleration_notice, waive, …)."""
        method = getattr(Loan, command)
        needs_rates = "rates" in inspect.signature(method).parameters
        return self._update(tenant, loan_id, lambda loan, now: method(
            loan, recorded_at=now, **({"rates": self.rates} if needs_rates else {}), **kwargs))

    def service(self, tenant: str, loan_id: str, on: dt.date) -> int:
        """The daily servicing run for one loan and one business date (domain.servicing)."""
        return self._update(tenant, loan_id, lambda loan, now: loan.service(on=on, recorded_at=now,
                                                                           rates=self.rates))

    def _update(self, tenant: str, loan_id: str, command: Callable[[Loan, dt.datetime], Any]) -> Any:
        for attempt in range(self.retries):
            loan = self.loan(tenant, loan_id)
            result = command(loan, self.clock())
            try:
                self.save(loan)
                return result
            except RecordConflictError:
                # Another writer appended first: decide again on the loan as it now stands.
                if attempt == self.retries - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
