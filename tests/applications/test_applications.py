"""The shared assessment cases (../shared/spec/applications) and our own (tests/applications/*.json)
through the installed `luotto assess`, checked by the shared checker itself
(shared/tools/check_applications.py), exactly as application-format.md says to run it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
OWN = Path(__file__).resolve().parent
LUOTTO = Path(sys.executable).parent / "luotto"


def checker(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SHARED / "tools" / "check_applications.py"), str(folder), "--",
                           str(LUOTTO), "assess"], capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("folder", [SHARED / "spec" / "applications", OWN], ids=["shared", "own"])
def test_r_app_2_to_4_every_assessment_case_passes_the_shared_checker(folder):
    cases = sorted(folder.glob("*.json"))
    assert cases, f"no cases in {folder}: the repository must be cloned beside shared/"
    if folder == OWN:
        assert len(cases) >= 6
    done = checker(folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"{len(cases)}/{len(cases)} assessment cases pass"
