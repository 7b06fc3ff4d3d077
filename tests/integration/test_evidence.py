"""R-EVID-1/2/4 and appeals: the hash chain, verify against tampering, replay as it stood, what-if."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from adapters.settings import Settings
from application.container import Container
from application.evidence import verify_store
from application.replay import replay, what_if
from domain.loan import Decision
from tests.support.clock import Clock

LUOTTO = str(Path(sys.executable).parent / "luotto")
RATES = [{"from": "2025-01-01", "rate": "3.50"}, {"from": "2025-07-01", "rate": "2.50"}]




def build(url: str, schema: str | None = None) -> tuple[Container, Clock]:
    settings = Settings(database_url=url, postgres_schema=schema, tenants={"k": {"preset": "kittila"}})
    container = Container.build(settings)
    clock = Clock(dt.date(2025, 1, 15))
    container.service.clock = clock
    return container, clock


def history(container: Container, clock: Clock, loan_id: str, then: dict) -> None:
    """A kittila loan of 2,400.00 at 100.00 a month from 10 Feb 2025, instalment 1 paid, a notice on
    12 May (cure deadline 26 May); `then` maps a day to what happens on it; served daily to 30 Jun."""
    service = container.service
    service.grant(tenant="k", loan_id=loan_id, borrower_id=f"B-{loan_id}", purpose="rent arrears", principal=240000,
                  granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 10), instalment_amount=10000,
                  decision=Decision("sw-1", "grant"))
    then = {dt.date(2025, 2, 10): lambda day: service.post_payment(tenant="k", payment_id="p1", amount=10000,
                                                                   value_date=day, on=day, loan_id=loan_id),
            dt.date(2025, 5, 12): lambda day: service.send_acceleration_notice("k", loan_id, on=day,
                                                                               decision=Decision("sw-2", "notice")),
            **then}
    day = dt.date(2025, 1, 15)
    while day <= dt.date(2025, 6, 30):
        clock.day = day
        if day in then:
            then[day](day)
        service.service("k", loan_id, day)
        day += dt.timedelta(days=1)


def accelerated_history(container: Container, clock: Clock, late_payment_value_date: dt.date) -> None:
    """accelerated-kittila: notice 12 May (cure deadline 26 May); 200.00 paid and recorded 28 May."""
    history(container, clock, "L-1", {dt.date(2025, 5, 28): lambda day: container.service.post_payment(
        tenant="k", payment_id="p2", amount=20000, value_date=late_payment_value_date, on=day, loan_id="L-1")})


@pytest.fixture
def memory() -> Container:
    container, clock = build("memory://")
    container.clock = clock
    yield container
    container.close()


def test_r_evid_1_every_event_chains_to_the_previous_one(memory):
    accelerated_history(memory, memory.clock, dt.date(2025, 5, 28))
    loans, broken = verify_store(memory.service)
    assert (loans, broken) == (1, [])
    events = list(memory.service.events.get(memory.service.loan("k", "L-1").id))
    assert len({e.hash for e in events}) == len(events) and all(len(e.hash) == 64 for e in events)


def test_what_if_an_earlier_value_date_turns_the_acceleration_into_a_lapse(memory):
    """The 200.00 was paid on the cure deadline (26 May) but recorded as 28 May: corrected, the
    notice lapses by cure (R-ACC-7) and the acceleration never took effect; nothing is written."""
    accelerated_history(memory, memory.clock, dt.date(2025, 5, 28))
    version = memory.service.loan("k", "L-1").version
    diff = what_if(memory.service, "k", "L-1", [{"payment_id": "p2", "value_date": "2025-05-26"}],
                   dt.date(2025, 6, 30))
    assert {"type": "LoanAccelerated", "effective_date": "2025-05-27", "instalment": None, "kind": None,
            "payment_id": None} in diff["events_removed"]
    assert any(e["type"] == "AccelerationLapsed" and e["effective_date"] == "2025-05-26" for e in diff["events_added"])
    assert diff["balance_before"]["status"] == "accelerated"
    assert diff["balance_after"]["status"] == "late"
    assert memory.service.loan("k", "L-1").version == version  # writes nothing


def test_what_if_without_corrections_reproduces_the_stored_history(memory):
    accelerated_history(memory, memory.clock, dt.date(2025, 5, 28))
    diff = what_if(memory.service, "k", "L-1", [], dt.date(2025, 6, 30))
    assert diff["events_removed"] == diff["events_added"] == []
    stored = memory.service.loan("k", "L-1").books(memory.service.rates).balance(dt.date(2025, 6, 30))
    assert diff["balance_after"] == stored


def test_r_evid_4_replay_as_known_before_a_late_write(memory):
    """On 27 May, as known on 20 May, the loan was late with a pending notice; as known now it is
    accelerated on that date."""
    accelerated_history(memory, memory.clock, dt.date(2025, 5, 28))
    on = dt.date(2025, 5, 27)
    then = replay(memory.service, "k", "L-1", on, dt.datetime(2025, 5, 20, 23, tzinfo=dt.timezone.utc))
    now = replay(memory.service, "k", "L-1", on, None)
    assert (then["balance"]["status"], then["balance"]["notice_pending"]) == ("late", True)
    assert now["balance"]["status"] == "accelerated"
    notice = next(d for d in now["decisions"] if d["type"] == "NoticeSent")
    # What the caseworker saw on 12 May: instalments 2 and 3 overdue, instalment 4 not yet.
    assert notice["state_seen"]["overdue_amount"] == "200.00"


@pytest.mark.postgres
def test_r_evid_2_verify_catches_a_row_altered_by_a_superuser(pg_schema):
    url = f"postgresql://{pg_schema.user}@{pg_schema.host}:{pg_schema.port}/{pg_schema.dbname}"
    container, clock = build(url, pg_schema.schema)
    try:
        accelerated_history(container, clock, dt.date(2025, 5, 28))
        table = container.service.recorder.events_table_name
    finally:
        container.close()
    env = {**os.environ, "LUOTTO_DATABASE_URL": url, "LUOTTO_POSTGRES_SCHEMA": pg_schema.schema,
           "LUOTTO_TENANTS": json.dumps({"k": {"preset": "kittila"}})}
    intact = subprocess.run([LUOTTO, "verify"], env=env, capture_output=True, text=True, timeout=60)
    assert intact.returncode == 0, intact.stderr
    assert "1 loan chains intact" in intact.stderr

    with psycopg.connect(pg_schema.dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="R-EVID-2"):
            conn.execute(f"DELETE FROM {table}")
        # A superuser can switch the triggers off; the chain still gives the change away.
        conn.execute("SET session_replication_role = replica")
        changed = conn.execute(
            f"UPDATE {table} SET state = convert_to(replace(convert_from(state, 'UTF8'), '\"200.00\"', "
            f"'\"20.00\"'), 'UTF8') WHERE topic = 'domain.events:PaymentReceived' "
            f"AND convert_from(state, 'UTF8') LIKE '%\"p2\"%'").rowcount
        assert changed == 1
    tampered = subprocess.run([LUOTTO, "verify"], env=env, capture_output=True, text=True, timeout=60)
    assert tampered.returncode == 1
    assert "broken" in tampered.stderr and "hash does not match" in tampered.stdout


def test_an_upheld_appeal_revokes_the_acceleration_through_its_own_decision(memory):
    accelerated_history(memory, memory.clock, dt.date(2025, 5, 28))
    service, clock = memory.service, memory.clock
    loan = service.loan("k", "L-1")
    notice = next(e for e in service.events.get(loan.id) if type(e).__name__ == "NoticeSent"
                  and e.kind == "acceleration")
    clock.day = dt.date(2025, 6, 5)
    service.file_appeal("k", "L-1", decision_version=notice.originator_version, on=clock.day, appellant="B-1",
                        grounds="the notice reached me late")
    appeal = service.loan("k", "L-1").version
    service.decide_appeal("k", "L-1", appeal=appeal, outcome="upheld", on=clock.day,
                   decision=Decision("board", "notice not proven delivered"))
    assert service.loan("k", "L-1").books(service.rates).status(clock.day) == "accelerated"  # not by itself
    service.revoke_acceleration("k", "L-1", appeal=appeal, on=clock.day, decision=Decision("board"))
    loan = service.loan("k", "L-1")
    assert loan.books(service.rates).status(clock.day) == "late"
    kinds = [type(e).__name__ for e in service.events.get(loan.id)][-3:]
    assert kinds == ["AppealFiled", "AppealDecided", "AccelerationRevoked"]
    assert verify_store(service) == (1, [])


def test_an_appeal_names_a_decision_event(memory):
    accelerated_history(memory, memory.clock, dt.date(2025, 5, 28))
    fell_due = next(e for e in memory.service.events.get(memory.service.loan("k", "L-1").id)
                    if type(e).__name__ == "InstalmentFellDue")
    from domain.errors import DomainError
    with pytest.raises(DomainError, match="not an appealable decision"):
        memory.service.file_appeal("k", "L-1", decision_version=fell_due.originator_version,
                                   on=dt.date(2025, 6, 5), appellant="B-1", grounds="")


def test_r_evid_3_an_exported_bundle_verifies_offline_and_catches_an_edit(memory, tmp_path):
    from application import digest
    from application.evidence_export import export

    accelerated_history(memory, memory.clock, dt.date(2025, 5, 28))
    memory.read_model.catch_up()
    digest.take(memory, "k", dt.date(2025, 6, 30))
    out = tmp_path / "bundle"
    export(memory, "k", "L-1", out)
    ok = subprocess.run([LUOTTO, "verify-evidence", str(out)], capture_output=True, text=True, timeout=60,
                        env={"PATH": os.environ.get("PATH", ""), "LUOTTO_DATABASE_URL": "sqlite:////nonexistent/x"})
    assert ok.returncode == 0, ok.stderr
    report = (out / "report.pdf").read_bytes()
    from pypdf import PdfReader
    import io
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(report)).pages)
    text = text.replace("\u00a0", " ")
    assert "LoanAccelerated" in text and "Act 1133/2002" in text
    # Issue 20: each event told as a sentence with amounts in euros, not as raw JSON with escapes.
    assert "koko jäljellä oleva luotto, 2 300,00 euroa, erääntyi maksettavaksi" in text
    assert '{"' not in text and "\\u00" not in text

    events = json.loads((out / "events.json").read_text())
    events["events"][3]["payload"] = events["events"][3]["payload"].replace('"100.00"', '"10.00"')
    (out / "events.json").write_text(json.dumps(events))
    bad = subprocess.run([LUOTTO, "verify-evidence", str(out)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert "events.json is missing or differs" in bad.stderr and "version 4: hash does not match" in bad.stderr


def test_daily_digest_detects_a_loan_rolled_back(memory):
    from application import digest

    accelerated_history(memory, memory.clock, dt.date(2025, 5, 28))
    signed = digest.take(memory, "k", dt.date(2025, 6, 30))
    assert digest.verify(memory.service, signed) == []
    tampered = dict(signed, position=signed["position"] - 1)  # as if the last event had been removed
    assert digest.verify(memory.service, tampered)  # signature and root no longer match
    forged = dict(signed, root="0" * 64)
    assert "the digest's signature does not verify" in digest.verify(memory.service, forged)


@pytest.mark.postgres
def test_a_whole_loan_removed_is_caught_by_the_signed_digest(pg_schema, tmp_path):
    """Removing every event of one loan leaves no broken chain behind; the signed daily digest over
    all chain heads still gives it away (`luotto verify --digest FILE` exits 1)."""
    from application import digest

    url = f"postgresql://{pg_schema.user}@{pg_schema.host}:{pg_schema.port}/{pg_schema.dbname}"
    container, clock = build(url, pg_schema.schema)
    key_file = tmp_path / "signing.key"
    try:
        accelerated_history(container, clock, dt.date(2025, 5, 28))
        container.service.grant(tenant="k", loan_id="L-2", borrower_id="B-2", purpose="x", principal=60000,
                                granted_on=dt.date(2025, 6, 30), first_due_date=dt.date(2025, 7, 10),
                                instalment_amount=10000, decision=Decision("sw-1"))
        signed = digest.take(container, "k", dt.date(2025, 6, 30))
        victim = str(container.service.loan("k", "L-2").id)
        table = container.service.recorder.events_table_name
    finally:
        container.close()
    exported = tmp_path / "digest.json"
    exported.write_text(json.dumps(signed))
    env = {**os.environ, "LUOTTO_DATABASE_URL": url, "LUOTTO_POSTGRES_SCHEMA": pg_schema.schema,
           "LUOTTO_TENANTS": json.dumps({"k": {"preset": "kittila"}}), "LUOTTO_SIGNING_KEY_FILE": str(key_file)}
    ok = subprocess.run([LUOTTO, "verify", "--digest", str(exported)], env=env, capture_output=True, text=True,
                        timeout=60)
    assert ok.returncode == 0, ok.stderr
    with psycopg.connect(pg_schema.dsn, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        assert conn.execute(f"DELETE FROM {table} WHERE originator_id = %s", (victim,)).rowcount == 1
    removed = subprocess.run([LUOTTO, "verify", "--digest", str(exported)], env=env, capture_output=True,
                             text=True, timeout=60)
    assert removed.returncode == 1
    assert "does not match the digest" in removed.stderr and "Merkle root" in removed.stderr


# --- Issue 12: the §8 paths in replay, what-if and the evidence bundle (one implementation) ---------


def reversed_cure_history(container: Container, clock: Clock) -> None:
    """kittila: notice 12 May (cure deadline 26 May); 200.00 paid 20 May cures it; the bank returns
    it on 2 Jun: the lapse is revoked and the acceleration (E = 27 May) is recorded (R-ACC-7/8)."""
    service = container.service
    history(container, clock, "L-2", {
        dt.date(2025, 5, 20): lambda day: service.post_payment(tenant="k", payment_id="cure", amount=20000,
                                                               value_date=day, on=day, loan_id="L-2"),
        dt.date(2025, 6, 2): lambda day: service.reverse_payment(tenant="k", payment_id="cure",
                                                                 reason="returned by the bank", on=day)})


def test_r_acc_7_replay_shows_the_cure_as_known_before_its_reversal(memory):
    reversed_cure_history(memory, memory.clock)
    types = [type(e).__name__ for e in memory.service.events.get(memory.service.loan("k", "L-2").id)]
    assert types[-2:] == ["AccelerationLapseRevoked", "LoanAccelerated"]
    on = dt.date(2025, 5, 30)
    then = replay(memory.service, "k", "L-2", on, dt.datetime(2025, 5, 25, 12, tzinfo=dt.timezone.utc))
    now = replay(memory.service, "k", "L-2", on, None)
    assert (then["balance"]["status"], then["balance"]["notice_pending"]) == ("late", False)
    assert now["balance"]["status"] == "accelerated"


def test_r_acc_10_what_if_a_hardship_had_been_recorded_during_the_notice(memory):
    """Corrected with a hardship 15 May .. 10 Jun, the notice never takes effect: it lapses on 10 Jun."""
    reversed_cure_history(memory, memory.clock)
    diff = what_if(memory.service, "k", "L-2", [{"hardship": "illness", "from": "2025-05-15", "until": "2025-06-10"}],
                   dt.date(2025, 6, 30))
    assert {"type": "LoanAccelerated", "effective_date": "2025-05-27", "instalment": None, "kind": None,
            "payment_id": None} in diff["events_removed"]
    assert {"type": "AccelerationLapsed", "effective_date": "2025-06-10", "instalment": None, "kind": None,
            "payment_id": None} in diff["events_added"]
    assert diff["balance_after"]["status"] == "late"


def test_r_acc_7_a_revoked_cure_exports_and_verifies_in_the_evidence_bundle(memory, tmp_path):
    from application import digest
    from application.evidence_export import export

    reversed_cure_history(memory, memory.clock)
    memory.read_model.catch_up()
    digest.take(memory, "k", dt.date(2025, 6, 30))
    export(memory, "k", "L-2", tmp_path / "bundle")
    events = json.loads((tmp_path / "bundle" / "events.json").read_text())["events"]
    assert "AccelerationLapseRevoked" in [e["type"] for e in events]
    ok = subprocess.run([LUOTTO, "verify-evidence", str(tmp_path / "bundle")], capture_output=True, text=True,
                        timeout=60)
    assert ok.returncode == 0, ok.stderr


# --- issue 13: signed manifests, the zip, only the bundle's own files --------------------------------------


def _bundle(memory, tmp_path) -> Path:
    """A bundle whose loan has events recorded after the latest digest (a payment on 1 July)."""
    from application import digest
    from application.evidence_export import export

    accelerated_history(memory, memory.clock, dt.date(2025, 5, 28))
    memory.read_model.catch_up()
    digest.take(memory, "k", dt.date(2025, 6, 30))
    memory.clock.day = dt.date(2025, 7, 1)
    memory.service.post_payment(tenant="k", payment_id="p3", amount=1000, value_date=dt.date(2025, 7, 1),
                                on=dt.date(2025, 7, 1), loan_id="L-1")
    out = tmp_path / "bundle"
    export(memory, "k", "L-1", out)
    return out


def _verify(path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([LUOTTO, "verify-evidence", str(path), *extra], capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ.get("PATH", "")})


def _rehash(out: Path) -> None:
    """What a forger does after editing files: make the manifest's hashes match them again."""
    import hashlib

    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"] = {n: hashlib.sha256((out / n).read_bytes()).hexdigest() for n in manifest["files"]}
    (out / "manifest.json").write_text(json.dumps(manifest))


