"""The servicing agenda never misses a day on which the daily run acts (R-ACC-4, architecture
"Servicing runs": "a run loads only the loans whose agenda date has come"; domain.servicing
`next_action_date`: "this never postpones a date on which `next_step` would act").

A loan is driven day by day exactly like scheduler/simulator.py `_run` does (LoanService on the
in-memory store, the day's actions in order, then `service.service` for the day), while the test
keeps the loan's agenda date the way the read model and the scheduler keep it:

- at the grant, and after every action that recorded events (a new fact), the read model upserts
  `next_action_date(books, day_of_action - 1)` (the brief's model; projections/read_model.py uses
  the earliest effective date of the new events, which is the action's day for everything generated
  here except back-dated payments, whose value date is earlier: see `Pull`). The upsert takes the
  earlier of the stored and the new date, except that a new None (nothing will ever happen) or a
  stored None is replaced outright (UPSERT_AGENDA's CASE);
- a run for a day loads the loan only when its stored agenda date is on or before that day, and
  then stores `next_action_date(books, day)` (ReadModel.reschedule).

The property: on every day on which `next_step(loan.books(rates), day)` would record something, the
stored agenda date is on or before that day, i.e. the scheduler would have loaded the loan.
"""
from __future__ import annotations

import datetime as dt
import enum
import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.service import LoanService
from domain.dates import add_months, days
from domain.errors import DomainError
from domain.loan import Decision, loan_uuid
from domain.policy import make_policy
from domain.servicing import next_action_date, next_step

HELSINKI = ZoneInfo("Europe/Helsinki")
TENANT = "agenda"
LOAN_ID = "L-AGENDA"
DECISION = Decision("property-test", "generated history")
EPOCH = dt.date(2024, 1, 1)

