"""The staff console (issue 21, api/web): sign-in for development, session cookie, CSRF on every
form, Content-Security-Policy, languages, the work queue and the loan page, organiser scoping and
the access log (R-DATA-5, R-DATA-6, R-WEB-1, R-WEB-2)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.app import create_app
from api.web.session import COOKIE
from domain.loan import Decision
from tests.support.clock import Clock
from tests.support.console import csrf_of, session_cookie, summary_of

TENANTS = {"t1": {"preset": "default"}, "t2": {"preset": "default"}}
REASONS = "Sairaalahoito kolme viikkoa"


def build(tmp_path: Path, **overrides):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/luotto.sqlite", signing_key_file=str(tmp_path / "key"),
                        notice_store=str(tmp_path / "notices"), notice_print_folder=str(tmp_path / "print"),
                        tenants=TENANTS, **{"environment": "development", **overrides})
    app = create_app(settings)
    c = app.state.container
    clock = Clock(dt.date(2025, 1, 15))
    c.service.clock = clock
    c.service.grant(tenant="t1", loan_id="L1", borrower_id="B1", purpose="vuokrarästit", principal=120000,
                    granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 15), instalment_amount=10000,
                    decision=Decision("dm-1", "myönnetty"))
    c.service.grant(tenant="t2", loan_id="M1", borrower_id="C1", purpose="pesukone", principal=50000,
                    granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 15), instalment_amount=10000,
                    decision=Decision("dm-9", "myönnetty"))
    clock.day = dt.date(2025, 3, 12)
    c.service.post_payment(tenant="t1", payment_id="P-1", amount=10000, value_date=dt.date(2025, 2, 14),
                           on=clock.day, loan_id="L1")
    c.service.record_hardship("t1", "L1", cause="illness", on=clock.day, decision=Decision("cw-1", REASONS))
    c.read_model.catch_up()
    return app


class Client(TestClient):
    """A browser: several may visit one app in turn, so none runs (and ends) the app's lifespan,
    which would close the container under the next one."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def client(app) -> TestClient:
    return Client(app, base_url="https://testserver")


def signed_in(app, roles: list[str], tenant: str = "t1", subject: str = "cw-1") -> TestClient:
    cl = client(app)
    for name, value in session_cookie(app, tenant, roles, subject).items():
        cl.cookies.set(name, value)
    return cl


