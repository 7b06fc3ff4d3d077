"""Helpers the rule tests share to build scenarios for `simulate` and read its events."""
from __future__ import annotations

import copy

RATE_ROWS = [{"from": "2025-01-01", "rate": "3.50"}, {"from": "2025-07-01", "rate": "2.50"},
             {"from": "2026-01-01", "rate": "2.50"}]


def kittila_scenario(actions=(), *, run_until: str, preset="kittila", overrides=None, **loan) -> dict:
    """By default a kittila loan of 300.00 in three instalments of 100.00 (10 Feb, 10 Mar, 10 Apr 2025)."""
    terms = {"loan_id": "L-1", "borrower_id": "B-1", "purpose": "rent arrears", "granted_on": "2025-01-15",
             "principal": "300.00", "first_due_date": "2025-02-10", "instalment_amount": "100.00"}
    terms.update(loan)
    return {"name": "test", "policy": {"preset": preset, "overrides": dict(overrides or {})},
            "reference_rates": copy.deepcopy(RATE_ROWS), "loan": terms, "actions": list(actions),
            "run_until": run_until}


def payment(on: str, payment_id: str, amount: str, value_date: str | None = None) -> dict:
    return {"on": on, "type": "payment", "payment_id": payment_id, "amount": amount,
            "value_date": value_date or on}


def of(out: dict, type_: str, **fields) -> list[dict]:
    """The simulated events of a type whose given fields are equal."""
    return [e for e in out["events"] if e["type"] == type_ and all(e.get(k) == v for k, v in fields.items())]


def only(out: dict, type_: str, **fields) -> dict:
    found = of(out, type_, **fields)
    assert len(found) == 1, f"expected one {type_} {fields}, got {found}"
    return found[0]
