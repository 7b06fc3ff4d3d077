"""Turns LUOTTO_DATABASE_URL into the eventsourcing library's persistence settings."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from adapters.eventsourcing_internals.recorder import TOPIC as ARRAY_INSERT_RECORDER
from adapters.settings import Settings


def eventsourcing_env(settings: Settings) -> dict[str, str]:
    url = urlsplit(settings.database_url)
    cache = {"AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache_size)} if settings.aggregate_cache_size else {}
    if url.scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if url.scheme == "sqlite":
        # sqlite:///relative/file and sqlite:////absolute/file, as SQLAlchemy spells them.
        path = Path(unquote(url.path[1:]))
        path.parent.mkdir(parents=True, exist_ok=True)
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path),
                "SQLITE_LOCK_TIMEOUT": "10", "CREATE_TABLE": "n", **cache}
    if url.scheme in ("postgresql", "postgres"):
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(url.path.lstrip("/")) or "postgres",
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
            "POSTGRES_LOCK_TIMEOUT": str(settings.postgres_lock_timeout),
            # Tables are made by `Container.migrate()` under a lock, never by every replica at once.
            "CREATE_TABLE": "n",
            "APPLICATION_RECORDER_TOPIC": ARRAY_INSERT_RECORDER,
            **cache,
        }
        if settings.postgres_schema:
            env["POSTGRES_SCHEMA"] = settings.postgres_schema
        return env
    raise ValueError(f"LUOTTO_DATABASE_URL: unsupported scheme {url.scheme!r} "
                     "(use postgresql://, sqlite:///path or memory://)")
