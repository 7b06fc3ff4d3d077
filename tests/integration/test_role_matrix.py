"""R-DATA-6: roles hold on every path. The role × route matrix is generated from the one table in
api/access.py, which README.md shows: every route of the app is in it, and for every role and
every route the call is refused (403, and nothing anywhere changed) exactly where the table says
no; where it says yes the call is not refused, a write changes what it should and a read changes
nothing. A route the table grants only partly (`partly`) is checked for that effect, each way.
Bank files get their own side-effect test: a payment system's return waits for finance."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.auth import PERMISSIONS, ROLES
from adapters.bankfiles import BankEntry
from adapters.settings import Settings
from api.access import BY_KEY, ROUTES, allowed, markdown_table
from api.app import create_app
from application.payment_files import import_payments, organiser_accounts
from domain.loan import Decision
from tests.support.auth import TestIssuer
from tests.support.clock import Clock

README = Path(__file__).resolve().parents[2] / "README.md"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bankfiles"
ON = dt.date(2025, 3, 31)
REASONS = "Sairaalahoito psykiatrisella osastolla"  # sealed in the events (R-DATA-2)
NORM = {"source": "test", "first_adult": "500.00", "other_adult": "400.00"}
TENANTS = {"t1": {"preset": "default", "overrides": {"living_cost_norm": NORM, "offer_valid_days": 10}},
           "t2": {"preset": "default"}}
FACTS = {"applicant": "B1", "requested_amount": "500.00", "first_due_date": "2025-04-30", "household": {"adults": 1},
         "purpose": "pesukone", "incomes": [{"amount": "1500.00"}]}
SETTING_ROUTES = {("GET", "/metrics"), ("GET", "/openapi.json"), ("GET", "/docs")}
READ_ONLY_POSTS = {"/v1/loans/{loan_id}/what-if", "/v1/assessments"}  # POSTed, but they store nothing


def test_the_readme_shows_the_table_the_code_enforces():
    text = README.read_text(encoding="utf-8")
    shown = re.search(r"<!-- access-table:begin -->\n(.*?)\n<!-- access-table:end -->", text, re.S)
    assert shown, "README.md has no access table between the access-table markers"
    assert shown.group(1).strip() == markdown_table().strip(), "README's table differs: paste markdown_table()"


def build(tmp_path: Path, **overrides):
    issuer = TestIssuer(tmp_path / "oidc")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/luotto.sqlite", signing_key_file=str(tmp_path / "key"),
                        notice_store=str(tmp_path / "notices"), notice_print_folder=str(tmp_path / "print"),
                        tenants=TENANTS, **{**issuer.settings_kwargs(), **overrides})
    app = create_app(settings)
    c = app.state.container
    clock = Clock(dt.date(2025, 1, 15))
    c.service.clock = clock
    for n in (1, 2, 3):  # references 10016, 10029, 10032 as the bank-file fixtures expect
        c.service.grant(tenant="t1", loan_id=f"L{n}", borrower_id=f"B{n}", purpose="vuokrarästit", principal=120000,
                        granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 15), instalment_amount=10000,
                        decision=Decision("dm-1", REASONS))
    c.borrowers.put("t1", "B1", name="Maija Meikäläinen", identity_code="131052-308T",
                    address=["Katu 1", "00100 Helsinki"], language="fi")
    c.borrowers.put("t1", "B9", name="Ville Vailainaa", identity_code="010594Y123W", address=["Tie 2"], language="fi")
    clock.day = dt.date(2025, 3, 12)
    import_payments(c.service, "t1", FIXTURES / "ktl_payments.txt", on=clock.day,  # by finance: applied
                    accounts=organiser_accounts(c.settings, "t1"))
    c.service.post_payment(tenant="t1", payment_id="P-1", amount=1000, value_date=clock.day, on=clock.day,
                           loan_id="L1")
    c.service.post_payment(tenant="t1", payment_id="U-1", amount=500, value_date=clock.day, on=clock.day,
                           reference="999991")
    c.service.record_hardship("t1", "L1", cause="illness", on=clock.day, decision=Decision("cw-1", REASONS))
    c.service.end_hardship("t1", "L1", on=clock.day, decision=Decision("cw-1", "toipunut"))
    c.service.file_appeal("t1", "L1", decision_version=_version(c, "L1", "HardshipRecorded"), on=clock.day,
                          appellant="Maija Meikäläinen", grounds="psykiatrinen osasto")
    c.pending_returns.add("t1", BankEntry("line 2", "return", "R-1", 1000, "EUR", clock.day, clock.day, None, None,
                                          original_ids=("P-1",)), "ktl", "ps-1")
    c.service.receive_application("t1", "A1", kind="loan", facts=FACTS, on=clock.day, by="cw-0")
    c.service.request_discussion("t1", "D1", borrower_id="B1", on=clock.day, by="cw-0")
    # A granted application offered on 12 March for 10 days: the waiting-list run of the 31st expires it.
    c.service.receive_application("t1", "A2", kind="loan", facts={**FACTS, "applicant": "B5"}, on=clock.day,
                                  by="cw-0")
    c.service.assess_application("t1", "A2", on=clock.day, by="cw-0")
    c.service.give_granting_criteria("t1", "A2", understood=True, on=clock.day, by="cw-0")
    c.service.look_into_social_assistance("t1", "A2", finding="no_right", reasons="", on=clock.day, by="cw-0")
    c.service.decide_application("t1", "A2", outcome="granted", decided_by="dm", on=clock.day, by="dm-0")
    clock.day = ON
    c.read_model.catch_up()
    return app, issuer, _version(c, "L1", "AppealFiled")


def _version(c, loan_id: str, type_name: str) -> int:
    loan = c.service.loan("t1", loan_id)
    return [e.originator_version for e in c.service.events.get(loan.id) if type(e).__name__ == type_name][-1]


def fingerprint(c) -> tuple:
    """Everything a call could change: the events, the personal data and keys, the queued returns."""
    with c.read_model.store.transaction() as tx:
        people = tx.execute("SELECT tenant, borrower_id, name, erased_at FROM luotto_borrowers ORDER BY 1, 2").all()
        keys = tx.execute("SELECT tenant, borrower_id FROM luotto_borrower_keys ORDER BY 1, 2").all()
        returns = tx.execute("SELECT return_id, status FROM luotto_pending_returns ORDER BY 1").all()
    return c.service.recorder.max_notification_id(), people, keys, returns


def request_for(route, appeal: int) -> dict:
    """A valid call of each route (a refusal must not be owed to a bad body)."""
    params = {"loan_id": "L1", "appeal_version": str(appeal), "return_id": "R-1", "borrower_id": "B1",
              "application_id": "A1", "request_id": "D1", "transfer_id": "T-1", "message_id": "LUOTTO-1-1",
              "payment_id": "U-1" if route.path.endswith("allocation") else "P-1"}
    if route.method in ("PUT", "DELETE") and "borrowers" in route.path:
        params["borrower_id"] = "B9"
    url = re.sub(r"\{([a-z_]+)\}", lambda m: params[m.group(1)], route.path)
    decision = {"decided_by": "someone", "reasons": "test"}
    bodies = {
        "/v1/loans": {"loan_id": "L-new", "borrower_id": "B-new", "purpose": "pesukone", "principal": "500.00",
                      "granted_on": "2025-03-31", "first_due_date": "2025-04-30", "term_months": 5, **decision},
        "/acceleration-notices": decision, "/hardships": {**decision, "cause": "illness"}, "/hardships/end": decision,
        "/free-months": {**decision, "months": 1, "from_instalment": 5},
        "/due-date-extensions": {**decision, "instalment": 3, "new_due_date": "2025-05-10"},
        "/terms": {**decision, "from_instalment": 6, "instalment_amount": "50.00"},
        "/exemptions": {**decision, "kind": "partial", "amount": "1.00"}, "/refunds": {**decision, "amount": "1.00"},
        "/collection-transfer": decision, "/write-off": decision, "/recall": decision,
        "/legal-steps": {**decision, "kind": "claim_filed", "case_number": "HO 123/2025", "court": "Pohjois-Suomen HaO"},
        "/{transfer_id}/payments": {"payment_id": "AG-1", "amount": "5.00"},
        "/appeals": {"decision_version": 1, "appellant": "Maija", "grounds": "ei"},
        "/decision": {**decision, "outcome": "rejected"} if "appeals" in route.path else (
            {"outcome": "rejected", "decided_by": "dm", "grounds": ["other"], "reasons": "ei"}
            if "applications" in route.path else {"apply": True}),
        "/acceleration-revocation": decision, "/what-if": {"corrections": []},
        "/v1/payments": {"payment_id": "P-new", "amount": "2.00", "loan_id": "L1"},
        "/allocation": {"loan_id": "L2", "allocated_by": "fi-1"}, "/reversal": {"reason": "väärä laina"},
        "/v1/servicing-runs": {"business_date": "2025-03-31"},
        "/v1/assessments": {"application": {"applicant": "B1"}},
        "/v1/reference-rates": {"from": "2025-07-01", "rate": "2.00", "source": "Suomen Pankki", "recorded_by": "ad"},
        "/v1/borrowers/{borrower_id}": {"name": "Ville", "identity_code": "010594Y123W", "address": ["Tie 3"]},
        "/v1/applications": {"application_id": "A-new", "facts": {**FACTS, "applicant": "B-new"}},
        "/facts": {"facts": {**FACTS, "requested_amount": "600.00"}}, "/assessment": {},
        "/judgement-grounds": {"ground": "other", "reasons": "ei sitoudu"}, "/criteria": {"understood": True},
        "/social-assistance": {"finding": "no_right"},
        "/withdrawal": {"reason": "peruttu"},
        "/relief-applications": {"application_id": "R-new", "kind": "free_months",
                                 "request": {"months": 1, "from_instalment": 5}},
        "/v1/capital": {"source": "state_grant", "amount": "50000.00", "on": "2025-03-31", "decision_number": "VN/1/2025"},
        "/v1/discussions": {"request_id": "D-new", "borrower_id": "B1"}, "/meeting": {"held_on": "2025-03-31"},
        "/v1/waiting-list/offers": {}, "/grant-withdrawal": {"reason": "ei tarvetta"}, "/contract/signatures": {"signer": "B1"}, "/contract": {},
        "/payees": {"payees": [{"payee_id": "P1", "kind": "borrower", "name": "Maija", "iban": "FI2112345600000785",
                                "amount": "500.00"}], "decided_by": "dm"},
        "/disbursements": {}, "/return": {},
    }
    if route.path == "/v1/payments/files":
        return {"url": url, "content": (FIXTURES / "ktl_correction.txt").read_bytes(),
                "headers": {"Content-Type": "text/plain"}}
    body = next((b for suffix, b in bodies.items() if route.path.endswith(suffix)), None)
    if route.method == "PUT" and "borrowers" in route.path:
        body = bodies["/v1/borrowers/{borrower_id}"]
    if route.path.startswith(("/v1/statistics", "/v1/books")):
        url += "?from=2025-01-01&to=2025-12-31"
    return {"url": url, "json": body if route.method in ("POST", "PUT") else None}


def _holds(permission: str, role: str) -> bool:
    return role in PERMISSIONS[permission]


# What a route does only for holders of a further permission (api/access.py `partly`), each way.
def _events(answer, holds: bool) -> None:
    granted = answer.json()["events"][0]["data"]
    assert (granted["reasons"] == REASONS) == holds and (granted["reasons"] == "[personal data]") != holds


def _evidence(answer, holds: bool) -> None:
    names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    assert any(n.endswith("personal.json") for n in names) == holds, names


def _files(answer, holds: bool) -> None:
    counts = answer.json()["counts"]
    assert (counts["reversed"], counts["queued"]) == ((1, 0) if holds else (0, 1)), counts


def _work_queue(answer, holds: bool) -> None:
    assert ("unallocated_payments" in answer.json()) == holds


def _console_work_queue(answer, holds: bool) -> None:
    assert ("Kohdistamattomat maksut" in answer.text) == holds


def _console_loan(answer, holds: bool) -> None:
    assert (REASONS in answer.text) == holds and ("henkilötieto, ei näytetä roolillesi" in answer.text) != holds


def _console_legal(answer, holds: bool) -> None:
    assert ('id="legal-step-form"' in answer.text) == holds and ('id="package-form"' in answer.text) == holds


def _console_capital(answer, holds: bool) -> None:
    assert ('id="capital-form"' in answer.text) == holds


PARTLY = {("GET", "/v1/loans/{loan_id}/events"): _events, ("GET", "/console/capital"): _console_capital, ("GET", "/console/loans/{loan_id}/legal"): _console_legal, ("GET", "/v1/loans/{loan_id}/evidence"): _evidence,
          ("POST", "/v1/payments/files"): _files, ("GET", "/v1/work-queue"): _work_queue,
          ("GET", "/console/work-queue"): _console_work_queue, ("GET", "/console/loans/{loan_id}"): _console_loan,
          ("GET", "/console/loans/{loan_id}/evidence"): _evidence}
CONSOLE_WRITES = {"/console/payments/{payment_id}/allocation", "/console/payments/files",
                  "/console/loans/{loan_id}/legal-steps", "/console/loans/{loan_id}/collection-transfer",
                  "/console/waiting-list/offers",  # the matrix's offer A2 has expired by its day
                  # issue 22: applications (tests.support.console.console_form: a save, a record)
                  "/console/applications", "/console/applications/{application_id}/facts",
                  "/console/applications/{application_id}/assessment",
                  "/console/applications/{application_id}/judgement-grounds",
                  "/console/applications/{application_id}/criteria",
                  "/console/applications/{application_id}/social-assistance",
                  "/console/applications/{application_id}/withdrawal",
                  "/console/loans/{loan_id}/relief-applications", "/console/discussions",
                  "/console/discussions/{request_id}/meeting",
                  "/console/capital"}


def test_every_route_is_in_the_table_and_every_partial_grant_is_checked(tmp_path):
    app, _, _ = build(tmp_path, docs="public")
    served = set()
    for route in app.routes:  # FastAPI keeps an included router as one entry holding its routes
        for one in (route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]):
            served |= {(method, one.path) for method in (one.methods or ()) if method != "HEAD"}
    assert served == set(BY_KEY), (served ^ set(BY_KEY))
    assert {(r.method, r.path) for r in ROUTES if r.partly} == set(PARTLY)


@pytest.mark.parametrize("role", ROLES)
def test_role_by_route_matrix_with_side_effects(tmp_path, role):
    app, issuer, appeal = build(tmp_path)
    c = app.state.container
    headers = issuer.headers("t1", [role], subject=f"{role}-1")
    wrong = []
    with TestClient(app) as client:
        for route in ROUTES:
            if (route.method, route.path) in SETTING_ROUTES or route.path.startswith("/console"):
                continue  # the console's pages: test_console_routes_by_role
            call = request_for(route, appeal)
            before = fingerprint(c)
            answer = client.request(route.method, call.pop("url"), headers={**headers, **call.pop("headers", {})},
                                    **{k: v for k, v in call.items() if v is not None})
            after = fingerprint(c)
            write = route.method != "GET" and route.path not in READ_ONLY_POSTS
            if not allowed(route, role):
                if answer.status_code != 403 or after != before:
                    wrong.append((route.method, route.path, answer.status_code, "denied but ran or changed"))
                continue
            if answer.status_code in (401, 403) or (answer.status_code >= 500 and route.path != "/readyz"):
                wrong.append((route.method, route.path, answer.status_code, answer.text[:200]))
            elif write and answer.status_code < 300 and after == before:
                wrong.append((route.method, route.path, answer.status_code, "allowed write changed nothing"))
            elif not write and after != before:
                wrong.append((route.method, route.path, answer.status_code, "a read changed something"))
            check = PARTLY.get((route.method, route.path))
            if check is not None and answer.status_code < 300:
                permission = next(iter(route.partly))
                try:
                    check(answer, _holds(permission, role))
                except AssertionError as e:
                    wrong.append((route.method, route.path, answer.status_code, f"partly: {e}"))
    assert not wrong, wrong


def test_a_payment_systems_bank_file_return_waits_for_finance(tmp_path):
    """The issue's reproduction: a KTL correction posted by a payment system reversed a payment
    finance had posted. Now it is queued; finance applies it; only then is the payment reversed."""
    app, issuer, _ = build(tmp_path)
    c = app.state.container
    reversed_ = lambda: [e.payment_id for e in c.service.events.get(c.service.loan("t1", "L1").id)  # noqa: E731
                         if type(e).__name__ == "PaymentReversed"]
    with TestClient(app) as client:
        before = reversed_()
        posted = client.post("/v1/payments/files", content=(FIXTURES / "ktl_correction.txt").read_bytes(),
                             headers={**issuer.headers("t1", ["payment_system"]), "Content-Type": "text/plain"})
        assert posted.status_code == 200 and posted.json()["counts"]["queued"] == 1, posted.text
        assert posted.json()["counts"]["matched"] == 1  # the payment in the same file is imported
        assert reversed_() == before
        queued = client.get("/v1/payments/returns", headers=issuer.headers("t1", ["finance"])).json()["items"]
        new = [q for q in queued if q["return_id"] != "R-1"]
        assert len(new) == 1 and new[0]["status"] == "pending"
        for role in ("payment_system", "caseworker", "auditor"):
            refused = client.post(f"/v1/payments/returns/{new[0]['return_id']}/decision", json={"apply": True},
                                  headers=issuer.headers("t1", [role]))
            assert refused.status_code == 403 and reversed_() == before
        applied = client.post(f"/v1/payments/returns/{new[0]['return_id']}/decision", json={"apply": True},
                              headers=issuer.headers("t1", ["finance"], subject="fi-7"))
        assert applied.status_code == 200, applied.text
        assert applied.json()["status"] == "applied" and applied.json()["decided_by"] == "fi-7"
        assert len(reversed_()) == len(before) + 1
        again = client.post("/v1/payments/files", content=(FIXTURES / "ktl_correction.txt").read_bytes(),
                            headers={**issuer.headers("t1", ["payment_system"]), "Content-Type": "text/plain"})
        assert again.json()["counts"]["queued"] == 0 and len(reversed_()) == len(before) + 1


@pytest.mark.parametrize("exposure", ["off", "authenticated", "public"])
def test_metrics_and_docs_follow_their_settings(tmp_path, exposure):
    app, issuer, _ = build(tmp_path, docs=exposure, metrics=exposure)
    with TestClient(app) as client:
        for path, permission in (("/metrics", "metrics"), ("/openapi.json", "docs"), ("/docs", "docs")):
            anonymous = client.get(path).status_code
            assert anonymous == {"off": 404, "authenticated": 401, "public": 200}[exposure], (path, anonymous)
            for role in ROLES:
                status = client.get(path, headers=issuer.headers("t1", [role])).status_code
                expected = {"off": 404, "public": 200}.get(exposure) or (200 if _holds(permission, role) else 403)
                assert status == expected, (path, role, status)


def console_request(route, csrf: str) -> dict:
    """A valid call of each console route: forms carry the session's CSRF token (R-WEB-1)."""
    from tests.support.console import console_form

    url = route.path.replace("{loan_id}", "L1").replace("{payment_id}", "U-1").replace("{transfer_id}", "T-1") \
        .replace("{application_id}", "A1").replace("{request_id}", "D1").replace("{borrower_id}", "B1") \
        .replace("{message_id}", "M-1")
    if route.path == "/console/loans":
        url += "?loan_id=L1"
    files = {"file": ("ktl.txt", (FIXTURES / "ktl_correction.txt").read_bytes(), "text/plain")} \
        if route.path == "/console/payments/files" else None
    return {"url": url, "data": console_form(route.path, csrf) if route.method == "POST" else None, "files": files}


