"""R-DATA-1/2/4: erasure when the law allows it, and erasure that erases.

A borrower whose name and identity code also went into free text (a decision's reasons, an appeal's
appellant and grounds, a reversal's reason) gets letters (printed), an appeal, a hardship and an
exemption. The same search (tests/support/pii_search.py: every spelling a renderer could produce)
finds them in the store before the erasure and nowhere after it: every table, on SQLite the
database file's own bytes and its write-ahead log, on PostgreSQL a dump of the schema, the letter
store, the print folder and evidence bundles. The hash chains still verify."""
from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.app import create_app
from application.evidence import verify_store
from application.evidence_export import export, verify_bundle
from domain.loan import Decision
from tests.integration.helpers import Clock, Stack, stack  # noqa: F401 - fixture
from tests.support.auth import TestIssuer
from tests.support.pii_search import find, search_bytes

NAME = "Brita Ångström-Öberg"
HETU = "131052-308T"
ADDRESS = ["Storgatan 1 B 12", "99100 Kittilä"]
NEEDLES = [NAME, "Ångström-Öberg", HETU, HETU.replace("-", ""), *ADDRESS]
IN_TEXT = f"{NAME} ({HETU}), {ADDRESS[0]}"  # what a caseworker might type into a reason
D = dt.date.fromisoformat


def test_the_search_finds_every_spelling():
    """The search itself: escaped JSON, decomposed Unicode, other case, the letter font's reduction."""
    import json
    import unicodedata

    from adapters.notices.render import render_notice

    samples = {"escaped JSON": json.dumps({"n": NAME}).encode(), "NFD": unicodedata.normalize("NFD", NAME).encode(),
               "upper case": NAME.upper().encode(), "cp1252": NAME.encode("cp1252"),
               "UTF-16": NAME.encode("utf-16-le"), "bytea": b"\\\\x" + json.dumps({"n": NAME}).encode().hex().encode()}
    for where, data in samples.items():
        found: list = []
        search_bytes([NAME], data, where, found)
        assert found, where
    letter = render_notice({"kind": "reminder", "loan": "L-1", "sent_on": "2025-03-01", "instalments": [1],
                            "reference": "10016"}, {"name": NAME, "address": ADDRESS, "language": "sv"},
                           {"name": "Kittilän kunta", "iban": "FI2112345600000785"})
    found = []
    search_bytes([NAME, ADDRESS[1]], letter, "letter", found)
    assert {n for n, _ in found} == {NAME, ADDRESS[1]}
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("notices/x.pdf", letter)
    found = []
    search_bytes([NAME], zipped.getvalue(), "zip", found)
    assert found


def _settings(stack: Stack, tmp: Path, **extra) -> Settings:
    return Settings(database_url=stack.database_url, postgres_schema=stack.postgres_schema, postgres_pool_size=1,
                    signing_key_file=str(tmp / "key"), notice_store=str(tmp / "letters"),
                    notice_print_folder=str(tmp / "print"), snapshot_interval=5,
                    tenants={"k": {"preset": "kittila", "retention_years": 1, "overrides": {"living_cost_norm": {
                        "source": "test", "first_adult": "500.00", "other_adult": "400.00"}}, "organiser": {
                        "name": "Kittilän kunta", "iban": "FI2112345600000785", "phone": "016 123 456"}}},
                    **extra)


def _dump(stack: Stack, tmp: Path) -> list:
    """Everything the database holds: the SQLite file and its WAL as bytes, or a pg_dump."""
    if stack.kind == "sqlite":
        db = Path(stack.database_url.removeprefix("sqlite:///"))
        return [p for p in (db, Path(f"{db}-wal")) if p.exists()]
    info = stack.pg_info
    env = {**os.environ, "PGPASSWORD": info.password or ""}
    dumped = subprocess.run([shutil.which("pg_dump") or "pg_dump", "-h", info.host, "-p", str(info.port), "-U",
                             info.user, "-n", info.schema, "--no-owner", info.dbname], env=env, capture_output=True,
                            timeout=120)
    assert dumped.returncode == 0, dumped.stderr.decode()
    assert b"COPY" in dumped.stdout and b"luotto_borrowers" in dumped.stdout
    return [("pg_dump", dumped.stdout)]


