"""Items set aside after a failure, so that one loan or one organiser never stops the others.

When the read models, the notice outbox, a digest or a servicing run fails on one item (a loan,
a notice, an organiser's digest or run), the item is recorded here with its error and the work
goes on with the rest. Each kind retries its items (the read model and the outbox every
LUOTTO_RETRY_SECONDS, servicing and digests at the next run) and clears an item once it succeeds.
Every set-aside item is logged, counted in the metrics and listed by /readyz.

One table beside the read models (`luotto_set_aside`, made with them: adapters/sql_store.py), so every process of a deployment (API,
projection worker, scheduler) sees the same list. Texts are stored escaped: the failing value may
itself be what the database refused (a NUL byte in PostgreSQL text).
"""
from __future__ import annotations

import datetime as dt
import unicodedata

import structlog

from adapters.metrics import ITEMS_SET_ASIDE, ITEM_FAILURES
from adapters.sql_store import SqlStore

log = structlog.get_logger("luotto.set_aside")
KINDS = ("read_model", "outbox", "digest", "servicing")
ERROR_CHARS = 500


def clean(text: object, limit: int = 200) -> str:
    """Printable text for a log, a row and /readyz: controls and surrogates become \\x.. escapes."""
    out = []
    for ch in str(text):
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp"):
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    joined = "".join(out)
    return joined if len(joined) <= limit else joined[:limit - 1] + "…"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


class SetAside:
    def __init__(self, store: SqlStore):
        self.store = store

    def record(self, kind: str, ref: str, *, tenant: str | None, item: str, error: BaseException | str) -> None:
        """Set an item aside (again): its error, when it first and last failed, how often."""
        text = clean(f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else error, ERROR_CHARS)
        row = {"kind": kind, "ref": clean(ref), "tenant": clean(tenant or "-"), "item": clean(item), "error": text,
               "now": _now()}
        ITEM_FAILURES.labels(kind).inc()
        log.error("item_set_aside", kind=kind, tenant=row["tenant"], item=row["item"], error=text)
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO luotto_set_aside (kind, ref, tenant, item, error, first_failed, last_failed, "
                       "attempts) VALUES (:kind, :ref, :tenant, :item, :error, :now, :now, 1) "
                       "ON CONFLICT (kind, ref) DO UPDATE SET error = excluded.error, "
                       "last_failed = excluded.last_failed, attempts = luotto_set_aside.attempts + 1", row)
        self._gauge()

    def clear(self, kind: str, ref: str) -> bool:
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM luotto_set_aside WHERE kind = :kind AND ref = :ref",
                       {"kind": kind, "ref": clean(ref)})
            gone = tx.cursor.rowcount == 1
        if gone:
            log.info("item_recovered", kind=kind, ref=clean(ref))
            self._gauge()
        return gone

    def clear_kind(self, kind: str) -> None:
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM luotto_set_aside WHERE kind = :kind", {"kind": kind})
        self._gauge()

    def due(self, kind: str, *, older_than_seconds: float = 0.0, tenant: str | None = None,
            limit: int = 100) -> list[dict]:
        """Items of `kind` that last failed at least `older_than_seconds` ago: the ones to retry now."""
        before = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=older_than_seconds)).isoformat()
        where = "kind = :kind AND last_failed <= :before" + (" AND tenant = :tenant" if tenant else "")
        with self.store.transaction() as tx:
            return tx.execute(f"SELECT * FROM luotto_set_aside WHERE {where} ORDER BY last_failed LIMIT :limit",
                              {"kind": kind, "before": before, "tenant": tenant, "limit": limit}).all()

    def summary(self, limit: int = 20) -> dict:
        """For /readyz: how many items are set aside, by kind, and the oldest few."""
        with self.store.transaction() as tx:
            counts = tx.execute("SELECT kind, COUNT(*) AS n FROM luotto_set_aside GROUP BY kind").all()
            items = tx.execute("SELECT kind, tenant, item, error, first_failed, last_failed, attempts FROM "
                               "luotto_set_aside ORDER BY first_failed LIMIT :limit", {"limit": limit}).all()
        by_kind = {kind: 0 for kind in KINDS} | {r["kind"]: r["n"] for r in counts}
        for kind, n in by_kind.items():
            ITEMS_SET_ASIDE.labels(kind).set(n)
        return {"count": sum(by_kind.values()), "by_kind": by_kind, "items": items}

    def _gauge(self) -> None:
        try:
            self.summary(limit=0)
        except Exception:  # noqa: BLE001 - the gauge is refreshed again by /metrics and /readyz
            pass
