"""Organiser-wide aggregates: the grant register (R-PORT-1) with each borrower's loans, payment
markers (R-PAY-1) and reference markers (R-PAY-2).

The grant register is saved in the same transaction as every new loan of its organiser, so two
concurrent grants conflict on its version and the second is decided again after the first:
grants are serialised per organiser and can never together break a limit.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from eventsourcing.domain import Aggregate

from domain.errors import DomainError
from domain.money import Cents, format_cents, parse_amount
from domain.policy import Policy
from domain.waiting_list import WaitingList

NAMESPACE = uuid.UUID("0b7d8a4e-5f0c-4b8e-8c1e-6a7f0d9e2b31")


def register_id(tenant: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"register/{tenant}")


def payment_marker_id(tenant: str, payment_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"payment/{tenant}/{payment_id}")


def reference_marker_id(tenant: str, reference: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"reference/{tenant}/{reference}")


class GrantRegister(WaitingList, Aggregate):
    """An organiser's policy, how many loans it granted and for how much (in all and per year), and
    the waiting list of granted decisions with the offers that reserve capital (R-APP-6,
    domain.waiting_list). Who owes which loan is kept per person (BorrowerLoans), so the register's
    state stays the same size however many loans the organiser grants (R-MIG-4)."""

    # 1 held every loan (borrower, principal, date). A snapshot of that shape is not used: the
    # register is folded from its events (adapters.eventsourcing_internals.CurrentSnapshots).
    class_version = 2

    class Opened(Aggregate.Created):
        tenant: str
        policy: dict
        # False on registers opened before class_version 2: their loans enter BorrowerLoans when
        # BooksOpened is recorded (application.grant_books).
        books_opened: bool = False

    class PolicySet(Aggregate.Event):
        policy: dict

        def apply(self, register: "GrantRegister") -> None:
            register.policy = self.policy

    class GrantRegistered(Aggregate.Event):
        loan_id: str
        borrower_id: str
        principal: str
        granted_on: dt.date
        sequence: int
        co_borrower_id: str | None = None  # added with joint applications (R-APP-1)

        def apply(self, register: "GrantRegister") -> None:
            principal, year = parse_amount(self.principal, "principal"), str(self.granted_on.year)
            register.count = self.sequence
            register.principal_total += principal
            register.first_granted_on = min(register.first_granted_on or self.granted_on, self.granted_on)
            register.granted_by_year = {**register.granted_by_year,
                                        year: register.granted_by_year.get(year, 0) + principal}

    class BooksOpened(Aggregate.Event):
        """Every loan registered before class_version 2 is now in its borrowers' BorrowerLoans."""

        loans: int

        def apply(self, register: "GrantRegister") -> None:
            register.books_opened = True

    def __init__(self, tenant: str, policy: dict, books_opened: bool = False) -> None:
        self.tenant = tenant
        self.policy = policy
        self.books_opened = books_opened
        self.count = 0
        self.principal_total: Cents = 0
        self.first_granted_on: dt.date | None = None
        self.granted_by_year: dict[str, int] = {}

    @classmethod
    def open(cls, tenant: str, policy: Policy) -> "GrantRegister":
        return cls._create(cls.Opened, id=register_id(tenant), tenant=tenant, policy=policy.to_json(),
                           books_opened=True)

    def set_policy(self, policy: Policy) -> None:
        # Compared as policies, not as JSON: a parameter added since the snapshot was stored loads
        # with its default, and is no change of policy to record.
        if policy != Policy.from_json(self.policy):
            self.trigger_event(self.PolicySet, policy=policy.to_json())

    def open_books(self, loans: int) -> None:
        if not self.books_opened:
            self.trigger_event(self.BooksOpened, loans=loans)

    def register_grant(self, *, loan_id: str, borrower_id: str, principal: Cents, granted_on: dt.date,
                       exposure: "Exposure", applicant_other_debt: Cents = 0,
                       co_borrower_id: str | None = None, offer: str | None = None, checked: bool = True) -> int:
        """Check R-PORT-1 and record the grant; returns the loan's sequence number in this register.

        `exposure`: what the organiser and the borrowers owe, as far as the store knows (Exposure).
        `offer`: the application whose offer (R-APP-6) reserved this capital, taken in the same write,
        so the capital limits were checked when it was offered. A grant without one must also leave
        room for the reserved offers and the grants waiting (no grant passes the waiting list).
        `checked` False (R-MIG-1): a migrated loan, granted before Luotto under the limits of its day.
        """
        if checked:
            if offer is None:
                shortfall = self.capital_shortfall(principal, granted_on.year, exposure.total, waiting=True)
                if shortfall:
                    raise _limit(shortfall)
            self.check_borrowers(borrower_id=borrower_id, co_borrower_id=co_borrower_id, exposure=exposure,
                                 applicant_other_debt=applicant_other_debt)
        sequence = self.count + 1
        self.trigger_event(self.GrantRegistered, loan_id=loan_id, borrower_id=borrower_id,
                           principal=format_cents(principal), granted_on=granted_on, sequence=sequence,
                           co_borrower_id=co_borrower_id)
        return sequence

    def check_borrowers(self, *, borrower_id: str, co_borrower_id: str | None, exposure: "Exposure",
                        applicant_other_debt: Cents = 0) -> None:
        """R-PORT-1 limits on the people (one open loan each, the applicant's total debt)."""
        policy = Policy.from_json(self.policy)
        # A joint loan binds both spouses (R-APP-1): one open loan per borrower applies to each.
        people = {borrower_id, co_borrower_id} - {None}
        for person in sorted(people):
            theirs = exposure.open_loans(person)
            if policy.one_open_loan_per_borrower and theirs:
                raise _limit(f"one_open_loan_per_borrower: borrower {person} already has open loan "
                             f"{', '.join(sorted(theirs))}",
                             field="borrower_id" if person == borrower_id else "co_borrower_id")
        if policy.max_total_debt_of_applicant is not None:
            # The applicant's debts, as the assessment counts them (R-APP-4 total_debt_limit): the
            # requested loan itself is not one of them (it pays debts off, and counting it would
            # refuse every grant above the limit within the tolerated deviation).
            total = applicant_other_debt + sum(exposure.open_loans(borrower_id).values())
            if total > policy.max_total_debt_of_applicant:
                raise _limit(f"max_total_debt_of_applicant {format_cents(policy.max_total_debt_of_applicant)} "
                             f"exceeded: the applicant's debts are {format_cents(total)}",
                             rule="R-APP-4", field="applicant_total_debt")


