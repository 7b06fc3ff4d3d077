"""The per-loan hash chain (R-EVID-1): SHA-256 over the previous hash and the event's canonical JSON."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

GENESIS = "0" * 64


def plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def canonical_json(payload: dict) -> str:
    """Sorted keys, no spaces, UTF-8; amounts are already decimal strings in every event."""
    return json.dumps(plain(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(previous: str, payload: dict) -> str:
    return hashlib.sha256((previous + canonical_json(payload)).encode("utf-8")).hexdigest()


def content_hash(content: dict) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()
