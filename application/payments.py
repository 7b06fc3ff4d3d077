"""Commands on payments: post (R-PAY-1/2, group commit), allocate, reverse (R-PAY-4)."""
from __future__ import annotations

import datetime as dt
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from adapters.group_commit import GroupCommit
from adapters.reference_numbers import normalise_reference
from application.payment_batch import PaymentCommand, post_batch
from application.retry import retrying
from application.store import Written
from domain.errors import DomainError
from domain.loan import Loan, loan_uuid
from domain.money import Cents, parse_amount
from domain.register import PaymentMarker, payment_marker_id, reference_marker_id


class PaymentCommands:
    inline_payments = False  # True where nothing runs concurrently (a sandbox): no group-commit thread

    def _start_payments(self) -> None:
        self._payment_commits: GroupCommit[PaymentCommand, Written] = GroupCommit(self._post_payments,
                                                                                   name="payments")
        self._reference_owners: dict[tuple[str, str], str] = {}

    def post_payment(self, *, tenant: str, payment_id: str, amount: Cents, value_date: dt.date, on: dt.date,
                     loan_id: str | None = None, reference: str | None = None, source: str = "api",
                     file_sha256: str | None = None) -> Written:
        """R-PAY-1/2: idempotent by payment_id; unmatched payments wait in the unallocated queue.
        Concurrent posts are decided together and saved in one transaction (group commit)."""
        if self.inline_payments:
            return self._post_payment_alone(PaymentCommand(tenant, payment_id, amount, value_date, on, loan_id,
                                                           reference, source, file_sha256))
        return self._payment_commits.submit(PaymentCommand(tenant, payment_id, amount, value_date, on, loan_id,
                                                           reference, source, file_sha256))

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
        def attempt() -> Written | None:
            outcome = post_batch(self, [command])
            if outcome is None:
                return None
            if isinstance(outcome[0], DomainError):
                raise outcome[0]
            return Written(self._payment_result(outcome[0].marker), outcome[0].position)
        return retrying(attempt)

    def loan_uuid_for(self, command: PaymentCommand) -> UUID | None:
        """The loan a payment names: by loan_id, else by its reference (R-PAY-2)."""
        owner = command.loan_id or self.reference_owner(command.tenant, command.reference)
        return loan_uuid(command.tenant, owner) if owner else None

    def reference_owner(self, tenant: str, reference: str | None) -> str | None:
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
            loan.receive_payment(payment_id=payment_id, amount=parse_amount(marker.content["amount"], "amount"),
                                 value_date=dt.date.fromisoformat(marker.content["value_date"]), on=on,
                                 recorded_at=self.clock(), rates=self.rates, source="allocation",
                                 reference=marker.content["reference"])
            return [marker, loan]
        return self.write(change, lambda: self._payment_result(marker_id))

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
            loan: Loan = self.loan(tenant, marker.loan_id)
            text = self._seal(tenant, loan.borrower_id, reason) if seal_reason else reason
            loan.reverse_payment(payment_id=payment_id, reason=text, on=on, recorded_at=self.clock(),
                                 rates=self.rates)
            return [loan]
        return self.write(change, lambda: self._payment_result(marker_id))

    def _marker(self, marker_id: UUID, payment_id: str) -> PaymentMarker:
        try:
            return self.repository.get(marker_id)
        except AggregateNotFoundError:
            raise DomainError("not_found", f"payment_id {payment_id!r} not found", field="payment_id") from None