AGENDA_PROFILE = settings(
    max_examples=int(os.environ.get("LUOTTO_AGENDA_EXAMPLES", "40")),
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- generated loans and histories ------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    preset: str  # kittila (reminders at +14/+28 days, first due on the 10th) or default
    auto_notice: bool  # R-ACC-9 auto_acceleration_notice
    granted_on: dt.date
    first_due_date: dt.date
    principal: int
    instalment: int
    horizon: dt.date  # the last day driven

    @property
    def count(self) -> int:
        return -(-self.principal // self.instalment)


@dataclass(frozen=True)
class History:
    terms: Terms
    actions: tuple  # ((day, (kind, *args)), ...) in day order, ties in listed order


def tenths_within_three_months(granted: dt.date) -> list[dt.date]:
    """Kittila first due dates allowed by R-SCHED-3: a 10th, after the grant, within 3 months."""
    out, day = [], granted + days(1)
    while day <= add_months(granted, 3):
        if day.day == 10:
            out.append(day)
        day += days(1)
    return out


@st.composite
def loan_terms(draw) -> Terms:
    preset = draw(st.sampled_from(["kittila", "default"]))
    granted = EPOCH + days(draw(st.integers(0, 600)))
    if preset == "kittila":
        first_due = draw(st.sampled_from(tenths_within_three_months(granted)))
    else:
        first_due = granted + days(draw(st.integers(1, (add_months(granted, 3) - granted).days)))
    n = draw(st.integers(1, 4))
    each = draw(st.integers(20_00, 500_00))
    principal = each * (n - 1) + draw(st.integers(1, each))
    horizon = add_months(first_due, n - 1) + days(draw(st.integers(15, 110)))
    return Terms(preset, draw(st.booleans()), granted, first_due, principal, each, horizon)


# Weights by repetition: money in is the common case.
KINDS = ["pay"] * 6 + ["reverse", "notice", "notice", "hardship", "hardship_end", "free_months"]


@st.composite
def dated_action(draw, terms: Terms) -> tuple:
    span = (terms.horizon - terms.granted_on).days
    kind = draw(st.sampled_from(KINDS))
    if kind == "pay":
        # Payments cluster around due dates: a little early, on time, late, very late.
        k = draw(st.integers(0, terms.count - 1))
        due = (add_months(terms.first_due_date, k) - terms.granted_on).days
        offset = min(span, max(0, due + draw(st.integers(-10, 50))))
        amount = draw(st.one_of(st.just(terms.instalment), st.integers(1, 3).map(lambda m: m * terms.instalment),
                                st.integers(1, terms.principal + 20_00)))
        return offset, ("pay", amount, draw(st.sampled_from([0, 0, 0, 1, 5, 15])))  # value date lag
    offset = draw(st.integers(0, span))
    args = {"reverse": st.tuples(st.integers(0, 10)),  # which accepted payment the bank returns
            "notice": st.tuples(st.booleans()),  # with override_reason (R-ACC-5)
            "hardship": st.tuples(st.sampled_from(["illness", "unemployment", "other"])),
            "free_months": st.tuples(st.integers(1, 2), st.integers(1, terms.count))}.get(kind, st.just(()))
    return offset, (kind, *draw(args))


@st.composite
def histories(draw, max_actions: int = 10) -> History:
    terms = draw(loan_terms())
    acts = draw(st.lists(dated_action(terms), max_size=max_actions))
    ordered = sorted(enumerate(acts), key=lambda ia: (ia[1][0], ia[0]))
    return History(terms, tuple((terms.granted_on + days(d), a) for _, (d, a) in ordered))


# --- driving a history through LoanService, keeping the agenda ---------------------------------


class Pull(enum.Enum):
    """Which `after` the read model gives next_action_date when a new fact arrives."""

    ACTION_DAY = "day of the action - 1"  # the brief's model
    EFFECTIVE = "earliest effective date of the new events - 1"  # projections/read_model.py run_once


class Clock:
    """Noon Helsinki time of the simulated day, a microsecond apart (as the simulator's clock)."""

    def __init__(self, day: dt.date):
        self.day, self.tick = day, 0

    def __call__(self) -> dt.datetime:
        self.tick += 1
        noon = dt.datetime.combine(self.day, dt.time(12), tzinfo=HELSINKI).astimezone(dt.timezone.utc)
        return noon + dt.timedelta(microseconds=self.tick)


def upsert(stored: dt.date | None, new: dt.date | None) -> dt.date | None:
    """UPSERT_AGENDA: a new fact only brings the date forward; None on either side is replaced."""
    if new is None or stored is None:
        return new
    return min(stored, new)


@dataclass(frozen=True)
class Miss:
    day: dt.date
    step: str  # what next_step would record that day
    agenda: dt.date | None  # the stored agenda date that day
    last_loaded: dt.date | None  # the last day the scheduler loaded the loan
    events: tuple  # the loan's events so far: (type, effective date)


def drive(history: History, pull: Pull = Pull.ACTION_DAY, skip=None) -> Miss | None:
    """Play the history as the simulator does; return the first day the agenda would miss.
    `skip(service, day, action)` -> True leaves an action out (the known-bug triggers)."""
    terms = history.terms
    clock = Clock(terms.granted_on)
    service = LoanService(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    service.configure_tenant(TENANT, make_policy(terms.preset, {"auto_acceleration_notice": terms.auto_notice}))
    service.grant(tenant=TENANT, loan_id=LOAN_ID, borrower_id="B-1", purpose="property test",
                  principal=terms.principal, granted_on=terms.granted_on, first_due_date=terms.first_due_date,
                  instalment_amount=terms.instalment, decision=DECISION)
    rates, uuid = service.rates, loan_uuid(TENANT, LOAN_ID)
    agenda = next_action_date(service.loan(TENANT, LOAN_ID).books(rates), terms.granted_on - days(1))
    payments: list[str] = []
    actions, last_loaded, day = list(history.actions), None, terms.granted_on
    while day <= terms.horizon:
        clock.day = day
        while actions and actions[0][0] == day:
            version = service.loan(TENANT, LOAN_ID).version
            if skip is not None and skip(service, day, actions[0][1]):
                actions.pop(0)
                continue
            try:
                apply(service, day, actions.pop(0)[1], payments)
            except DomainError:
                continue  # refused by the rules, as the simulator records a rejection
            new = list(service.events.get(uuid, gt=version))
            if new:
                after = day if pull is Pull.ACTION_DAY else min(e.effective_date for e in new)
                agenda = upsert(agenda, next_action_date(service.loan(TENANT, LOAN_ID).books(rates),
                                                         after - days(1)))
        loan = service.loan(TENANT, LOAN_ID)
        step = next_step(loan.books(rates), day)
        due = agenda is not None and agenda <= day
        if step is not None and not due:
            return Miss(day, f"{step.event_class.__name__} {step.fields.get('instalment', '')}"
                             f"{step.fields.get('kind', '')} effective {step.effective_date}".strip(),
                        agenda, last_loaded,
                        tuple((type(e).__name__, e.effective_date.isoformat()) for e in service.events.get(uuid)))
        service.service(TENANT, LOAN_ID, day)
        if due:
            last_loaded = day
            agenda = next_action_date(service.loan(TENANT, LOAN_ID).books(rates), day)
        day += days(1)
    return None


def apply(service: LoanService, day: dt.date, action: tuple, payments: list[str]) -> None:
    kind, args = action[0], action[1:]
    if kind == "pay":
        amount, lag = args
        granted = service.loan(TENANT, LOAN_ID).granted_on
        payment_id = f"P-{len(payments) + 1}"
        service.post_payment(tenant=TENANT, payment_id=payment_id, loan_id=LOAN_ID, amount=amount, on=day,
                             value_date=max(granted, day - days(lag)), source="simulation")
        payments.append(payment_id)
    elif kind == "reverse":
        if payments:
            service.reverse_payment(tenant=TENANT, payment_id=payments[args[0] % len(payments)], on=day,
                                    reason="returned by the bank")
    elif kind == "notice":
        service.decide(TENANT, LOAN_ID, "send_acceleration_notice", on=day, decision=DECISION,
                       override_reason="manifestly unreasonable" if args[0] else None)
    elif kind == "hardship":
        service.decide(TENANT, LOAN_ID, "record_hardship", on=day, decision=DECISION, cause=args[0])
    elif kind == "hardship_end":
        service.decide(TENANT, LOAN_ID, "end_hardship", on=day, decision=DECISION)
    elif kind == "free_months":
        service.decide(TENANT, LOAN_ID, "defer_free_months", on=day, decision=DECISION, months=args[0],
                       from_instalment=args[1])
    else:  # pragma: no cover
        raise AssertionError(kind)


# --- the property -----------------------------------------------------------------------------


@AGENDA_PROFILE
@given(history=histories())
def test_r_acc_4_agenda_never_misses_a_day_the_run_acts(history: History):
    """R-ACC-4 / servicing agenda: whenever next_step would record something on a day, the agenda
    date kept as the read model keeps it (pulled forward on new facts, moved on after each load) is on
    or before that day, so the scheduler loads the loan."""
    miss = drive(history)
    assert miss is None, miss
