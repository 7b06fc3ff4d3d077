"""A content-addressed store of notice PDFs on disk.

`put(pdf) -> sha256 hex` writes `<root>/<first two hex digits>/<sha256>.pdf` through a temporary
file in the same folder, fsync and an atomic rename, so a reader sees the whole file or none;
storing the same bytes again is a no-op. `get(sha256)` reads the file back and checks its hash:
a file that no longer matches its name raises `CorruptPdf`, a missing one `PdfNotFound`.

Letters to borrowers are stored sealed (R-DATA-2): `put_sealed(pdf, key)` names the file by the
letter's salted hash (adapters.sealing.letter_salt) and writes `<hash>.sealed`, the letter encrypted
with the borrower's key; `get(hash, key)` opens and checks it. Without the key (erased) the file is
noise and its name confirms nothing. Plain `<sha256>.pdf` files are letters stored before that.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from adapters.sealing import Unsealable, letter_salt, open_blob, salted_hash, seal_blob

_SHA256 = re.compile(r"[0-9a-f]{64}")


class PdfNotFound(KeyError):
    """No PDF with that hash is stored."""


class CorruptPdf(Exception):
    """The stored file's bytes do not hash to its name."""


class PdfSealed(PdfNotFound):
    """The letter is stored sealed and no key (or the wrong one) was given: erased, or not ours."""


def write_atomically(target: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder, fsync, then rename: all or nothing."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem[:16]}-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class PdfStore:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def path(self, sha: str) -> Path:
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise ValueError(f"not a lower-case sha256 hex digest: {sha!r}")
        return self.root / sha[:2] / f"{sha}.pdf"

    def put(self, pdf: bytes) -> str:
        if not isinstance(pdf, (bytes, bytearray)):
            raise TypeError("pdf must be bytes")
        data = bytes(pdf)
        sha = sha256_hex(data)
        target = self.path(sha)
        if target.exists():
            try:
                if sha256_hex(target.read_bytes()) == sha:
                    return sha  # already stored: idempotent
            except OSError:
                pass  # unreadable: write it again below
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, data)  # a concurrent writer of the same bytes is harmless
        _fsync_dir(target.parent)
        return sha

    def sealed_path(self, sha: str) -> Path:
        return self.path(sha).with_suffix(".sealed")

    def put_sealed(self, pdf: bytes, key: bytes) -> str:
        """Store a letter sealed with the borrower's key; returns its salted content hash."""
        data = bytes(pdf)
        sha = salted_hash(letter_salt(key, data), data)
        target = self.sealed_path(sha)
        if target.exists():
            try:
                if self._open(target, sha, key) == data:
                    return sha
            except (OSError, Unsealable, CorruptPdf):
                pass  # unreadable or damaged: write it again below
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, seal_blob(key, data, sha))
        _fsync_dir(target.parent)
        return sha

    def get(self, sha: str, key: bytes | None = None) -> bytes:
        target = self.path(sha)
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            sealed = self.sealed_path(sha)
            if not sealed.exists():
                raise PdfNotFound(sha) from None
            if key is None:
                raise PdfSealed(sha) from None
            try:
                return self._open(sealed, sha, key)
            except Unsealable:
                raise PdfSealed(sha) from None
        actual = sha256_hex(data)
        if actual != sha:
            raise CorruptPdf(f"{target} hashes to {actual}, not {sha}")
        return data

    @staticmethod
    def _open(path: Path, sha: str, key: bytes) -> bytes:
        data = open_blob(key, path.read_bytes(), sha)
        if salted_hash(letter_salt(key, data), data) != sha:
            raise CorruptPdf(f"{path} does not hold the letter its name records")
        return data

    def delete(self, sha: str) -> bool:
        """Remove a letter (sealed or plain); True if there was one. Used by erasure."""
        removed = False
        for target in (self.path(sha), self.sealed_path(sha)):
            try:
                target.unlink()
                removed = True
            except FileNotFoundError:
                pass
        return removed

    def __contains__(self, sha: str) -> bool:
        return self.path(sha).exists() or self.sealed_path(sha).exists()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