def test_development_sign_in_sets_a_secure_session_and_every_page_has_the_csp(tmp_path):
    app = build(tmp_path)
    with client(app) as cl:
        first = cl.get("/console/work-queue", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fwork-queue"
        page = cl.get("/console/sign-in")
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self';" in csp and "unsafe" not in csp and "form-action 'self'" in csp
        assert "<script" not in page.text and " style=" not in page.text
        done = cl.post("/console/dev-sign-in", follow_redirects=False, data={
            "csrf": csrf_of(page.text), "subject": "cw-1", "tenant": "t1", "roles": ["caseworker"],
            "next": "/console/loans/L1"})
        assert done.status_code == 303 and done.headers["location"] == "/console/loans/L1"
        cookie = done.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "; Secure" in cookie and "; HttpOnly" in cookie
        assert "SameSite=lax" in cookie and "Path=/console" in cookie
        # a sign-in never keeps the anonymous session's CSRF token
        loan = cl.get("/console/loans/L1")
        assert loan.status_code == 200 and csrf_of(loan.text) != csrf_of(page.text)
        assert loan.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("overrides", [{"environment": "production"},
                                       {"environment": "test"}])
def test_development_sign_in_is_refused_outside_development(tmp_path, overrides):
    """R-WEB-2: only `make run` (LUOTTO_ENVIRONMENT=development, no issuer) signs in locally."""
    app = build(tmp_path, **overrides)
    with client(app) as cl:
        page = cl.get("/console/sign-in")
        assert "dev-sign-in" not in page.text
        refused = cl.post("/console/dev-sign-in", data={"csrf": csrf_of(page.text), "subject": "x", "tenant": "t1",
                                                        "roles": ["finance"]}, follow_redirects=False)
        assert refused.status_code == 403 and "R-WEB-2" in refused.text and COOKIE not in refused.headers.get(
            "set-cookie", "")


def test_development_sign_in_is_refused_when_an_issuer_is_set(tmp_path):
    app = build(tmp_path, oidc_issuer="https://idp.example.fi/realms/t1", oidc_audience="luotto",
                oidc_jwks_url="https://idp.example.fi/realms/t1/certs", console_client_id="luotto-console")
    with client(app) as cl:
        page = cl.get("/console/sign-in")
        assert "dev-sign-in" not in page.text and "/console/oidc/start" in page.text
        refused = cl.post("/console/dev-sign-in", data={"csrf": csrf_of(page.text), "subject": "x", "tenant": "t1",
                                                        "roles": ["finance"]}, follow_redirects=False)
        assert refused.status_code == 403 and "R-WEB-2" in refused.text


def test_every_form_needs_the_sessions_csrf_token(tmp_path):
    """R-WEB-1: a missing, foreign or cross-site token is refused and changes nothing."""
    app = build(tmp_path)
    with signed_in(app, ["caseworker"]) as cl:
        token = csrf_of(cl.get("/console/work-queue").text)
        for data, headers in (({"lang": "sv"}, {}), ({"lang": "sv", "csrf": "forged"}, {}),
                              ({"lang": "sv", "csrf": token}, {"Origin": "https://evil.example"})):
            refused = cl.post("/console/language", data=data, headers=headers, follow_redirects=False)
            assert refused.status_code == 403, refused.text
            assert summary_of(refused.text).startswith("Lomake on vanhentunut tai väärennetty")
            assert "set-cookie" not in refused.headers or "luotto_lang" not in refused.headers["set-cookie"]
        # another visitor's token is not this session's (no `with`: the app's lifespan is this client's)
        foreign = csrf_of(client(app).get("/console/sign-in").text)
        assert cl.post("/console/sign-out", data={"csrf": foreign}, follow_redirects=False).status_code == 403
        assert cl.get("/console/work-queue", follow_redirects=False).status_code == 200  # still signed in


def test_language_switch_and_error_pages_in_each_language(tmp_path):
    app = build(tmp_path)
    with signed_in(app, ["caseworker"]) as cl:
        assert '<html lang="fi">' in cl.get("/console/work-queue").text  # Finnish unless asked otherwise
        assert '<html lang="sv">' in cl.get("/console/work-queue", headers={"Accept-Language": "sv-FI"}).text
        for lang, title, missing in (("sv", "Arbetskö", "Hittas inte"), ("en", "Work queue for", "Not found"),
                                     ("fi", "Työjono", "Ei löydy")):
            token = csrf_of(cl.get("/console/work-queue").text)
            moved = cl.post("/console/language", data={"csrf": token, "lang": lang, "next": "/console/work-queue"},
                            follow_redirects=False)
            assert moved.status_code == 303 and moved.headers["location"] == "/console/work-queue"
            page = cl.get("/console/work-queue")
            assert f'<html lang="{lang}">' in page.text and f"<h1>{title} 2025-03-12</h1>" in page.text
            gone = cl.get("/console/loans/NOPE")
            assert gone.status_code == 404 and summary_of(gone.text).startswith(missing)
        bad = cl.post("/console/language", data={"csrf": token, "lang": "en", "next": "https://evil.example/"},
                      follow_redirects=False)
        assert bad.headers["location"] == "/console/work-queue"  # no open redirect


def test_loan_page_balances_schedule_and_timeline_in_words(tmp_path):
    app = build(tmp_path)
    with signed_in(app, ["caseworker"]) as cl:
        html = cl.get("/console/loans/L1").text
    # 1,200.00 granted, instalment 1 paid 100.00 on 2025-02-14: 1,100.00 left; instalment 2 (due 2025-03-15)
    assert "<dt>Jäljellä oleva pääoma</dt><dd>1 100,00 €</dd>" in html
    assert "<dt>Maksettu pääoma</dt><dd>100,00 €</dd>" in html
    assert "<dt>Seuraava eräpäivä</dt><dd>2025-03-15</dd>" in html
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\d{4}-\d\d-\d\d)</td>", html)
    assert rows[:2] == [("1", "2025-02-15"), ("2", "2025-03-15")] and len(rows) == 12
    assert "viite 10016" in html and "<code>4" in html  # payment instructions with the virtual barcode
    timeline = html.split('id="timeline-table"')[1]
    assert "Laina myönnetty: 1 200,00 €" in timeline
    assert "Maksu saatu: 100,00 € (arvopäivä 2025-02-14)" in timeline
    assert "Maksuvaikeuden syy kirjattu (sairaus)" in timeline
    assert REASONS in timeline  # a caseworker may read the sealed reasons (R-DATA-2)
    assert "laki sosiaalisesta luototuksesta (1133/2002) 8 § 2 mom." in timeline  # not "Act … §8(2)"
    assert "{" not in timeline and "§8" not in timeline


