"""`luotto simulate`: drive the production service day by day over an in-memory event store.

For every calendar day from the grant to `run_until` the day's actions are applied in the
order listed, then the daily servicing runs for that day, exactly as the scheduler would.
The scenario is validated whole before anything runs, so an invalid one prints no result.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from application.service import LoanService
from domain.dates import days, parse_date
from domain.errors import DomainError, invalid
from domain.evidence import plain
from domain.interest import InterestTerms
from domain.loan import Decision
from domain.money import parse_amount
from domain.policy import make_policy
from domain.rates import ReferenceRates

HELSINKI = ZoneInfo("Europe/Helsinki")
TENANT = "simulation"

# Action type -> (required fields, optional fields); decided_by/reasons/legal_basis are always allowed.
ACTIONS = {
    "payment": ({"payment_id", "amount"}, {"value_date"}),
    "payment_reversal": ({"payment_id"}, {"reason"}),
    "acceleration_notice": (set(), {"override_reason"}),
    "hardship": ({"cause"}, set()),
    "hardship_end": (set(), set()),
    "free_months": ({"months", "from_instalment"}, set()),
    "due_date_extension": ({"instalment", "new_due_date"}, set()),
    "terms_change": ({"from_instalment", "instalment_amount"}, set()),
    "waiver": ({"kind"}, {"amount"}),
    "refund": ({"amount"}, set()),
    "transfer_to_collection": (set(), set()),
    "write_off": (set(), set()),
}
DECISION_FIELDS = {"decided_by", "reasons", "legal_basis"}
LOAN_FIELDS = ({"loan_id", "borrower_id", "purpose", "granted_on", "principal", "first_due_date"},
               {"instalment_amount", "term_months", "interest", "penalty_interest_agreed_on"})
_NUMERIC = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


class ScenarioError(ValueError):
    """The scenario itself is malformed; the message names the field."""


@dataclass
class Action:
    index: int
    on: dt.date
    type: str
    data: dict


def simulate(scenario: dict) -> dict:
    try:
        return _run(*_parse(scenario))
    except DomainError as e:
        if e.code == "invalid_request":
            named = e.field and e.field not in e.message
            raise ScenarioError(f"{e.field}: {e.message}" if named else e.message) from None
        raise


def _parse(scenario: object):
    if not isinstance(scenario, dict):
        raise ScenarioError("the scenario must be a JSON object")
    _only(scenario, {"loan", "run_until"}, {"name", "policy", "reference_rates", "actions", "expect"}, "")
    policy_in = scenario.get("policy") or {}
    if not isinstance(policy_in, dict):
        raise ScenarioError("policy must be an object with preset and overrides")
    _only(policy_in, set(), {"preset", "overrides"}, "policy.")
    overrides = policy_in.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise ScenarioError("policy.overrides must be an object")
    policy = make_policy(policy_in.get("preset", "default"), overrides)
    rates = ReferenceRates.from_json(scenario["reference_rates"]) if "reference_rates" in scenario else None

    loan_in = scenario["loan"]
    if not isinstance(loan_in, dict):
        raise ScenarioError("loan must be an object")
    _only(loan_in, *LOAN_FIELDS, "loan.")
    for name in ("loan_id", "borrower_id", "purpose"):
        if not isinstance(loan_in[name], str) or not loan_in[name]:
            raise ScenarioError(f"loan.{name} must be a non-empty string")
    terms = {"loan_id": loan_in["loan_id"], "borrower_id": loan_in["borrower_id"], "purpose": loan_in["purpose"],
             "granted_on": parse_date(loan_in["granted_on"], "loan.granted_on"),
             "first_due_date": parse_date(loan_in["first_due_date"], "loan.first_due_date"),
             "principal": parse_amount(loan_in["principal"], "loan.principal")}
    if ("instalment_amount" in loan_in) == ("term_months" in loan_in):
        raise ScenarioError("loan: give exactly one of instalment_amount and term_months")
    if "instalment_amount" in loan_in:
        terms["instalment_amount"] = parse_amount(loan_in["instalment_amount"], "loan.instalment_amount")
    else:
        terms["term_months"] = _whole(loan_in["term_months"], "loan.term_months")
    if "interest" in loan_in:
        terms["interest"] = InterestTerms.from_json(loan_in["interest"], "loan.interest")
    if loan_in.get("penalty_interest_agreed_on") is not None:
        terms["penalty_interest_agreed_on"] = parse_date(loan_in["penalty_interest_agreed_on"],
                                                         "loan.penalty_interest_agreed_on")

    run_until = parse_date(scenario["run_until"], "run_until")
    if run_until < terms["granted_on"]:
        raise ScenarioError("run_until is before loan.granted_on")
    actions_in = scenario.get("actions") or []
    if not isinstance(actions_in, list):
        raise ScenarioError("actions must be a list")
    actions = [_action(i, a, terms["granted_on"], run_until) for i, a in enumerate(actions_in)]
    return policy, rates, terms, actions, run_until


def _action(index: int, raw: object, first: dt.date, last: dt.date) -> Action:
    where = f"actions[{index}]"
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where} must be an object")
    kind = raw.get("type")
    if kind not in ACTIONS:
        raise ScenarioError(f"{where}.type: unknown action type {kind!r}; known: {', '.join(ACTIONS)}")
    required, optional = ACTIONS[kind]
    _only(raw, required | {"on", "type"}, optional | DECISION_FIELDS, f"{where}.")
    on = parse_date(raw["on"], f"{where}.on")
    if not first <= on <= last:
        raise ScenarioError(f"{where}.on {on} is outside the simulated days {first}..{last}")
    data = {k: v for k, v in raw.items() if k not in ("on", "type")}
    for name in ("amount", "instalment_amount"):
        if name in data and not (isinstance(data[name], str) and _NUMERIC.match(data[name])):
            raise ScenarioError(f"{where}.{name} must be a decimal string such as \"50.00\", got {data[name]!r}")
    for name in ("value_date", "new_due_date"):
        if name in data:
            data[name] = parse_date(data[name], f"{where}.{name}")
    for name in ("months", "from_instalment", "instalment"):
        if name in data:
            data[name] = _whole(data[name], f"{where}.{name}")
    for name in ("payment_id", "cause", "kind", "reason", "override_reason", *DECISION_FIELDS):
        if name in data and not isinstance(data[name], str):
            raise ScenarioError(f"{where}.{name} must be a string")
    return Action(index, on, kind, data)


def _only(obj: dict, required: set, optional: set, prefix: str) -> None:
    for key in obj:
        if key not in required | optional:
            raise ScenarioError(f"{prefix}{key}: unknown field")
    for key in sorted(required - set(obj)):
        raise ScenarioError(f"{prefix}{key}: missing")


def _whole(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{field} must be a whole number, got {value!r}")
    return value


class _SimulatedClock:
    """Records each event at noon Helsinki time of the simulated day, a microsecond apart."""

    def __init__(self, day: dt.date):
        self.day, self._tick = day, 0

    def __call__(self) -> dt.datetime:
        self._tick += 1
        noon = dt.datetime.combine(self.day, dt.time(12, 0), tzinfo=HELSINKI)
        return noon.astimezone(dt.timezone.utc) + dt.timedelta(microseconds=self._tick)


def _run(policy, rates, terms, actions, run_until) -> dict:
    clock = _SimulatedClock(terms["granted_on"])
    service = LoanService(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock, rates=rates)
    service.configure_tenant(TENANT, policy)
    service.grant(tenant=TENANT, decision=Decision("simulation", "scenario grant"), **terms)
    return drive(service, clock, terms["loan_id"], actions, terms["granted_on"], run_until)


def drive(service: LoanService, clock: "_SimulatedClock", loan_id: str, actions: list[Action], first: dt.date,
          run_until: dt.date) -> dict:
    """Apply each day's actions, then the day's servicing run, from `first` through `run_until`."""
    rejections = []
    day = first
    while day <= run_until:
        clock.day = day
        for action in (a for a in actions if a.on == day):
            try:
                _apply(service, loan_id, action)
            except DomainError as e:
                rejections.append({"on": day.isoformat(), "action_index": action.index, "code": e.code,
                                   "message": e.message, "rule": e.rule, "field": e.field})
        service.service(TENANT, loan_id, day)
        day += days(1)
    stored = service.loan(TENANT, loan_id)
    return {"events": event_records(service, stored.id), "rejections": rejections,
            "balance": stored.books(service.rates).balance(run_until)}


def event_records(service: LoanService, loan_uuid) -> list[dict]:
    out = []
    for event in service.events.get(loan_uuid):
        fields = {k: v for k, v in vars(event).items()
                  if k not in ("originator_id", "originator_version", "timestamp", "originator_topic")}
        recorded = event.timestamp.astimezone(HELSINKI)
        out.append({"type": type(event).__name__, "version": event.originator_version,
                    "recorded_on": recorded.date().isoformat(), "recorded_at": event.timestamp.isoformat(),
                    **plain(fields)})
    return out


def _apply(service: LoanService, loan_id: str, action: Action) -> None:
    data, on = dict(action.data), action.on
    decision = Decision(data.pop("decided_by", "simulation"), data.pop("reasons", ""), data.pop("legal_basis", None))
    if action.type == "payment":
        service.post_payment(tenant=TENANT, loan_id=loan_id, payment_id=data["payment_id"], on=on,
                             amount=_amount(data["amount"], "amount"), value_date=data.get("value_date", on),
                             source="simulation")
    elif action.type == "payment_reversal":
        service.reverse_payment(tenant=TENANT, payment_id=data["payment_id"], on=on,
                                reason=data.get("reason", "reversed"))
    elif action.type == "acceleration_notice":
        service.send_acceleration_notice(TENANT, loan_id, on=on, decision=decision,
                       override_reason=data.get("override_reason"))
    elif action.type == "hardship":
        service.record_hardship(TENANT, loan_id, on=on, decision=decision, cause=data["cause"])
    elif action.type == "hardship_end":
        service.end_hardship(TENANT, loan_id, on=on, decision=decision)
    elif action.type == "free_months":
        service.defer_free_months(TENANT, loan_id, on=on, decision=decision, months=data["months"],
                       from_instalment=data["from_instalment"])
    elif action.type == "due_date_extension":
        service.extend_due_date(TENANT, loan_id, on=on, decision=decision,
                       instalment=data["instalment"], new_due_date=data["new_due_date"])
    elif action.type == "terms_change":
        service.change_terms(TENANT, loan_id, on=on, decision=decision,
                       from_instalment=data["from_instalment"],
                       instalment_amount=_amount(data["instalment_amount"], "instalment_amount"))
    elif action.type == "waiver":
        amount = _amount(data["amount"], "amount") if "amount" in data else None
        service.waive(TENANT, loan_id, on=on, decision=decision, kind=data["kind"], amount=amount)
    elif action.type == "refund":
        service.refund_overpayment(TENANT, loan_id, on=on, decision=decision,
                       amount=_amount(data["amount"], "amount"))
    elif action.type == "transfer_to_collection":
        service.transfer_to_collection(TENANT, loan_id, on=on, decision=decision)
    elif action.type == "write_off":
        service.write_off(TENANT, loan_id, on=on, decision=decision)
    else:  # pragma: no cover - _action() admits only known types
        raise invalid(f"unknown action type {action.type!r}", field="type")


def _amount(value: str, field: str) -> int:
    """Numeric strings that break R-MONEY-1 (zero, negative, sub-cent) are refused like the API does."""
    return parse_amount(value, field)