@pytest.fixture
def pg_aware_stack(stack, request):
    if stack.kind == "postgres":
        stack.pg_info = request.getfixturevalue("pg_schema")
    return stack


def test_erasure_refused_until_allowed_then_nothing_of_the_person_is_left(pg_aware_stack, tmp_path):
    stack = pg_aware_stack
    issuer = TestIssuer(tmp_path / "oidc")
    app = create_app(_settings(stack, tmp_path, **issuer.settings_kwargs()))
    c = app.state.container
    clock = Clock()
    c.service.clock = clock
    service = c.service
    dm = issuer.headers("k", ["decision_maker"], subject="dm-1")
    c.borrowers.put("k", "B-1", name=NAME, identity_code=HETU, address=ADDRESS, language="sv")
    service.grant(tenant="k", loan_id="L-1", borrower_id="B-1", purpose=f"hammashoito: {IN_TEXT}", principal=120000,
                  granted_on=D("2025-01-15"), first_due_date=D("2025-02-10"), instalment_amount=10000,
                  decision=Decision("dm-1", IN_TEXT))
    for day in (D("2025-02-10") + dt.timedelta(days=n) for n in range(40)):  # reminders (kittila: +14, +28)
        clock.set_day(day)
        service.service("k", "L-1", day)
    service.post_payment(tenant="k", payment_id="P-1", amount=500, value_date=clock().date(), on=clock().date(),
                         loan_id="L-1")
    service.reverse_payment(tenant="k", payment_id="P-1", reason=f"maksaja {IN_TEXT}", on=clock().date())
    service.record_hardship("k", "L-1", cause="illness", on=clock().date(),
                   decision=Decision("cw-1", f"{IN_TEXT}: psykiatrinen osastohoito"))
    notices = [e for e in service.events.get(service.loan("k", "L-1").id) if type(e).__name__ == "NoticeSent"]
    assert len(notices) >= 2
    c.notices.enqueue_new()
    c.notices.deliver()  # letters left in the print folder
    service.file_appeal("k", "L-1", decision_version=notices[0].originator_version, on=clock().date(),
                                 appellant=IN_TEXT, grounds=f"{NAME} oli sairaalassa")
    # An application too (R-APP-1): its facts name the person, and so will its decision letter.
    facts = {"applicant": "B-1", "requested_amount": "900.00", "first_due_date": "2025-05-10",
             "household": {"adults": 1}, "purpose": f"vuokrarästit {IN_TEXT}", "incomes": [{"amount": "500.00"}],
             "debts": [{"creditor": f"{NAME} perintä", "amount": "900.00", "paid_off_by_loan": True}]}
    service.receive_application("k", "H-1", kind="loan", facts=facts, on=clock().date(), by="cw-1")
    service.assess_application("k", "H-1", on=clock().date(), by="cw-1")
    audit_bundle = tmp_path / "bundles" / "audit-before"
    export(c, "k", "L-1", audit_bundle)  # an auditor's bundle: events as stored
    everything = [tmp_path / "letters", tmp_path / "print", tmp_path / "bundles"]

    with TestClient(app) as client:
        # R-DATA-4: the loan is open.
        refused = client.delete("/v1/borrowers/B-1", headers=dm)
        assert refused.status_code == 409 and refused.json()["code"] == "erasure_not_allowed", refused.text
        assert refused.json()["rule"] == "R-DATA-4" and refused.json().get("possible_from") is None
        service.waive("k", "L-1", kind="full", on=clock().date(),
                       decision=Decision("dm-1", f"{IN_TEXT}: maksukyvytön"))
        # Closed, but the appeal is pending.
        refused = client.delete("/v1/borrowers/B-1", headers=dm)
        assert refused.status_code == 409 and "appeal" in refused.json()["message"], refused.text
        version = [e for e in service.events.get(service.loan("k", "L-1").id)
                   if type(e).__name__ == "AppealFiled"][-1].originator_version
        service.decide_appeal("k", "L-1", appeal=version, outcome="rejected", on=clock().date(),
                       decision=Decision("dm-1", f"{IN_TEXT} ei ole oikeutettu"))
        # The application is open.
        refused = client.delete("/v1/borrowers/B-1", headers=dm)
        assert refused.status_code == 409 and "application H-1" in refused.json()["message"], refused.text
        service.decide_application("k", "H-1", outcome="rejected", decided_by="dm-2", on=clock().date(), by="dm-2",
                                   grounds=["no_payment_capacity"], reasons=f"{IN_TEXT}: maksuvara ei riitä")
        c.letters.enqueue_new()
        c.notices.deliver()  # the decision letters (the application's, the appeal's) in the print folder
        assert len(list((tmp_path / "print").glob("*.pdf"))) > len(notices)
        # Decided: the retention period (1 year for this organiser) has not run out.
        refused = client.delete("/v1/borrowers/B-1", headers=dm)
        assert refused.status_code == 409, refused.text
        possible = dt.date.fromisoformat(refused.json()["possible_from"])
        assert possible > clock().date() and refused.json()["possible_from"] in refused.json()["message"]
        c.read_model.catch_up()
        c.servicing.run("k", clock().date())  # a signed digest holding the loan

        # Before: the same search finds the person (so that it can fail after).
        before = find(NEEDLES, [*_dump(stack, tmp_path), *everything])
        assert {n for n, _ in before} == set(NEEDLES) - {HETU.replace("-", "")}, before  # nobody wrote it so
        assert any("print" in w for _, w in before) and any("borrower" in w or "sqlite" in w or "dump" in w
                                                           for _, w in before)

        clock.set_day(possible)
        erased = client.delete("/v1/borrowers/B-1", headers=dm)
        assert erased.status_code == 200, erased.text
        assert erased.json()["name"] is None and erased.json()["erased_at"]
        shown = client.get("/v1/applications/H-1", headers=dm).json()
        assert (shown["facts"], shown["facts_verified"], shown["status"]) == (None, None, "rejected")
        events = client.get("/v1/loans/L-1/events", headers=dm).json()["events"]
        typed = [e["data"] for e in events if e["type"] in ("LoanGranted", "HardshipRecorded", "PaymentWaived",
                                                             "AppealDecided")]
        assert len(typed) == 4 and {d["reasons"] for d in typed} == {"[erased]"}
        assert [(e["data"]["appellant"], e["data"]["grounds"]) for e in events if e["type"] == "AppealFiled"] == [
            ("[erased]", "[erased]")]
        assert all(NAME not in str(e["data"]) and HETU not in str(e["data"]) for e in events)
        for bundle, personal in (("audit-after", False), ("court-after", True)):
            export(c, "k", "L-1", tmp_path / "bundles" / bundle, personal_data=personal)
            assert verify_bundle(tmp_path / "bundles" / bundle) == []
            assert not (tmp_path / "bundles" / bundle / "notices").exists()
        loans, broken = verify_store(service)
        assert loans == 1 and broken == []  # the chain verifies over the ciphertext
    # The app (and its connections) closed: on SQLite nothing is left in the write-ahead log.

    after = find(NEEDLES, [*_dump(stack, tmp_path), *everything])
    assert after == [], after
    assert list((tmp_path / "print").glob("*")) == []


