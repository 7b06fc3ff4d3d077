"""Issue 20: every notice reaches the borrower, with proof (Act §8(3): "in a dispute the creditor must show
that the notice was sent"). Against a fake of the Suomi.fi Messages REST API (tests/integration/
test_notice_outbox.py): MAILBOX_NOT_IN_USE falls back to paper, SERVICE_NOT_ACTIVE / SYSTEM_NOT_ACTIVE wait
and alarm instead of failing notices for good, messages go with visibility Normal, the password is
rotated through /v1/change-password, print-channel letters are handed over in signed batch manifests,
and the court package shows the paper handover and the electronic receipts."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from adapters.notices.outbox import Outbox, message_id
from adapters.notices.printfolder import PrintFolderAdapter, verify_batch
from adapters.notices.suomifi_password import PasswordFile, new_password
from adapters.settings import Settings
from adapters.signing import Signer
from application import digest
from application.container import Container
from application.court_package import build as court_package
from application.evidence_export import verify_bundle
from tests.integration.test_evidence import history
from tests.integration.test_notice_outbox import (ADDRESSEE, TENANT, FakeSuomiFi, adapter, enqueue,  # noqa: F401
                                                  notice_pdf, pdfs, sqlite_outbox, suomifi, clock)
from tests.support.clock import Clock


def test_mailbox_not_in_use_goes_on_paper_not_failed(suomifi, adapter, sqlite_outbox, pdfs, tmp_path):
    fake, _ = suomifi
    fake.no_mailbox.add(ADDRESSEE["recipient_id"])
    key = (TENANT, *enqueue(sqlite_outbox, pdfs, channel="suomifi"))
    paper = PrintFolderAdapter(tmp_path / "print")
    assert sqlite_outbox.deliver_pending(adapter, fallback=paper) == [(key, "paper_fallback")]
    row = sqlite_outbox.get(*key)
    assert row["status"] == "sent_for_printing" and "MAILBOX_NOT_IN_USE" in row["last_error"]
    assert (tmp_path / "print" / f"{message_id(*key)}.pdf").read_bytes() == notice_pdf()
    assert fake.messages == {}  # nothing electronic was sent
    # Without a paper channel the notice cannot go anywhere: it fails (and is listed by /readyz).
    other = (TENANT, *enqueue(sqlite_outbox, pdfs, "L-2", 3, channel="suomifi", pdf=notice_pdf("L-2")))
    assert sqlite_outbox.deliver_pending(adapter) == [(other, "failed")]


@pytest.mark.parametrize("code", ["SERVICE_NOT_ACTIVE", "SYSTEM_NOT_ACTIVE"])
def test_a_configuration_fault_waits_and_alarms_instead_of_failing_notices(suomifi, adapter, pdfs, clock, tmp_path,
                                                                            code):
    fake, _ = suomifi
    from adapters.sql_store import SQLiteStore

    outbox = Outbox(SQLiteStore(str(tmp_path / "o.sqlite")), pdfs, clock=clock, max_attempts=2)
    outbox.setup()
    keys = [(TENANT, *enqueue(outbox, pdfs, f"L-{n}", 1, channel="suomifi", pdf=notice_pdf(f"L-{n}"))) for n in (1, 2)]
    fake.inactive = code
    for _ in range(5):  # far more passes than max_attempts: a fault of ours never uses up a notice's attempts
        assert outbox.deliver_pending(adapter) == []  # the pass stops at the first: the rest would fail alike
        assert getattr(outbox.last_fault, "code", None) == code
    assert [outbox.get(*k)["status"] for k in keys] == ["pending", "pending"]
    assert [outbox.get(*k)["attempts"] for k in keys] == [0, 0]
    assert fake.message_posts == 0
    fake.inactive = None  # the operator fixed the service's activation
    assert outbox.deliver_pending(adapter) == [(k, "delivered") for k in keys]
    assert outbox.last_fault is None


def test_messages_follow_the_2026_description_visibility_normal(suomifi, adapter, sqlite_outbox, pdfs):
    fake, _ = suomifi
    enqueue(sqlite_outbox, pdfs, channel="suomifi")
    sqlite_outbox.deliver_pending(adapter)
    (message,) = fake.messages.values()
    assert message["electronic"]["visibility"] == "Normal"
    assert message["electronic"]["replyAllowedBy"] == "No one"


def test_the_system_password_is_rotated_through_change_password(suomifi, adapter, tmp_path):
    fake, _ = suomifi
    old = fake.PASSWORD
    kept = tmp_path / "suomifi-password"
    kept.write_text(old + "\n")
    PasswordFile(kept).rotate(adapter)
    new = kept.read_text().strip()
    assert new != old and fake.PASSWORD == new and len(new) >= 32
    assert adapter.check_password(new) and not adapter.check_password(old)
    assert adapter.access_token()  # the adapter goes on with the new password
    assert ("POST", "/v1/change-password") in fake.requests
    # A rotation interrupted after Suomi.fi took the new password: the pending file is promoted.
    pending = PasswordFile(kept)
    fresh = new_password()
    pending.pending.write_text(fresh + "\n")
    adapter.change_password(new, fresh)
    assert pending.current(adapter) == fresh and not pending.pending.exists()
    # One Suomi.fi never took: dropped, the current password stays.
    pending.pending.write_text(new_password() + "\n")
    assert pending.current(adapter) == fresh and not pending.pending.exists()


def test_print_letters_are_handed_over_in_signed_batch_manifests(tmp_path, pdfs, sqlite_outbox):
    signer = Signer.from_settings(Settings(signing_key_file=str(tmp_path / "key")))
    printer = PrintFolderAdapter(tmp_path / "print")
    keys = [(TENANT, *enqueue(sqlite_outbox, pdfs, f"L-{n}", 1, pdf=notice_pdf(f"L-{n}"))) for n in (1, 2)]
    assert sqlite_outbox.deliver_pending(printer) == [(k, "sent_for_printing") for k in keys]
    at = dt.datetime(2025, 5, 12, 8, 30, tzinfo=dt.timezone.utc)
    batches = printer.seal_batch(signer, at)
    (batch,) = set(batches.values())
    assert batch.startswith("20250512t083000-") and set(batches) == {message_id(*k) for k in keys}
    data = printer.batch(batch)
    manifest = json.loads(data)
    assert [x["message_id"] for x in manifest["letters"]] == sorted(message_id(*k) for k in keys)
    assert {x["letter_hash"] for x in manifest["letters"]} == {sqlite_outbox.get(*k)["sha256"] for k in keys}
    assert verify_batch(data, signer.public_key) == []
    forged = data.replace(b'"2025-05-12T08:30:00+00:00"', b'"2025-05-11T08:30:00+00:00"')
    assert verify_batch(forged) == [f"print batch {batch}: the signature does not verify"]
    assert printer.seal_batch(signer, at) == {}  # nothing handed over since


def suomifi_loan(fake: FakeSuomiFi, url: str, tmp_path: Path, identity_code: str) -> Container:
    """history(): a kittila loan accelerated after reminders and a notice, its borrower notified through
    Suomi.fi; every letter delivered, then read where it was electronic; a digest signed."""
    settings = Settings(database_url="memory://", signing_key_file=str(tmp_path / "key"),
                        notice_store=str(tmp_path / "notices"), notice_print_folder=str(tmp_path / "print"),
                        notice_channel="suomifi", suomifi_base_url=url, suomifi_username=fake.USERNAME,
                        suomifi_password=fake.PASSWORD, suomifi_service_id=fake.SERVICE_ID,
                        tenants={"k": {"preset": "kittila"}})
    c = Container.build(settings)
    clock = Clock(dt.date(2025, 1, 15))
    c.service.clock = clock
    c.clock = clock
    c.borrowers.put("k", "B-L-1", name="Maija Meikäläinen", identity_code=identity_code, address=["Katu 1"],
                    language="fi")
    history(c, clock, "L-1", {})
    c.notices.enqueue_new()
    c.notices.deliver()
    for external_id in list(fake.messages):
        fake.read(external_id)
    c.notices.deliver()  # the receipts are fetched with every pass, long before the 60 days
    digest.take(c, "k", dt.date(2025, 6, 30))
    return c


def deliveries(c: Container) -> list:
    return [e for e in c.service.events.get(c.service.loan("k", "L-1").id) if type(e).__name__ == "NoticeDeliveryRecorded"]


def test_the_court_package_shows_the_paper_fallback_and_its_signed_batch(suomifi, tmp_path):
    fake, url = suomifi
    fake.no_mailbox.add("131052-308T")
    c = suomifi_loan(fake, url, tmp_path, "131052-308T")
    try:
        paper = deliveries(c)
        assert paper and {(e.outcome, e.channel) for e in paper} == {("paper_fallback", "letter")}
        (batch,) = {e.reference for e in paper}
        out = tmp_path / "package"
        manifest = court_package(c, "k", "L-1", out, on=dt.date(2025, 6, 30))
        assert f"court/print-batch-{batch}.json" in manifest["files"]
        assert verify_bundle(out) == []
        trail = json.loads((out / "court/trail.json").read_text(encoding="utf-8"))["events"]
        told = next(e["sentence_fi"] for e in trail if e["type"] == "NoticeDeliveryRecorded")
        assert "paperikirjeenä, koska vastaanottaja ei ole ottanut Suomi.fi-viestejä käyttöön" in told
        assert f"erässä {batch}, jonka allekirjoitettu luovutusluettelo on liitteenä" in told
        (out / f"court/print-batch-{batch}.json").write_text("{}")  # altered: the package fails
        assert f"court/print-batch-{batch}.json is missing or differs from the manifest" in verify_bundle(out)
        assert REGISTRY.get_sample_value("luotto_notice_paper_fallbacks_total") >= 1
    finally:
        c.close()


def test_the_court_package_shows_the_electronic_receipts(suomifi, tmp_path):
    fake, url = suomifi
    c = suomifi_loan(fake, url, tmp_path, "010101-123N")
    try:
        electronic = deliveries(c)
        notices = {e.notice for e in electronic}
        assert {(e.notice, e.outcome) for e in electronic} == {(n, o) for n in notices for o in ("delivered", "read")}
        read = next(e for e in electronic if e.outcome == "read")
        assert (read.channel, read.reported_at, read.effective_date) == \
            ("suomifi", "2025-06-03T12:00:00.000+03:00", dt.date(2025, 6, 3))
        assert read.reference == str(fake.messages[message_id("k", "L-1", read.notice)]["messageId"])
        out = tmp_path / "package"
        court_package(c, "k", "L-1", out, on=dt.date(2025, 6, 30))
        assert verify_bundle(out) == []
        trail = json.loads((out / "court/trail.json").read_text(encoding="utf-8"))["events"]
        assert any("vastaanottaja avasi (luki)" in e["sentence_fi"] and "Palvelun ilmoittama aika" in e["sentence_fi"]
                   for e in trail if e["type"] == "NoticeDeliveryRecorded")
    finally:
        c.close()


def test_receipts_that_cannot_be_fetched_hold_back_no_delivery_record(suomifi, tmp_path):
    """The events endpoint is down: the pass still records what it delivered, and alarms."""
    fake, url = suomifi
    fake.events_down = True
    before = REGISTRY.get_sample_value("luotto_notice_channel_faults_total", {"code": "SuomiFiError"}) or 0
    c = suomifi_loan(fake, url, tmp_path, "010101-123N")
    try:
        recorded = {(e.notice, e.outcome) for e in deliveries(c)}
        assert recorded and {o for _, o in recorded} == {"delivered"}  # no receipts fetched, nothing lost
        assert REGISTRY.get_sample_value("luotto_notice_channel_faults_total", {"code": "SuomiFiError"}) > before
        fake.events_down = False
        c.notices.deliver()  # the next pass fetches the receipts
        assert {o for _, o in {(e.notice, e.outcome) for e in deliveries(c)}} == {"delivered", "read"}
    finally:
        c.close()


def test_the_services_own_paper_mail_prints_for_a_recipient_without_a_mailbox(suomifi, sqlite_outbox, pdfs):
    """With the organiser's printing contract a notice goes as one multichannel message: Suomi.fi prints it for
    a recipient without a mailbox in use; the outbox learns which from the events."""
    from adapters.notices.suomifi import PaperMail, SuomiFiMessagesAdapter, postal_address

    fake, url = suomifi
    fake.no_mailbox.add(ADDRESSEE["recipient_id"])
    paper = PaperMail("posti-user", "posti-secret", "luotot@example.fi",
                      {"name": "Etelä-Karjalan hyvinvointialue", "streetAddress": "Valtakatu 11", "zipCode": "53100",
                       "city": "Lappeenranta"})
    a = SuomiFiMessagesAdapter(url, fake.USERNAME, fake.PASSWORD, fake.SERVICE_ID, timeout=10, paper_mail=paper)
    try:
        key = (TENANT, *enqueue(sqlite_outbox, pdfs, channel="suomifi"))
        assert sqlite_outbox.deliver_pending(a) == [(key, "handed_over")]
        (message,) = fake.messages.values()
        assert message["paperMail"]["recipient"]["address"] == {
            "name": "Aino Äijälä", "streetAddress": "Kauppakatu 1 A 2", "zipCode": "53100", "city": "Lappeenranta",
            "countryCode": "FI"}
        assert sqlite_outbox.sync_events(a) == [(key, "sent_for_printing")]
        assert sqlite_outbox.get(*key)["status"] == "sent_for_printing"
    finally:
        a.close()
    # An address that cannot be read as "NNNNN City" is not sent on paper by the service.
    assert postal_address("Aino", ["Kauppakatu 1"]) is None and postal_address("", ["a", "53100 X"]) is None
