"""`luotto assess FILE` through the installed console script (application-format.md).

A valid file prints the assessment as JSON on stdout and exits 0; an invalid one exits 2, prints
nothing on stdout and names the field on stderr (R-APP-1, R-APP-2, R-MONEY-1, R-DATE-1).
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

LUOTTO = Path(sys.executable).parent / "luotto"
EXAMPLE = Path(__file__).resolve().parents[3] / "shared" / "spec" / "applications" / "example-fit.json"


def run(tmp_path: Path, case: object) -> subprocess.CompletedProcess:
    path = tmp_path / "application.json"
    path.write_text(case if isinstance(case, str) else json.dumps(case), encoding="utf-8")
    return subprocess.run([str(LUOTTO), "assess", str(path)], capture_output=True, text=True, timeout=120)


def changed(edit) -> dict:
    case = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    edit(case)
    return case


def test_r_app_2_valid_file_prints_the_assessment(tmp_path):
    done = run(tmp_path, changed(lambda c: None))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["capacity"]["minimum"] == "154.88" and out["plan"]["term_months"] == 16
    assert out["grounds"] == [] and out["warnings"] == []


@pytest.mark.parametrize(("edit", "field"), [
    (lambda c: c["application"].update(salary="1650.00"), "application.salary"),
    (lambda c: c.update(extra=True), "extra"),
    (lambda c: c["policy"].update(presets="kittila"), "policy.presets"),
    (lambda c: c["application"].update(requested_amount=2400.0), "application.requested_amount"),
    (lambda c: c["application"]["debts"][0].update(monthly_payment=180), "application.debts[0].monthly_payment"),
    (lambda c: c["application"]["incomes"][1].update(to="2033-4"), "application.incomes[1].to"),
    (lambda c: c["application"]["incomes"][1].update(to="2033-00"), "application.incomes[1].to"),
    (lambda c: c["application"].update(first_due_date="10.4.2026"), "application.first_due_date"),
    (lambda c: c.update(assessed_on="2026-02-29"), "assessed_on"),
    (lambda c: c["application"]["household"]["children"][0].update(born="2015-13-01"),
     "application.household.children[0].born"),
    (lambda c: c["policy"]["overrides"].pop("living_cost_norm"), "policy.living_cost_norm"),
    (lambda c: c.update(policy={"preset": "etela-karjala"}), "policy.living_cost_norm"),
    (lambda c: c["policy"]["overrides"]["living_cost_norm"].pop("source"), "policy.overrides.living_cost_norm.source"),
    (lambda c: c["policy"]["overrides"].update(saving_months="12"), "policy.overrides.saving_months"),
    (lambda c: c["reference_rates"][0].update(rate=2.0), "reference_rates[0].rate"),
    (lambda c: c.pop("application"), "application"),
])
def test_r_app_1_invalid_file_exits_2_naming_the_field(tmp_path, edit, field):
    done = run(tmp_path, changed(edit))
    assert done.returncode == 2, done.stdout
    assert done.stdout == ""
    assert field in done.stderr, done.stderr


@pytest.mark.parametrize("text", ["{not json", "[]", ""])
def test_a_file_that_is_not_a_json_object_exits_2(tmp_path, text):
    done = run(tmp_path, text)
    assert (done.returncode, done.stdout) == (2, "")
    assert "luotto assess: invalid application file" in done.stderr


def test_a_missing_file_exits_2(tmp_path):
    done = subprocess.run([str(LUOTTO), "assess", str(tmp_path / "nowhere.json")], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (2, "")
