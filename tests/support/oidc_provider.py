"""A small OpenID Connect provider that runs in-process (an httpx transport): discovery, the
authorization endpoint (as the browser would meet it), the token endpoint checking PKCE (S256),
and a JWKS endpoint; ID tokens signed with a test RSA key."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://idp.test.invalid/realms/luotto"
CLIENT_ID = "luotto-console"


class TestProvider:
    __test__ = False

    def __init__(self, kid: str = "console-key-1"):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid
        self.codes: dict[str, dict] = {}
        self.user = {"sub": "cw-1", "luotto_tenant": "t1", "roles": ["caseworker"]}
        self.tamper: dict = {}  # claims to override in the next ID token (a test of the checks)
        self.token_requests: list[dict] = []

    def settings_kwargs(self, jwks_file) -> dict:
        """Settings for an app whose bearer tokens and console both trust this issuer."""
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="RS256")
        jwks_file.write_text(json.dumps({"keys": [jwk]}))
        return {"oidc_issuer": ISSUER, "oidc_audience": "luotto-api", "oidc_jwks_url": jwks_file.resolve().as_uri(),
                "environment": "test", "console_client_id": CLIENT_ID}

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def authorize(self, url: str) -> str:
        """The browser at the authorization endpoint: the person signs in (as `user`); answers the
        redirect back to the console with the code and state."""
        q = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
        assert url.startswith(f"{ISSUER}/auth?") and q["response_type"] == "code" and q["scope"] == "openid"
        assert q["client_id"] == CLIENT_ID and q["code_challenge_method"] == "S256", q
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"challenge": q["code_challenge"], "nonce": q["nonce"], "redirect_uri": q["redirect_uri"],
                            "user": dict(self.user)}
        return f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}"

    def id_token(self, claims: dict, key=None, kid: str | None = None) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": CLIENT_ID, "iat": now, "exp": now + 300, **claims, **self.tamper}
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(urlparse(ISSUER).path)
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/auth",
                                             "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/jwks",
                                             "code_challenge_methods_supported": ["S256"]})
        if path == "/jwks":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            jwk.update(kid=self.kid, use="sig", alg="RS256")
            return httpx.Response(200, json={"keys": [jwk]})
        if path == "/token" and request.method == "POST":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            self.token_requests.append(form)
            grant = self.codes.pop(form.get("code", ""), None)  # a code is good once
            if grant is None or form.get("grant_type") != "authorization_code" or \
                    form.get("redirect_uri") != grant["redirect_uri"] or form.get("client_id") != CLIENT_ID:
                return httpx.Response(400, json={"error": "invalid_grant"})
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if challenge != grant["challenge"]:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "PKCE"})
            token = self.id_token({**grant["user"], "nonce": grant["nonce"]})
            return httpx.Response(200, json={"access_token": "opaque", "token_type": "Bearer", "id_token": token})
        return httpx.Response(404)
