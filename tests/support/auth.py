"""A local OIDC issuer for tests: an RSA key, its JWKS in a file, and tokens signed with it."""
from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://idp.test.invalid/realms/luotto"
AUDIENCE = "luotto-api"
ALL_ROLES = ["caseworker", "decision_maker", "finance", "payment_system", "auditor", "admin"]


class TestIssuer:
    __test__ = False  # not a test class

    def __init__(self, folder: Path, kid: str = "test-key-1"):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=kid, use="sig", alg="RS256")
        folder.mkdir(parents=True, exist_ok=True)
        self.jwks_path = folder / "jwks.json"
        self.jwks_path.write_text(json.dumps({"keys": [jwk]}))

    def settings_env(self) -> dict[str, str]:
        return {"LUOTTO_OIDC_ISSUER": ISSUER, "LUOTTO_OIDC_AUDIENCE": AUDIENCE,
                "LUOTTO_OIDC_JWKS_URL": self.jwks_path.resolve().as_uri(), "LUOTTO_ENVIRONMENT": "test"}

    def settings_kwargs(self) -> dict:
        """A JWKS on disk is accepted only in the test environment (R-DATA-7)."""
        return {"oidc_issuer": ISSUER, "oidc_audience": AUDIENCE, "oidc_jwks_url": self.jwks_path.resolve().as_uri(),
                "environment": "test"}

    def token(self, tenant: str, roles: list[str], subject: str = "tester", **claims) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + 3600,
                "luotto_tenant": tenant, "roles": roles, **claims}
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})

    def headers(self, tenant: str, roles: list[str] | None = None, subject: str = "tester") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(tenant, roles or ALL_ROLES, subject)}"}
