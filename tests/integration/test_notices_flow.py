"""Issue "Scheduler" item 4: letters rendered before NoticeSent is recorded, stored by hash, sent once
through the outbox, and their delivery outcomes recorded on the loan."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pytest
from pypdf import PdfReader

from adapters.sealing import letter_salt
from adapters.settings import Settings
from application.container import Container
from domain.loan import Decision
from tests.support.clock import Clock




@pytest.fixture
def stack(tmp_path):
    settings = Settings(database_url="memory://", signing_key_file=str(tmp_path / "key"),
                        notice_store=str(tmp_path / "pdfs"), notice_print_folder=str(tmp_path / "print"),
                        tenants={"k": {"preset": "kittila", "organiser": {
                            "name": "Kittilän kunta", "iban": "FI2112345600000785", "phone": "016 123 456"}}})
    container = Container.build(settings)
    clock = Clock(dt.date(2025, 1, 15))
    container.service.clock = clock
    container.borrowers.put("k", "B-1", name="Brita Borg", identity_code="131052-308T",
                            address=["Storgatan 1", "99100 Kittilä"], language="sv")
    yield container, clock, tmp_path
    container.close()


def run_days(container, clock, until: dt.date, actions=None) -> None:
    day = clock.day
    while day <= until:
        clock.day = day
        for action in (actions or {}).get(day, []):
            action()
        container.service.service("k", "L-1", day)
        day += dt.timedelta(days=1)


def grant(container) -> None:
    container.service.grant(tenant="k", loan_id="L-1", borrower_id="B-1", purpose="rent arrears",
                            principal=240000, granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 10),
                            instalment_amount=10000, decision=Decision("sw-1"))


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_reminders_and_the_acceleration_notice_are_letters_sent_once(stack):
    container, clock, folder = stack
    grant(container)
    service = container.service
    actions = {dt.date(2025, 2, 10): [lambda: service.post_payment(
        tenant="k", payment_id="p1", amount=10000, value_date=dt.date(2025, 2, 10), on=dt.date(2025, 2, 10),
        loan_id="L-1")],
        dt.date(2025, 5, 12): [lambda: service.send_acceleration_notice("k", "L-1", on=dt.date(2025, 5, 12),
                                                       decision=Decision("sw-2"))]}
    run_days(container, clock, dt.date(2025, 5, 12), actions)
    notices = [e for e in service.events.get(service.loan("k", "L-1").id) if type(e).__name__ == "NoticeSent"]
    assert [n.kind for n in notices] == ["reminder"] * 4 + ["acceleration"]

    # The hash each NoticeSent records is the salted SHA-256 of the stored letter (R-DATA-2): the
    # letter alone does not give it, so a guessed letter cannot be confirmed from the events.
    pdfs = container.notices.pdfs
    key = container.borrowers.key("k", "B-1")
    letter = pdfs.get(notices[-1].content_hash, key)
    assert hashlib.sha256(letter).hexdigest() != notices[-1].content_hash
    assert hashlib.sha256(letter_salt(key, letter) + letter).hexdigest() == notices[-1].content_hash
    assert b"Brita" not in (folder / "pdfs").joinpath(notices[-1].content_hash[:2],
                                                      notices[-1].content_hash + ".sealed").read_bytes()
    words = text_of(letter)
    for figure in ("200,00", "26.5.2025", "27.5.2025", "Brita Borg", "10016", "RF"):
        assert figure in words, figure  # Swedish letter: the delayed amount, cure deadline, effect date, payee

    assert container.notices.enqueue_new() == 5
    assert container.notices.enqueue_new() == 0  # each notice once
    assert container.notices.deliver() == 5
    assert container.notices.deliver() == 0
    printed = sorted(p.name for p in (folder / "print").glob("*.pdf"))
    assert len(printed) == 5
    sidecar = json.loads(next((folder / "print").glob("*.json")).read_text())
    # R-DATA-1: only what printing needs; the address is in the letter's window.
    assert set(sidecar) == {"message_id", "tenant", "pdf"}
    assert "Brita Borg" in text_of((folder / "print" / sidecar["pdf"]).read_bytes())
    outcomes = [(e.notice, e.outcome) for e in service.events.get(service.loan("k", "L-1").id)
                if type(e).__name__ == "NoticeDeliveryRecorded"]
    assert sorted(outcomes) == sorted((n.originator_version, "sent_for_printing") for n in notices)


def test_a_letter_is_not_sent_twice_when_the_process_dies_after_enqueueing(stack):
    """Crash between the outbox row and the tracking position: the next run enqueues the same
    notice again, which is a no-op, and it is printed once."""
    container, clock, folder = stack
    grant(container)
    # Nothing paid: reminders on 24 Feb and 10 Mar (instalment 1) and 24 Mar (instalment 2).
    run_days(container, clock, dt.date(2025, 3, 24))
    dispatcher = container.notices
    claim = dispatcher.follower.claim
    dispatcher.follower.claim = lambda tx, batch: None  # "dies" before recording its position
    assert dispatcher.enqueue_new() == 3
    dispatcher.follower.claim = claim
    assert dispatcher.enqueue_new() == 3  # seen again ...
    assert dispatcher.deliver() == 3  # ... but queued and sent once
    assert len(list((folder / "print").glob("*.pdf"))) == 3


def test_the_evidence_bundle_carries_the_letters(stack, tmp_path):
    from application.evidence_export import export, verify_bundle

    container, clock, _ = stack
    grant(container)
    run_days(container, clock, dt.date(2025, 3, 24))
    container.read_model.catch_up()
    from application import digest

    digest.take(container, "k", dt.date(2025, 3, 24))
    # R-DATA-3: a reader who may not see personal data (an auditor) gets no letters; the chain verifies.
    without = export(container, "k", "L-1", tmp_path / "audit")
    assert not [name for name in without["files"] if name.startswith("notices/")]
    assert verify_bundle(tmp_path / "audit") == []
    out = tmp_path / "bundle"
    manifest = export(container, "k", "L-1", out, personal_data=True)
    letters = [name for name in manifest["files"] if name.startswith("notices/") and name.endswith(".pdf")]
    assert len(letters) == 3 and verify_bundle(out) == []
    (out / letters[0]).write_bytes(b"%PDF-1.4 forged")
    assert any("the letter differs" in p for p in verify_bundle(out))


def test_one_failing_loan_does_not_stop_the_run_and_is_retried_next_run(stack, monkeypatch):
    """Issue "Scheduler" item 6: a loan that raises is reported in the run record and serviced by the
    next run; the others are serviced as usual."""
    from domain.loan import Loan

    container, clock, _ = stack
    service = container.service
    for n in (1, 2, 3):
        service.grant(tenant="k", loan_id=f"F-{n}", borrower_id=f"BF-{n}", purpose="x", principal=60000,
                      granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 10), instalment_amount=10000,
                      decision=Decision("sw-1"))
    real = Loan.service

    def broken(loan, **kwargs):
        if loan.loan_id == "F-2":
            raise RuntimeError("disk on fire")
        return real(loan, **kwargs)

    clock.day = dt.date(2025, 2, 10)
    monkeypatch.setattr(Loan, "service", broken)
    first = container.servicing.run("k", dt.date(2025, 2, 10))
    assert [f["loan_id"] for f in first["failures"]] == ["F-2"] and "disk on fire" in first["failures"][0]["error"]
    fell_due = lambda lid: [e for e in service.events.get(service.loan("k", lid).id)  # noqa: E731
                            if type(e).__name__ == "InstalmentFellDue"]
    assert len(fell_due("F-1")) == len(fell_due("F-3")) == 1 and fell_due("F-2") == []
    assert service.runs("k")[0]["failures"] == first["failures"]

    monkeypatch.setattr(Loan, "service", real)
    clock.day = dt.date(2025, 2, 11)
    second = container.servicing.run("k", dt.date(2025, 2, 11))
    assert second["failures"] == [] and len(fell_due("F-2")) == 1  # caught up by the next run
