"""Issue 18, R-APP-6 through the API on PostgreSQL and SQLite: a grant the capital does not cover waits
in strict order of decision, with its position visible; a repayment frees capital and the first in line
is offered (not the later, smaller one); an offer reserves its capital until signed or expired
(`offer_valid_days`); the daily run expires it and offers the next; the signed contract records the loan."""
from __future__ import annotations

import datetime as dt

import pytest

from adapters.settings import Settings
from tests.integration.helpers import Stack, stack  # noqa: F401 - fixture
from tests.integration.served_api import served_api
from tests.integration.test_applications import NORM, facts

DAY = dt.date(2026, 3, 2)
TENANTS = {"ek": {"preset": "etela-karjala", "overrides": {"living_cost_norm": NORM, "capital_limit": "4000.00",
                                                           "offer_valid_days": 14}}}


@pytest.fixture
def api(stack: Stack, tmp_path):  # noqa: F811 - the fixture
    with served_api(stack, tmp_path, TENANTS, DAY) as (client, issuer, container, clock):
        yield client, issuer, container, clock


def prepare(service, application_id: str, applicant: str, amount: str) -> None:
    service.receive_application("ek", application_id, kind="loan", on=DAY, by="cw-1",
                                facts=facts(applicant=applicant, requested_amount=amount))
    service.assess_application("ek", application_id, on=DAY, by="cw-1")
    service.give_granting_criteria("ek", application_id, understood=True, on=DAY, by="cw-1")
    service.look_into_social_assistance("ek", application_id, finding="no_right", reasons="", on=DAY, by="cw-1")


