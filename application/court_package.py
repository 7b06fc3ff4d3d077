"""The court package (issue 20): what legal staff file with the administrative court after an
acceleration, inside the signed evidence format so that `luotto verify-evidence` checks it offline.

A social credit is a public-law contract: the organiser cannot decide the recovery itself (KHO
15.8.2019/3654), so it applies to the administrative court in an administrative dispute and must prove
that the notice was sent (Act §8(3)). The package is an evidence bundle (application.evidence_export:
events, decisions, digest, report, the letters, the signed manifest) plus, under court/:

  claim.json            the claim on the chosen date, every figure traced to events and rules (domain.claim)
  trail.json            the Act §8 trail: conditions met, notices, deliveries, hardships, acceleration, appeals
  payments.json         the payment history and how the payments were allocated
  selvitys-fi.pdf       (utredning-sv.pdf) the account for a judge: every event told as a sentence
  hakemus-fi.pdf        (ansokan-sv.pdf) the draft application: parties, claim, grounds, evidence list
  letters/<hash>.pdf    the decision letters (with .salt when stored sealed), named by the hash recorded

The documents are in the borrower's language (fi/sv); the JSON files sit beside them for machines.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from adapters.court import documents
from adapters.court.texts import date as date_text, sentence
from adapters.sealing import letter_salt
from application.evidence_export import export, export_zip
from application.notices import borrower_of, organiser
from application.replay import legal_status
from domain.claim import claim_on
from domain.errors import invalid
from domain.evidence import event_payload, plain
from domain.policy import Policy

TRAIL_TYPES = documents.TRAIL + ("LoanTransferredToCollection", "CollectionRecalled", "ClaimFiled", "JudgmentGiven",
                                  "EnforcementStarted")
COURT_DEFAULT = {"fi": "Hallinto-oikeus", "sv": "Förvaltningsdomstolen"}


def build(container, tenant: str, loan_id: str, out: Path, *, on: dt.date | None = None) -> dict:
    """Write the package into `out` and return its signed manifest. `on`: the claim's date (default today)."""
    on = on or container.today()
    loan = container.service.loan(tenant, loan_id)
    if on < loan.granted_on:
        raise invalid(f"on {on} is before the loan was granted on {loan.granted_on}", rule="R-DATE-1", field="on")
    if on > container.today():  # a claim is for money owed now, never for interest not yet accrued
        raise invalid(f"on {on} is in the future (today is {container.today()})", rule="R-DATE-1", field="on")

    def extra(folder: Path, loan, events: list, show) -> tuple[list[str], dict]:
        return _court_files(container, loan, events, show, folder, on)

    return export(container, tenant, loan_id, out, personal_data=True, extra=extra)


def build_zip(container, tenant: str, loan_id: str, *, on: dt.date | None = None) -> bytes:
    return export_zip(container, tenant, loan_id, build=lambda folder: build(container, tenant, loan_id, folder, on=on))


def _write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _record(e, show) -> dict:
    """An event as machine-readable JSON: its content (sealed text opened for this reader), version and hash."""
    payload = plain(event_payload(e))
    for key in ("reasons", "override_reason", "grounds"):
        if key in payload and show is not None:
            payload[key] = show(payload[key])
    payload.pop("policy", None)
    return {**payload, "hash": e.hash, "sentence_fi": sentence(e, "fi", show), "sentence_sv": sentence(e, "sv", show)}


def _court_files(container, loan, events: list, show, out: Path, on: dt.date) -> tuple[list[str], dict]:
    service = container.service
    person = borrower_of(container, loan)
    lang = person.get("language") if person.get("language") in ("fi", "sv") else "fi"
    books = loan.books(service.rates)
    claim = {**claim_on(loan, books, events, on), "legal_status": legal_status(loan, on)}
    names = ["court/claim.json", "court/trail.json", "court/payments.json"]
    _write(out / "court/claim.json", claim)
    _write(out / "court/trail.json", {"loan_id": loan.loan_id, "events": [
        _record(e, show) for e in events if type(e).__name__ in TRAIL_TYPES]})
    _write(out / "court/payments.json", {"loan_id": loan.loan_id, "on": on.isoformat(), "allocation": claim["payments"],
                                         "events": [_record(e, show) for e in events if type(e).__name__ in (
                                             "PaymentReceived", "PaymentReversed", "OverpaymentRefunded")]})
    letters = _letters(container, loan, events, out)
    names += _print_batches(container, events, out)
    names += [x["file"] for x in letters if not x.get("exported")] + [x["salt"] for x in letters if x.get("salt")]
    account = documents.ACCOUNT_FILE[lang]
    (out / account).write_bytes(documents.account_pdf(lang=lang, loan_id=loan.loan_id, claim=claim, events=events,
                                                      letters=letters, head=loan.hash_head, show=show))
    names.append(account)
    policy = Policy.from_json(loan.policy)
    files = documents.T[lang]["files"]
    evidence = [(account, files[account]), ("court/claim.json", files["court/claim.json"]),
                ("court/trail.json", files["court/trail.json"]), ("court/payments.json", files["court/payments.json"])]
    evidence += [(x["file"], _letter_title(x, lang)) for x in letters]
    evidence += [(name, files[name]) for name in ("events.json", "digest.json", "manifest.json")]
    application = documents.APPLICATION_FILE[lang]
    (out / application).write_bytes(documents.application_pdf(
        lang=lang, loan_id=loan.loan_id, claim=claim, events=events,
        court=policy.administrative_court or COURT_DEFAULT[lang], organiser=_applicant(container, loan.tenant),
        borrower={**person, **_identity(container, loan)}, evidence=evidence, today=on))
    names.append(application)
    return names, {"kind": "court-package", "claim_on": on.isoformat(), "language": lang}