def test_r_evid_3_events_and_manifest_rewritten_together_no_longer_verify(memory, tmp_path):
    """Issue 13: dropping the last events from events.json and rewriting manifest.json to match verified
    (the digest predates them, the manifest was not signed). The manifest is signed now."""
    out = _bundle(memory, tmp_path)
    assert _verify(out).returncode == 0
    events = json.loads((out / "events.json").read_text())
    events["events"] = events["events"][:-1]
    (out / "events.json").write_text(json.dumps(events))
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["chain_head"], manifest["version"] = events["events"][-1]["hash"], len(events["events"])
    (out / "manifest.json").write_text(json.dumps(manifest))
    _rehash(out)
    forged = _verify(out)
    assert forged.returncode == 1 and "the manifest's signature does not verify" in forged.stderr, forged.stderr


def test_r_evid_3_a_bundle_signed_with_another_key_is_refused_when_the_key_is_given(memory, tmp_path):
    out = _bundle(memory, tmp_path)
    key = json.loads((out / "manifest.json").read_text())["public_key"]
    assert _verify(out, "--public-key", key).returncode == 0
    other = _verify(out, "--public-key", "00" * 32)
    assert other.returncode == 1 and "not by the expected key" in other.stderr


def test_r_evid_3_verify_evidence_takes_the_zip_the_api_serves(memory, tmp_path):
    """Issue 13: `luotto verify-evidence` did not take the zip that GET /v1/loans/{id}/evidence serves."""
    import zipfile

    from application import digest
    from application.evidence_export import export_zip

    accelerated_history(memory, memory.clock, dt.date(2025, 5, 28))
    memory.read_model.catch_up()
    digest.take(memory, "k", dt.date(2025, 6, 30))
    path = tmp_path / "evidence-L-1.zip"
    path.write_bytes(export_zip(memory, "k", "L-1"))
    assert all(n.startswith("evidence-L-1/") for n in zipfile.ZipFile(path).namelist())
    ok = _verify(path)
    assert ok.returncode == 0, ok.stderr
    with zipfile.ZipFile(path, "a") as z:  # one file more: refused
        z.writestr("evidence-L-1/notes.txt", "added later")
    extra = _verify(path)
    assert extra.returncode == 1 and "notes.txt is not a file of an evidence bundle" in extra.stderr


