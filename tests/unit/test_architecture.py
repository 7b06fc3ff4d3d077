"""The design card's arrows, enforced (issue 15): api/ and scheduler/ -> application/ -> projections/
-> adapters/ -> domain/, and a domain free of frameworks. The contracts are in pyproject.toml
([tool.importlinter]); import-linter is the maintained tool for them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = str(Path(sys.executable).parent / "lint-imports")


def test_the_import_contracts_are_kept():
    done = subprocess.run([LINT, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_a_broken_arrow_is_caught(tmp_path):
    """The contract can fail: the same check over a copy of the packages where the domain imports api."""
    import shutil

    for package in ("domain", "adapters", "projections", "application", "api", "scheduler"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "domain" / "wrong.py").write_text("import api.app\n")
    done = subprocess.run([LINT, "--no-cache"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(tmp_path), "PATH": str(Path(sys.executable).parent)})
    assert done.returncode != 0 and "BROKEN" in done.stdout, done.stdout[-2000:]
