"""An organiser's casework register: every application with its applicants and status, and every
request for a personal discussion (R-APP-10, Act §9) until the meeting is recorded.

Saved in the same transaction as each change it indexes, so it is never behind its cases: erasure
finds every application of a borrower here (R-DATA-4), and the work queue every discussion due.
Ids only: no personal data.
"""
from __future__ import annotations

import datetime as dt
import uuid

from eventsourcing.domain import Aggregate

from domain.errors import DomainError, invalid

NAMESPACE = uuid.UUID("9a4d7e2b-1c3f-4b5a-8e6d-2f7c0b9a1d35")


def case_register_id(tenant: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"cases/{tenant}")


class CaseRegister(Aggregate):
    class Opened(Aggregate.Created):
        tenant: str

    class CaseIndexed(Aggregate.Event):
        """An application received, or its status changed (decided, withdrawn)."""

        application_id: str
        kind: str
        applicants: list
        status: str
        on: dt.date
        loan_id: str | None = None

        def apply(self, register: "CaseRegister") -> None:
            register.cases = {**register.cases, self.application_id: {
                "kind": self.kind, "applicants": list(self.applicants), "status": self.status,
                "on": self.on, "loan_id": self.loan_id}}

    class DiscussionRequested(Aggregate.Event):
        request_id: str
        borrower_id: str
        application_id: str | None
        loan_id: str | None
        requested_on: dt.date
        due_by: dt.date
        by: str

        def apply(self, register: "CaseRegister") -> None:
            register.discussions = {**register.discussions, self.request_id: {
                "borrower_id": self.borrower_id, "application_id": self.application_id, "loan_id": self.loan_id,
                "requested_on": self.requested_on, "due_by": self.due_by, "held_on": None}}

    class DiscussionHeld(Aggregate.Event):
        request_id: str
        held_on: dt.date
        by: str

        def apply(self, register: "CaseRegister") -> None:
            row = {**register.discussions[self.request_id], "held_on": self.held_on, "held_by": self.by}
            register.discussions = {**register.discussions, self.request_id: row}

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.cases: dict[str, dict] = {}
        self.discussions: dict[str, dict] = {}

    @classmethod
    def open(cls, tenant: str) -> "CaseRegister":
        return cls._create(cls.Opened, id=case_register_id(tenant), tenant=tenant)

    def index(self, *, application_id: str, kind: str, applicants: list[str], status: str, on: dt.date,
              loan_id: str | None = None) -> None:
        self.trigger_event(self.CaseIndexed, application_id=application_id, kind=kind, applicants=applicants,
                           status=status, on=on, loan_id=loan_id)

    def of_borrower(self, borrower_id: str) -> list[str]:
        return sorted(a for a, row in self.cases.items() if borrower_id in row["applicants"])

    def request_discussion(self, *, request_id: str, borrower_id: str, application_id: str | None,
                           loan_id: str | None, on: dt.date, within_days: int, by: str) -> bool:
        """R-APP-10: arranged without undue delay, within the policy's `discussion_within_days`."""
        known = self.discussions.get(request_id)
        if known is not None:
            if known["borrower_id"] != borrower_id:
                raise invalid(f"discussion request {request_id!r} concerns another borrower", rule="R-APP-10",
                              field="request_id")
            return False
        self.trigger_event(self.DiscussionRequested, request_id=request_id, borrower_id=borrower_id,
                           application_id=application_id, loan_id=loan_id, requested_on=on,
                           due_by=on + dt.timedelta(days=within_days), by=by)
        return True

    def record_discussion(self, *, request_id: str, held_on: dt.date, by: str) -> None:
        known = self.discussions.get(request_id)
        if known is None:
            raise DomainError("not_found", f"no discussion was requested as {request_id!r}", rule="R-APP-10",
                              field="request_id")
        if known["held_on"] is not None:
            raise DomainError("not_eligible", f"the discussion {request_id!r} was recorded as held on "
                              f"{known['held_on']}", rule="R-APP-10")
        if held_on < known["requested_on"]:
            raise invalid(f"held_on {held_on} is before the request of {known['requested_on']}", rule="R-APP-10",
                          field="held_on")
        self.trigger_event(self.DiscussionHeld, request_id=request_id, held_on=held_on, by=by)

    def pending_discussions(self, today: dt.date) -> list[dict]:
        """Requests whose meeting is not recorded, the most urgent first."""
        rows = [{"request_id": rid, **row, "overdue": row["due_by"] < today}
                for rid, row in self.discussions.items() if row["held_on"] is None]
        return sorted(rows, key=lambda r: (r["due_by"], r["request_id"]))
