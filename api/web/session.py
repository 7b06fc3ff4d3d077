"""The console's session: a cookie the server signs (HMAC-SHA256 with a key derived from the
signing key), holding who signed in, their organiser and roles, the CSRF token and, during an
OpenID Connect sign-in, the flow's state, nonce and PKCE verifier. Nothing personal is in it.

The cookie is Secure, HttpOnly and SameSite=Lax (Lax so the identity provider's redirect back
carries it; every state change is a POST with the CSRF token). Sessions end after LIFETIME.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

COOKIE = "luotto_console"
LANG_COOKIE = "luotto_lang"
LIFETIME = 8 * 3600  # one working day


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    def __init__(self, key: bytes, lifetime: int = LIFETIME):
        self.key, self.lifetime = key, lifetime

    def new(self, **fields) -> dict:
        """A fresh session (a new CSRF token: a sign-in never keeps the token of the one before)."""
        return {"csrf": secrets.token_urlsafe(32), "exp": int(time.time()) + self.lifetime, **fields}

    def dump(self, session: dict) -> str:
        payload = _b64(json.dumps(session, separators=(",", ":"), sort_keys=True).encode())
        return f"{payload}.{_b64(hmac.new(self.key, payload.encode(), hashlib.sha256).digest())}"

    def load(self, cookie: str | None) -> dict | None:
        """The session, or None when there is none, it was not signed by us, or it has expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, signature = cookie.split(".")
        expected = _b64(hmac.new(self.key, payload.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(signature, expected):
            return None
        try:
            session = json.loads(_unb64(payload))
        except ValueError:
            return None
        if not isinstance(session, dict) or session.get("exp", 0) < time.time():
            return None
        return session


def set_cookie(response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/console", secure=True, httponly=True, samesite="lax")
