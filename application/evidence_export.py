"""Evidence bundles (R-EVID-3): everything a court needs about one loan, verifiable offline.

A bundle is a folder:
  events.json      every event: the exact canonical JSON its hash covers, and the hash
  decisions.json   for each decision, the balance its decision-maker saw and the balance after
  digest.json      the latest signed digest holding the loan, with the loan's inclusion proof
  report.pdf       a readable report: timeline, payments, notices, decisions with legal basis
  manifest.json    the SHA-256 of every file above, the loan and the chain head, signed (Ed25519)
                   with the key that signs the daily digests
and, only for a reader who may see personal data (R-DATA-3) and while the borrower is not erased:
  notices/<hash>.pdf    every letter sent, named by the hash its NoticeSent records
  notices/<hash>.salt   the letter's salt (hex), so that SHA-256(salt || letter) can be checked
  personal.json         the sealed free text of the events, opened: {version: {field: text}}
Events hold free text only sealed (R-DATA-2), so the chain verifies the same with or without these.
`verify_bundle(path)` checks it all with no database: `luotto verify-evidence PATH` takes the folder
or the zip the API serves. It reads only the bundle's own files (the names above, inside the folder
or the zip, regular files of bounded size) and refuses a bundle holding any other file, a manifest
that names any other path, or a manifest whose signature does not verify.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import stat
import tempfile
import zipfile
from pathlib import Path

from adapters.sealing import is_sealed, letter_salt
from adapters.court.texts import sentence
from adapters.notices.printfolder import verify_batch
from adapters.signing import verify_signature
from application import digest as digests
from application.replay import replay
from domain import merkle
from domain.evidence import GENESIS, canonical_json, chain_hash, event_payload

FILES = ("events.json", "decisions.json", "digest.json", "report.pdf")
MANIFEST = "manifest.json"
NOTICE = re.compile(r"^notices/[0-9a-f]{64}\.(pdf|salt)$")
# A court package (application.court_package) adds its documents and the decision letters under court/.
COURT = re.compile(r"^court/([a-z0-9-]+\.(json|pdf)|letters/[0-9a-f]{64}\.(pdf|salt))$")
PERSONAL = "personal.json"
MAX_FILE_BYTES = 64 * 1024 * 1024  # far above a bundle's largest file (the report of a long history)
MAX_BUNDLE_BYTES = 512 * 1024 * 1024
MAX_FILES = 10_000


def is_bundle_file(name: str) -> bool:
    return name in FILES or name in (MANIFEST, PERSONAL) or bool(NOTICE.match(name)) or bool(COURT.match(name))


def signed_part(manifest: dict) -> bytes:
    """What the manifest's signature covers: every field but the signature itself."""
    return canonical_json({k: v for k, v in manifest.items() if k != "signature"}).encode()


def export(container, tenant: str, loan_id: str, out: Path, *, personal_data: bool = False,
           extra=None) -> dict:
    """`personal_data`: the reader may see the borrower's personal data (letters, free text).
    `extra(out, loan, events, show) -> (names, manifest fields)` writes further files (a court package's)
    before the manifest is signed, so the signature covers them too."""
    service = container.service
    loan = service.loan(tenant, loan_id)
    events = list(service.events.get(loan.id))
    show = service.sealer.opener(tenant, loan.borrower_id, may_read=personal_data) if service.sealer else None
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
    (out / "report.pdf").write_bytes(report_pdf(loan_id, events, decisions, story["balance"], show))
    names = list(FILES)
    if personal_data:
        names += _personal(container, loan, events, show, out)
    more: dict = {}
    if extra is not None:
        added, more = extra(out, loan, events, show)
        names += added
    manifest = {"loan_id": loan_id, "tenant": tenant, "loan_uuid": str(loan.id), "chain_head": loan.hash_head,
                "version": loan.version, "exported_at": service.clock().isoformat(),
                "files": {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in names},
                "public_key": container.signer.public_key, **more}
    # Signed, so that rewriting events.json and the manifest together (dropping the last events)
    # no longer verifies.
    manifest["signature"] = container.signer.sign(signed_part(manifest))
    _write(out / MANIFEST, manifest)
    return manifest


