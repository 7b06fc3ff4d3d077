"""`luotto simulate`: a scenario (spec/scenario-format.md) through the production service on an
in-memory event store, day by day as the scheduler serves it (application.days).

For every day from the grant to `run_until` the day's actions are applied in the order listed,
then the daily servicing runs for that day. The scenario is validated whole before anything
runs, so an invalid one prints no result.
"""
from __future__ import annotations

import datetime as dt
import re
from application.days import HELSINKI, Action, SimulatedClock, drive, sandbox
from domain.dates import parse_date
from domain.errors import DomainError
from domain.evidence import plain
from domain.interest import InterestTerms
from domain.loan import Decision
from domain.money import parse_amount
from domain.policy import make_policy
from domain.rates import ReferenceRates

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
    "transfer_to_collection": (set(), {"instalments", "transfer_id"}),  # issue 20: none listed: the whole loan
    "write_off": (set(), set()),
}
DECISION_FIELDS = {"decided_by", "reasons", "legal_basis"}
LOAN_FIELDS = ({"loan_id", "borrower_id", "purpose", "granted_on", "principal", "first_due_date"},
               {"instalment_amount", "term_months", "interest", "penalty_interest_agreed_on"})
_NUMERIC = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


class ScenarioError(ValueError):
    """The scenario itself is malformed; the message names the field."""


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


def _run(policy, rates, terms, actions, run_until) -> dict:
    clock = SimulatedClock(terms["granted_on"])
    service = sandbox(clock, rates)
    service.configure_tenant(TENANT, policy)
    service.grant(tenant=TENANT, decision=Decision("simulation", "scenario grant"), **terms)
    rejections = drive(service, clock, TENANT, terms["loan_id"], actions, terms["granted_on"], run_until)
    return result(service, terms["loan_id"], rejections, run_until)


def result(service, loan_id: str, rejections: list[dict], until: dt.date) -> dict:
    stored = service.loan(TENANT, loan_id)
    return {"events": event_records(service, stored.id), "rejections": rejections,
            "balance": stored.books(service.rates).balance(until)}


def event_records(service, loan_uuid) -> list[dict]:
    out = []
    for event in service.events.get(loan_uuid):
        fields = {k: v for k, v in vars(event).items()
                  if k not in ("originator_id", "originator_version", "timestamp", "originator_topic")}
        recorded = event.timestamp.astimezone(HELSINKI)
        out.append({"type": type(event).__name__, "version": event.originator_version,
                    "recorded_on": recorded.date().isoformat(), "recorded_at": event.timestamp.isoformat(),
                    **plain(fields)})
    return out
