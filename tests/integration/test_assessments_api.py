"""POST /v1/assessments (R-APP-2 … R-APP-4): the organiser's policy and the service's reference
rates, caseworkers and decision makers only, errors {code, message, rule, field} 422, nothing
stored, every call in the access log."""
from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.app import create_app
from tests.support.auth import TestIssuer

EXAMPLE = json.loads((Path(__file__).resolve().parents[3] / "shared" / "spec" / "applications" /
                      "example-fit.json").read_text(encoding="utf-8"))
NORM = EXAMPLE["policy"]["overrides"]["living_cost_norm"]
TENANTS = {"ek": {"preset": "etela-karjala", "overrides": {"living_cost_norm": NORM, "saving_months": 12}},
           "bare": {"preset": "etela-karjala"}}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    folder = tmp_path_factory.mktemp("assess")
    issuer = TestIssuer(folder / "oidc")
    settings = Settings(database_url=f"sqlite:///{folder}/luotto.sqlite", signing_key_file=str(folder / "key"),
                        tenants=TENANTS, **issuer.settings_kwargs())
    application = create_app(settings)
    with TestClient(application) as client:
        yield client, issuer, application.state.container


def body(**changes) -> dict:
    application = copy.deepcopy(EXAMPLE["application"])
    application.update(changes)
    return {"application": application, "assessed_on": "2026-03-02"}


def test_r_app_3_the_worked_example_through_the_api(api):
    client, issuer, _ = api
    answer = client.post("/v1/assessments", json=body(), headers=issuer.headers("ek", ["caseworker"]))
    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert out["capacity"]["minimum"] == "154.88"
    assert (out["plan"]["term_months"], out["plan"]["instalment_amount"]) == (16, "150.00")
    assert out["grounds"] == [] and out["warnings"] == []


def test_r_app_4_grounds_come_from_the_organisers_policy(api):
    """saving_months 12 from the organiser's settings: 1,000.00 ≤ 154.88 × 12 = 1,858.56 → can_save."""
    client, issuer, _ = api
    out = client.post("/v1/assessments", json=body(requested_amount="1000.00", open_social_loans=1),
                      headers=issuer.headers("ek", ["decision_maker"])).json()
    assert {g["code"] for g in out["grounds"]} == {"can_save", "open_loan"}


def test_assessed_on_defaults_to_today(api):
    client, issuer, container = api
    request = body()
    del request["assessed_on"]
    request["application"]["first_due_date"] = (container.today() + dt.timedelta(days=30)).isoformat()
    out = client.post("/v1/assessments", json=request, headers=issuer.headers("ek", ["caseworker"])).json()
    assert out["assessed_on"] == container.today().isoformat()


@pytest.mark.parametrize(("role", "status"), [("caseworker", 200), ("decision_maker", 200), ("finance", 403),
                                              ("payment_system", 403), ("auditor", 403), ("admin", 403)])
def test_only_caseworkers_and_decision_makers_may_assess(api, role, status):
    client, issuer, _ = api
    answer = client.post("/v1/assessments", json=body(), headers=issuer.headers("ek", [role]))
    assert answer.status_code == status


@pytest.mark.parametrize(("request_body", "field", "rule"), [
    (body(requested_amount=2400), "application.requested_amount", "R-MONEY-1"),
    (body(salary="1.00"), "application.salary", "R-APP-1"),
    (body(first_due_date="2026-04-31"), "application.first_due_date", "R-DATE-1"),
    (body(incomes=[{"kind": "salary", "amount": "1.00", "to": "2026-4"}]), "application.incomes[0].to", "R-APP-1"),
    ({**body(), "policy": {"preset": "kittila"}}, "policy", None),
])
def test_invalid_input_is_a_422_naming_the_field(api, request_body, field, rule):
    client, issuer, _ = api
    answer = client.post("/v1/assessments", json=request_body, headers=issuer.headers("ek", ["caseworker"]))
    assert answer.status_code == 422
    error = answer.json()
    assert set(error) == {"code", "message", "rule", "field"}
    assert (error["code"], error["field"], error["rule"]) == ("invalid_request", field, rule)


def test_r_app_2_an_organiser_without_a_norm_gets_422_naming_policy_living_cost_norm(api):
    client, issuer, _ = api
    answer = client.post("/v1/assessments", json=body(), headers=issuer.headers("bare", ["caseworker"]))
    assert answer.status_code == 422
    assert (answer.json()["field"], answer.json()["rule"]) == ("policy.living_cost_norm", "R-APP-2")


def test_r_int_1_a_fixed_rate_above_the_reference_rate_is_limit_exceeded(api):
    client, issuer, _ = api
    answer = client.post("/v1/assessments", json=body(interest={"kind": "fixed", "rate": "9.00"}),
                         headers=issuer.headers("ek", ["caseworker"]))
    assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == \
        (422, "limit_exceeded", "application.interest.rate")


def test_nothing_is_stored_and_the_call_is_access_logged(api):
    client, issuer, container = api
    before = container.service.recorder.max_notification_id() or 0
    answer = client.post("/v1/assessments", json=body(), headers=issuer.headers("ek", ["caseworker"], "cw-log"))
    assert answer.status_code == 200
    assert (container.service.recorder.max_notification_id() or 0) == before
    rows = container.access_log.query("ek", subject="cw-log")
    assert [(r["method"], r["endpoint"], r["status"]) for r in rows] == [("POST", "/v1/assessments", 200)]
