"""Schema fuzzing (issue 6 item 7): schemathesis over the whole OpenAPI of a REAL `luotto serve` process.

api/errors.py: "Every refusal as {code, message, rule, field} with a 4xx status; never a 5xx for bad input",
and `errors.document` makes the OpenAPI description "tell the truth about errors". So for every operation
in the served /openapi.json, with valid (positive) and invalid (negative) generated input, authenticated
as organiser t1 with every role:

- not_a_server_error:           no 5xx;
- status_code_conformance:      the status is one the operation documents;
- content_type_conformance:     the content type is the documented one;
- response_schema_conformance:  the body validates against the documented schema.

How: schemathesis' Python API (`schemathesis.openapi.from_url`, `APIOperation.as_strategy`, `Case.
call_and_validate`) under plain Hypothesis `@given`. Not `schemathesis.pytest.from_fixture`: with the
pinned pytest 9.2 it fails at once (`'Function' object has no attribute '_nodeid'`, schemathesis/pytest/
lazy.py), and the eager `schema.parametrize()` would need the server while collecting.

Bounded and deterministic: MAX_EXAMPLES per operation and mode, Hypothesis derandomized and without its
example database, one server on a fresh SQLite file, traffic only to 127.0.0.1.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import LuottoServer

MAX_EXAMPLES = 25
CALL_TIMEOUT = 10.0  # seconds for one request
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
                suppress_health_check=list(HealthCheck), print_blob=False, report_multiple_bugs=True)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LuottoServer]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    server = LuottoServer(f"sqlite:///{folder / 'luotto.sqlite'}", folder)
    try:
        yield server.start()
    finally:
        try:
            server.stop()
        finally:
            server.kill()


@pytest.fixture(scope="module")
def api_schema(fuzz_server: LuottoServer):
    # An explicit default config, so no schemathesis.toml is picked up from wherever pytest runs.
    return schemathesis.openapi.from_url(f"{fuzz_server.base_url}/openapi.json", config=schemathesis.Config(),
                                         timeout=CALL_TIMEOUT)


def _operations(api_schema) -> list:
    operations = []
    for result in api_schema.get_all_operations():
        operations.append(result.ok())  # raises on an operation schemathesis cannot read: a broken OpenAPI
    return operations


def fuzz(operation, mode: GenerationMode, headers: dict) -> str | None:
    """Run MAX_EXAMPLES generated cases of `operation` in `mode`; None when all pass, else the report
    (schemathesis' failure text with Hypothesis' minimal falsifying example)."""

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=CALL_TIMEOUT)

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every failure is reported, with its example
        notes = "\n".join(getattr(exc, "__notes__", []))
        return f"{type(exc).__name__}: {exc}\n{notes}".replace(headers["Authorization"], "Bearer <token>")
    return None


def test_every_operation_answers_as_documented_and_never_5xx(api_schema, fuzz_server: LuottoServer) -> None:
    """api/errors.py ("never a 5xx for bad input"; the OpenAPI tells the truth about errors), R-MONEY-1
    (amounts are decimal strings, bad ones refused with 422): every generated request, valid or not, gets a
    documented status with the documented content type and a body matching the documented schema."""
    headers = fuzz_server.issuer.headers("t1")
    operations = _operations(api_schema)
    assert len(operations) >= 30, [op.label for op in operations]  # the whole API, not a stray subset
    failures = {}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            report = fuzz(operation, mode, headers)
            if report is not None:
                failures[f"{operation.label} ({mode.value})"] = report
    assert fuzz_server.proc.poll() is None, f"the server died:\n{fuzz_server.log()}"
    assert not failures, f"{len(failures)} operation/mode pairs failed:\n\n" + "\n\n".join(
        f"=== {label}\n{report[:3000]}" for label, report in failures.items())