def test_r_app_6_waits_in_order_is_offered_when_capital_frees_expires_and_the_next_is_offered(api):
    client, issuer, c, clock = api
    dm = issuer.headers("ek", ["decision_maker"], subject="dm-1")
    fin = issuer.headers("ek", ["finance"], subject="fi-1")
    existing = client.post("/v1/loans", headers=dm, json={
        "loan_id": "L-0", "borrower_id": "B-0", "purpose": "vuokrarästit", "principal": "3000.00",
        "granted_on": "2026-03-02", "first_due_date": "2026-04-10", "term_months": 10, "decided_by": "dm",
        "reasons": "x"})
    assert existing.status_code == 201, existing.text
    prepare(c.service, "A", "B-1", "2400.00")
    prepare(c.service, "B", "B-2", "600.00")

    # 3000.00 outstanding of 4000.00: A (2400.00) waits first; B (600.00) would fit but waits behind A.
    for application_id in ("A", "B"):
        decided = client.post(f"/v1/applications/{application_id}/decision", headers=dm,
                              json={"outcome": "granted", "decided_by": "Pekka Päättäjä"})
        assert decided.status_code == 201, decided.text
        assert decided.json()["grant_status"] == "waiting"
    queue = client.get("/v1/waiting-list", headers=dm).json()
    assert [(w["position"], w["application_id"], w["principal"]) for w in queue["waiting"]] == [
        (1, "A", "2400.00"), (2, "B", "600.00")]
    assert queue["offers"] == []
    # A direct grant may not pass the waiting list either (R-APP-6 with R-PORT-1).
    direct = client.post("/v1/loans", headers=dm, json={
        "loan_id": "L-9", "borrower_id": "B-9", "purpose": "pesukone", "principal": "500.00",
        "granted_on": "2026-03-02", "first_due_date": "2026-04-10", "term_months": 5, "decided_by": "dm", "reasons": "x"})
    assert direct.status_code == 422, direct.text
    assert direct.json()["message"] == ("R-PORT-1: capital_limit 4000.00 would be exceeded: outstanding 3000.00 + waiting "
                                        "grants 3000.00 + requested 500.00")

    # A repayment of 1500.00 leaves 1500.00 outstanding: A fits (3900.00), B behind it does not (4500.00).
    clock.set_day(dt.date(2026, 3, 5))
    paid = client.post("/v1/payments", headers=fin, json={"payment_id": "P-1", "amount": "1500.00",
                                                          "value_date": "2026-03-05", "loan_id": "L-0"})
    assert paid.status_code in (200, 201), paid.text
    offered = client.post("/v1/waiting-list/offers", headers=dm, json={})
    assert offered.status_code == 201, offered.text
    assert offered.json()["changes"] == [{"change": "offered", "application_id": "A"}]
    queue = client.get("/v1/waiting-list", headers=dm).json()
    assert [(w["position"], w["application_id"]) for w in queue["waiting"]] == [(1, "B")]
    assert queue["offers"] == [{"application_id": "A", "principal": "2400.00", "borrowers": ["B-1"],
                                "offered_on": "2026-03-05", "valid_until": "2026-03-19", "expired": False}]
    a = client.get("/v1/applications/A", headers=dm).json()
    assert (a["grant_status"], a["offer"]["valid_until"]) == ("offered", "2026-03-19")
    again = client.post("/v1/waiting-list/offers", headers=dm, json={})
    assert again.json()["changes"] == []  # idempotent for a date

    # Not signed by 19 March: the run of the 20th expires it, and B is offered from the freed capital.
    clock.set_day(dt.date(2026, 3, 20))
    assert client.get("/v1/waiting-list", headers=dm).json()["offers"][0]["expired"] is True  # on read, by date
    run = client.post("/v1/servicing-runs", headers=dm, json={"business_date": "2026-03-20"})
    assert run.status_code in (200, 201), run.text
    assert run.json()["waiting_list"] == [{"change": "expired", "application_id": "A"},
                                          {"change": "offered", "application_id": "B"}]
    late = client.post("/v1/applications/A/contract/signatures", headers=dm, json={"signer": "B-1"})
    assert (late.status_code, late.json()["rule"]) == (409, "R-APP-7"), late.text
    assert "offer expired" in late.json()["message"]
    stranger = client.post("/v1/applications/B/contract/signatures", headers=dm, json={"signer": "B-1"})
    assert (stranger.status_code, stranger.json()["field"]) == (422, "signer")
    assert client.post("/v1/applications/A/contract", headers=dm, json={}).status_code == 409  # expired
    assert client.post("/v1/applications/B/contract", headers=dm, json={}).status_code == 201
    for signer in ("official", "B-2"):
        signed = client.post("/v1/applications/B/contract/signatures", headers=dm, json={"signer": signer})
        assert signed.status_code == 201, signed.text
    assert signed.json()["contracted_loan"] == "B"
    loan = client.get("/v1/loans/B", headers=dm).json()
    assert (loan["borrower_id"], loan["principal"], loan["granted_on"]) == ("B-2", "600.00", "2026-03-20")
    assert client.get("/v1/waiting-list", headers=dm).json() == {"waiting": [], "offers": []}
    register = c.service.register("ek")
    assert [type(e).__name__ for e in c.service.events.get(register.id)][-2:] == ["OfferClosed", "GrantRegistered"]


def test_r_app_6_the_waiting_list_and_offers_survive_a_snapshot_of_the_register(stack: Stack, tmp_path):  # noqa: F811
    """A register restored from a snapshot (JSON: its tuple came back a list) keeps queuing and offering."""
    from application.container import Container

    settings = Settings(database_url=stack.database_url, postgres_schema=stack.postgres_schema, postgres_pool_size=1,
                        signing_key_file=str(tmp_path / "key"), notice_store=str(tmp_path / "letters"),
                        notice_print_folder=str(tmp_path / "print"), snapshot_interval=1,
                        tenants={"t": {"preset": "default", "overrides": {"capital_limit": "1000.00"}}})

    def queue(container, application_id: str) -> None:
        def change() -> list:
            register = container.service.register("t")
            register.enqueue_grant(application_id=application_id, principal=60000, decided_on=DAY, borrowers=["B"])
            register.offer_waiting(on=DAY, outstanding=0, valid_days=30)
            return [register]
        container.service.write(change)

    first = Container.build(settings)
    queue(first, "A")  # offered: 600.00 of 1,000.00
    queue(first, "B")  # waits: 600.00 + 600.00 > 1,000.00
    first.close()
    again = Container.build(settings)  # a new process: the register comes from its snapshot
    try:
        assert again.service.snapshots is not None and list(again.service.snapshots.get(again.service.register("t").id))
        queue(again, "C")
        register = again.service.register("t")
        assert [(p["position"], p["application_id"]) for p in register.positions()] == [(1, "B"), (2, "C")]
        assert sorted(register.offers) == ["A"]
    finally:
        again.close()


