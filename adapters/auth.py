"""Who is calling: OAuth2 bearer JWTs from the organiser's OIDC provider for people, API keys
(stored as SHA-256 hashes) for systems. Both name one organiser (tenant) and one or more roles."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlparse

import httpx
import jwt

ROLES = ("caseworker", "decision_maker", "finance", "payment_system", "auditor", "admin", "legal")

# Which roles hold each permission. Which permission each route needs: api/access.py (README
# "Access control" shows both as one table).
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({"caseworker", "decision_maker", "finance", "auditor", "legal"}),
    "hardship": frozenset({"caseworker", "decision_maker"}),
    "acceleration_notice": frozenset({"caseworker", "decision_maker"}),
    "decision": frozenset({"decision_maker"}),
    "appeal": frozenset({"caseworker", "decision_maker"}),
    "payment": frozenset({"finance", "payment_system"}),
    "payment_admin": frozenset({"finance"}),
    "evidence": frozenset({"decision_maker", "auditor", "legal"}),
    # Issue 20: legal staff prove a case (court package with the letters and parties, legal status).
    "legal": frozenset({"decision_maker", "legal"}),
    "audit": frozenset({"auditor"}),
    "operations": frozenset({"decision_maker", "admin"}),
    "operations_read": frozenset({"caseworker", "decision_maker", "finance", "auditor", "admin"}),
    "personal_data": frozenset({"caseworker", "decision_maker"}),
    "assess": frozenset({"caseworker", "decision_maker"}),  # R-APP-2 … 4: prepare and decide
    # R-APP-1 … 4, 10: prepare an application (four eyes keeps a decision maker from deciding one it prepared)
    "prepare": frozenset({"caseworker", "decision_maker"}),
    "erasure": frozenset({"decision_maker"}),
    "admin": frozenset({"admin"}),
    "national_statistics": frozenset({"admin"}),  # R-STAT-2: counts across organisers, no personal data
    # R-STAT-1: the organiser's own statistics (counts and euros, small cells suppressed): its readers, and
    # its administrator, who reports them (issue 22: "an organiser's administrator downloads the statistics")
    "statistics": frozenset({"caseworker", "decision_maker", "finance", "auditor", "legal", "admin"}),
    "books": frozenset({"finance", "auditor"}),  # R-BOOK-1: the journal (finance keeps it, auditors read it)
    "metrics": frozenset({"admin"}),
    "docs": frozenset(ROLES),
}

API_KEY_SCHEMA = """CREATE TABLE IF NOT EXISTS luotto_api_keys (
    key_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, role TEXT NOT NULL, name TEXT NOT NULL,
    sha256 TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)"""


class Unauthenticated(Exception):
    pass


@dataclass(frozen=True)
class Principal:
    subject: str
    tenant: str
    roles: frozenset[str]
    via: str  # "jwt" | "api_key"

    def may(self, permission: str) -> bool:
        return bool(self.roles & PERMISSIONS[permission])


class ApiKeys:
    """API keys look like `lk_<key id>_<secret>`; only the secret's SHA-256 is stored."""

    CACHE_SECONDS = 10.0  # how long a revoked key may still be accepted by a process that saw it

    def __init__(self, store):
        self.store = store
        self._seen: dict[str, tuple[float, dict | None]] = {}

    def setup(self) -> None:
        with self.store.transaction() as tx:
            tx.execute(API_KEY_SCHEMA)

    def create(self, tenant: str, role: str, name: str = "") -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO luotto_api_keys (key_id, tenant, role, name, sha256, created_at) VALUES "
                       "(:key_id, :tenant, :role, :name, :sha256, :created_at)",
                       {"key_id": key_id, "tenant": tenant, "role": role, "name": name or role,
                        "sha256": _digest(secret), "created_at": dt.datetime.now(dt.timezone.utc).isoformat()})
        return f"lk_{key_id}_{secret}"

    def revoke(self, key_id: str) -> bool:
        with self.store.transaction() as tx:
            done = tx.execute("UPDATE luotto_api_keys SET revoked_at = :now WHERE key_id = :key_id AND revoked_at "
                              "IS NULL", {"key_id": key_id, "now": dt.datetime.now(dt.timezone.utc).isoformat()})
            revoked = done.cursor.rowcount == 1
        self._seen.pop(key_id, None)
        return revoked

    def list(self, tenant: str | None = None) -> list[dict]:
        where = "WHERE tenant = :tenant" if tenant else ""
        with self.store.transaction() as tx:
            return tx.execute(f"SELECT key_id, tenant, role, name, created_at, revoked_at FROM luotto_api_keys {where} "
                              "ORDER BY created_at", {"tenant": tenant}).all()

    def authenticate(self, token: str, *, cached_only: bool = False) -> Principal | None:
        """The key's principal; with cached_only, None instead of a query when the key's row is not
        remembered (so that the event loop never waits for the database)."""
        try:
            _, key_id, secret = token.split("_", 2)
        except ValueError:
            raise Unauthenticated("malformed API key") from None
        if cached_only and not self._remembered(key_id):
            return None
        row = self._row(key_id)
        if row is None or row["revoked_at"] or not hmac.compare_digest(row["sha256"], _digest(secret)):
            raise Unauthenticated("unknown or revoked API key")
        return Principal(f"api-key:{key_id}", row["tenant"], frozenset({row["role"]}), "api_key")

    def _remembered(self, key_id: str) -> bool:
        cached = self._seen.get(key_id)
        return cached is not None and time.monotonic() - cached[0] < self.CACHE_SECONDS

    def _row(self, key_id: str) -> dict | None:
        """The key's row, remembered for CACHE_SECONDS: a request need not cost a query."""
        now = time.monotonic()
        cached = self._seen.get(key_id)
        if cached is not None and now - cached[0] < self.CACHE_SECONDS:
            return cached[1]
        with self.store.transaction() as tx:
            row = tx.execute("SELECT tenant, role, sha256, revoked_at FROM luotto_api_keys WHERE key_id = :key_id",
                             {"key_id": key_id}).one()
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[key_id] = (now, row)
        return row


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class JwksCache:
    """The issuer's signing keys, trusted for at most `lifetime` seconds after they were fetched
    (R-DATA-7): a key the issuer removed from its JWKS is refused from the next fetch on, at the
    latest `lifetime` later. A token naming a key not in the set fetches again, at most once per
    `min_refetch` seconds (so unknown key ids cannot make us hammer the issuer). When the set has
    expired and cannot be fetched, tokens are refused rather than checked against stale keys."""

    def __init__(self, url: str, lifetime: float, *, allow_file: bool, min_refetch: float = 10.0):
        scheme = urlparse(url).scheme.lower()
        if scheme != "https" and not (allow_file and scheme == "file"):
            raise Unauthenticated(f"the JWKS URL must be https:// (got {scheme}://)")
        self.url, self.lifetime, self.min_refetch = url, lifetime, min_refetch
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched = -float("inf")
        self._lock = threading.Lock()

    def _fetch(self) -> None:
        if self.url.startswith("file://"):
            text = Path(urlparse(self.url).path).read_text()
        else:
            response = httpx.get(self.url, timeout=5.0, follow_redirects=False)
            response.raise_for_status()
            text = response.text
        keys = jwt.PyJWKSet.from_json(text).keys
        self._keys = {k.key_id: k for k in keys if k.key_id}
        self._fetched = time.monotonic()

    def key(self, kid: str | None):
        with self._lock:
            age = time.monotonic() - self._fetched
            if age >= self.lifetime or (kid not in self._keys and age >= self.min_refetch):
                try:
                    self._fetch()
                except (OSError, httpx.HTTPError, jwt.PyJWKSetError, ValueError) as e:
                    if age >= self.lifetime:
                        self._keys = {}  # expired and not renewable: trust nothing
                    raise Unauthenticated(f"the issuer's keys cannot be fetched: {type(e).__name__}") from None
            found = self._keys.get(kid)
        if found is None:
            raise Unauthenticated(f"no key {kid!r} in the issuer's JWKS")
        return found.key


