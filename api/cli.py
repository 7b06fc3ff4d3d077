"""The `luotto` command line."""
from __future__ import annotations

import argparse
import json
import sys

from domain.errors import DomainError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luotto", description="Social credit servicing (Act 1133/2002)")
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate", help="run a scenario file day by day and print the result as JSON")
    sim.add_argument("scenario", help="path to a scenario JSON file (see spec/scenario-format.md)")
    args = parser.parse_args(argv)
    if args.command == "simulate":
        return _simulate(args.scenario)
    return 2  # pragma: no cover - argparse enforces a known command


def _simulate(path: str) -> int:
    from scheduler.simulator import ScenarioError, simulate

    try:
        with open(path, encoding="utf-8") as f:
            scenario = json.load(f)
        result = simulate(scenario)
    except (OSError, json.JSONDecodeError, ScenarioError, DomainError) as e:
        print(f"luotto simulate: invalid scenario {path}: {e}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