def safe_name(loan_id: str) -> str:
    """The loan id as a file or folder name: nothing that could climb directories or need quoting."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", loan_id).lstrip(".") or "loan"


def _personal(container, loan, events: list, show, out: Path) -> list[str]:
    """The letters (opened) and the opened free text; nothing once the borrower is erased."""
    names: list[str] = []
    key = container.borrowers.key(loan.tenant, loan.borrower_id)
    pdfs = getattr(getattr(container, "notices", None), "pdfs", None)
    for event in events:
        if type(event).__name__ != "NoticeSent" or pdfs is None or event.content_hash not in pdfs:
            continue
        try:
            letter = pdfs.get(event.content_hash, key)
        except KeyError:  # sealed and the key is gone: erased
            continue
        (out / "notices").mkdir(exist_ok=True)
        (out / "notices" / f"{event.content_hash}.pdf").write_bytes(letter)
        names.append(f"notices/{event.content_hash}.pdf")
        if key is not None and hashlib.sha256(letter).hexdigest() != event.content_hash:
            (out / "notices" / f"{event.content_hash}.salt").write_text(letter_salt(key, letter).hex() + "\n")
            names.append(f"notices/{event.content_hash}.salt")
    if key is not None and show is not None:
        texts = {str(e.originator_version): {k: show(v) for k, v in vars(e).items() if is_sealed(v)}
                 for e in events}
        _write(out / PERSONAL, {k: v for k, v in texts.items() if v})
        names.append(PERSONAL)
    return names


def export_zip(container, tenant: str, loan_id: str, *, personal_data: bool = False, build=None) -> bytes:
    """The same bundle as one zip file (one folder evidence-<loan>/ in it), for the HTTP API.
    `build(folder)` writes another kind of bundle into the folder instead (a court package)."""
    with tempfile.TemporaryDirectory() as folder:
        if build is not None:
            build(Path(folder))
        else:
            export(container, tenant, loan_id, Path(folder), personal_data=personal_data)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(Path(folder).rglob("*")):
                if path.is_file():
                    z.write(path, f"evidence-{safe_name(loan_id)}/{path.relative_to(folder).as_posix()}")
        return buffer.getvalue()


class BundleError(Exception):
    """The path is not a bundle that can be read safely."""


def read_bundle(path: Path) -> tuple[dict[str, bytes], list[str]]:
    """(the bundle's own files by name, the names of anything else found): from a folder or a zip.
    Nothing outside the bundle is opened: no symbolic link is followed, no device or pipe read, no
    zip entry with an absolute path or '..' extracted, and no file read beyond MAX_FILE_BYTES."""
    info = os.stat(path, follow_symlinks=False)
    if stat.S_ISDIR(info.st_mode):
        return _read_folder(path)
    if stat.S_ISREG(info.st_mode) and zipfile.is_zipfile(path):
        return _read_zip(path)
    raise BundleError(f"{path} is neither a bundle folder nor a zip file")


def _read_folder(root: Path) -> tuple[dict[str, bytes], list[str]]:
    files, others, total = {}, [], 0
    for folder, dirs, names in os.walk(root):  # does not descend into linked folders
        for name in sorted(names) + sorted(d for d in dirs if (Path(folder) / d).is_symlink()):
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            info = os.stat(path, follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or not is_bundle_file(relative):
                others.append(relative)
                continue
            if info.st_size > MAX_FILE_BYTES or total + info.st_size > MAX_BUNDLE_BYTES:
                raise BundleError(f"{relative} is larger than a bundle file can be")
            with open(path, "rb") as f:
                files[relative] = f.read(MAX_FILE_BYTES + 1)
            total += len(files[relative])
    return files, others


def _read_zip(path: Path) -> tuple[dict[str, bytes], list[str]]:
    files, others, total = {}, [], 0
    with zipfile.ZipFile(path) as z:
        entries = [e for e in z.infolist() if not e.is_dir()]
        if len(entries) > MAX_FILES:
            raise BundleError(f"the zip holds {len(entries)} files, more than a bundle can")
        # The API's zip holds one folder evidence-<loan>/; a zip of the bundle's files themselves is fine too.
        tops = {e.filename.split("/", 1)[0] for e in entries}
        prefix = f"{tops.pop()}/" if len(tops) == 1 and all("/" in e.filename for e in entries) else ""
        for entry in entries:
            name = entry.filename[len(prefix):]
            if not is_bundle_file(name) or "\\" in entry.filename:
                others.append(entry.filename)
                continue
            if entry.file_size > MAX_FILE_BYTES or total + entry.file_size > MAX_BUNDLE_BYTES:
                raise BundleError(f"{entry.filename} is larger than a bundle file can be")
            with z.open(entry) as f:
                files[name] = f.read(MAX_FILE_BYTES + 1)
            total += len(files[name])
    return files, others


def _write(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def verify_bundle(path: Path, public_key: str | None = None) -> list[str]:
    """Problems found in a bundle folder or zip (empty: it verifies). Needs no database.
    `public_key` (hex): the organiser's published digest key the manifest must be signed with."""
    try:
        files, others = read_bundle(Path(path))
    except (BundleError, OSError, zipfile.BadZipFile) as e:
        return [f"the bundle cannot be read: {e}"]
    problems = [f"{name} is not a file of an evidence bundle (refused, not read)" for name in others]
    try:
        manifest = json.loads(files[MANIFEST].decode("utf-8"))
        listed = dict(manifest["files"])
    except (KeyError, ValueError, TypeError, UnicodeDecodeError) as e:
        return problems + [f"manifest.json cannot be read: {type(e).__name__}: {e}"]
    key = manifest.get("public_key")
    if not isinstance(manifest.get("signature"), str) or not isinstance(key, str) or \
            not verify_signature(key, manifest["signature"], signed_part(manifest)):
        problems.append("the manifest's signature does not verify")
    elif public_key is not None and key != public_key:
        problems.append(f"the manifest is signed by key {key}, not by the expected key {public_key}")
    for name, expected in listed.items():
        if not is_bundle_file(name) or name == MANIFEST:
            problems.append(f"the manifest names {name!r}, which is not a file of an evidence bundle (not opened)")
        elif name not in files or hashlib.sha256(files[name]).hexdigest() != expected:
            problems.append(f"{name} is missing or differs from the manifest")
    for name in files:
        if name != MANIFEST and name not in listed:
            problems.append(f"{name} is in the bundle but not in the manifest")
    try:
        problems += _verify_content(files, manifest, key)
    except (KeyError, ValueError, TypeError, IndexError, UnicodeDecodeError) as e:
        problems.append(f"the bundle's content cannot be read: {type(e).__name__}: {e}")
    return problems


def _verify_content(files: dict[str, bytes], manifest: dict, key: str | None) -> list[str]:
    problems: list[str] = []
    events = json.loads(files["events.json"].decode("utf-8"))["events"]
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
    for name in manifest["files"]:
        if name.startswith("court/print-batch-") and name in files:
            # Signed with the same key as the manifest: what was handed to the printing service, and when;
            # it must name a letter of this loan (by the hash its NoticeSent records).
            problems += verify_batch(files[name], key)
            sent = {json.loads(r["payload"]).get("content_hash") for r in events if r["type"] == "NoticeSent"}
            try:
                listed = {x.get("letter_hash") for x in json.loads(files[name]).get("letters", [])}
            except (ValueError, AttributeError, TypeError):
                listed = set()
            if not sent & listed:
                problems.append(f"{name} names no letter of this loan")
        letter = re.match(r"^court/letters/([0-9a-f]{64})\.pdf$", name)
        if letter and name in files:
            salt = files.get(f"court/letters/{letter.group(1)}.salt")
            salt = bytes.fromhex(salt.decode("ascii").strip()) if salt else b""
            if hashlib.sha256(salt + files[name]).hexdigest() != letter.group(1):
                problems.append(f"{name}: the letter differs from the one the decision recorded")
    for record in events:
        payload = json.loads(record["payload"])
        name = f"notices/{payload.get('content_hash')}.pdf"
        if record["type"] == "NoticeSent" and name in manifest["files"] and name in files:
            # A letter stored sealed is named by its salted hash (R-DATA-2); its salt comes with it.
            salt = files.get(f"notices/{payload['content_hash']}.salt")
            salt = bytes.fromhex(salt.decode("ascii").strip()) if salt else b""
            if hashlib.sha256(salt + files[name]).hexdigest() != payload["content_hash"]:
                problems.append(f"notice of version {record['version']}: the letter differs from what was sent")
    digest = json.loads(files["digest.json"].decode("utf-8"))
    if digest is None:
        problems.append("no signed digest held this loan when the bundle was made")
        return problems
    if not verify_signature(digest["public_key"], digest["signature"], digests.signed_part(digest)):
        problems.append("the digest's signature does not verify")
    if key is not None and digest["public_key"] != key:
        problems.append("the digest and the manifest are signed by different keys")
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


def report_pdf(loan_id: str, events: list, decisions: list[dict], balance: dict, show=None) -> bytes:
    """A readable account of the loan for a court or an appeal board (Latin-1 core fonts); sealed
    free text as `show` gives it (opened, or a marker for a reader who may not see it)."""
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
        # Told as a sentence (issue 20: no raw JSON, no escaped characters); events.json has the data.
        pdf.multi_cell(0, 4.5, _latin1(f"{e.originator_version:>3}  {e.effective_date}  {type(e).__name__}  "
                                       f"(recorded {e.timestamp:%Y-%m-%d %H:%M} UTC)  {sentence(e, 'fi', show)}"),
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
