"""Search bytes, files, folders, zips and database dumps for a person, in every spelling a renderer
or a store could produce (R-DATA-2's erasure test).

A needle (a name, an identity code, an address line) is looked for
- as UTF-8, UTF-16 and cp1252 bytes, in Unicode normal forms NFC, NFD, NFKC and NFKD, in its own,
  lower and upper case;
- as JSON would escape it (`\\u00e5`, either hex case) and as the letter renderer reduces it to its
  core font (adapters.notices.render._safe);
- in text: PDF text extracted with pypdf, JSON `\\uXXXX` escapes undone, PostgreSQL bytea hex
  decoded, all compared after NFC and case folding;
- inside zip archives (evidence bundles), member by member.
`find(needles, haystacks) -> [(needle, where)]`.
"""
from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from pathlib import Path

from pypdf import PdfReader

from adapters.notices.render import _safe

FORMS = ("NFC", "NFD", "NFKC", "NFKD")
_ESCAPE = re.compile(rb"\\u([0-9a-fA-F]{4})")
_BYTEA = re.compile(rb"\\\\?x([0-9a-f]{16,})")


def spellings(needle: str) -> set[bytes]:
    texts = set()
    for form in FORMS:
        base = unicodedata.normalize(form, needle)
        texts |= {base, base.lower(), base.upper(), base.casefold(), _safe(base), _safe(base).lower(),
                  _safe(base).upper()}
    out: set[bytes] = set()
    for text in texts:
        for encoding in ("utf-8", "utf-16-le", "utf-16-be", "cp1252"):
            try:
                out.add(text.encode(encoding))
            except UnicodeEncodeError:
                pass
        escaped = json.dumps(text)[1:-1]  # ensure_ascii: \u00e5
        out |= {escaped.encode(), re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(),
                                          escaped).encode()}
    return {s for s in out if s}


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _texts(data: bytes) -> list[str]:
    """Readings of `data` as text: UTF-8 (with JSON escapes undone) and, for a PDF, its extracted text."""
    out = []
    if data.startswith(b"%PDF"):
        try:
            out.append(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages))
        except Exception:  # noqa: BLE001 - an unreadable PDF still gets the byte search
            pass
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)).encode("utf-8"), data).decode("utf-8", "ignore")
    out.append(text)
    return out


def search_bytes(needles: Iterable[str], data: bytes, where: str, found: list, depth: int = 0) -> None:
    needles = list(needles)
    lowered = data.lower()
    for needle in needles:
        if any(s in data or s.lower() in lowered for s in spellings(needle)):
            found.append((needle, where))
    texts = [_folded(t) for t in _texts(data)]
    for needle in needles:
        if any(_folded(needle) in t for t in texts) and (needle, where) not in found:
            found.append((needle, where + " (as text)"))
    if depth > 2:
        return
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                search_bytes(needles, archive.read(name), f"{where}!{name}", found, depth + 1)
    for match in _BYTEA.finditer(data):  # bytea in a PostgreSQL dump: the events' JSON, hex-encoded
        if len(match.group(1)) % 2 == 0:
            search_bytes(needles, bytes.fromhex(match.group(1).decode()), f"{where} (bytea)", found, depth + 1)


def find(needles: Iterable[str], haystacks: Iterable[Path | tuple[str, bytes]]) -> list[tuple[str, str]]:
    """Every (needle, where) found in the files under each folder, each file, or each (name, bytes)."""
    found: list[tuple[str, str]] = []
    needles = list(needles)
    for haystack in haystacks:
        if isinstance(haystack, tuple):
            search_bytes(needles, haystack[1], haystack[0], found)
            continue
        paths = [haystack] if haystack.is_file() else sorted(p for p in haystack.rglob("*") if p.is_file())
        for path in paths:
            search_bytes(needles, path.read_bytes(), str(path), found)
    return found