LETTER_TITLES = {"fi": {"reminder": "Maksumuistutus", "acceleration": "Ilmoitus luoton eräännyttämisestä",
                        "decision": "Päätöskirje", "contract": "Luottosopimus", "event": "tapahtuma"},
                 "sv": {"reminder": "Betalningspåminnelse", "acceleration": "Meddelande om förtida förfallo",
                        "decision": "Beslutsbrev", "contract": "Kreditavtal", "event": "händelse"}}


def _letter_title(letter: dict, lang: str) -> str:
    words = LETTER_TITLES[lang]
    title = words[letter.get("notice_kind") or "decision"]
    when = date_text(letter["on"])
    return f"{title} {when} ({words['event']} {letter['version']})" if letter.get("version") else f"{title} {when}"


def _print_batches(container, events: list, out: Path) -> list[str]:
    """Issue 20: the signed manifests of the print batches the loan's letters were handed over in."""
    notices = getattr(container, "notices", None)
    printers = [p for p in (getattr(notices, "adapter", None), getattr(notices, "fallback", None))
                if hasattr(p, "batch")]
    names = []
    for e in events:
        batch = getattr(e, "reference", None) if type(e).__name__ == "NoticeDeliveryRecorded" else None
        if not batch or e.channel != "letter" or f"court/print-batch-{batch}.json" in names:
            continue
        data = next((d for d in (p.batch(batch) for p in printers) if d is not None), None)
        if data is not None:
            (out / f"court/print-batch-{batch}.json").write_bytes(data)
            names.append(f"court/print-batch-{batch}.json")
    return names


def _applicant(container, tenant: str) -> dict:
    """The organiser as the applicant: name and phone, and `address` (lines) and `city` when its
    LUOTTO_TENANTS entry gives them (`organiser.address`, `organiser.city`)."""
    spec = container.settings.tenants.get(tenant, {}).get("organiser") or {}
    address = spec.get("address")
    return {**organiser(container.settings, tenant), "city": spec.get("city"),
            "address": ", ".join(address) if isinstance(address, list) else address}


def _identity(container, loan) -> dict:
    try:
        found = container.borrowers.get(loan.tenant, loan.borrower_id)
    except Exception:  # noqa: BLE001 - erased or never stored: the draft leaves the party's details blank
        return {}
    return {"identity_code": found.get("identity_code")}


def _letters(container, loan, events: list, out: Path) -> list[dict]:
    """The notices' letters (exported beside, under notices/) and the decision letters (copied here)."""
    key = container.borrowers.key(loan.tenant, loan.borrower_id)
    pdfs = getattr(getattr(container, "notices", None), "pdfs", None)
    found = []
    for e in events:
        if type(e).__name__ == "NoticeSent" and (out / f"notices/{e.content_hash}.pdf").exists():
            found.append({"kind": "notice", "notice_kind": e.kind, "version": e.originator_version, "on": e.effective_date.isoformat(),
                          "file": f"notices/{e.content_hash}.pdf", "hash": e.content_hash, "exported": True})
    hashes = []
    granted = events[0]
    if granted.decision_reference and hasattr(container.service, "case"):
        try:
            case = container.service.case(loan.tenant, granted.decision_reference)
            decision = case.decision
        except Exception:  # noqa: BLE001 - a loan granted outside the applications: no decision letter stored
            decision = None
        if decision is not None:
            hashes += [(x.hash, decision.on, None, "decision") for x in decision.letters
                       if x.borrower_id == loan.borrower_id]
        contract = getattr(case, "contract", None) if decision is not None else None
        if contract is not None:  # R-APP-7: the contract the borrower signed
            hashes += [(x.hash, contract.drawn_on, None, "contract") for x in contract.letters
                       if x.borrower_id == loan.borrower_id]
    hashes += [(e.letter_hash, e.effective_date, e.originator_version, "decision") for e in events
               if type(e).__name__ == "AppealDecided" and getattr(e, "letter_hash", None)]
    for sha, on, version, kind in hashes:
        if pdfs is None:
            break
        try:
            letter = pdfs.get(sha, key)
        except KeyError:  # erased, or never stored here
            continue
        entry = {"kind": kind, "notice_kind": kind, "version": version, "on": str(on),
                 "file": f"court/letters/{sha}.pdf", "hash": sha}
        (out / "court/letters").mkdir(parents=True, exist_ok=True)
        (out / entry["file"]).write_bytes(letter)
        if key is not None and hashlib.sha256(letter).hexdigest() != sha:
            entry["salt"] = f"court/letters/{sha}.salt"
            (out / entry["salt"]).write_text(letter_salt(key, letter).hex() + "\n")
        found.append(entry)
    # The notices' letters are already listed by the bundle itself; only new files are returned as names.
    return [x for x in found if not x.get("exported")] + [x for x in found if x.get("exported")]
