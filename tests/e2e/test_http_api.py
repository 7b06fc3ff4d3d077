"""End-to-end: the HTTP API of a real `luotto serve --no-scheduler` process (SQLite file and PostgreSQL).

One server per backend serves the whole module (starting one takes ~1-2 s); every test uses its own
loan and payment ids so the tests do not depend on each other's order. Every response passes through
`NoServerErrors`, so a 5xx anywhere fails the test that caused it.

Tenants: t1 = kittila preset (due_day 10, max 5000.00 per loan, one open loan per borrower,
annual_grant_limit 30000.00, capital_limit 120000.00), t2 = etela-karjala.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from api.errors import STATUS
from domain.errors import CODES
from tests.e2e.conftest import LuottoServer, NoServerErrors, helsinki_today, next_tenth, pg_url
from tests.support.postgres import fresh_schema

HEX64 = re.compile(r"^[0-9a-f]{64}$")
_ids = itertools.count(1)


def _uid(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


@dataclass
class Api:
    server: LuottoServer
    hook: NoServerErrors
    t1: httpx.Client
    t2: httpx.Client
    loans: dict[str, list[str]] = field(default_factory=lambda: {"t1": [], "t2": []})

    def grant(self, client: httpx.Client | None = None, **overrides) -> httpx.Response:
        client = client or self.t1
        today = helsinki_today()
        body = {"loan_id": _uid("L"), "borrower_id": _uid("B"), "purpose": "washing machine",
                "principal": "1200.00", "granted_on": today.isoformat(),
                "first_due_date": next_tenth(today).isoformat(), "term_months": 12, "decided_by": "caseworker 7",
                "reasons": "e2e"}
        body.update(overrides)
        response = client.post("/v1/loans", json=body)
        if response.status_code == 201:
            self.loans["t1" if client is self.t1 else "t2"].append(body["loan_id"])
        return response

    def granted(self, **overrides) -> dict:
        response = self.grant(**overrides)
        assert response.status_code == 201, response.text
        return response.json()

    def pay(self, client: httpx.Client | None = None, **body) -> httpx.Response:
        body.setdefault("payment_id", _uid("P"))
        body.setdefault("amount", "10.00")
        return (client or self.t1).post("/v1/payments", json=body)

    def events(self, loan_id: str) -> list[dict]:
        """The loan's events; each carries a 64-hex hash (R-EVID-1), all different, versions 1..n."""
        response = self.t1.get(f"/v1/loans/{loan_id}/events")
        assert response.status_code == 200, response.text
        events = response.json()["events"]
        assert all(HEX64.match(e["hash"]) for e in events), events
        assert len({e["hash"] for e in events}) == len(events)
        assert [e["version"] for e in events] == list(range(1, len(events) + 1))
        return events

    def payment_ids(self, loan_id: str) -> list[str]:
        return [e["data"]["payment_id"] for e in self.events(loan_id) if e["type"] == "PaymentReceived"]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    log_dir: Path = tmp_path_factory.mktemp(f"e2e-{request.param}")
    with _database(request, log_dir) as (url, schema):
        server = LuottoServer(url, log_dir, schema)
        hook = NoServerErrors()
        try:
            server.start()
            with server.client("t1", hook) as t1, server.client("t2", hook) as t2:
                yield Api(server, hook, t1, t2)
        finally:
            try:
                server.stop()
            finally:
                server.kill()


class _database:
    """(database_url, schema) for one module: a temp SQLite file or a fresh PostgreSQL schema."""

    def __init__(self, request: pytest.FixtureRequest, log_dir: Path) -> None:
        self.request, self.log_dir, self._schema = request, log_dir, None

    def __enter__(self) -> tuple[str, str | None]:
        if self.request.param == "sqlite":
            return f"sqlite:///{self.log_dir / 'luotto.sqlite'}", None
        info = self.request.getfixturevalue("pg_database")
        self._schema = fresh_schema(info)  # the per-test `pg_schema`, held for the whole module
        schema_info = self._schema.__enter__()
        return pg_url(schema_info), schema_info.schema

    def __exit__(self, *exc) -> None:
        if self._schema is not None:
            self._schema.__exit__(None, None, None)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, day.day)


