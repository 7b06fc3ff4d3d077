"""R-DATA-5: every read or change of a person's or a loan's data is in the access log with the
borrower and the loan, list views included; a client's "who processed my data" is answered for a
borrower and a period, by one call and one command; X-Request-ID is bounded; personal data is
never cached (headers). Also R-DATA-6's smaller items: a 409 to a payment system tells nothing of
the other payment, and the lists are paged."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.app import create_app
from domain.loan import Decision
from tests.support.auth import TestIssuer
from tests.support.clock import Clock

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bankfiles"
LUOTTO = Path(sys.executable).parent / "luotto"
HELSINKI = ZoneInfo("Europe/Helsinki")


def today() -> dt.date:
    """The wall clock's date in Helsinki, as the access log's period is read (read when needed: a
    run may pass midnight)."""
    return dt.datetime.now(HELSINKI).date()


@pytest.fixture
def api(tmp_path):
    issuer = TestIssuer(tmp_path / "oidc")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/luotto.sqlite", signing_key_file=str(tmp_path / "key"),
                        notice_store=str(tmp_path / "notices"), tenants={"t1": {"preset": "default"}},
                        **issuer.settings_kwargs())
    app = create_app(settings)
    c = app.state.container
    c.service.clock = Clock(dt.date(2025, 1, 15))
    for n in (1, 2, 3):  # references 10016, 10029, 10032 (tests/fixtures/bankfiles)
        c.service.grant(tenant="t1", loan_id=f"L{n}", borrower_id=f"B{n}", purpose="vuokra", principal=120000,
                        granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 15), instalment_amount=10000,
                        decision=Decision("dm-1", "myönnetty"))
    c.service.clock.day = dt.date(2025, 3, 31)
    c.read_model.catch_up()
    with TestClient(app) as client:
        yield client, issuer, c, settings


def _rows(c, **where) -> list[dict]:
    return [r for r in reversed(c.access_log.query("t1", limit=1000)) if all(r[k] == v for k, v in where.items())]


def test_reads_changes_and_list_views_are_logged_with_borrower_and_loan(api):
    client, issuer, c, _ = api
    cw, fi = issuer.headers("t1", ["caseworker"], subject="cw-1"), issuer.headers("t1", ["finance"], subject="fi-1")
    client.put("/v1/borrowers/B1", json={"name": "Maija", "identity_code": "131052-308T", "address": ["Katu 1"]},
               headers=cw)
    client.get("/v1/borrowers/B1", headers=cw)
    client.get("/v1/loans/L2", headers=cw)
    client.post("/v1/loans/L3/hardships", json={"decided_by": "cw-1", "cause": "illness"}, headers=cw)
    position = client.post("/v1/payments", json={"payment_id": "P-1", "amount": "5.00", "loan_id": "L1"},
                           headers=fi).json()["position"]
    client.get(f"/v1/loans?min_position={position}", headers=cw)
    client.get(f"/v1/work-queue?min_position={position}", headers=cw)
    client.get("/v1/portfolio", headers=cw)
    client.post("/v1/payments/P-1/reversal", json={"reason": "väärä"}, headers=fi)
    client.post("/v1/payments/files", content=(FIXTURES / "ktl_correction.txt").read_bytes(),
                headers={**fi, "Content-Type": "text/plain"})

    seen = {(r["subject"], r["method"], r["endpoint"], r["loan_id"], r["borrower_id"]) for r in _rows(c)}
    for row in [("cw-1", "PUT", "/v1/borrowers/{borrower_id}", None, "B1"),
                ("cw-1", "GET", "/v1/borrowers/{borrower_id}", None, "B1"),
                ("cw-1", "GET", "/v1/loans/{loan_id}", "L2", "B2"),
                ("cw-1", "POST", "/v1/loans/{loan_id}/hardships", "L3", "B3"),
                ("fi-1", "POST", "/v1/payments", "L1", "B1"),
                ("fi-1", "POST", "/v1/payments/{payment_id}/reversal", "L1", "B1"),
                ("fi-1", "POST", "/v1/payments/files", "L1", "B1"),  # the file paid L1 (reference 10016)
                ("cw-1", "GET", "/v1/work-queue", "L3", "B3"),  # a hardship is active on L3
                ("cw-1", "GET", "/v1/portfolio", None, None)]:
        assert row in seen, row
    listed = {(r["loan_id"], r["borrower_id"]) for r in _rows(c, endpoint="/v1/loans", method="GET")}
    assert listed == {("L1", "B1"), ("L2", "B2"), ("L3", "B3")}  # one row for each loan the list showed
    assert {r["roles"] for r in _rows(c, subject="cw-1")} == {"caseworker"}


def test_the_request_id_is_bounded(api):
    client, issuer, c, _ = api
    headers = issuer.headers("t1", ["caseworker"])
    long = client.get("/v1/loans/L1", headers={**headers, "X-Request-ID": "x" * 8000})
    plain = client.get("/v1/loans/L1", headers={**headers, "X-Request-ID": "abc-123.4"})
    odd = client.get("/v1/loans/L1", headers={**headers, "X-Request-ID": "a b/c;"})
    ids = [r["request_id"] for r in _rows(c, endpoint="/v1/loans/{loan_id}")]
    assert long.headers["X-Request-ID"] == ids[0] and len(ids[0]) == 32 and "x" not in ids[0]
    assert plain.headers["X-Request-ID"] == ids[1] == "abc-123.4"
    assert odd.headers["X-Request-ID"] == ids[2] != "a b/c;"


def test_who_processed_my_data_for_a_borrower_and_a_period(api, tmp_path):
    client, issuer, c, settings = api
    cw, au = issuer.headers("t1", ["caseworker"], subject="cw-1"), issuer.headers("t1", ["auditor"], subject="au-1")
    client.get("/v1/loans/L1", headers=cw)
    client.get("/v1/loans/L2", headers=cw)
    client.get("/v1/borrowers/B1", headers=issuer.headers("t1", ["payment_system"], subject="ps-1"))  # refused
    client.post("/v1/loans/L1/hardships", json={"decided_by": "dm-9", "cause": "other"},
                headers=issuer.headers("t1", ["decision_maker"], subject="dm-9"))
    # A period around now: the rows were stamped moments ago, on either side of a midnight perhaps.
    since, until = today() - dt.timedelta(days=1), today() + dt.timedelta(days=1)
    answer = client.get(f"/v1/borrowers/B1/access-log?from={since}&to={until}", headers=au)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["loans"] == ["L1"] and "1133/2002" in body["legal_basis"]
    assert [(i["who"], i["roles"], i["action"], i["loan_id"]) for i in body["items"]] == [
        ("cw-1", ["caseworker"], "GET /v1/loans/{loan_id}", "L1"),
        ("dm-9", ["decision_maker"], "POST /v1/loans/{loan_id}/hardships", "L1")]
    assert body["items"][1]["purpose"] == "record a cause of delay (Act §8(2))"
    earlier = since - dt.timedelta(days=1)
    assert client.get(f"/v1/borrowers/B1/access-log?to={earlier}", headers=au).json()["items"] == []
    assert client.get("/v1/borrowers/B1/access-log", headers=cw).status_code == 403
    # The auditor's own question is logged too, concerning B1.
    assert _rows(c, endpoint="/v1/borrowers/{borrower_id}/access-log", subject="au-1")[0]["borrower_id"] == "B1"

    env = {k: v for k, v in os.environ.items() if not k.startswith("LUOTTO_")}
    env.update(LUOTTO_DATABASE_URL=settings.database_url, LUOTTO_SIGNING_KEY_FILE=settings.signing_key_file,
               LUOTTO_TENANTS=json.dumps(settings.tenants), LUOTTO_NOTICE_STORE=settings.notice_store)
    done = subprocess.run([str(LUOTTO), "who-processed", "t1", "B1", "--from", str(since), "--to", str(until)], env=env,
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)
    assert [i["action"] for i in cli["items"]][:2] == [i["action"] for i in body["items"]]


def test_personal_data_is_never_cached_and_responses_carry_security_headers(api):
    client, issuer, _, _ = api
    answer = client.get("/v1/loans/L1", headers=issuer.headers("t1", ["caseworker"]))
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Content-Type-Options"] == "nosniff" and answer.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Referrer-Policy"] == "no-referrer" and "max-age" in answer.headers["Strict-Transport-Security"]
    refused = client.get("/v1/borrowers/B1")
    assert refused.status_code == 401 and refused.headers["Cache-Control"] == "no-store"
    health = client.get("/healthz")
    assert health.headers["X-Content-Type-Options"] == "nosniff" and "Cache-Control" not in health.headers


def test_a_payment_conflict_tells_nothing_of_the_other_payment(api):
    client, issuer, _, _ = api
    finance, system = issuer.headers("t1", ["finance"]), issuer.headers("t1", ["payment_system"])
    first = client.post("/v1/payments", json={"payment_id": "X-1", "amount": "123.45", "loan_id": "L1",
                                              "value_date": "2025-03-30"}, headers=finance)
    assert first.status_code == 201
    for body in ({"payment_id": "X-1", "amount": "1.00", "reference": "10029"},
                 {"payment_id": "X-1", "amount": "123.45", "loan_id": "L2"}):
        clash = client.post("/v1/payments", json=body, headers=system)
        assert clash.status_code == 409 and clash.json()["code"] == "payment_conflict"
        for secret in ("123.45", "2025-03-30", "L1", "10016"):
            assert secret not in clash.text, (secret, clash.text)


def test_the_work_queue_and_the_unallocated_payments_are_paged(api):
    client, issuer, _, _ = api
    fi = issuer.headers("t1", ["finance"])
    for n in range(3):
        position = client.post("/v1/payments", json={"payment_id": f"U-{n}", "amount": "1.00", "reference": "999991"},
                               headers=fi).json()["position"]
    for n in (1, 2, 3):
        client.post(f"/v1/loans/L{n}/hardships", json={"decided_by": "cw", "cause": "other"},
                    headers=issuer.headers("t1", ["caseworker"]))
    page = client.get(f"/v1/payments/unallocated?limit=2&offset=1&min_position={position}", headers=fi).json()
    assert [r["payment_id"] for r in page["items"]] == ["U-1", "U-2"]
    queue = client.get("/v1/work-queue?limit=2", headers=fi).json()
    assert len(queue["hardships_active"]) == 2 and len(queue["unallocated_payments"]) == 2
    rest = client.get("/v1/work-queue?limit=2&offset=2", headers=fi).json()
    assert [r["loan_id"] for r in rest["hardships_active"]] == ["L3"]
    assert "unallocated_payments" not in client.get("/v1/work-queue", headers=issuer.headers(
        "t1", ["caseworker"])).json()  # a caseworker may not list them directly, nor here
