"""Decision letters (R-APP-5, 9, 10) through the notice channels that exist.

1. `DecisionLetters.render` is called while a decision is made: it renders the letter in the
   addressee's language, stores it sealed with their key and returns its salted hash, which the
   decision event records (as notices do, application.notices).
2. `enqueue_new` follows the event log (projections.follower, its own tracking position) and puts each letter of an
   ApplicationDecided, and the letter of an AppealDecided, into the notices' outbox once; the
   outbox sends it through the channel (print folder or Suomi.fi), naming the addressee by
   borrower id only (R-DATA-1). An application letter's outbox key is `A|application|borrower`;
   its delivery is recorded on the application (DecisionLetterDelivered), an appeal letter's on the
   loan like a notice's (NoticeDeliveryRecorded).
"""
from __future__ import annotations

import datetime as dt

from adapters.notices.contract import render_contract
from adapters.notices.decision_letter import render_decision
from adapters.notices.decision_texts import TEXTS
from application.notices import borrower_of, organiser
from domain.case_events import ApplicationDecided, ContractDrawn
from domain.case_state import Letter
from domain.events import AppealDecided
from projections.follower import AlreadyClaimed, Follower

TRACKING = "decision_letters"
PREFIX = "A|"


def outbox_key(application_id: str, borrower_id: str) -> str:
    return f"{PREFIX}{application_id}|{borrower_id}"


def decision_content(case, *, outcome: str, grounds: list[str], assessment: dict | None, requested: str | None,
                     reasons: str,
                     override_reasons: str | None, decided_by: str, on: dt.date, terms: dict, policy,
                     legal_basis: str | None) -> dict:
    """What a decision letter shows: the figures and grounds from the assessment of the facts as they
    stand (R-APP-5), the terms decided, the reasons, and where a rectification request goes."""
    figures = {g["code"]: g.get("figures") or {} for g in (assessment or {}).get("grounds", [])}
    return {"kind": case.kind, "outcome": outcome, "reference": case.application_id, "decided_on": on.isoformat(),
            "decided_by": decided_by, "legal_basis": legal_basis,  # None: the letter names the Act in its language
            "requested_amount": requested,
            "capacity": ((assessment or {}).get("capacity") or {}).get("minimum"),
            "terms": terms, "request": case.request,
            "grounds": [{"code": g, "figures": figures.get(g, {})} for g in grounds],
            "reasons": reasons, "override_reasons": override_reasons,
            "rectification_body": policy.rectification_body}