def _national_reference(base: str) -> str:
    """Finnish viitenumero: weights 7, 3, 1 from the right; check digit = (10 - sum % 10) % 10."""
    total = sum(int(d) * (7, 3, 1)[i % 3] for i, d in enumerate(reversed(base)))
    return base + str((10 - total % 10) % 10)


def _error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "rule", "field"}, body
    assert body["code"] == code, body
    assert body["message"], body
    return body


# --------------------------------------------------------------------------------------------- #
# Grant and read
# --------------------------------------------------------------------------------------------- #


def test_r_sched_1_3_grant_read_loan_schedule_and_events(api: Api) -> None:
    """R-SCHED-1/2/3, R-EVID-1: a kittila grant (first due the next 10th) is served back in full."""
    today = helsinki_today()
    first_due = next_tenth(today)
    granted = api.granted(principal="1200.00", term_months=12)
    loan_id = granted["loan_id"]
    assert granted["status"] == "current"
    assert granted["principal_outstanding"] == "1200.00"
    assert isinstance(granted["position"], int) and granted["position"] > 0
    assert granted["reference"] and granted["reference_rf"].replace(" ", "").startswith("RF")

    loan = api.t1.get(f"/v1/loans/{loan_id}")
    assert loan.status_code == 200, loan.text
    body = loan.json()
    assert body["loan_id"] == loan_id and body["granted_on"] == today.isoformat()
    assert body["principal"] == "1200.00" and body["principal_paid"] == "0.00"
    assert body["next_due_date"] == first_due.isoformat()
    # R-SCHED-1: instalment n is due add_months(first_due, n-1); the 12th is 11 months after the first.
    assert body["maturity_date"] == _add_months(first_due, 11).isoformat()

    schedule = api.t1.get(f"/v1/loans/{loan_id}/schedule")
    assert schedule.status_code == 200, schedule.text
    rows = schedule.json()["instalments"]
    # R-SCHED-2: 1200.00 / 12 = 100.00 each, the last takes the (zero) remainder.
    assert [r["instalment"] for r in rows] == list(range(1, 13))
    assert [r["due_date"] for r in rows] == [_add_months(first_due, n).isoformat() for n in range(12)]
    assert {r["amount"] for r in rows} == {"100.00"}
    assert {r["unpaid"] for r in rows} == {"100.00"}

    events = api.events(loan_id)
    assert [e["type"] for e in events] == ["LoanGranted"]
    assert events[0]["version"] == 1 and events[0]["effective_date"] == today.isoformat()
    assert HEX64.match(events[0]["hash"]) and events[0]["hash"] != "0" * 64
    assert events[0]["data"]["principal"] == "1200.00"


def test_r_port_1_regrant_same_terms_answers_existing_other_terms_refused(api: Api) -> None:
    """A retried grant with the same loan_id and terms answers the existing loan (200, no new event);
    other terms are refused with 409 loan_exists."""
    granted = api.granted()
    loan_id = granted["loan_id"]
    today = helsinki_today()
    same = api.t1.post("/v1/loans", json={
        "loan_id": loan_id, "borrower_id": granted["borrower_id"], "purpose": "washing machine",
        "principal": "1200.00", "granted_on": today.isoformat(), "first_due_date": next_tenth(today).isoformat(),
        "term_months": 12, "decided_by": "caseworker 7"})
    assert same.status_code == 200, same.text
    assert same.json()["loan_id"] == loan_id and same.json()["position"] is None
    other = api.grant(loan_id=loan_id, borrower_id=granted["borrower_id"], principal="1300.00")
    _error(other, 409, "loan_exists")
    assert len(api.events(loan_id)) == 1


