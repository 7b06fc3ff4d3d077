"""Evidence bundles (R-EVID-3): everything a court needs about one loan, verifiable offline.

A bundle is a folder:
  events.json      every event: the exact canonical JSON its hash covers, and the hash
  decisions.json   for each decision, the balance its decision-maker saw and the balance after
  digest.json      the latest signed digest holding the loan, with the loan's inclusion proof
  report.pdf       a readable report: timeline, payments, notices, decisions with legal basis
  notices/<sha256>.pdf  every letter sent, named by the hash its NoticeSent records
  manifest.json    the SHA-256 of every file above, the loan and the chain head
`verify_bundle(folder)` checks it all with no database: `luotto verify-evidence DIR`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import tempfile
import zipfile
from pathlib import Path

from adapters.signing import verify_signature
from application import digest as digests
from application.replay import replay
from domain import merkle
from domain.evidence import GENESIS, canonical_json, chain_hash, event_payload, plain

FILES = ("events.json", "decisions.json", "digest.json", "report.pdf")


def export(container, tenant: str, loan_id: str, out: Path) -> dict:
    service = container.service
    loan = service.loan(tenant, loan_id)
    events = list(service.events.get(loan.id))
    records = [{"version": e.originator_version, "type": type(e).__name__, "hash": e.hash,
                "payload": canonical_json(event_payload(e))} for e in events]
    today = container.today()
    story = replay(service, tenant, loan_id, today, None)
    decisions = []
    for d in story["decisions"]:
        after = service.loan(tenant, loan_id, version=d["version"]).books(service.rates)
        decisions.append({**d, "state_after": after.balance(dt.date.fromisoformat(d["effective_date"]))})
    found = digests.latest(container, tenant, with_leaves=True)
    proof = digests.inclusion(found, str(loan.id)) if found else None
    digest_doc = None
    if found:
        digest_doc = {k: v for k, v in found.items() if k != "leaves"}
        digest_doc["inclusion"] = proof
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "events.json", {"loan_id": loan_id, "tenant": tenant, "loan_uuid": str(loan.id), "events": records})
    _write(out / "decisions.json", {"loan_id": loan_id, "balance_today": story["balance"], "decisions": decisions})
    _write(out / "digest.json", digest_doc)
    (out / "report.pdf").write_bytes(report_pdf(loan_id, events, decisions, story["balance"]))
    names = list(FILES)
    pdfs = getattr(getattr(container, "notices", None), "pdfs", None)
    for event in events:
        if type(event).__name__ == "NoticeSent" and pdfs is not None and event.content_hash in pdfs:
            (out / "notices").mkdir(exist_ok=True)
            (out / "notices" / f"{event.content_hash}.pdf").write_bytes(pdfs.get(event.content_hash))
            names.append(f"notices/{event.content_hash}.pdf")
    manifest = {"loan_id": loan_id, "tenant": tenant, "loan_uuid": str(loan.id), "chain_head": loan.hash_head,
                "version": loan.version, "exported_at": service.clock().isoformat(),
                "files": {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in names}}
    _write(out / "manifest.json", manifest)
    return manifest


def export_zip(container, tenant: str, loan_id: str) -> bytes:
    """The same bundle as one zip file, for the HTTP API."""
    with tempfile.TemporaryDirectory() as folder:
        export(container, tenant, loan_id, Path(folder))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(Path(folder).rglob("*")):
                if path.is_file():
                    z.write(path, f"evidence-{loan_id}/{path.relative_to(folder)}")
        return buffer.getvalue()


def _write(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def verify_bundle(folder: Path) -> list[str]:
    """Problems found in a bundle (empty: it verifies). Needs no database."""
    problems: list[str] = []
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return [f"manifest.json cannot be read: {e}"]
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            problems.append(f"{name} is missing or differs from the manifest")
    events = json.loads((folder / "events.json").read_text(encoding="utf-8"))["events"]
    head = GENESIS
    for expected_version, record in enumerate(events, 1):
        payload = json.loads(record["payload"])
        if record["version"] != expected_version or payload["version"] != expected_version:
            problems.append(f"event version {expected_version} is missing")
            break
        if canonical_json(payload) != record["payload"] or chain_hash(head, payload) != record["hash"]:
            problems.append(f"event version {expected_version}: hash does not match its content")
            break
        head = record["hash"]
    if head != manifest["chain_head"]:
        problems.append("the chain head of the events differs from the manifest's")
    for record in events:
        payload = json.loads(record["payload"])
        if record["type"] == "NoticeSent" and f"notices/{payload['content_hash']}.pdf" in manifest["files"]:
            letter = folder / "notices" / f"{payload['content_hash']}.pdf"
            if hashlib.sha256(letter.read_bytes()).hexdigest() != payload["content_hash"]:
                problems.append(f"notice of version {record['version']}: the letter differs from what was sent")
    digest = json.loads((folder / "digest.json").read_text(encoding="utf-8"))
    if digest is None:
        problems.append("no signed digest held this loan when the bundle was made")
    else:
        if not verify_signature(digest["public_key"], digest["signature"], digests.signed_part(digest)):
            problems.append("the digest's signature does not verify")
        inc = digest.get("inclusion")
        if inc is None or inc["leaf"][0] != manifest["loan_uuid"]:
            problems.append("the digest holds no inclusion proof for this loan")
        else:
            loan, version, leaf_head = inc["leaf"]
            if not merkle.verify_proof(merkle.leaf_hash(loan, version, leaf_head), inc["path"], digest["root"]):
                problems.append("the inclusion proof does not lead to the digest's root")
            elif version > len(events) or events[version - 1]["hash"] != leaf_head:
                problems.append("the digest's head for this loan is not in the exported chain")
    return problems


def report_pdf(loan_id: str, events: list, decisions: list[dict], balance: dict) -> bytes:
    """A readable account of the loan for a court or an appeal board (Latin-1 core fonts)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(events[0].timestamp)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 10, _latin1(f"Evidence report: social credit loan {loan_id}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.multi_cell(0, 5, _latin1(
        f"Status {balance['status']} on {balance['as_of']}: principal outstanding {balance['principal_outstanding']} EUR, "
        f"overdue {balance['overdue_amount']} EUR, interest due {balance['interest_due']} EUR and accrued "
        f"{balance['interest_accrued']} EUR, penalty interest {balance['penalty_interest_outstanding']} EUR, "
        f"payoff {balance['payoff_amount']} EUR. "
        f"Chain head {events[-1].hash}."), new_x="LMARGIN", new_y="NEXT")
    _section(pdf, "Timeline (every recorded event)")
    for e in events:
        details = {k: v for k, v in plain(event_payload(e)).items()
                   if k not in ("type", "loan", "version", "recorded_at", "effective_date", "policy", "instalments")}
        pdf.multi_cell(0, 4.5, _latin1(f"{e.originator_version:>3}  {e.effective_date}  {type(e).__name__}  "
                                       f"(recorded {e.timestamp:%Y-%m-%d %H:%M} UTC)  {json.dumps(details)[:300]}"),
                       new_x="LMARGIN", new_y="NEXT")
    _section(pdf, "Decisions, with the legal basis and the state the decision-maker saw")
    for d in decisions:
        seen = d["state_seen"] or {}
        pdf.multi_cell(0, 4.5, _latin1(
            f"{d['effective_date']} {d['type']} by {d['decided_by']} ({d['legal_basis']}): before it, status "
            f"{seen.get('status', '-')}, overdue {seen.get('overdue_amount', '-')} EUR; after it, status "
            f"{d['state_after']['status']}, overdue {d['state_after']['overdue_amount']} EUR."),
            new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _section(pdf, title: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)


def _latin1(text: str) -> str:
    return text.replace("—", "-").replace("−", "-").encode("latin-1", "replace").decode("latin-1")