class OidcTokens:
    """Bearer JWTs signed by the organiser's OIDC provider (issuer, audience and JWKS from settings)."""

    def __init__(self, settings):
        self.settings = settings

    @cached_property
    def _jwks(self) -> JwksCache:
        s = self.settings
        return JwksCache(s.oidc_jwks_url, s.oidc_jwks_cache_seconds, allow_file=s.environment == "test")

    def authenticate(self, token: str) -> Principal:
        s = self.settings
        if not s.oidc_issuer or not s.oidc_jwks_url:
            raise Unauthenticated("bearer tokens are not accepted: no OIDC issuer is configured")
        if not s.oidc_audience:
            raise Unauthenticated("bearer tokens are not accepted: no audience is configured")
        try:
            key = self._jwks.key(jwt.get_unverified_header(token).get("kid"))
            claims = jwt.decode(token, key, algorithms=["RS256", "ES256", "EdDSA"], issuer=s.oidc_issuer,
                                audience=s.oidc_audience, options={"require": ["exp", "iss", "sub", "aud"]})
        except jwt.PyJWTError as e:
            raise Unauthenticated(f"invalid bearer token: {e}") from None
        roles = claims.get(s.oidc_roles_claim) or []
        tenant = claims.get(s.oidc_tenant_claim)
        if not isinstance(tenant, str) or not tenant:
            raise Unauthenticated(f"the token names no organiser (claim {s.oidc_tenant_claim!r})")
        return Principal(claims["sub"], tenant, frozenset(r for r in roles if r in ROLES), "jwt")


class Authenticator:
    def __init__(self, settings, store):
        self.api_keys = ApiKeys(store)
        self.oidc = OidcTokens(settings)

    def authenticate(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthenticated("send 'Authorization: Bearer <token or API key>'")
        token = authorization[7:].strip()
        return self.api_keys.authenticate(token) if token.startswith("lk_") else self.oidc.authenticate(token)

    def authenticate_cached(self, authorization: str | None) -> Principal | None:
        """What authenticate() answers, when that needs no I/O (an API key seen in the last
        CACHE_SECONDS, or a malformed header); None when it would (a query, or a JWKS fetch)."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthenticated("send 'Authorization: Bearer <token or API key>'")
        token = authorization[7:].strip()
        return self.api_keys.authenticate(token, cached_only=True) if token.startswith("lk_") else None