def test_r_sched_3_kittila_first_due_date_not_on_10th_refused(api: Api) -> None:
    """R-SCHED-3 (kittila due_day 10): a first due date on the 11th is refused, naming the field."""
    body = _error(api.grant(first_due_date=(next_tenth(helsinki_today()) + dt.timedelta(days=1)).isoformat()),
                  422, "invalid_request")
    assert body["rule"] == "R-SCHED-3" and body["field"] == "first_due_date"


# --------------------------------------------------------------------------------------------- #
# Payments
# --------------------------------------------------------------------------------------------- #


def test_r_pay_1_payment_by_reference_is_idempotent_and_conflicting_repost_refused(api: Api) -> None:
    """R-PAY-1/R-PAY-2: matched by reference; identical repost 200 with the first result; other
    amount 409 payment_conflict; the payment is on the loan exactly once."""
    loan = api.granted()
    payment_id = _uid("P")
    first = api.pay(payment_id=payment_id, amount="25.50", reference=loan["reference"])
    assert first.status_code == 201, first.text
    first_body = first.json()
    assert first_body["status"] == "allocated" and first_body["loan_id"] == loan["loan_id"]
    assert first_body["amount"] == "25.50" and first_body["payment_id"] == payment_id
    assert isinstance(first_body["position"], int)

    again = api.pay(payment_id=payment_id, amount="25.50", reference=loan["reference"])
    assert again.status_code == 200, again.text
    again_body = again.json()
    assert {k: v for k, v in again_body.items() if k != "position"} == \
        {k: v for k, v in first_body.items() if k != "position"}

    conflict = _error(api.pay(payment_id=payment_id, amount="25.51", reference=loan["reference"]),
                      409, "payment_conflict")
    assert conflict["rule"] == "R-PAY-1"

    assert api.payment_ids(loan["loan_id"]) == [payment_id]
    # 25.50 goes to instalment 1 ahead of time (R-PAY-3 step 3): principal paid 25.50, outstanding 1174.50.
    after = api.t1.get(f"/v1/loans/{loan['loan_id']}").json()
    assert after["principal_paid"] == "25.50" and after["principal_outstanding"] == "1174.50"


def test_r_pay_2_payment_by_rf_reference_matches_loan(api: Api) -> None:
    """R-PAY-2: the RF creditor reference (as printed, with spaces) matches the same loan."""
    loan = api.granted()
    posted = api.pay(amount="5.00", reference=loan["reference_rf"])
    assert posted.status_code == 201, posted.text
    assert posted.json()["status"] == "allocated" and posted.json()["loan_id"] == loan["loan_id"]
    assert api.payment_ids(loan["loan_id"]) == [posted.json()["payment_id"]]