def test_a_reader_without_personal_data_sees_a_marker_for_the_reasons(tmp_path):
    app = build(tmp_path)
    with signed_in(app, ["auditor"], subject="au-1") as cl:
        html = cl.get("/console/loans/L1").text
    assert REASONS not in html and "henkilötieto, ei näytetä roolillesi" in html


def test_organiser_scoping_roles_and_the_access_log(tmp_path):
    app = build(tmp_path)
    c = app.state.container
    with signed_in(app, ["caseworker"], tenant="t2", subject="cw-t2") as cl:
        other = cl.get("/console/loans/L1")  # t1's loan
        assert other.status_code == 404 and "1 200,00" not in other.text
        assert cl.get("/console/loans/M1").status_code == 200
    with signed_in(app, ["payment_system"], subject="ps-1") as cl:
        refused = cl.get("/console/loans/L1")
        assert refused.status_code == 403 and "R-DATA-6" in refused.text
        assert summary_of(refused.text) == "Roolillasi ei ole oikeutta tähän."
    rows = c.access_log.query("t1", loan_id="L1")
    seen = {(r["subject"], r["endpoint"], r["status"], r["borrower_id"]) for r in rows}
    assert ("ps-1", "/console/loans/{loan_id}", 403, "B1") in seen or \
        ("ps-1", "/console/loans/{loan_id}", 403, None) in seen
    t2 = c.access_log.query("t2", loan_id="L1")
    assert [(r["subject"], r["status"]) for r in t2] == [("cw-t2", 404)]
    assert [(r["subject"], r["status"], r["borrower_id"]) for r in c.access_log.query("t2", loan_id="M1")] == \
        [("cw-t2", 200, "C1")]


def test_work_queue_by_role(tmp_path):
    app = build(tmp_path)
    c = app.state.container
    c.service.post_payment(tenant="t1", payment_id="U-1", amount=2500, value_date=dt.date(2025, 3, 10),
                           on=dt.date(2025, 3, 12), reference="999991")
    c.read_model.catch_up()
    with signed_in(app, ["caseworker"]) as cl:
        html = cl.get("/console/work-queue").text
        hardships = html.split('id="list-hardships_active"')[1].split("</ul>")[0]
        assert 'href="/console/loans/L1"' in hardships
        assert "Kohdistamattomat maksut" not in html  # not a caseworker's (R-DATA-6)
    with signed_in(app, ["finance"], subject="fi-1") as cl:
        html = cl.get("/console/work-queue").text
        assert "Kohdistamattomat maksut" in html and "25,00 €" in html and "U-1" in html
        assert "list-hardships_active" not in html