def borrower_loans_id(tenant: str, borrower_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"borrower-loans/{tenant}/{borrower_id}")


class BorrowerLoans(Aggregate):
    """One person's loans at one organiser, with their principals: a joint loan is in both spouses'
    (R-APP-1). Saved in the same write as the grant and the register, so the R-PORT-1 checks on
    the people and the erasure of a borrower (R-DATA-4) read one person's loans, not every loan."""

    class Opened(Aggregate.Created):
        tenant: str
        borrower_id: str

    class LoanAdded(Aggregate.Event):
        loan_id: str
        principal: str

        def apply(self, book: "BorrowerLoans") -> None:
            book.loans = {**book.loans, self.loan_id: self.principal}

    def __init__(self, tenant: str, borrower_id: str) -> None:
        self.tenant = tenant
        self.borrower_id = borrower_id
        self.loans: dict[str, str] = {}  # loan_id -> principal

    @classmethod
    def open(cls, tenant: str, borrower_id: str) -> "BorrowerLoans":
        return cls._create(cls.Opened, id=borrower_loans_id(tenant, borrower_id), tenant=tenant,
                           borrower_id=borrower_id)

    def add(self, loan_id: str, principal: Cents) -> None:
        if loan_id not in self.loans:
            self.trigger_event(self.LoanAdded, loan_id=loan_id, principal=format_cents(principal))

    def open_loans(self, known_outstanding: Mapping[str, Cents]) -> dict[str, Cents]:
        """Principal outstanding per loan of this person, only those above zero. A loan the read
        model does not know yet counts at its full principal: a lagging read model can only make
        the checks stricter."""
        out = {}
        for lid, principal in self.loans.items():
            amount = known_outstanding.get(lid, parse_amount(principal, "principal"))
            if amount > 0:
                out[lid] = amount
        return out


@dataclass(frozen=True)
class Exposure:
    """What R-PORT-1 counts, as far as the store knows: the organiser's principal outstanding
    (`total`) and each person's open loans (person -> loan_id -> principal outstanding)."""

    total: Cents = 0
    people: Mapping[str, Mapping[str, Cents]] = field(default_factory=dict)

    @classmethod
    def of(cls, register: GrantRegister, books: Iterable[BorrowerLoans], known_outstanding: Mapping[str, Cents],
           repaid: Cents) -> "Exposure":
        """`repaid`: the principal no longer outstanding on the loans the read model knows (the
        others count in full, as registered); `known_outstanding` covers at least the books' loans."""
        return cls(register.principal_total - repaid,
                   {book.borrower_id: book.open_loans(known_outstanding) for book in books})

    def open_loans(self, person: str) -> Mapping[str, Cents]:
        return self.people.get(person, {})


def _limit(message: str, field: str = "principal", rule: str = "R-PORT-1") -> DomainError:
    return DomainError("limit_exceeded", message, rule=rule, field=field)