def test_r_pay_2_unmatched_payment_queued_then_allocated(api: Api) -> None:
    """R-PAY-2: an unknown (valid) reference waits in the unallocated queue; allocation moves it to
    the loan once; a repeated allocation is a no-op; allocating it elsewhere is a conflict."""
    loan = api.granted()
    other = api.granted()
    unknown_reference = _national_reference(f"9876543{next(_ids)}")
    posted = api.pay(amount="40.00", reference=unknown_reference)
    assert posted.status_code == 201, posted.text
    payment = posted.json()
    assert payment["status"] == "unallocated" and payment["loan_id"] is None

    queue = api.t1.get("/v1/payments/unallocated", params={"min_position": payment["position"]})
    assert queue.status_code == 200, queue.text
    assert queue.json()["position"] >= payment["position"]
    row = next((r for r in queue.json()["items"] if r["payment_id"] == payment["payment_id"]), None)
    assert row is not None, queue.json()
    assert row["amount"] == "40.00" and row["reference"] == unknown_reference
    # another organiser never sees it
    assert payment["payment_id"] not in [r["payment_id"] for r in api.t2.get("/v1/payments/unallocated").json()["items"]]

    allocated = api.t1.post(f"/v1/payments/{payment['payment_id']}/allocation",
                            json={"loan_id": loan["loan_id"], "allocated_by": "caseworker 7"})
    assert allocated.status_code == 200, allocated.text
    assert allocated.json()["status"] == "allocated" and allocated.json()["loan_id"] == loan["loan_id"]
    assert isinstance(allocated.json()["position"], int)

    retry = api.t1.post(f"/v1/payments/{payment['payment_id']}/allocation",
                        json={"loan_id": loan["loan_id"], "allocated_by": "caseworker 7"})
    assert retry.status_code == 200, retry.text
    assert retry.json()["position"] is None
    _error(api.t1.post(f"/v1/payments/{payment['payment_id']}/allocation",
                       json={"loan_id": other["loan_id"], "allocated_by": "caseworker 7"}), 409, "payment_conflict")

    assert api.payment_ids(loan["loan_id"]) == [payment["payment_id"]]
    assert api.payment_ids(other["loan_id"]) == []
    queue = api.t1.get("/v1/payments/unallocated", params={"min_position": allocated.json()["position"]})
    assert payment["payment_id"] not in [r["payment_id"] for r in queue.json()["items"]]


def test_r_pay_4_reversal_restores_balance(api: Api) -> None:
    """R-PAY-4: reversing a payment re-allocates: principal paid falls back; a second reversal is a no-op."""
    loan = api.granted()
    kept = api.pay(amount="30.00", loan_id=loan["loan_id"])
    returned = api.pay(amount="70.00", loan_id=loan["loan_id"])
    assert kept.status_code == returned.status_code == 201
    before = api.t1.get(f"/v1/loans/{loan['loan_id']}").json()
    assert before["principal_paid"] == "100.00"  # 30.00 + 70.00

    reversal = api.t1.post(f"/v1/payments/{returned.json()['payment_id']}/reversal",
                           json={"reason": "returned by the bank"})
    assert reversal.status_code == 200, reversal.text
    assert reversal.json()["reversed"] is True and isinstance(reversal.json()["position"], int)
    after = api.t1.get(f"/v1/loans/{loan['loan_id']}").json()
    assert after["principal_paid"] == "30.00" and after["principal_outstanding"] == "1170.00"

    again = api.t1.post(f"/v1/payments/{returned.json()['payment_id']}/reversal",
                        json={"reason": "returned by the bank"})
    assert again.status_code == 200, again.text
    assert again.json()["position"] is None
    types = [e["type"] for e in api.events(loan["loan_id"])]
    assert types.count("PaymentReversed") == 1 and types.count("PaymentReceived") == 2
    _error(api.t1.post("/v1/payments/no-such-payment/reversal", json={"reason": "x"}), 404, "not_found")


def test_r_pay_2_unallocated_payment_returned_to_payer_leaves_queue(api: Api) -> None:
    """R-PAY-2: an unmatched payment is never dropped silently; a reversal returns it to the payer
    (status returned) and only then does it leave the unallocated queue."""
    posted = api.pay(amount="8.00", reference="no reference at all")
    assert posted.status_code == 201 and posted.json()["status"] == "unallocated", posted.text
    reversal = api.t1.post(f"/v1/payments/{posted.json()['payment_id']}/reversal", json={"reason": "unknown payer"})
    assert reversal.status_code == 200, reversal.text
    assert reversal.json()["status"] == "returned"
    queue = api.t1.get("/v1/payments/unallocated", params={"min_position": reversal.json()["position"]})
    assert posted.json()["payment_id"] not in [r["payment_id"] for r in queue.json()["items"]]
    _error(api.t1.post(f"/v1/payments/{posted.json()['payment_id']}/allocation",
                       json={"loan_id": api.granted()["loan_id"], "allocated_by": "caseworker 7"}),
           422, "invalid_request")


