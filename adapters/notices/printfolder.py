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
"""
from __future__ import annotations

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

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self.writes = 0  # files actually written (not found already in place)

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
            return Delivery("sent_for_printing", reference=pdf_path.name)
        self.root.mkdir(parents=True, exist_ok=True)
        if not (json_path.exists() and json_path.read_bytes() == sidecar):
            self._write(json_path, sidecar)
        self._write(pdf_path, notice.pdf)
        return Delivery("sent_for_printing", reference=pdf_path.name)

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
