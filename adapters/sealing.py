"""Crypto-shredding (R-DATA-2): free text and letters sealed with a key per borrower.

Each borrower has one random 256-bit key, kept only in the personal-data store
(adapters.personal_data). Free text of a decision (reasons, an appeal's appellant and grounds) is
sealed with it before the event is recorded, so events, snapshots, the outbox and evidence bundles
only ever hold ciphertext; erasing the key makes every copy unreadable at once while the hash
chain, computed over the ciphertext, still verifies. AES-256-GCM (`cryptography`): authenticated,
so a changed ciphertext fails to open rather than opening to something else.

Letters: a letter's content hash is salted with a value derived from the same key and the letter
itself, so nobody holding only the events can confirm a guessed name and address by rendering the
letter again, and once the key is erased nobody can at all.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TEXT_PREFIX = "sealed:v1:"
BLOB_MAGIC = b"LUOTTO-SEALED-1\n"
_TEXT_AAD = b"luotto/text"
_SALT_LABEL = b"luotto/letter-salt"


class Unsealable(Exception):
    """The key is gone (erased) or the sealed value was altered."""


def new_key() -> bytes:
    return os.urandom(32)


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(TEXT_PREFIX)


def seal_text(key: bytes, text: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, text.encode("utf-8"), _TEXT_AAD)
    return TEXT_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_text(key: bytes, value: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(value[len(TEXT_PREFIX):].encode("ascii"))
        return AESGCM(key).decrypt(raw[:12], raw[12:], _TEXT_AAD).decode("utf-8")
    except (InvalidTag, ValueError) as e:
        raise Unsealable(f"sealed text does not open with this key: {type(e).__name__}") from None


def seal_blob(key: bytes, data: bytes, label: str) -> bytes:
    """Bytes (a letter) sealed and bound to `label` (its content hash), so a file moved under
    another name does not open."""
    nonce = os.urandom(12)
    return BLOB_MAGIC + nonce + AESGCM(key).encrypt(nonce, data, label.encode("ascii"))


def open_blob(key: bytes, blob: bytes, label: str) -> bytes:
    if not blob.startswith(BLOB_MAGIC):
        raise Unsealable("not a sealed file")
    body = blob[len(BLOB_MAGIC):]
    try:
        return AESGCM(key).decrypt(body[:12], body[12:], label.encode("ascii"))
    except InvalidTag:
        raise Unsealable("the sealed file does not open with this key") from None


def letter_salt(key: bytes, pdf: bytes) -> bytes:
    """The salt of one letter: derived from the borrower's key and the letter, so rendering the same
    letter again gives the same hash (idempotent), and revealing one letter's salt (in an evidence
    bundle, beside that letter) reveals nothing about the key or another letter's salt."""
    salt_key = hmac.new(key, _SALT_LABEL, hashlib.sha256).digest()
    return hmac.new(salt_key, hashlib.sha256(pdf).digest(), hashlib.sha256).digest()


def salted_hash(salt: bytes, pdf: bytes) -> str:
    """The content hash a NoticeSent records: SHA-256 of the salt followed by the letter."""
    return hashlib.sha256(salt + pdf).hexdigest()
