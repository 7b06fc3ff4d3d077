"""Ed25519 signing of daily digests. The key comes from LUOTTO_SIGNING_KEY (base64 of the 32-byte
seed) or from a file (LUOTTO_SIGNING_KEY_FILE), which is created with a new key if missing."""
from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class Signer:
    def __init__(self, key: Ed25519PrivateKey):
        self._key = key

    @classmethod
    def from_settings(cls, settings) -> "Signer":
        if settings.signing_key:
            return cls(Ed25519PrivateKey.from_private_bytes(base64.b64decode(settings.signing_key)))
        path = Path(settings.signing_key_file)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            seed = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(base64.b64encode(seed).decode() + "\n")
        return cls(Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_text().strip())))

    @property
    def public_key(self) -> str:
        raw = self._key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return raw.hex()

    def sign(self, message: bytes) -> str:
        return self._key.sign(message).hex()

    def derived_key(self, purpose: str) -> bytes:
        """A secret for another purpose (e.g. snapshot MACs), one-way from the signing key."""
        import hashlib
        import hmac

        seed = self._key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                       serialization.NoEncryption())
        return hmac.new(seed, f"luotto/{purpose}".encode(), hashlib.sha256).digest()


def verify_signature(public_key_hex: str, signature_hex: str, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
