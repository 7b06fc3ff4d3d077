"""`luotto assess FILE`: an application-format.md file → the assessment as JSON.

The file is validated whole before anything is computed, like `luotto simulate`: an unknown
field, an amount as a JSON number, a bad month or date exits 2 naming the field.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from domain.applications import parse_application
from domain.assessment import assess
from domain.dates import parse_date
from domain.errors import invalid
from domain.policy import make_policy
from domain.rates import ReferenceRates, shipped_rates

FIELDS = ({"application"}, {"name", "policy", "reference_rates", "assessed_on", "expect"})


def assess_file(data: object, today: dt.date | None = None) -> dict:
    """Raises DomainError naming the field. Without `assessed_on`, today in Helsinki; without
    `reference_rates`, the shipped table (only an interest-bearing plan reads them)."""
    if not isinstance(data, dict):
        raise invalid("the file must be a JSON object")
    _only(data, *FIELDS, "")
    policy_in = data.get("policy") or {}
    _only(policy_in, set(), {"preset", "overrides"}, "policy.")
    overrides = policy_in.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise invalid("policy.overrides must be an object", field="policy.overrides")
    policy = make_policy(policy_in.get("preset", "default"), overrides)
    rates = ReferenceRates.from_json(data["reference_rates"]) if "reference_rates" in data else shipped_rates()
    assessed_on = parse_date(data["assessed_on"], "assessed_on") if "assessed_on" in data else \
        today or dt.datetime.now(ZoneInfo("Europe/Helsinki")).date()
    application = parse_application(data["application"], "application")
    return assess(application, policy, rates, assessed_on).to_json()


def _only(obj: object, required: set, optional: set, prefix: str) -> None:
    where = prefix.rstrip(".") or "the file"
    if not isinstance(obj, dict):
        raise invalid(f"{where} must be an object", field=prefix.rstrip(".") or None)
    for key in obj:
        if key not in required | optional:
            raise invalid(f"{prefix}{key}: unknown field", field=f"{prefix}{key}")
    for key in sorted(required - set(obj)):
        raise invalid(f"{prefix}{key}: missing", field=f"{prefix}{key}")