def test_r_evid_3_a_bundle_with_an_extra_file_does_not_verify(memory, tmp_path):
    out = _bundle(memory, tmp_path)
    (out / "extra.json").write_text("{}")
    bad = _verify(out)
    assert bad.returncode == 1 and "extra.json is not a file of an evidence bundle" in bad.stderr


def test_r_evid_3_verify_evidence_opens_nothing_the_manifest_or_a_link_points_at(memory, tmp_path):
    """Issue 13: verify-evidence opened whatever paths a manifest named (/dev/zero hung it)."""
    out = _bundle(memory, tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["/dev/zero"] = "0" * 64
    manifest["files"]["../../etc/passwd"] = "0" * 64
    (out / "manifest.json").write_text(json.dumps(manifest))
    started = dt.datetime.now()
    bad = _verify(out)
    assert (dt.datetime.now() - started).total_seconds() < 30
    assert bad.returncode == 1 and "names '/dev/zero', which is not a file of an evidence bundle" in bad.stderr
    assert "'../../etc/passwd'" in bad.stderr
    os.remove(out / "report.pdf")
    os.symlink("/dev/zero", out / "report.pdf")
    linked = _verify(out)
    assert linked.returncode == 1 and "report.pdf is not a file of an evidence bundle" in linked.stderr
    assert _verify(Path("/dev/zero")).returncode == 1


def test_r_evid_3_a_zip_whose_entries_climb_directories_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("../manifest.json", "{}")
        z.writestr("/abs/events.json", "{}")
    bad = _verify(path)
    assert bad.returncode == 1 and "../manifest.json is not a file of an evidence bundle" in bad.stderr
