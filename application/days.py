"""The one day-by-day driver: a loan's life as the scheduler serves it, for the simulator
(`luotto simulate`), replay and what-if.

Each business day's actions are applied in the order given, then that day's servicing run is
made for the loan, exactly as production does it: through the agenda. After new facts the loan's
agenda date is pulled as the read model pulls it (projections/read_model.py: from the earliest
effective date of the new events and from the day they were recorded), and a run services the
loan only when its agenda date has come, then reschedules it. Days on which nothing is applied
and the agenda shows nothing are skipped, so a history costs its events, not its calendar days
(tests/unit/test_agenda.py: the agenda never misses a day on which the run records something).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from domain.dates import days
from domain.errors import DomainError, invalid
from domain.loan import Decision, loan_uuid
from domain.money import parse_amount
from domain.servicing import next_action_date

HELSINKI = ZoneInfo("Europe/Helsinki")


@dataclass
class Action:
    index: int
    on: dt.date
    type: str
    data: dict


class SimulatedClock:
    """Records each event at noon Helsinki time of the simulated day, a microsecond apart."""

    def __init__(self, day: dt.date):
        self.day, self._tick = day, 0

    def __call__(self) -> dt.datetime:
        self._tick += 1
        noon = dt.datetime.combine(self.day, dt.time(12, 0), tzinfo=HELSINKI)
        return noon.astimezone(dt.timezone.utc) + dt.timedelta(microseconds=self._tick)


def sandbox(clock: SimulatedClock, rates):
    """A service on the in-memory store, with an aggregate cache so that each command loads the
    loan by its new events only (a history of thousands of payments stays linear)."""
    from application.service import LoanService

    service = LoanService(env={"PERSISTENCE_MODULE": "eventsourcing.popo", "AGGREGATE_CACHE_MAXSIZE": "16"},
                          clock=clock, rates=rates)
    service.inline_payments = True
    service.snapshotting_intervals = {}  # a sandbox lives for one run: snapshots would only cost
    return service


def drive(service, clock: SimulatedClock, tenant: str, loan_id: str, actions: list[Action], first: dt.date,
          until: dt.date, apply: Callable | None = None, *, letters: bool = True) -> list[dict]:
    """Apply each day's actions, then the day's servicing run, from `first` through `until`;
    returns the actions the rules refused. `letters` False: the runs record no reminder and no
    automatic notice (replaying a migrated history, R-MIG-2)."""
    apply = apply or apply_action
    by_day: dict[dt.date, list[Action]] = {}
    for action in sorted(actions, key=lambda a: (a.on, a.index)):
        by_day.setdefault(action.on, []).append(action)
    rejections, uuid = [], loan_uuid(tenant, loan_id)
    agenda: dt.date | None = first  # a new loan is due on the day it is granted
    day = first
    while day <= until:
        todays = by_day.get(day, [])
        if not todays and (agenda is None or agenda > day):
            later = [d for d in by_day if d > day] + ([agenda] if agenda is not None else [])
            day = min(later, default=until + days(1))
            continue
        clock.day = day
        version = service.loan(tenant, loan_id, read_only=True).version
        for action in todays:
            try:
                apply(service, tenant, loan_id, action)
            except DomainError as e:
                rejections.append({"on": day.isoformat(), "action_index": action.index, "code": e.code,
                                   "message": e.message, "rule": e.rule, "field": e.field})
        # As the read model pulls the agenda for new facts; not needed when the run is due today
        # anyway: the run reschedules the loan from scratch (the pull could only make it due today).
        new = [] if agenda is not None and agenda <= day else list(service.events.get(uuid, gt=version))
        if new:
            books = service.loan(tenant, loan_id, read_only=True).books(service.rates)
            pulled = [next_action_date(books, d - days(1))
                      for d in {min(e.effective_date for e in new), day}]
            found = [d for d in pulled if d is not None]
            agenda = None if not found else min(found) if agenda is None else min(agenda, *found)
        if agenda is not None and agenda <= day:
            agenda = _service(service, tenant, loan_id, day, letters)
        day += days(1)
    return rejections


def _service(service, tenant: str, loan_id: str, day: dt.date, letters: bool) -> dt.date | None:
    """The day's run for the loan, as `service.service` makes it; returns the loan's next agenda date,
    which the run computes anyway (asking for it again would fold the loan's ledger once more)."""
    summary = service.service_many(tenant, [loan_id], day, letters=letters)
    if summary["failures"]:
        raise RuntimeError(f"servicing {loan_id} for {day} failed: {summary['failures'][0]['error']}")
    return summary["next_dates"][loan_id]


def apply_action(service, tenant: str, loan_id: str, action: Action) -> None:
    """An action of a scenario (spec/scenario-format.md) as the service command it stands for."""
    data, on = dict(action.data), action.on
    decision = Decision(data.pop("decided_by", "simulation"), data.pop("reasons", ""), data.pop("legal_basis", None))
    kind = action.type
    if kind == "payment":
        service.post_payment(tenant=tenant, loan_id=loan_id, payment_id=data["payment_id"], on=on,
                             amount=parse_amount(data["amount"], "amount"), value_date=data.get("value_date", on),
                             source="simulation")
    elif kind == "payment_reversal":
        service.reverse_payment(tenant=tenant, payment_id=data["payment_id"], on=on,
                                reason=data.get("reason", "reversed"))
    elif kind == "acceleration_notice":
        service.send_acceleration_notice(tenant, loan_id, on=on, decision=decision,
                                         override_reason=data.get("override_reason"))
    elif kind == "hardship":
        service.record_hardship(tenant, loan_id, on=on, decision=decision, cause=data["cause"])
    elif kind == "hardship_end":
        service.end_hardship(tenant, loan_id, on=on, decision=decision)
    elif kind == "free_months":
        service.defer_free_months(tenant, loan_id, on=on, decision=decision, months=data["months"],
                                  from_instalment=data["from_instalment"])
    elif kind == "due_date_extension":
        service.extend_due_date(tenant, loan_id, on=on, decision=decision, instalment=data["instalment"],
                                new_due_date=data["new_due_date"])
    elif kind == "terms_change":
        service.change_terms(tenant, loan_id, on=on, decision=decision, from_instalment=data["from_instalment"],
                             instalment_amount=parse_amount(data["instalment_amount"], "instalment_amount"))
    elif kind == "waiver":
        amount = parse_amount(data["amount"], "amount") if "amount" in data else None
        service.waive(tenant, loan_id, on=on, decision=decision, kind=data["kind"], amount=amount)
    elif kind == "refund":
        service.refund_overpayment(tenant, loan_id, on=on, decision=decision,
                                   amount=parse_amount(data["amount"], "amount"))
    elif kind == "transfer_to_collection":
        service.transfer_to_collection(tenant, loan_id, on=on, decision=decision,
                                       instalments=data.get("instalments"), transfer_id=data.get("transfer_id"))
    elif kind == "write_off":
        service.write_off(tenant, loan_id, on=on, decision=decision)
    else:  # pragma: no cover - the scenario parser admits only known types
        raise invalid(f"unknown action type {kind!r}", field="type")