class DecisionLetters:
    def __init__(self, container, pdfs):
        self.container, self.pdfs = container, pdfs
        topics = [f"{cls.__module__}:{cls.__qualname__}" for cls in (ApplicationDecided, AppealDecided,
                                                                         ContractDrawn)]
        self.follower = Follower(container.service, container.read_model.store, TRACKING, topics=topics)

    def render(self, tenant: str, borrower_id: str, content: dict) -> Letter:
        c = self.container
        person = borrower_of(c, _Whom(tenant, borrower_id))
        pdf = render_decision(content, person, organiser(c.settings, tenant))
        return Letter(borrower_id, self.pdfs.put_sealed(pdf, c.borrowers.key(tenant, borrower_id, create=True)))

    def contract(self, tenant: str, borrower_id: str, content: dict) -> Letter:
        """R-APP-7: the contract addressed to one borrower, in their language, stored sealed with their key."""
        c = self.container
        person = borrower_of(c, _Whom(tenant, borrower_id))
        pdf = render_contract(content, person, organiser(c.settings, tenant))
        return Letter(borrower_id, self.pdfs.put_sealed(pdf, c.borrowers.key(tenant, borrower_id, create=True)))

    def name_of(self, tenant: str, borrower_id: str) -> str:
        return borrower_of(self.container, _Whom(tenant, borrower_id))["name"]

    def appeal_letter(self, loan, *, outcome: str, decided_by: str, reasons: str, on: dt.date,
                      legal_basis: str | None) -> str:
        """R-APP-9: a decision on a request for rectification, with the instructions for appealing to
        the administrative court; its salted hash goes into the AppealDecided."""
        from domain.policy import Policy

        policy = Policy.from_json(loan.policy)
        content = {"kind": "appeal", "outcome": outcome, "reference": loan.loan_id, "decided_on": on.isoformat(),
                   "decided_by": decided_by, "legal_basis": legal_basis, "reasons": reasons,
                   "administrative_court": policy.administrative_court}
        return self.render(loan.tenant, loan.borrower_id, content).hash

    # --- into the outbox ----------------------------------------------------------------------

    def enqueue_new(self) -> int:
        """Queue every decision letter recorded since the last call (idempotent); one that cannot be
        queued is set aside and retried like a notice (projections/set_aside.py)."""
        service = self.container.service
        batch = self.follower.next()
        if batch is None:
            return 0
        for notification in batch.notifications:
            try:
                self._enqueue(service.mapper.to_domain_event(notification))
            except Exception as e:  # noqa: BLE001 - one letter must not hold back the others
                self.container.read_model.set_aside.record("outbox", f"letter:{notification.id}", tenant=None,
                                                           item=f"letter of event {notification.id}", error=e)
        try:
            with self.container.read_model.store.transaction() as tx:
                self.follower.claim(tx, batch)
        except AlreadyClaimed:
            pass  # another process queued them too: the outbox takes each letter once
        return len(batch.notifications)

    def retry_set_aside(self, older_than_seconds: float = 0.0) -> int:
        """Queue again the letters that were set aside (the notices' own retry leaves them alone)."""
        service, set_aside, recovered = self.container.service, self.container.read_model.set_aside, 0
        for row in set_aside.due("outbox", older_than_seconds=older_than_seconds):
            kind, _, position = row["ref"].partition(":")
            if kind != "letter":
                continue
            try:
                found = service.recorder.select_notifications(start=int(position), limit=1, stop=int(position))
                self._enqueue(service.mapper.to_domain_event(found[0]))
            except Exception as e:  # noqa: BLE001 - still failing: it stays set aside
                set_aside.record("outbox", row["ref"], tenant=row["tenant"], item=row["item"], error=e)
                continue
            set_aside.clear("outbox", row["ref"])
            recovered += 1
        return recovered

    def _enqueue(self, event) -> None:
        outbox, channel = self.container.notices.outbox, self.container.notices.adapter.channel
        if isinstance(event, AppealDecided):
            if not getattr(event, "letter_hash", None):
                return  # decided before appeal letters were sent
            loan = self.container.service.repository.get(event.originator_id, version=event.originator_version)
            title, body = self._message(loan.tenant, loan.borrower_id, "appeal")
            outbox.enqueue(tenant=loan.tenant, loan_id=loan.loan_id, notice_version=event.originator_version,
                           sha256=event.letter_hash, channel=channel, borrower_id=loan.borrower_id, title=title,
                           body=body)
            return
        case = self.container.service.repository.get(event.originator_id, version=event.originator_version)
        kind = "contract" if isinstance(event, ContractDrawn) else case.kind
        for letter in event.letters:
            title, body = self._message(case.tenant, letter["borrower_id"], kind)
            outbox.enqueue(tenant=case.tenant, loan_id=outbox_key(case.application_id, letter["borrower_id"]),
                           notice_version=event.originator_version, sha256=letter["hash"], channel=channel,
                           borrower_id=letter["borrower_id"], title=title, body=body)

    def _message(self, tenant: str, borrower_id: str, kind: str) -> tuple[str, str]:
        """The message's title and a body without personal data: the decision is the attached letter."""
        language = borrower_of(self.container, _Whom(tenant, borrower_id))["language"]
        t = TEXTS[language]
        if kind == "contract":  # R-APP-7: each borrower receives the contract to sign
            from adapters.notices.contract import TEXTS as CONTRACT

            return CONTRACT[language]["title"], {"fi": "Luottosopimus on liitteenä allekirjoitettavaksi.",
                                                 "sv": "Kreditavtalet finns i bilagan för underskrift."}[language] + "\n"
        body = {"fi": "Päätös ja sen muutoksenhakuohje ovat liitteenä.",
                "sv": "Beslutet och anvisningen om ändringssökande finns i bilagan."}[language]
        return t[f"title_{kind}"], body + "\n"

    def record_delivery(self, tenant: str, key: str, version: int, outcome: str) -> tuple[str, str]:
        application_id, _, borrower_id = key[len(PREFIX):].rpartition("|")
        self.container.service.record_letter_delivery(tenant, application_id, borrower_id=borrower_id,
                                                      outcome=outcome, channel=self.container.notices.adapter.channel,
                                                      on=self.container.today(), letter_version=version)
        return tenant, application_id


class _Whom:
    """What application.notices.borrower_of reads of a loan: organiser and borrower."""

    def __init__(self, tenant: str, borrower_id: str):
        self.tenant, self.borrower_id = tenant, borrower_id