def test_r_app_6_a_withdrawn_grant_leaves_the_list_and_the_next_is_offered_at_once(api):
    client, issuer, c, clock = api
    dm = issuer.headers("ek", ["decision_maker"], subject="dm-1")
    cw = issuer.headers("ek", ["caseworker"], subject="cw-2")
    assert client.post("/v1/loans", headers=dm, json={
        "loan_id": "L-0", "borrower_id": "B-0", "purpose": "vuokrarästit", "principal": "3000.00",
        "granted_on": "2026-03-02", "first_due_date": "2026-04-10", "term_months": 10, "decided_by": "dm",
        "reasons": "x"}).status_code == 201
    prepare(c.service, "A", "B-1", "2400.00")
    prepare(c.service, "B", "B-2", "600.00")
    for application_id in ("A", "B"):
        assert client.post(f"/v1/applications/{application_id}/decision", headers=dm, json={
            "outcome": "granted", "decided_by": "Pekka Päättäjä"}).json()["grant_status"] == "waiting"
    # A no longer wants the loan: B (3,000.00 + 600.00 <= 4,000.00) is offered in the same write.
    gone = client.post("/v1/applications/A/grant-withdrawal", headers=cw, json={"reason": "sai lainan muualta"})
    assert gone.status_code == 201, gone.text
    assert gone.json()["grant_status"] == "withdrawn"
    b = client.get("/v1/applications/B", headers=dm).json()
    assert (b["grant_status"], b["offer"]["valid_until"], b["contract"]["first_due_date"]) == (
        "offered", "2026-03-16", "2026-04-10")
    assert client.get("/v1/waiting-list", headers=dm).json()["waiting"] == []
    again = client.post("/v1/applications/A/grant-withdrawal", headers=cw, json={})
    assert (again.status_code, again.json()["rule"]) == (409, "R-APP-6")
    stored = b"".join(n.state for n in c.service.recorder.select_notifications(start=1, limit=100_000)).decode()
    assert "sai lainan muualta" not in stored  # the applicant's words are sealed


def test_r_app_6_the_daily_run_reads_the_capital_in_use_only_while_someone_waits(api):
    """Issue 15 (bench d): the organiser's every loan row is read for the capital check only when the
    first in line may be offered; expiring offers needs no figure."""
    client, issuer, c, clock = api
    dm = issuer.headers("ek", ["decision_maker"], subject="dm-1")
    reads = []
    repaid_principal = c.read_model.repaid_principal
    c.read_model.repaid_principal = lambda tenant: reads.append(tenant) or repaid_principal(tenant)
    existing = client.post("/v1/loans", headers=dm, json={
        "loan_id": "L-0", "borrower_id": "B-0", "purpose": "vuokrarästit", "principal": "3000.00",
        "granted_on": "2026-03-02", "first_due_date": "2026-04-10", "term_months": 10, "decided_by": "dm",
        "reasons": "x"})
    assert existing.status_code == 201, existing.text
    reads.clear()
    c.servicing.run("ek", DAY)
    assert reads == []
    prepare(c.service, "A", "B-1", "2400.00")
    decided = client.post("/v1/applications/A/decision", headers=dm, json={"outcome": "granted", "decided_by": "dm"})
    assert decided.json()["grant_status"] == "waiting"
    reads.clear()
    assert c.servicing.run("ek", DAY + dt.timedelta(days=1)).get("waiting_list") is None  # 3000 + 2400 > 4000
    assert reads == ["ek"]