@pytest.mark.parametrize("role", ROLES)
def test_console_routes_by_role(tmp_path, role):
    """The console's pages follow the same table (R-DATA-6) for a signed-in session: refused (403,
    nothing changed) where it says no, answered where it says yes, partial grants checked."""
    from tests.support.console import csrf_of, session_cookie

    app, _, _ = build(tmp_path)
    c = app.state.container
    wrong = []
    with TestClient(app, base_url="https://testserver") as client:
        for route in ROUTES:
            if not route.path.startswith("/console"):
                continue
            client.cookies.clear()
            for name, value in session_cookie(app, "t1", [role], f"{role}-1").items():
                client.cookies.set(name, value)
            csrf = csrf_of(client.get("/console/sign-in").text)
            call = console_request(route, csrf)
            before = fingerprint(c)
            answer = client.request(route.method, call["url"], data=call["data"], files=call["files"],
                                    follow_redirects=False)
            after = fingerprint(c)
            write = route.method == "POST" and route.path in CONSOLE_WRITES and allowed(route, role)
            if write and (answer.status_code >= 400 or after == before):
                wrong.append((route.method, route.path, answer.status_code, "allowed write changed nothing"))
            elif not write and after != before:
                wrong.append((route.method, route.path, answer.status_code, "a console call changed something"))
            if route.path.startswith("/console/oidc/"):  # no console client here, and no flow under way
                if answer.status_code != 401 or "R-DATA-7" not in answer.text:
                    wrong.append((route.method, route.path, answer.status_code, "sign-in not refused"))
                continue
            if route.path == "/console/dev-sign-in":  # R-WEB-2: never outside development, whoever asks
                if answer.status_code != 403 or "R-WEB-2" not in answer.text:
                    wrong.append((route.method, route.path, answer.status_code, "development sign-in not refused"))
                continue
            if not allowed(route, role):
                if answer.status_code != 403:
                    wrong.append((route.method, route.path, answer.status_code, "denied but answered"))
                continue
            if answer.status_code in (401, 403) or answer.status_code >= 500:
                wrong.append((route.method, route.path, answer.status_code, answer.text[:200]))
            check = PARTLY.get((route.method, route.path))
            if check is not None and answer.status_code < 300:
                try:
                    check(answer, _holds(next(iter(route.partly)), role))
                except AssertionError as e:
                    wrong.append((route.method, route.path, answer.status_code, f"partly: {e}"))
    assert not wrong, wrong
