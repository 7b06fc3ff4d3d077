"""Every scenario in ../shared/spec/scenarios and scenarios-interest, and our own in
tests/scenarios/own, through `luotto simulate`, compared with its `expect`.

The comparison is the one the shared checker (shared/tools/check_scenarios.py) makes.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec"
SCENARIOS = SPEC / "scenarios"
OWN = Path(__file__).resolve().parent / "own"
FILES = sorted(SCENARIOS.glob("*.json"))
ALL = FILES + sorted((SPEC / "scenarios-interest").glob("*.json")) + sorted(OWN.glob("*.json"))


def test_the_shared_scenarios_are_there():
    assert FILES, f"no scenarios found in {SCENARIOS}: the repository must be cloned beside shared/"


def _matches(item: dict, want: dict) -> bool:
    return all(item.get(k) == v for k, v in want.items())


def check(out: dict, expect: dict) -> list[str]:
    errors, events, i = [], out.get("events", []), 0
    for want in expect.get("events", []):
        while i < len(events) and not _matches(events[i], want):
            i += 1
        if i == len(events):
            errors.append(f"missing (in order) {want}")
            i = 0
        else:
            i += 1
    errors += [f"unexpected {e}" for w in expect.get("absent", []) for e in events if _matches(e, w)][:5]
    for kind, n in expect.get("counts", {}).items():
        got = sum(1 for e in events if e.get("type") == kind)
        if got != n:
            errors.append(f"count {kind}: {got} != {n}")
    for want in expect.get("rejections", []):
        if not any(_matches(r, want) for r in out.get("rejections", [])):
            errors.append(f"missing rejection {want}; got {out.get('rejections')}")
    errors += [f"balance.{k}: {out['balance'].get(k)!r} != {v!r}" for k, v in expect.get("balance", {}).items()
               if out["balance"].get(k) != v]
    return errors


@pytest.mark.parametrize("path", ALL, ids=[f.stem for f in ALL])
def test_scenario_matches_expect(path: Path):
    """Through the installed console script, as caseworkers and CI run it."""
    done = subprocess.run([str(Path(sys.executable).parent / "luotto"), "simulate", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    errors = check(json.loads(done.stdout), json.loads(path.read_text())["expect"])
    assert not errors, "\n".join(errors)


def test_check_catches_a_wrong_balance():
    """The comparison itself can fail: a changed expectation is reported."""
    out = {"events": [{"type": "LoanRepaid", "effective_date": "2025-07-10"}], "rejections": [],
           "balance": {"status": "repaid"}}
    assert check(out, {"balance": {"status": "late"}}) == ["balance.status: 'repaid' != 'late'"]
    assert check(out, {"events": [{"type": "LoanAccelerated"}]})
    assert check(out, {"absent": [{"type": "LoanRepaid"}]})
    assert check(out, {"counts": {"LoanRepaid": 2}})
