"""Who is calling: OAuth2 bearer JWTs from the organiser's OIDC provider for people, API keys
(stored as SHA-256 hashes) for systems. Both name one organiser (tenant) and one or more roles."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlparse

import jwt

ROLES = ("caseworker", "decision_maker", "finance", "payment_system", "auditor", "admin")

# What each permission lets a role do (the role list; README "Access control").
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({"caseworker", "decision_maker", "finance", "auditor"}),
    "hardship": frozenset({"caseworker", "decision_maker"}),
    "acceleration_notice": frozenset({"caseworker", "decision_maker"}),
    "decision": frozenset({"decision_maker"}),
    "appeal": frozenset({"caseworker", "decision_maker"}),
    "payment": frozenset({"finance", "payment_system"}),
    "payment_admin": frozenset({"finance"}),
    "evidence": frozenset({"decision_maker", "auditor"}),
    "audit": frozenset({"auditor"}),
    "operations": frozenset({"decision_maker", "admin"}),
    "operations_read": frozenset({"caseworker", "decision_maker", "finance", "auditor", "admin"}),
    "personal_data": frozenset({"caseworker", "decision_maker"}),
    "assess": frozenset({"caseworker", "decision_maker"}),  # R-APP-2 … 4: prepare and decide
    "admin": frozenset({"admin"}),
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


class OidcTokens:
    """Bearer JWTs signed by the organiser's OIDC provider (issuer and JWKS from settings)."""

    def __init__(self, settings):
        self.settings = settings

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient:
        return jwt.PyJWKClient(self.settings.oidc_jwks_url, cache_keys=True, lifespan=3600)

    def _signing_key(self, token: str):
        url = self.settings.oidc_jwks_url
        if not url.startswith("file://"):
            return self._jwks.get_signing_key_from_jwt(token).key
        # A JWKS kept on disk (tests, or an air-gapped site that distributes the issuer's keys).
        kid = jwt.get_unverified_header(token).get("kid")
        keys = jwt.PyJWKSet.from_json(Path(urlparse(url).path).read_text()).keys
        found = next((k for k in keys if k.key_id == kid), None)
        if found is None:
            raise jwt.PyJWKClientError(f"no key {kid!r} in {url}")
        return found.key

    def authenticate(self, token: str) -> Principal:
        s = self.settings
        if not s.oidc_issuer or not s.oidc_jwks_url:
            raise Unauthenticated("bearer tokens are not accepted: no OIDC issuer is configured")
        try:
            key = self._signing_key(token)
            claims = jwt.decode(token, key, algorithms=["RS256", "ES256", "EdDSA"], issuer=s.oidc_issuer,
                                audience=s.oidc_audience, options={"require": ["exp", "iss", "sub"]})
        except (jwt.PyJWTError, jwt.PyJWKClientError) as e:
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
