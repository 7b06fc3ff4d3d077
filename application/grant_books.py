"""Who owes what, for the R-PORT-1 checks: the organiser's grant register keeps counts and sums,
each person's loans are in their own BorrowerLoans (domain.register), and the figures outstanding
come from the read model, brought up to date first.

A register opened before BorrowerLoans existed (class_version 1 held every loan in its state) gets
its borrowers' books the first time this process reads it: one write, from the register's own
GrantRegistered events, recorded on the register as BooksOpened (R-MIG-4: memory that does not
grow with the organiser's loans).
"""
from __future__ import annotations

from eventsourcing.persistence import IntegrityError, RecordConflictError

from adapters.reference_numbers import reference_for_loan
from domain.money import Cents, parse_amount
from domain.policy import Policy
from domain.register import (BorrowerLoans, Exposure, GrantRegister, ReferenceMarker, borrower_loans_id,
                             reference_marker_id, register_id)


class GrantBooks:
    """Mixed into LoanService ahead of Store (application.service): `register` and
    `configure_tenant` extend the store's, so whatever reads a register reads one with its books."""

    def register(self, tenant: str) -> GrantRegister:
        register = super().register(tenant)
        if register.books_opened:
            return register
        if self.write(lambda: self._books_opened(tenant)).result and self.snapshots is not None:
            try:  # the next reader starts from here, not from every grant's event
                self.take_snapshot(register_id(tenant))
            except (IntegrityError, RecordConflictError):
                pass  # the save took one at this version (every 100th), or another process did
        return super().register(tenant)

    def configure_tenant(self, tenant: str, policy: Policy) -> None:
        super().configure_tenant(tenant, policy)
        self.register(tenant)  # an older register gets its books at start-up, not in a request

    def _books_opened(self, tenant: str) -> list:
        register = self.repository.get(register_id(tenant))
        if register.books_opened:
            return []  # another process did it meanwhile
        # No book exists yet: every grant since class_version 2 reads the register first (above).
        books: dict[str, BorrowerLoans] = {}
        count = 0
        for event in self.events.get(register_id(tenant)):
            if isinstance(event, GrantRegister.GrantRegistered):
                count += 1
                for person in (event.borrower_id, event.co_borrower_id):
                    if person is not None:
                        book = books.get(person) or books.setdefault(person, BorrowerLoans.open(tenant, person))
                        book.add(event.loan_id, parse_amount(event.principal, "principal"))
        register.open_books(count)
        return [register, *books.values()]

    def borrower_books(self, tenant: str, people: list[str | None]) -> list[BorrowerLoans]:
        """Each named person's loans at the organiser (a new, empty book for a first loan)."""
        wanted = {person: borrower_loans_id(tenant, person) for person in people if person is not None}
        found = self.repository.get_many(wanted.values())  # one query for both spouses, found or not
        return [found.get(i) or BorrowerLoans.open(tenant, person) for person, i in wanted.items()]

    def loans_of_borrower(self, tenant: str, borrower_id: str) -> list[str]:
        """The person's loans, joint ones too (R-APP-1)."""
        return sorted(self.borrower_books(tenant, [borrower_id])[0].loans)

    def exposure(self, tenant: str, register: GrantRegister, books: list[BorrowerLoans]) -> Exposure:
        """What R-PORT-1 and the waiting list (R-APP-6) count: the organiser's capital in use and
        the books' people's open loans."""
        loan_ids = [lid for book in books for lid in book.loans]
        if self.read_model is not None:
            # Everything committed so far (a reversal too) counts: a lagging read model must not
            # make the limits looser (a loan it does not know counts at its full principal).
            self.read_model.catch_up()
            return Exposure.of(register, books, self.read_model.outstanding_of(tenant, loan_ids),
                               self.read_model.repaid_principal(tenant))
        # Exact but slow: used only when no read model is attached (tests, the simulator).
        today, known, repaid = self.clock().date(), {}, 0
        for lid in self.loan_ids(tenant):
            loan = self.loan(tenant, lid, read_only=True)
            known[lid] = max(0, loan.books(self.rates).position(today).principal_outstanding)
            repaid += loan.principal - known[lid]
        return Exposure.of(register, books, known, repaid)

    def capital_in_use(self, tenant: str, register: GrantRegister) -> Cents:
        return self.exposure(tenant, register, []).total

    def loan_ids(self, tenant: str) -> list[str]:
        """Every loan of the organiser, in grant order: each took the reference of its sequence number
        in the register (application.loans.grant_aggregates), whose marker names it."""
        count = self.register(tenant).count
        ids = [reference_marker_id(tenant, reference_for_loan(n)) for n in range(1, count + 1)]
        found = self.repository.get_many(ids, copies=False)
        return [found[i].loan_id for i in ids if isinstance(found.get(i), ReferenceMarker)]
