"""Issue "Secure": the role × endpoint matrix, organiser isolation, API keys, and the access log."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.app import create_app
from tests.support.auth import TestIssuer

R, CW, DM, FI, PS, AU, AD = "read", "caseworker", "decision_maker", "finance", "payment_system", "auditor", "admin"
# The role × route matrix itself: tests/integration/test_role_matrix.py (from api/access.py).


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("access")
    issuer = TestIssuer(folder / "oidc")
    settings = Settings(database_url=f"sqlite:///{folder}/luotto.sqlite", signing_key_file=str(folder / "key"),
                        tenants={"t1": {"preset": "default"}, "t2": {"preset": "default"}},
                        **issuer.settings_kwargs())
    application = create_app(settings)
    with TestClient(application) as client:
        yield client, issuer, application


def test_no_credential_or_a_bad_one_is_401(app):
    client, issuer, _ = app
    assert client.get("/v1/portfolio").json()["code"] == "unauthenticated"
    assert client.get("/v1/portfolio", headers={"Authorization": "Bearer x.y.z"}).status_code == 401
    expired = issuer.token("t1", [R], exp=1)
    assert client.get("/v1/portfolio", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    other_issuer = TestIssuer(issuer.jwks_path.parent.parent / "other", kid="test-key-1")
    forged = other_issuer.headers("t1", [AU])
    assert client.get("/v1/access-log", headers=forged).status_code == 401


def test_another_organisers_loan_answers_404(app):
    client, issuer, _ = app
    body = {"loan_id": "ISO-1", "borrower_id": "B-ISO", "purpose": "x", "principal": "500.00",
            "granted_on": "2026-11-01", "first_due_date": "2026-12-01", "term_months": 5, "decided_by": "dm"}
    assert client.post("/v1/loans", json=body, headers=issuer.headers("t1", [DM])).status_code == 201
    assert client.get("/v1/loans/ISO-1", headers=issuer.headers("t1", [CW])).status_code == 200
    answer = client.get("/v1/loans/ISO-1", headers=issuer.headers("t2", [CW]))
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")


def test_api_keys_are_stored_hashed_and_can_be_revoked(app):
    client, issuer, application = app
    keys = application.state.container.auth.api_keys
    key = keys.create("t1", PS, "bank integration")
    secret = key.split("_", 2)[2]
    assert all(secret not in str(row) for row in keys.list())
    auth = {"Authorization": f"Bearer {key}"}
    payment = {"payment_id": "K-1", "amount": "1.00", "reference": "99999"}
    assert client.post("/v1/payments", json=payment, headers=auth).status_code == 201
    assert client.get("/v1/portfolio", headers=auth).status_code == 403  # payment systems post payments only
    keys.revoke(key.split("_")[1])
    assert client.post("/v1/payments", json=payment, headers=auth).status_code == 401


def test_every_read_or_change_of_a_loan_is_in_the_access_log(app):
    client, issuer, application = app
    body = {"loan_id": "LOG-1", "borrower_id": "B-LOG", "purpose": "x", "principal": "500.00",
            "granted_on": "2026-11-01", "first_due_date": "2026-12-01", "term_months": 5, "decided_by": "dm"}
    client.post("/v1/loans", json=body, headers=issuer.headers("t1", [DM], subject="dm-7"))
    client.get("/v1/loans/LOG-1", headers=issuer.headers("t1", [CW], subject="cw-3"))
    client.get("/v1/loans/LOG-1", headers=issuer.headers("t2", [CW], subject="intruder"))
    log = client.get("/v1/access-log?loan_id=LOG-1", headers=issuer.headers("t1", [AU])).json()["items"]
    seen = [(row["subject"], row["method"], row["endpoint"], row["status"]) for row in reversed(log)]
    assert seen == [("dm-7", "POST", "/v1/loans", 201), ("cw-3", "GET", "/v1/loans/{loan_id}", 200)]
    assert all(row["tenant"] == "t1" for row in log)  # t2's attempt is logged under t2, not shown to t1
    theirs = client.get("/v1/access-log?loan_id=LOG-1", headers=issuer.headers("t2", [AU])).json()["items"]
    assert [(r["subject"], r["status"]) for r in theirs] == [("intruder", 404)]
    store = application.state.container.read_model.store
    with pytest.raises(Exception, match="append-only"):
        with store.transaction() as tx:
            tx.execute("DELETE FROM luotto_access_log")


def test_a_loan_read_names_its_borrower_in_the_access_log_without_a_register_lookup(app):
    """R-DATA-5: the handler that read the loan tells the access log its borrower; looking it up in
    the grant register again cost a database round trip on a worker thread per read (bench c)."""
    client, issuer, application = app
    body = {"loan_id": "LOG-2", "borrower_id": "B-LOG2", "purpose": "x", "principal": "500.00",
            "granted_on": "2026-11-01", "first_due_date": "2026-12-01", "term_months": 5, "decided_by": "dm"}
    assert client.post("/v1/loans", json=body, headers=issuer.headers("t1", [DM])).status_code == 201
    container = application.state.container
    container._borrower_of.clear()  # as after a restart: nothing remembered yet
    lookups = []
    container.borrowers_of = lambda tenant, loan_ids: lookups.append(loan_ids) or {}
    assert client.get("/v1/loans/LOG-2", headers=issuer.headers("t1", [CW], subject="cw-9")).status_code == 200
    assert lookups == []
    payment = {"payment_id": "LOG-2-P", "amount": "10.00", "loan_id": "LOG-2"}
    container._borrower_of.clear()
    assert client.post("/v1/payments", json=payment, headers=issuer.headers("t1", ["finance"])).status_code == 201
    assert lookups == []  # the payment's loan is held by the service: its borrower needs no lookup
    rows = container.access_log.query("t1", loan_id="LOG-2")
    assert [(r["method"], r["borrower_id"]) for r in reversed(rows)] == [
        ("POST", "B-LOG2"), ("GET", "B-LOG2"), ("POST", "B-LOG2")]


def test_personal_data_is_validated_and_erasable(app):
    client, issuer, _ = app
    headers = issuer.headers("t1", [DM])
    good = {"name": "Maija Meikäläinen", "identity_code": "131052-308T", "address": ["Katu 1", "00100 Helsinki"],
            "language": "sv"}
    assert client.put("/v1/borrowers/B-P", json=good, headers=headers).status_code == 200
    new_century = {**good, "identity_code": "010594Y123W"}
    answer = client.put("/v1/borrowers/B-P", json=new_century, headers=headers)
    assert answer.status_code == 200, answer.text  # 2023 century signs (Y for the 1900s)
    bad = client.put("/v1/borrowers/B-P", json={**good, "identity_code": "131052-308X"}, headers=headers)
    assert (bad.status_code, bad.json()["field"]) == (422, "identity_code")
    erased = client.delete("/v1/borrowers/B-P", headers=headers).json()
    assert erased["name"] is None and erased["identity_code"] is None and erased["erased_at"]


def test_health_readiness_and_metrics(app):
    client, issuer, _ = app
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    client.post("/v1/payments", json={"payment_id": "M-1", "amount": "2.00", "reference": "12345"},
                headers=issuer.headers("t1", ["finance"]))
    answer = client.get("/v1/portfolio", headers=issuer.headers("t1", ["auditor"]))
    assert answer.headers["X-Request-ID"]
    assert client.get("/metrics").status_code == 401  # LUOTTO_METRICS=authenticated by default
    text = client.get("/metrics", headers=issuer.headers("t1", [AD])).text
    assert 'luotto_payments_total{outcome="unallocated"}' in text
    assert 'luotto_http_request_duration_seconds_count{method="GET",route="/v1/portfolio",status="200"}' in text
    assert "luotto_events_appended_total" in text and "luotto_projection_lag_events" in text


@pytest.mark.postgres
def test_api_keys_and_the_access_log_on_postgresql(pg_schema, tmp_path):
    """The same SQL on PostgreSQL (named parameters with digits, e.g. :sha256, once broke there)."""
    url = f"postgresql://{pg_schema.user}@{pg_schema.host}:{pg_schema.port}/{pg_schema.dbname}"
    settings = Settings(database_url=url, postgres_schema=pg_schema.schema, signing_key_file=str(tmp_path / "key"),
                        tenants={"t1": {"preset": "default"}})
    with TestClient(create_app(settings)) as client:
        keys = client.app.state.container.auth.api_keys
        key = keys.create("t1", FI, "finance system")
        auth = {"Authorization": f"Bearer {key}"}
        posted = client.post("/v1/payments", json={"payment_id": "PG-1", "amount": "1.00", "reference": "99999"},
                             headers=auth)
        assert posted.status_code == 201
        queue = client.get(f"/v1/payments/unallocated?min_position={posted.json()['position']}", headers=auth)
        assert [row["payment_id"] for row in queue.json()["items"]] == ["PG-1"]
        assert keys.revoke(key.split("_")[1])
        assert client.get("/v1/payments/unallocated", headers=auth).status_code == 401
        log = client.app.state.container.access_log.query("t1")
        assert [(r["method"], r["endpoint"]) for r in reversed(log)] == [
            ("POST", "/v1/payments"), ("GET", "/v1/payments/unallocated")]


def test_schedule_shows_how_to_pay_each_unpaid_instalment(app):
    """Issue "Bank integration" item 3: each unpaid instalment's reference and virtual barcode
    (version 4 for the national reference, 5 for RF) in the schedule API."""
    client, issuer, _ = app
    body = {"loan_id": "PAY-1", "borrower_id": "B-PAY", "purpose": "x", "principal": "300.00",
            "granted_on": "2026-11-01", "first_due_date": "2026-12-01", "term_months": 3, "decided_by": "dm"}
    assert client.post("/v1/loans", json=body, headers=issuer.headers("t1", [DM])).status_code == 201
    schedule = client.get("/v1/loans/PAY-1/schedule", headers=issuer.headers("t1", [CW])).json()
    first = schedule["instalments"][0]
    assert first["unpaid"] == "100.00" and first["payment"]["iban"].startswith("FI")
    barcode, barcode_rf = first["payment"]["barcode"], first["payment"]["barcode_rf"]
    assert len(barcode) == len(barcode_rf) == 54 and barcode[0] == "4" and barcode_rf[0] == "5"
    assert barcode[17:25] == "00010000"  # 100.00 euros: six digits of euros, two of cents
    assert barcode.endswith("261201")  # due date YYMMDD