class PaymentMarker(Aggregate):
    """One per (organiser, payment_id): the first result of a payment, so a retry returns it."""

    class Registered(Aggregate.Created):
        tenant: str
        payment_id: str
        content: dict  # amount, value_date, loan_id, reference as posted
        loan_id: str | None  # None: waiting in the unallocated queue
        # R-BOOK-2: the SHA-256 of the bank file that first brought this payment (None: not from a
        # file, or stored before files were recorded).
        file_sha256: str | None = None

    class Allocated(Aggregate.Event):
        loan_id: str
        allocated_by: str

        def apply(self, marker: "PaymentMarker") -> None:
            marker.loan_id = self.loan_id

    class Returned(Aggregate.Event):
        """An unallocated payment sent back to the payer: it leaves the queue."""

        reason: str

        def apply(self, marker: "PaymentMarker") -> None:
            marker.returned = True

    def __init__(self, tenant: str, payment_id: str, content: dict, loan_id: str | None,
                 file_sha256: str | None = None) -> None:
        self.tenant = tenant
        self.file_sha256 = file_sha256
        self.payment_id = payment_id
        self.content = content
        self.loan_id = loan_id
        self.returned = False

    @classmethod
    def register(cls, *, tenant: str, payment_id: str, content: dict, loan_id: str | None,
                 file_sha256: str | None = None) -> "PaymentMarker":
        return cls._create(cls.Registered, id=payment_marker_id(tenant, payment_id), tenant=tenant,
                           payment_id=payment_id, content=content, loan_id=loan_id, file_sha256=file_sha256)

    def same_content(self, content: dict) -> None:
        if content != self.content:
            # Not what the first one was: the caller may be another system, and the first payment's
            # amount, date and reference are not its to learn (R-DATA-6).
            raise DomainError("payment_conflict", f"payment_id {self.payment_id!r} was already posted with "
                              "different content", rule="R-PAY-1", field="payment_id")

    def return_unallocated(self, reason: str) -> bool:
        if self.loan_id is not None:
            raise DomainError("invalid_request", f"payment_id {self.payment_id!r} is on loan {self.loan_id}; "
                              "reverse it there", rule="R-PAY-2", field="payment_id")
        if self.returned:
            return False
        self.trigger_event(self.Returned, reason=reason)
        return True

    def allocate(self, loan_id: str, allocated_by: str) -> None:
        if self.returned:
            raise DomainError("invalid_request", f"payment_id {self.payment_id!r} was returned to the payer",
                              rule="R-PAY-2", field="payment_id")
        if self.loan_id is not None:
            raise DomainError("payment_conflict", f"payment_id {self.payment_id!r} is already allocated to loan "
                              f"{self.loan_id}", rule="R-PAY-2", field="payment_id")
        self.trigger_event(self.Allocated, loan_id=loan_id, allocated_by=allocated_by)


class ReferenceMarker(Aggregate):
    """Maps an organiser's payment reference (national form) to its loan (R-PAY-2)."""

    class Assigned(Aggregate.Created):
        tenant: str
        reference: str
        loan_id: str

    def __init__(self, tenant: str, reference: str, loan_id: str) -> None:
        self.tenant = tenant
        self.reference = reference
        self.loan_id = loan_id

    @classmethod
    def assign(cls, tenant: str, reference: str, loan_id: str) -> "ReferenceMarker":
        return cls._create(cls.Assigned, id=reference_marker_id(tenant, reference), tenant=tenant,
                           reference=reference, loan_id=loan_id)


def run_log_id(tenant: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"runs/{tenant}")


class RunLog(Aggregate):
    """An organiser's completed servicing runs, so a missed day is found and caught up (R-ACC-4)."""

    class Started(Aggregate.Created):
        tenant: str

    class RunRecorded(Aggregate.Event):
        business_date: dt.date
        started_at: str
        finished_at: str
        loans_examined: int
        events_recorded: int
        failures: list

        def apply(self, log: "RunLog") -> None:
            if log.last_date is None or self.business_date > log.last_date:
                log.last_date = self.business_date
            log.runs = log.runs + 1

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.last_date: dt.date | None = None
        self.runs = 0

    @classmethod
    def start(cls, tenant: str) -> "RunLog":
        return cls._create(cls.Started, id=run_log_id(tenant), tenant=tenant)

    def record(self, *, business_date: dt.date, started_at: dt.datetime, finished_at: dt.datetime,
               loans_examined: int, events_recorded: int, failures: list) -> None:
        self.trigger_event(self.RunRecorded, business_date=business_date, started_at=started_at.isoformat(),
                           finished_at=finished_at.isoformat(), loans_examined=loans_examined,
                           events_recorded=events_recorded, failures=failures)
