"""Console sign-in with OpenID Connect (issue 21): the authorization-code flow with PKCE (S256)
against an in-process provider (tests/support/oidc_provider.py) that signs ID tokens with a test
key and serves its JWKS. The organiser and roles come from the ID token (R-DATA-7, R-DATA-6)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from adapters.oidc_login import OidcLogin
from adapters.settings import Settings
from api.app import create_app
from api.web.session import COOKIE
from domain.loan import Decision
from tests.support.console import summary_of
from tests.support.oidc_provider import ISSUER, TestProvider

TENANTS = {"t1": {"preset": "default"}, "t2": {"preset": "default"}}


def build(tmp_path: Path):
    provider = TestProvider()
    settings = Settings(database_url=f"sqlite:///{tmp_path}/luotto.sqlite", signing_key_file=str(tmp_path / "key"),
                        notice_store=str(tmp_path / "notices"), notice_print_folder=str(tmp_path / "print"),
                        tenants=TENANTS, **provider.settings_kwargs(tmp_path / "jwks.json"))
    app = create_app(settings)
    app.state.console_oidc = OidcLogin(settings, http=provider.client())
    c = app.state.container
    c.service.grant(tenant="t1", loan_id="L1", borrower_id="B1", purpose="vuokrarästit", principal=120000,
                    granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 15), instalment_amount=10000,
                    decision=Decision("dm-1", "myönnetty"))
    return app, provider


def start(cl: TestClient, next_: str = "/console/loans/L1") -> str:
    begun = cl.get(f"/console/oidc/start?next={next_}", follow_redirects=False)
    assert begun.status_code == 303, begun.text
    return begun.headers["location"]


def test_the_authorization_code_flow_with_pkce_signs_a_person_in(tmp_path):
    app, provider = build(tmp_path)
    with TestClient(app, base_url="https://testserver") as cl:
        sign_in_page = cl.get("/console/sign-in?next=/console/loans/L1")
        assert 'href="/console/oidc/start?next=/console/loans/L1"' in sign_in_page.text
        assert "dev-sign-in" not in sign_in_page.text  # R-WEB-2: an issuer is set
        at_issuer = start(cl)
        query = {k: v[0] for k, v in parse_qs(urlparse(at_issuer).query).items()}
        assert query["redirect_uri"] == "https://testserver/console/oidc/callback"
        assert len(query["code_challenge"]) == 43 and query["code_challenge_method"] == "S256"
        back = provider.authorize(at_issuer)
        done = cl.get(back, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/console/loans/L1", done.text
        cookie = done.headers["set-cookie"]
        assert "; Secure" in cookie and "; HttpOnly" in cookie and "SameSite=lax" in cookie
        verifier = provider.token_requests[-1]["code_verifier"]
        assert 43 <= len(verifier) <= 128 and verifier not in cookie  # the verifier never left the server
        page = cl.get("/console/loans/L1")
        assert page.status_code == 200 and "Kirjautunut: cw-1 (sosiaalityöntekijä), t1" in page.text
        assert cl.get(back, follow_redirects=False).status_code == 401  # the flow is spent: no replay
    rows = app.state.container.access_log.query("t1", loan_id="L1")
    assert [(r["subject"], r["via"], r["status"]) for r in rows] == [("cw-1", "console", 200)]


def test_a_state_from_another_browser_is_refused(tmp_path):
    app, provider = build(tmp_path)
    with TestClient(app, base_url="https://testserver") as cl:
        back = provider.authorize(start(cl))
        other = TestClient(app, base_url="https://testserver")  # the victim's browser (no `with`: one lifespan)
        refused = other.get(back, follow_redirects=False)
        assert refused.status_code == 401 and "R-DATA-7" in refused.text
        assert COOKIE not in refused.headers.get("set-cookie", "") or "sub" not in refused.headers["set-cookie"]
        assert other.get("/console/work-queue", follow_redirects=False).status_code == 303  # still not signed in


@pytest.mark.parametrize("tamper, expected", [
    ({"nonce": "another"}, "nonce"),
    ({"aud": "another-client"}, "InvalidAudience"),
    ({"iss": "https://evil.example"}, "InvalidIssuer"),
    ({"exp": 1_000_000_000}, "ExpiredSignature"),
])
def test_the_id_token_is_checked(tmp_path, tamper, expected):
    app, provider = build(tmp_path)
    provider.tamper = tamper
    with TestClient(app, base_url="https://testserver") as cl:
        refused = cl.get(provider.authorize(start(cl)), follow_redirects=False)
        assert refused.status_code == 401 and expected in refused.text, refused.text
        assert summary_of(refused.text) == "Kirjaudu sisään."
        assert cl.get("/console/work-queue", follow_redirects=False).status_code == 303


def test_a_token_signed_by_another_key_or_a_wrong_verifier_is_refused(tmp_path):
    app, provider = build(tmp_path)
    with TestClient(app, base_url="https://testserver") as cl:
        real_key = provider.key
        provider.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        at_issuer = start(cl)
        back = provider.authorize(at_issuer)
        provider.key, forged = real_key, provider.key
        provider.id_token = lambda claims, key=None, kid=None, _f=TestProvider.id_token: _f(provider, claims, forged)
        refused = cl.get(back, follow_redirects=False)
        assert refused.status_code == 401 and "InvalidSignature" in refused.text
        del provider.id_token
        # a code intercepted and redeemed without this browser's verifier fails at the issuer
        at_issuer = start(cl)
        back = provider.authorize(at_issuer)
        code = parse_qs(urlparse(back).query)["code"][0]
        stolen = provider.client().post(f"{ISSUER}/token", data={
            "grant_type": "authorization_code", "code": code, "client_id": "luotto-console",
            "redirect_uri": "https://testserver/console/oidc/callback", "code_verifier": "x" * 64})
        assert stolen.status_code == 400 and stolen.json()["error_description"] == "PKCE"


@pytest.mark.parametrize("user, status, rule", [
    ({"sub": "x", "luotto_tenant": "t9", "roles": ["caseworker"]}, 403, "R-DATA-7"),
    ({"sub": "x", "luotto_tenant": "t1", "roles": ["janitor"]}, 403, "R-DATA-6"),
    ({"sub": "x", "roles": ["caseworker"]}, 401, "R-DATA-7"),
])
def test_the_organiser_and_roles_come_from_the_token(tmp_path, user, status, rule):
    app, provider = build(tmp_path)
    provider.user = user
    with TestClient(app, base_url="https://testserver") as cl:
        refused = cl.get(provider.authorize(start(cl)), follow_redirects=False)
        assert refused.status_code == status and rule in refused.text, refused.text


def test_a_caseworker_signed_in_for_one_organiser_cannot_open_anothers_loan(tmp_path):
    app, provider = build(tmp_path)
    provider.user = {"sub": "cw-t2", "luotto_tenant": "t2", "roles": ["caseworker"]}
    with TestClient(app, base_url="https://testserver") as cl:
        cl.get(provider.authorize(start(cl)), follow_redirects=False)
        assert cl.get("/console/loans/L1").status_code == 404
