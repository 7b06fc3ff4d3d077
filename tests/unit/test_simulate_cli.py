"""`luotto simulate FILE` through the installed console script (scenario-format.md, R-MONEY-1, R-DATE-1).

A valid scenario prints the result as JSON on stdout and exits 0. An invalid one exits non-zero,
prints nothing on stdout and names the offending field on stderr.
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

LUOTTO = Path(sys.executable).parent / "luotto"

VALID = {
    "name": "cli test",
    "policy": {"preset": "kittila", "overrides": {"reminder_offsets_days": []}},
    "reference_rates": [{"from": "2025-01-01", "rate": "3.50"}, {"from": "2025-07-01", "rate": "2.50"}],
    "loan": {"loan_id": "L-CLI", "borrower_id": "B-CLI", "purpose": "rent arrears", "granted_on": "2025-01-15",
             "principal": "600.00", "first_due_date": "2025-02-10", "instalment_amount": "100.00"},
    "actions": [
        {"on": "2025-02-10", "type": "payment", "payment_id": "p1", "amount": "100.00", "value_date": "2025-02-10"},
        {"on": "2025-03-12", "type": "acceleration_notice", "decided_by": "sw-1"},
    ],
    "run_until": "2025-03-31",
    "expect": {"ignored": "by the simulator"},
}


def run(tmp_path: Path, scenario: object) -> subprocess.CompletedProcess:
    path = tmp_path / "scenario.json"
    path.write_text(scenario if isinstance(scenario, str) else json.dumps(scenario), encoding="utf-8")
    return subprocess.run([str(LUOTTO), "simulate", str(path)], capture_output=True, text=True, timeout=120)


def changed(edit) -> dict:
    """A deep copy of VALID after `edit(scenario)`."""
    scenario = copy.deepcopy(VALID)
    edit(scenario)
    return scenario


def test_console_script_is_installed():
    assert LUOTTO.exists(), f"{LUOTTO} missing: install the project (pip install -e .)"


def test_valid_scenario_prints_events_rejections_and_balance(tmp_path):
    """scenario-format.md Output: exit 0, JSON with events, rejections and balance on stdout.
    Instalment 2 (10 Mar) is unpaid: late on 11 Mar. The notice of 12 Mar is refused not_eligible
    (R-ACC-6: 100.00 is less than a month late). Balance on 31 Mar: 500.00 principal, 100.00 overdue."""
    done = run(tmp_path, VALID)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out) >= {"events", "rejections", "balance"}
    types = [e["type"] for e in out["events"]]
    assert types[0] == "LoanGranted"
    assert {"PaymentReceived", "InstalmentFellDue", "InstalmentLate"} <= set(types)
    for event in out["events"]:
        assert {"type", "effective_date", "recorded_on", "version", "hash"} <= set(event)
    payment = next(e for e in out["events"] if e["type"] == "PaymentReceived")
    assert (payment["payment_id"], payment["amount"], payment["value_date"]) == ("p1", "100.00", "2025-02-10")
    assert [(r["on"], r["action_index"], r["code"]) for r in out["rejections"]] == \
        [("2025-03-12", 1, "not_eligible")]
    balance = out["balance"]
    assert (balance["as_of"], balance["status"], balance["principal_outstanding"], balance["overdue_amount"],
            balance["next_due_date"], balance["maturity_date"], balance["notice_pending"]) == \
        ("2025-03-31", "late", "500.00", "100.00", "2025-04-10", "2025-07-10", False)


def test_valid_scenario_output_is_deterministic(tmp_path):
    """The simulator runs on simulated days only: two runs print the same JSON (hashes included)."""
    first, second = run(tmp_path, VALID), run(tmp_path, VALID)
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout


def _set(path: str, value):
    """An edit that sets a dotted path ("loan.principal", "actions.0.amount") in the scenario."""
    *parents, last = path.split(".")

    def edit(scenario):
        node = scenario
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(last) if isinstance(node, list) else last] = value
    return edit


def _delete(path: str):
    *parents, last = path.split(".")

    def edit(scenario):
        node = scenario
        for key in parents:
            node = node[key]
        del node[last]
    return edit


INVALID = [
    # (id, edit, words stderr must contain)
    ("unknown-action-type", _set("actions.1.type", "teleport"), ["actions[1]", "type", "teleport"]),
    ("bad-date-feb-30-loan", _set("loan.first_due_date", "2025-02-30"), ["loan.first_due_date", "2025-02-30"]),
    ("bad-date-finnish-format-loan", _set("loan.granted_on", "10.2.2025"), ["loan.granted_on", "10.2.2025"]),
    ("bad-date-feb-30-action-on", _set("actions.0.on", "2025-02-30"), ["actions[0].on"]),
    ("bad-date-finnish-format-value-date", _set("actions.0.value_date", "10.2.2025"),
     ["actions[0].value_date"]),
    ("bad-date-run-until", _set("run_until", "2025-02-30"), ["run_until"]),
    ("amount-json-number-action", _set("actions.0.amount", 100.0), ["actions[0].amount"]),
    ("amount-json-integer-action", _set("actions.0.amount", 100), ["actions[0].amount"]),
    ("amount-json-number-principal", _set("loan.principal", 600), ["loan.principal"]),
    ("amount-json-number-instalment", _set("loan.instalment_amount", 100.0), ["loan.instalment_amount"]),
    ("unknown-policy-override", _set("policy.overrides.max_loan_amout", "5000.00"), ["max_loan_amout"]),
    ("bad-policy-override-value", _set("policy.overrides.reminder_offsets_days", "14"),
     ["policy.overrides.reminder_offsets_days"]),
    ("unknown-preset", _set("policy.preset", "helsinki"), ["preset", "helsinki"]),
    ("missing-loan-principal", _delete("loan.principal"), ["loan.principal"]),
    ("missing-loan-borrower", _delete("loan.borrower_id"), ["loan.borrower_id"]),
    ("missing-loan-granted-on", _delete("loan.granted_on"), ["loan.granted_on"]),
    ("both-instalment-amount-and-term", _set("loan.term_months", 6), ["instalment_amount", "term_months"]),
    ("neither-instalment-amount-nor-term", _delete("loan.instalment_amount"), ["instalment_amount", "term_months"]),
    ("missing-action-on", _set("actions.0", {"type": "payment", "payment_id": "p1", "amount": "100.00"}),
     ["actions[0].on"]),
]


@pytest.mark.parametrize("edit, words", [i[1:] for i in INVALID], ids=[i[0] for i in INVALID])
def test_invalid_scenario_exits_non_zero_and_names_the_field(tmp_path, edit, words):
    """scenario-format.md: an invalid scenario exits non-zero, never prints a result, and the message
    names the field (R-MONEY-1 for amounts as JSON numbers, R-DATE-1 for dates)."""
    done = run(tmp_path, changed(edit))
    assert done.returncode != 0
    assert done.stdout == ""
    for word in words:
        assert word in done.stderr, f"{word!r} not named in stderr: {done.stderr!r}"


def test_invalid_json_exits_non_zero_without_output(tmp_path):
    done = run(tmp_path, "{not json")
    assert done.returncode != 0 and done.stdout == "" and done.stderr


def test_missing_file_exits_non_zero_without_output(tmp_path):
    done = subprocess.run([str(LUOTTO), "simulate", str(tmp_path / "absent.json")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0 and done.stdout == "" and done.stderr
