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


# Fields every stored event has that are not part of its own content.
_FRAME = ("originator_id", "originator_version", "timestamp", "originator_topic", "hash", "effective_date")


def event_payload(event) -> dict:
    """What the chain hash of a stored loan event covers (the same dict Loan._record hashed)."""
    fields = {k: v for k, v in vars(event).items() if k not in _FRAME}
    return {"type": type(event).__name__, "loan": str(event.originator_id), "version": event.originator_version,
            "effective_date": event.effective_date, "recorded_at": event.timestamp, **fields}


class ChainCheck:
    """Follows one loan's events in order and remembers the first broken link (R-EVID-2).

    Catches an altered event (its hash no longer matches its content), a removed or reordered
    event (versions must run 1, 2, 3, …) and a hash recomputed after an alteration (the next
    event's hash then no longer follows from it).
    """

    def __init__(self) -> None:
        self.head, self.expected, self.broken = GENESIS, 1, None

    def feed(self, event) -> None:
        if self.broken is not None:
            return
        if event.originator_version != self.expected:
            self.broken = (self.expected, f"version {self.expected} is missing (found {event.originator_version})")
        elif chain_hash(self.head, event_payload(event)) != event.hash:
            self.broken = (self.expected, "hash does not match the event's content and the previous hash")
        else:
            self.head, self.expected = event.hash, self.expected + 1


def verify_chain(events) -> tuple[int, str] | None:
    """The first broken link of one loan's chain as (version, reason), or None."""
    check = ChainCheck()
    for event in events:
        check.feed(event)
    return check.broken
