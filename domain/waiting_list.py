"""The waiting list of granted decisions (R-APP-6), kept in the organiser's grant register.

A grant that the capital (capital_limit, annual_grant_limit) does not cover is not refused but
waits, in strict order of decision. When capital frees enough for the first in line, it is
offered; an offer reserves its capital until the contract is signed or the offer expires
(policy `offer_valid_days`). No later, smaller grant is offered ahead of the first: the queue
stops at the first grant that does not fit.

The events live on the GrantRegister (domain.register mixes this class in), so an offer, a grant
and a direct `POST /v1/loans` all conflict on the register's version and are decided one after
the other: together they can never break a limit. Ids and amounts only: no personal data.
"""
from __future__ import annotations

import datetime as dt

from eventsourcing.domain import Aggregate

from domain.errors import DomainError
from domain.money import Cents, format_cents, parse_amount
from domain.policy import Policy


class WaitingList:
    """Mixed into GrantRegister. Class defaults: a register snapshotted before the waiting list
    existed loads with an empty one. Values are replaced, never changed in place."""

    waiting: tuple = ()  # ({"application_id", "principal", "decided_on", "borrowers"}, ...) in decision order
    offers: dict = {}  # application_id -> {"principal", "offered_on", "valid_until", "borrowers", "decided_on"}

    class GrantQueued(Aggregate.Event):
        application_id: str
        principal: str
        decided_on: dt.date
        borrowers: list

        def apply(self, register) -> None:
            # tuple(): a register restored from a snapshot holds the list its JSON gave back
            register.waiting = tuple(register.waiting) + ({
                "application_id": self.application_id, "principal": self.principal, "decided_on": self.decided_on,
                "borrowers": list(self.borrowers)},)

    class GrantOffered(Aggregate.Event):
        application_id: str
        offered_on: dt.date
        valid_until: dt.date

        def apply(self, register) -> None:
            row = next(w for w in register.waiting if w["application_id"] == self.application_id)
            register.waiting = tuple(w for w in register.waiting if w["application_id"] != self.application_id)
            register.offers = {**register.offers, self.application_id: {
                **row, "offered_on": self.offered_on, "valid_until": self.valid_until}}

    class OfferClosed(Aggregate.Event):
        """The reservation ends: `contracted` (the loan is granted in the same write), `expired`,
        `withdrawn` (the applicant no longer wants the loan)."""

        application_id: str
        on: dt.date
        outcome: str

        def apply(self, register) -> None:
            register.offers = {k: v for k, v in register.offers.items() if k != self.application_id}

    # --- reading ---------------------------------------------------------------------------

    def reserved(self) -> Cents:
        return sum(parse_amount(o["principal"], "principal") for o in self.offers.values())

    def reserved_in(self, year: int) -> Cents:
        return sum(parse_amount(o["principal"], "principal") for o in self.offers.values()
                   if o["offered_on"].year == year)

    def waiting_total(self) -> Cents:
        return sum(parse_amount(w["principal"], "principal") for w in self.waiting)

    def positions(self) -> list[dict]:
        """The queue as the API shows it: position 1 is offered first."""
        return [{"position": i, **w} for i, w in enumerate(self.waiting, start=1)]

    def position_of(self, application_id: str) -> int | None:
        return next((p["position"] for p in self.positions() if p["application_id"] == application_id), None)

    def capital_shortfall(self, principal: Cents, year: int, outstanding: Cents, *, waiting: bool) -> str | None:
        """Why `principal` does not fit now (None: it fits). Reserved offers always count; the
        grants still waiting count too for a grant that would otherwise pass them (`waiting`)."""
        policy = Policy.from_json(self.policy)
        reserved, queued = self.reserved(), self.waiting_total() if waiting else 0
        if policy.capital_limit is not None and outstanding + reserved + queued + principal > policy.capital_limit:
            parts = f"outstanding {format_cents(outstanding)}"
            parts += f" + reserved offers {format_cents(reserved)}" if reserved else ""
            parts += f" + waiting grants {format_cents(queued)}" if queued else ""
            return (f"capital_limit {format_cents(policy.capital_limit)} would be exceeded: {parts} + requested "
                    f"{format_cents(principal)}")
        if policy.annual_grant_limit is not None:
            held = self.reserved_in(year) + queued
            granted = self.granted_by_year.get(str(year), 0) + held
            if granted + principal > policy.annual_grant_limit:
                label = "granted, reserved and waiting" if held else "granted"
                return (f"annual_grant_limit {format_cents(policy.annual_grant_limit)} would be exceeded in {year}: "
                        f"{label} {format_cents(granted)} + requested {format_cents(principal)}")
        return None

    # --- commands --------------------------------------------------------------------------

    def enqueue_grant(self, *, application_id: str, principal: Cents, decided_on: dt.date,
                      borrowers: list[str]) -> None:
        """R-APP-6: every granted decision joins the list in decision order; `offer_waiting` offers it
        at once when the capital covers it and nobody waits ahead of it."""
        if application_id in self.offers or any(w["application_id"] == application_id for w in self.waiting):
            raise DomainError("not_eligible", f"application {application_id} is already on the waiting list or "
                              "offered", rule="R-APP-6", field="application_id")
        self.trigger_event(self.GrantQueued, application_id=application_id, principal=format_cents(principal),
                           decided_on=decided_on, borrowers=list(borrowers))

    def offer_waiting(self, *, on: dt.date, outstanding: Cents, valid_days: int) -> list[tuple[str, str]]:
        """Expire the offers whose time ran out before `on`, then offer the waiting grants in order
        while the capital covers the first. Returns [("expired"|"offered", application_id)]."""
        changes = []
        for application_id, offer in sorted(self.offers.items()):
            if offer["valid_until"] < on:
                self.trigger_event(self.OfferClosed, application_id=application_id, on=on, outcome="expired")
                changes.append(("expired", application_id))
        while self.waiting:
            first = self.waiting[0]
            if self.capital_shortfall(parse_amount(first["principal"], "principal"), on.year, outstanding,
                                      waiting=False) is not None:
                break  # strict order: nobody behind the first is offered ahead of it
            self.trigger_event(self.GrantOffered, application_id=first["application_id"], offered_on=on,
                               valid_until=on + dt.timedelta(days=valid_days))
            changes.append(("offered", first["application_id"]))
        return changes

    class GrantLeftQueue(Aggregate.Event):
        """A waiting grant whose applicant no longer wants the loan leaves the list (the next moves up)."""

        application_id: str
        on: dt.date

        def apply(self, register) -> None:
            register.waiting = tuple(w for w in register.waiting if w["application_id"] != self.application_id)

    def withdraw_grant(self, application_id: str, on: dt.date) -> str:
        """The applicant withdraws a waiting or offered grant: it leaves the list, or its reservation ends.
        Returns what it was (`waiting` or `offered`); `offer_waiting` then offers the next in line."""
        if application_id in self.offers:
            self.trigger_event(self.OfferClosed, application_id=application_id, on=on, outcome="withdrawn")
            return "offered"
        if any(w["application_id"] == application_id for w in self.waiting):
            self.trigger_event(self.GrantLeftQueue, application_id=application_id, on=on)
            return "waiting"
        raise DomainError("not_eligible", f"application {application_id} is neither waiting nor offered",
                          rule="R-APP-6", field="application_id")

    def take_offer(self, application_id: str, on: dt.date) -> Cents:
        """The contract is signed within the offer's time: the reservation becomes the loan."""
        offer = self.offers.get(application_id)
        if offer is None:
            raise DomainError("not_eligible", f"application {application_id} has no standing offer: it waits for "
                              "capital, or its offer expired or was taken", rule="R-APP-6", field="application_id")
        if on > offer["valid_until"]:
            raise DomainError("not_eligible", f"the offer to application {application_id} expired on "
                              f"{offer['valid_until']} (policy offer_valid_days)", rule="R-APP-6", field="on")
        self.trigger_event(self.OfferClosed, application_id=application_id, on=on, outcome="contracted")
        return parse_amount(offer["principal"], "principal")


def contract_first_due_date(decided: dt.date, valid_until: dt.date) -> dt.date:
    """The first due date a contract drawn for an offer uses by default: the decision's, or when that is
    not after the offer's last day, the same day of the first later month that is (R-DATE-2, counted from
    the decision's date), so that no instalment falls due before the borrower could have signed."""
    from domain.dates import add_months

    months = 0
    while add_months(decided, months) <= valid_until:
        months += 1
    return add_months(decided, months)