def test_an_appeal_stored_by_the_old_code_in_clear_still_loads_and_verifies(tmp_path):
    """Stored data keeps working: an AppealFiled with plaintext appellant and grounds (as recorded
    before sealing) loads, its chain verifies, and it reads as it was stored."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/old.sqlite", signing_key_file=str(tmp_path / "key"),
                        notice_store=str(tmp_path / "letters"), tenants={"k": {"preset": "kittila"}})
    from application.container import Container

    old = Container.build(settings)
    old.service.sealer = None  # what the code before sealing did
    old.service.clock = Clock()
    old.service.grant(tenant="k", loan_id="L-1", borrower_id="B-1", purpose="vuokra", principal=60000,
                      granted_on=D("2025-01-15"), first_due_date=D("2025-02-10"), instalment_amount=10000,
                      decision=Decision("dm-1", "myönnetty"))
    old.service.file_appeal("k", "L-1", decision_version=1, on=D("2025-01-20"), appellant=NAME, grounds="sairaala")
    old.close()
    new = Container.build(settings)
    try:
        appeal = [e for e in new.service.events.get(new.service.loan("k", "L-1").id)
                  if type(e).__name__ == "AppealFiled"][0]
        assert (appeal.appellant, appeal.grounds) == (NAME, "sairaala")
        assert verify_store(new.service) == (1, [])
    finally:
        new.close()


def test_outbox_rows_of_an_older_version_lose_their_addressee_at_migrate(tmp_path):
    """R-DATA-1: an outbox row written before this change holds name, address and identity code;
    `luotto migrate` gives it the borrower's id instead, and it is still delivered (the address
    read from the personal-data store when sending)."""
    from adapters.notices.render import render_notice
    from application.container import Container

    settings = Settings(database_url=f"sqlite:///{tmp_path}/luotto.sqlite", signing_key_file=str(tmp_path / "key"),
                        notice_store=str(tmp_path / "letters"), notice_print_folder=str(tmp_path / "print"),
                        tenants={"k": {"preset": "kittila"}})
    c = Container.build(settings)
    c.service.clock = Clock()
    c.service.grant(tenant="k", loan_id="L-1", borrower_id="B-1", purpose="vuokra", principal=60000,
                    granted_on=D("2025-01-15"), first_due_date=D("2025-02-10"), instalment_amount=10000,
                    decision=Decision("dm-1", "ok"))
    c.borrowers.put("k", "B-1", name=NAME, identity_code=HETU, address=ADDRESS, language="sv")
    letter = render_notice({"kind": "reminder", "loan": "L-1", "sent_on": "2025-02-24", "instalments": [1],
                            "reference": "10016"}, {"name": NAME, "address": ADDRESS, "language": "sv"},
                           {"name": "Kittilän kunta", "iban": "FI2112345600000785"})
    sha = c.notices.pdfs.put(letter)  # as the old code stored letters: plain, by their SHA-256
    c.notices.outbox.enqueue(tenant="k", loan_id="L-1", notice_version=3, sha256=sha, channel="letter",
                             addressee={"name": NAME, "address": ADDRESS, "recipient_id": HETU})
    assert find([NAME, HETU], [("outbox", str(c.notices.outbox.rows()).encode())])
    c.migrate()
    rows = c.notices.outbox.rows()
    assert find([NAME, HETU, *ADDRESS], [("outbox", str(rows).encode())]) == []
    assert '"borrower_id": "B-1"' in rows[0]["envelope"]
    assert c.notices.deliver() == 1
    printed = list((tmp_path / "print").glob("*.pdf"))
    assert len(printed) == 1 and find([NAME], printed)
    c.close()


def test_a_claim_pending_refuses_erasure(tmp_path):
    """R-DATA-4: money owed back to the borrower (an overpayment not refunded) is a claim pending."""
    from application.container import Container
    from application.erasure import refusal

    c = Container.build(Settings(database_url="memory://", signing_key_file=str(tmp_path / "key"),
                                 notice_store=str(tmp_path / "letters"),
                                 tenants={"k": {"preset": "kittila", "retention_years": 0}}))
    try:
        clock = Clock()
        c.service.clock = clock
        c.service.grant(tenant="k", loan_id="L-1", borrower_id="B-1", purpose="vuokra", principal=60000,
                        granted_on=D("2025-01-15"), first_due_date=D("2025-02-10"), instalment_amount=10000,
                        decision=Decision("dm-1", "ok"))
        c.service.waive("k", "L-1", kind="full", on=D("2025-01-20"), decision=Decision("dm-1", "ok"))
        c.service.post_payment(tenant="k", payment_id="P-1", amount=2500, value_date=D("2025-01-21"),
                               on=D("2025-01-21"), loan_id="L-1")  # paid to a closed loan: owed back
        problem = refusal(c, "k", "B-1", D("2025-03-01"))
        assert problem is not None and problem.rule == "R-DATA-4" and "claim" in problem.message
        c.service.refund_overpayment("k", "L-1", amount=2500, on=D("2025-01-22"),
                         decision=Decision("fi-1", "palautettu"))
        assert refusal(c, "k", "B-1", D("2025-03-01")) is None
    finally:
        c.close()