# --------------------------------------------------------------------------------------------- #
# Refusals
# --------------------------------------------------------------------------------------------- #


@pytest.mark.parametrize("amount", [10, 10.5, "10.001", "1.005", "-1.00", "0.00", "0", "1e3", "abc", "", " 1.00",
                                    "1,00", None, True])
def test_r_money_1_bad_payment_amount_refused_naming_field(api: Api, amount) -> None:
    """R-MONEY-1: JSON numbers, more than two decimals, negative/zero, non-numeric: 422 naming amount."""
    body = _error(api.pay(amount=amount, reference="1009"), 422, "invalid_request")
    assert body["field"] == "amount", body
    assert body["rule"] == "R-MONEY-1", body


def test_r_money_1_principal_as_json_number_refused(api: Api) -> None:
    """R-MONEY-1: the grant's principal as a JSON number is refused naming principal; nothing granted."""
    response = api.grant(principal=1200)
    body = _error(response, 422, "invalid_request")
    assert body["field"] == "principal"


@pytest.mark.parametrize("raw", [b'{"payment_id": "x", "amount": "1.00"', b"not json", b"",
                                 b'{"payment_id": "x", "amount": "1.00",}'])
def test_r_money_1_malformed_json_refused_422(api: Api, raw: bytes) -> None:
    """A body that is not JSON is a 422 invalid_request (never a 5xx)."""
    response = api.t1.post("/v1/payments", content=raw, headers={"content-type": "application/json"})
    _error(response, 422, "invalid_request")


def test_unknown_field_in_payment_refused(api: Api) -> None:
    """R-MONEY-1 (strict bodies): an unexpected field is refused, naming it."""
    body = _error(api.pay(amount="1.00", reference="1009", amuont="1.00"), 422, "invalid_request")
    assert body["field"] == "amuont"


def test_unknown_loan_404_not_found(api: Api) -> None:
    for path in ("/v1/loans/no-such-loan", "/v1/loans/no-such-loan/schedule", "/v1/loans/no-such-loan/events"):
        _error(api.t1.get(path), 404, "not_found")


def test_other_tenants_loan_is_404(api: Api) -> None:
    """Multi-tenancy: t2 cannot see (or pay by loan_id into) a loan of t1."""
    loan = api.granted()
    for path in (f"/v1/loans/{loan['loan_id']}", f"/v1/loans/{loan['loan_id']}/schedule",
                 f"/v1/loans/{loan['loan_id']}/events"):
        _error(api.t2.get(path), 404, "not_found")
    listed = api.t2.get("/v1/loans", params={"min_position": loan["position"], "limit": 500})
    assert loan["loan_id"] not in [r["loan_id"] for r in listed.json()["items"]]
    # t2 paying by t1's loan_id must not reach t1's loan
    stray = api.pay(api.t2, amount="5.00", loan_id=loan["loan_id"])
    assert stray.status_code == 201, stray.text
    assert stray.json()["status"] == "unallocated"
    assert api.payment_ids(loan["loan_id"]) == []


def test_unknown_organiser_or_missing_credential_refused(api: Api) -> None:
    """The organiser comes from the credential: one not served here is refused (403), none at all 401."""
    _error(api.t1.get("/v1/portfolio", headers=api.server.issuer.headers("nobody")), 403, "forbidden")
    with httpx.Client(base_url=api.server.base_url, timeout=10, event_hooks={"response": [api.hook]}) as bare:
        _error(bare.get("/v1/portfolio"), 401, "unauthenticated")
        _error(bare.get("/v1/portfolio", headers={"Authorization": "Bearer lk_nope_nope"}), 401, "unauthenticated")


# --------------------------------------------------------------------------------------------- #
# Read models and operations
# --------------------------------------------------------------------------------------------- #


