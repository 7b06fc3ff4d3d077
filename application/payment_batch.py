"""Payments decided together and saved in one transaction (R-PAY-1/2).

The one place where a payment is decided: look up its marker (idempotency by payment_id), match
its loan (by loan_id or reference), `Loan.receive_payment`, `PaymentMarker.register`. A single
API post, the API's concurrent posts (group commit) and a bank file's batches all come here.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import RecordConflictError

from adapters.metrics import EVENTS_APPENDED
from domain.errors import DomainError
from domain.loan import Loan
from domain.money import Cents, format_cents
from domain.register import PaymentMarker, payment_marker_id


@dataclass(frozen=True)
class PaymentCommand:
    tenant: str
    payment_id: str
    amount: Cents
    value_date: dt.date
    on: dt.date
    loan_id: str | None = None
    reference: str | None = None
    source: str = "api"
    file_sha256: str | None = None  # R-BOOK-2: the bank file it came from; not part of `content`

    @property
    def content(self) -> dict:
        """What makes a repeated post the same payment (R-PAY-1)."""
        return {"amount": format_cents(self.amount), "value_date": self.value_date.isoformat(),
                "loan_id": self.loan_id, "reference": self.reference}

    @property
    def marker_id(self) -> UUID:
        return payment_marker_id(self.tenant, self.payment_id)


@dataclass(frozen=True)
class Posted:
    """A payment's outcome: its marker, and whether this batch recorded it (False: posted before)."""

    marker: PaymentMarker
    recorded: bool
    position: int | None


Target = Callable[[PaymentCommand], Loan | None]


class HalfRecorded(Exception):
    """A loan refused a payment after recording part of it: the batch must not be saved."""

    def __init__(self, refusal: DomainError):
        super().__init__(refusal.message)
        self.refusal = refusal


def post_batch(service, commands: Sequence[PaymentCommand], target: Target | None = None,
               checked: dict[UUID, PaymentMarker | None] | None = None) -> list[Posted | DomainError] | None:
    """Decide every command and save all of them in one transaction. Returns one outcome per
    command, or None when nothing was saved and they must be posted one by one (another process
    wrote to one of the loans meanwhile, or a loan refused a payment half-way).

    `target` gives the loan a command pays, the same instance for every command of one loan; by
    default the batch's loans are loaded together with its markers, in one query. `checked`: markers
    the caller has just looked up (None: not there), not asked again; one recorded meanwhile by
    another process makes the save conflict, and the batch is posted one by one.
    """
    checked = checked or {}
    with service.write_lock:  # in-process writers take turns (Store.write)
        # One query for the batch: every marker, and (by default) every loan the batch pays.
        loan_ids = [] if target is not None else [i for i in map(service.loan_uuid_for, commands) if i is not None]
        asked = [c.marker_id for c in commands if c.marker_id not in checked]
        loaded = service.repository.get_many(loan_ids, uncached_ids=asked) if loan_ids or asked else {}
        found = {i: a for i, a in loaded.items() if isinstance(a, PaymentMarker)}
        found.update((i, m) for i, m in checked.items() if m is not None)
        if target is None:
            target = lambda command: loaded.get(service.loan_uuid_for(command))  # noqa: E731
        new: dict[UUID, PaymentMarker] = {}
        paid: dict[UUID, Loan] = {}
        decided: list[tuple[PaymentMarker, bool] | DomainError] = []
        for command in commands:
            try:
                decided.append(_decide(service, command, new.get(command.marker_id) or found.get(command.marker_id),
                                       target, paid))
            except HalfRecorded as e:
                if len(commands) == 1:  # nothing else to decide afresh: the refusal is the answer
                    return [e.refusal]
                return None
            except DomainError as e:
                decided.append(e)
            else:
                marker, recorded = decided[-1]
                if recorded:
                    new[command.marker_id] = marker
        try:
            recordings = service.save(*new.values(), *paid.values()) if new else []
        except RecordConflictError:
            return None
    EVENTS_APPENDED.inc(len(recordings))
    position = max((r.notification.id for r in recordings), default=None)
    return [d if isinstance(d, DomainError) else
            Posted(d[0], d[1], position if d[1] or d[0].id in new else None) for d in decided]


def _decide(service, command: PaymentCommand, marker: PaymentMarker | None, target: Target,
            paid: dict[UUID, Loan]) -> tuple[PaymentMarker, bool]:
    if marker is not None:
        marker.same_content(command.content)  # payment_conflict when the content differs
        return marker, False
    if command.loan_id is not None and command.reference:
        owner = service.reference_owner(command.tenant, command.reference)
        if owner is not None and owner != command.loan_id:
            # Which loan did the payer mean? Neither guess is safe: refuse, nothing is recorded.
            raise DomainError("invalid_request", f"loan_id {command.loan_id!r} and reference {command.reference!r} "
                              f"name different loans (the reference is loan {owner!r}'s)", rule="R-PAY-2",
                              field="reference")
    loan = target(command)
    if loan is not None:
        before = len(loan.pending_events)
        try:
            loan.receive_payment(payment_id=command.payment_id, amount=command.amount, value_date=command.value_date,
                                 on=command.on, recorded_at=service.clock(), rates=service.rates,
                                 source=command.source, reference=command.reference)
        except DomainError as e:
            if len(loan.pending_events) != before:
                raise HalfRecorded(e) from None
            raise
        paid[loan.id] = loan
    marker = PaymentMarker.register(tenant=command.tenant, payment_id=command.payment_id, content=command.content,
                                    loan_id=loan.loan_id if loan else None, file_sha256=command.file_sha256)
    return marker, True
