"""Paper letters: a folder a printing and enveloping service collects from (channel "letter").

`PrintFolderAdapter(root).deliver(notice)` writes `<root>/<message_id>.json` and then
`<root>/<message_id>.pdf`, each through a temporary file and an atomic rename, the PDF last so that a
collector that picks up `*.pdf` always finds its sidecar. The sidecar carries only what printing
needs (R-DATA-1): the message id to report back with, the sending organiser and the file; the
address is printed in the letter's envelope window, and nothing else about the borrower (no
identity code, no loan) is the printing service's to know. `remove(message_id)` takes a letter
back out of the folder (erasure of a borrower whose letter was not collected yet).
Delivering the same message again finds the same files and writes nothing (idempotent by
message id); the same message id with different PDF bytes is refused. Outcome: "sent_for_printing".

Signed batch manifests (issue 20): the letters handed over in one delivery pass are listed in
`<root>-batches/<batch>.json` (beside the folder, which the printing service empties) by
`seal_batch(signer, at)`: each letter's message id, file and the hash its NoticeSent records (the salted SHA-256 of a sealed letter), the instant, and an Ed25519 signature over it all with the organiser's
digest key. The printing service signs for the batch on its side; our manifest proves what we handed
over and when, and the court package carries it beside the letter (`verify_batch`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path

from adapters.notices.outbox import Delivery, OutboundNotice
from adapters.notices.store import write_atomically

_MESSAGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class PrintFolderConflict(Exception):
    """A different PDF is already in the folder under the same message id."""


class PrintFolderAdapter:
    channel = "letter"

    def __init__(self, root: str | os.PathLike[str], batches: str | os.PathLike[str] | None = None):
        self.root = Path(root)
        # The manifests stay with us, beside the folder the printing service empties (not in it).
        self.batches = Path(batches) if batches is not None else self.root.with_name(self.root.name + "-batches")
        self.writes = 0  # files actually written (not found already in place)
        self.handed: list[dict] = []  # letters delivered since the last sealed batch

    def paths(self, message_id: str) -> tuple[Path, Path]:
        if not _MESSAGE_ID.fullmatch(message_id) or ".." in message_id:
            raise ValueError(f"unsafe message id for a file name: {message_id!r}")
        return self.root / f"{message_id}.pdf", self.root / f"{message_id}.json"

    def deliver(self, notice: OutboundNotice) -> Delivery:
        pdf_path, json_path = self.paths(notice.message_id)
        sidecar = json.dumps({"message_id": notice.message_id, "tenant": notice.tenant, "pdf": pdf_path.name},
                             ensure_ascii=False, sort_keys=True, indent=2).encode("utf-8") + b"\n"
        if pdf_path.exists():
            if hashlib.sha256(pdf_path.read_bytes()).hexdigest() != hashlib.sha256(notice.pdf).hexdigest():
                raise PrintFolderConflict(f"{pdf_path} holds a different PDF for message {notice.message_id}")
            if not json_path.exists():
                self._write(json_path, sidecar)
            self._hand(notice, pdf_path)  # a re-send after a crash: listed in this pass's batch
            return Delivery("sent_for_printing", reference=pdf_path.name)
        self.root.mkdir(parents=True, exist_ok=True)
        if not (json_path.exists() and json_path.read_bytes() == sidecar):
            self._write(json_path, sidecar)
        self._write(pdf_path, notice.pdf)
        self._hand(notice, pdf_path)
        return Delivery("sent_for_printing", reference=pdf_path.name)

    def _hand(self, notice: OutboundNotice, pdf_path: Path) -> None:
        self.handed = [x for x in self.handed if x["message_id"] != notice.message_id] + [
            {"message_id": notice.message_id, "tenant": notice.tenant, "pdf": pdf_path.name,
             # The hash the NoticeSent records (salted for a sealed letter, R-DATA-2): no plain hash of
             # the letter outlives an erasure here.
             "letter_hash": notice.sha256}]

    def seal_batch(self, signer, at: dt.datetime) -> dict[str, str]:
        """Write the signed manifest of the letters handed over since the last batch; {message_id: batch}."""
        if not self.handed:
            return {}
        letters = sorted(self.handed, key=lambda x: x["message_id"])
        digest = hashlib.sha256(json.dumps(letters, sort_keys=True).encode()).hexdigest()[:12]
        batch = f"{at.astimezone(dt.timezone.utc):%Y%m%dt%H%M%S}-{digest}"
        manifest = {"batch": batch, "handed_over_at": at.astimezone(dt.timezone.utc).isoformat(),
                    "channel": self.channel, "letters": letters, "public_key": signer.public_key}
        manifest["signature"] = signer.sign(batch_signed_part(manifest))
        self.batches.mkdir(parents=True, exist_ok=True)
        write_atomically(self.batches / f"{batch}.json",
                         json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8") + b"\n")
        self.handed = []
        return {x["message_id"]: batch for x in letters}

    def batch(self, batch: str) -> bytes | None:
        if not re.fullmatch(r"[0-9]{8}t[0-9]{6}-[0-9a-f]{12}", batch):
            return None
        path = self.batches / f"{batch}.json"
        return path.read_bytes() if path.exists() else None

    def remove(self, message_id: str) -> bool:
        removed = False
        for path in self.paths(message_id):
            try:
                path.unlink()
                removed = True
            except FileNotFoundError:
                pass
        return removed

    def _write(self, target: Path, data: bytes) -> None:
        write_atomically(target, data)
        self.writes += 1


def batch_signed_part(manifest: dict) -> bytes:
    return json.dumps({k: v for k, v in manifest.items() if k != "signature"}, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def verify_batch(data: bytes, public_key: str | None = None) -> list[str]:
    """Problems with a batch manifest (empty: its signature verifies, by `public_key` when given)."""
    from adapters.signing import verify_signature

    try:
        manifest = json.loads(data.decode("utf-8"))
        ok = verify_signature(manifest["public_key"], manifest["signature"], batch_signed_part(manifest))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        return [f"the print batch manifest cannot be read: {type(e).__name__}"]
    problems = [] if ok else [f"print batch {manifest.get('batch')}: the signature does not verify"]
    if public_key is not None and manifest.get("public_key") != public_key:
        problems.append(f"print batch {manifest.get('batch')}: signed by another key")
    return problems