def test_list_loans_by_status_with_min_position(api: Api) -> None:
    """GET /v1/loans?status=current&min_position=<grant position> includes the new loan (read-your-writes)."""
    loan = api.granted()
    listed = api.t1.get("/v1/loans", params={"status": "current", "min_position": loan["position"], "limit": 500})
    assert listed.status_code == 200, listed.text
    assert listed.json()["position"] >= loan["position"]
    row = next((r for r in listed.json()["items"] if r["loan_id"] == loan["loan_id"]), None)
    assert row is not None, listed.json()
    assert row["status"] == "current" and row["principal"] == "1200.00"
    late = api.t1.get("/v1/loans", params={"status": "late", "min_position": loan["position"], "limit": 500})
    assert loan["loan_id"] not in [r["loan_id"] for r in late.json()["items"]]
    _error(api.t1.get("/v1/loans", params={"status": "bogus"}), 422, "invalid_request")


PORTFOLIO_KEYS = {"as_of", "outstanding_principal", "by_status", "overdue_by_age_days",
                  "penalty_interest_outstanding", "waived_total", "written_off_total", "capital_limit",
                  "granted_this_year", "annual_grant_limit", "position"}
WORK_QUEUE_KEYS = {"acceleration_conditions_met", "notices_near_cure_deadline", "hardships_active",
                   "unallocated_payments", "position"}


def test_r_port_1_portfolio_counts_a_new_grant(api: Api) -> None:
    """R-PORT-1 figures: a new 1500.00 grant adds 1500.00 to outstanding principal and to this year's grants."""
    before = api.t1.get("/v1/portfolio")
    assert before.status_code == 200, before.text
    assert PORTFOLIO_KEYS <= set(before.json()), before.json()
    assert before.json()["capital_limit"] == "120000.00" and before.json()["annual_grant_limit"] == "30000.00"
    loan = api.granted(principal="1500.00", term_months=10)
    after = api.t1.get("/v1/portfolio", params={"min_position": loan["position"]}).json()
    assert after["as_of"] == helsinki_today().isoformat()
    assert Decimal(after["outstanding_principal"]) - Decimal(before.json()["outstanding_principal"]) == 1500
    assert Decimal(after["granted_this_year"]) - Decimal(before.json()["granted_this_year"]) == 1500
    assert after["by_status"]["current"]["count"] >= 1
    assert set(after["overdue_by_age_days"]) == {"1-30", "31-60", "61-90", "over_90"}


def test_work_queue_keys_and_unallocated(api: Api) -> None:
    """R-PAY-2 / R-ACC-9: the work queue answers its documented keys and lists unallocated payments."""
    posted = api.pay(amount="12.34", reference=_national_reference(f"8765432{next(_ids)}"))
    assert posted.status_code == 201, posted.text
    queue = api.t1.get("/v1/work-queue", params={"min_position": posted.json()["position"]})
    assert queue.status_code == 200, queue.text
    assert WORK_QUEUE_KEYS <= set(queue.json()), queue.json()
    row = next((r for r in queue.json()["unallocated_payments"] if r["payment_id"] == posted.json()["payment_id"]),
               None)
    assert row is not None and row["amount"] == "12.34"


