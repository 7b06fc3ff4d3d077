"""A content-addressed store of notice PDFs on disk.

`put(pdf) -> sha256 hex` writes `<root>/<first two hex digits>/<sha256>.pdf` through a temporary
file in the same folder, fsync and an atomic rename, so a reader sees the whole file or none;
storing the same bytes again is a no-op. `get(sha256)` reads the file back and checks its hash:
a file that no longer matches its name raises `CorruptPdf`, a missing one `PdfNotFound`.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SHA256 = re.compile(r"[0-9a-f]{64}")


class PdfNotFound(KeyError):
    """No PDF with that hash is stored."""


class CorruptPdf(Exception):
    """The stored file's bytes do not hash to its name."""


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

    def get(self, sha: str) -> bytes:
        target = self.path(sha)
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            raise PdfNotFound(sha) from None
        actual = sha256_hex(data)
        if actual != sha:
            raise CorruptPdf(f"{target} hashes to {actual}, not {sha}")
        return data

    def __contains__(self, sha: str) -> bool:
        return self.path(sha).exists()


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
