"""Signing people in to the staff console: the OpenID Connect authorization-code flow with PKCE
(RFC 7636, S256) against the organiser's issuer (LUOTTO_OIDC_ISSUER, client LUOTTO_CONSOLE_CLIENT_ID).

The issuer's endpoints come from its discovery document; the ID token is checked here: signature
against the issuer's JWKS, `iss`, `aud` (the console's client id), `exp`, and the `nonce` this
sign-in sent. The organiser and roles come from the same claims as bearer tokens' (settings).
The HTTP client is injectable so that tests run a provider in-process.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from urllib.parse import urlencode, urlparse

import httpx
import jwt

from adapters.auth import ROLES

ALGORITHMS = ["RS256", "ES256", "EdDSA"]


class SignInFailed(Exception):
    pass


def pkce_pair() -> tuple[str, str]:
    """A code verifier (86 characters of 43…128 allowed) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


class OidcLogin:
    METADATA_SECONDS = 3600.0

    def __init__(self, settings, http: httpx.Client | None = None):
        self.settings = settings
        self.http = http or httpx.Client(timeout=5.0, follow_redirects=False)
        self._metadata: tuple[float, dict] | None = None
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return bool(self.settings.oidc_issuer and self.settings.console_client_id)

    def _https(self, url: str) -> str:
        if urlparse(url).scheme != "https" and self.settings.environment != "test":
            raise SignInFailed(f"the issuer's endpoints must be https:// (got {url.split(':', 1)[0]}://)")
        return url

    def metadata(self) -> dict:
        with self._lock:
            if self._metadata and time.monotonic() - self._metadata[0] < self.METADATA_SECONDS:
                return self._metadata[1]
            issuer = self.settings.oidc_issuer.rstrip("/")
            try:
                answer = self.http.get(self._https(f"{issuer}/.well-known/openid-configuration"))
                answer.raise_for_status()
                found = answer.json()
            except (httpx.HTTPError, ValueError) as e:
                raise SignInFailed(f"the issuer's discovery document cannot be read: {type(e).__name__}") from None
            if found.get("issuer", "").rstrip("/") != issuer:
                raise SignInFailed("the discovery document names another issuer")
            self._metadata = (time.monotonic(), found)
            return found

    def authorization_url(self, redirect_uri: str, state: str, nonce: str, challenge: str) -> str:
        endpoint = self._https(self.metadata()["authorization_endpoint"])
        query = {"response_type": "code", "client_id": self.settings.console_client_id, "redirect_uri": redirect_uri,
                 "scope": "openid", "state": state, "nonce": nonce, "code_challenge": challenge,
                 "code_challenge_method": "S256"}
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"

    def sign_in(self, code: str, redirect_uri: str, verifier: str, nonce: str) -> dict:
        """Exchange the code (with the PKCE verifier) for tokens; answer the checked ID token's
        subject, organiser and roles."""
        s, meta = self.settings, self.metadata()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": verifier, "client_id": s.console_client_id}
        auth = (s.console_client_id, s.console_client_secret) if s.console_client_secret else None
        try:
            answer = self.http.post(self._https(meta["token_endpoint"]), data=form, auth=auth)
            answer.raise_for_status()
            id_token = answer.json()["id_token"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as e:
            raise SignInFailed(f"the issuer refused the code: {type(e).__name__}") from None
        claims = self._verify(id_token, meta)
        if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(claims["nonce"], nonce):
            raise SignInFailed("the ID token's nonce is not this sign-in's")
        tenant = claims.get(s.oidc_tenant_claim)
        if not isinstance(tenant, str) or not tenant:
            raise SignInFailed(f"the ID token names no organiser (claim {s.oidc_tenant_claim!r})")
        roles = claims.get(s.oidc_roles_claim) or []
        return {"sub": claims["sub"], "tenant": tenant,
                "roles": sorted(r for r in roles if r in ROLES) if isinstance(roles, list) else []}

    def _verify(self, id_token: str, meta: dict) -> dict:
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
            answer = self.http.get(self._https(meta["jwks_uri"]))
            answer.raise_for_status()
            keys = {k.key_id: k for k in jwt.PyJWKSet.from_json(answer.text).keys}
            if kid not in keys:
                raise SignInFailed(f"no key {kid!r} in the issuer's JWKS")
            return jwt.decode(id_token, keys[kid].key, algorithms=ALGORITHMS, issuer=self.settings.oidc_issuer,
                              audience=self.settings.console_client_id,
                              options={"require": ["exp", "iat", "iss", "sub", "aud"]})
        except (jwt.PyJWTError, httpx.HTTPError, ValueError, KeyError) as e:
            raise SignInFailed(f"the ID token is not valid: {type(e).__name__}: {e}") from None
