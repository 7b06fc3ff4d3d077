"""An organiser's lending capital by source (R-CAP-1, Act §10a): its own funds and each state grant
for lending capital by its decision number. One aggregate per organiser; each entry is an event,
so the state-grant usage report can be traced to what was recorded and when."""
from __future__ import annotations

import datetime as dt
import uuid

from eventsourcing.domain import Aggregate

from domain.errors import invalid
from domain.money import Cents, format_cents

NAMESPACE = uuid.UUID("5d2b0c4e-7a1f-4e8b-9c3d-2f6a8e1b7c50")
SOURCES = ("own_funds", "state_grant")


def capital_id(tenant: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"capital/{tenant}")


def source_key(source: str, decision_number: str | None) -> str:
    """The report's key of a source: `own_funds`, or `state_grant:<decision number>`."""
    return source if source == "own_funds" else f"state_grant:{decision_number}"


class LendingCapital(Aggregate):
    class Opened(Aggregate.Created):
        tenant: str

    class CapitalRecorded(Aggregate.Event):
        effective_date: dt.date
        source: str  # own_funds | state_grant
        amount: str  # positive: capital added; negative: capital returned to its source
        decision_number: str | None  # the state grant's decision (Act §10a); None for own funds
        recorded_by: str

        def apply(self, capital: "LendingCapital") -> None:
            capital.entries = capital.entries + ((self.effective_date, self.source, self.amount,
                                                  self.decision_number),)

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.entries: tuple = ()

    @classmethod
    def open(cls, tenant: str) -> "LendingCapital":
        return cls._create(cls.Opened, id=capital_id(tenant), tenant=tenant)

    def record(self, *, source: str, amount: Cents, on: dt.date, decision_number: str | None, by: str,
               recorded_at: dt.datetime) -> None:
        if source not in SOURCES:
            raise invalid(f"source must be one of {', '.join(SOURCES)}, got {source!r}", rule="R-CAP-1",
                          field="source")
        if source == "state_grant" and not (decision_number or "").strip():
            raise invalid("a state grant names its decision number (Act §10a)", rule="R-CAP-1",
                          field="decision_number")
        if source == "own_funds" and decision_number:
            raise invalid("own funds have no state-grant decision number", rule="R-CAP-1", field="decision_number")
        if amount == 0:
            raise invalid("amount must not be 0.00", rule="R-CAP-1", field="amount")
        self.trigger_event(self.CapitalRecorded, timestamp=recorded_at, effective_date=on, source=source,
                           amount=format_cents(amount), decision_number=(decision_number or "").strip() or None,
                           recorded_by=by)