def test_r_late_servicing_run_is_idempotent(api: Api) -> None:
    """R-LATE/R-ACC-4: a servicing run for today over a back-dated loan records its due and late
    instalments; a second run for the same date records 0 events."""
    today = helsinki_today()
    # First due the 10th two months back: instalment 1's deadline is long past, so something is due.
    first_due = _add_months(today.replace(day=10), -2)
    loan = api.granted(granted_on=(first_due - dt.timedelta(days=20)).isoformat(),
                       first_due_date=first_due.isoformat())
    business_date = {"business_date": today.isoformat()}
    first = api.t1.post("/v1/servicing-runs", json=business_date)
    assert first.status_code == 201, first.text
    assert first.json()["business_date"] == today.isoformat()
    # The agenda may spare loans with nothing due (architecture: "a run loads only the loans whose
    # agenda date has come"), but the back-dated loan must be among those examined.
    assert 1 <= first.json()["loans_examined"] <= len(api.loans["t1"])
    assert first.json()["failures"] == []
    assert first.json()["events_recorded"] >= 2  # at least InstalmentFellDue + InstalmentLate of instalment 1
    types = [e["type"] for e in api.events(loan["loan_id"])]
    assert "InstalmentFellDue" in types and "InstalmentLate" in types

    second = api.t1.post("/v1/servicing-runs", json=business_date)
    assert second.status_code == 201, second.text
    assert second.json()["events_recorded"] == 0 and second.json()["failures"] == []
    assert [e["type"] for e in api.events(loan["loan_id"])] == types

    status = api.t1.get(f"/v1/loans/{loan['loan_id']}").json()
    assert status["status"] == "late" and Decimal(status["overdue_amount"]) >= 100
    runs = api.t1.get("/v1/servicing-runs")
    assert runs.status_code == 200
    assert [r["events_recorded"] for r in runs.json()["items"] if r["business_date"] == today.isoformat()][:2] \
        == [0, first.json()["events_recorded"]]


def test_r_money_1_servicing_run_bad_date_refused(api: Api) -> None:
    _error(api.t1.post("/v1/servicing-runs", json={"business_date": "2025-02-30"}), 422, "invalid_request")


# --------------------------------------------------------------------------------------------- #
# The contract: documented error codes (keep last: it checks what the tests above saw)
# --------------------------------------------------------------------------------------------- #


def _operation(spec: dict, method: str, path: str) -> dict | None:
    for template, operations in spec["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            # prefer a literal path (/v1/payments/unallocated) over a template
            return operations[method.lower()]
    return None


def test_every_error_code_is_documented_in_openapi(api: Api) -> None:
    """api/errors.py contract: every error code of the app (domain.errors.CODES, api.errors.STATUS)
    appears in /openapi.json."""
    spec = api.t1.get("/openapi.json").json()
    assert set(CODES) == set(STATUS)
    assert set(CODES) <= _documented_codes(spec), sorted(set(CODES) - _documented_codes(spec))


def _documented_codes(spec: dict) -> set[str]:
    groups = re.findall(r"codes: ([a-z_, ]+)", json.dumps(spec))
    return {c.strip() for group in groups for c in group.split(",")}


# Refusals the tests above also provoke; repeated here so this test stands alone.
PROBES = [("GET", "/v1/portfolio", {"Authorization": "Bearer not-a-token"}, None),
          ("GET", "/v1/loans?status=bogus", {}, None),
          ("POST", "/v1/servicing-runs", {}, {"business_date": "2025-02-30"}),
          ("GET", "/v1/loans/no-such-loan", {}, None),
          ("POST", "/v1/payments", {}, {"payment_id": "x", "amount": 1})]


def test_every_refusal_received_is_documented_on_its_operation(api: Api) -> None:
    """api/errors.py contract ({"code","message","rule","field"} with a 4xx): every (operation,
    status, code) these tests received is documented on that operation with the ErrorBody schema."""
    for method, path, headers, body in PROBES:
        assert api.t1.request(method, path, headers=headers, json=body).status_code in (401, 404, 422)
    spec = api.t1.get("/openapi.json").json()
    missing = []
    for method, path, status, code in api.hook.seen:
        if status < 400 or code is None:
            continue
        operation = _operation(spec, method, path)
        documented = (operation or {}).get("responses", {}).get(str(status), {})
        schema = json.dumps(documented.get("content", {}))
        codes = re.findall(r"[a-z_]+", documented.get("description", "").partition("codes:")[2])
        if code not in codes or "ErrorBody" not in schema:
            missing.append((method, path, status, code))
    assert not missing, sorted(set(missing))
