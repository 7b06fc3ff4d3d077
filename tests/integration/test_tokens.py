"""R-DATA-7: bearer tokens. A signing key leaves the trust set when it leaves the issuer's JWKS
(within the cache lifetime); only an https JWKS outside tests; an audience is required, and a
token without `aud` (or for another audience) is refused."""
from __future__ import annotations

import json
import time

import jwt
import pytest
from pydantic import ValidationError

from adapters.auth import JwksCache, OidcTokens, Unauthenticated
from adapters.settings import Settings
from tests.support.auth import AUDIENCE, ISSUER, TestIssuer


def _settings(issuer: TestIssuer, **extra) -> Settings:
    return Settings(database_url="memory://", **{**issuer.settings_kwargs(), **extra})


def test_a_key_removed_from_the_jwks_is_refused_once_the_cache_lifetime_is_over(tmp_path):
    issuer = TestIssuer(tmp_path)
    second = TestIssuer(tmp_path / "second", kid="test-key-2")
    both = {"keys": json.loads(issuer.jwks_path.read_text())["keys"] + json.loads(second.jwks_path.read_text())["keys"]}
    issuer.jwks_path.write_text(json.dumps(both))
    tokens = OidcTokens(_settings(issuer, oidc_jwks_cache_seconds=0.3))
    assert tokens.authenticate(second.token("t1", ["auditor"])).roles == {"auditor"}
    only_first = {"keys": [k for k in both["keys"] if k["kid"] == "test-key-1"]}
    issuer.jwks_path.write_text(json.dumps(only_first))  # the issuer rotated test-key-2 out
    assert tokens.authenticate(second.token("t1", ["auditor"]))  # still within the cache lifetime
    time.sleep(0.35)
    with pytest.raises(Unauthenticated, match="no key 'test-key-2'"):
        tokens.authenticate(second.token("t1", ["auditor"]))
    assert tokens.authenticate(issuer.token("t1", ["auditor"]))  # the remaining key still works


def test_an_expired_key_set_that_cannot_be_fetched_trusts_nothing(tmp_path):
    issuer = TestIssuer(tmp_path)
    tokens = OidcTokens(_settings(issuer, oidc_jwks_cache_seconds=0.2))
    assert tokens.authenticate(issuer.token("t1", ["caseworker"]))
    issuer.jwks_path.unlink()
    time.sleep(0.25)
    with pytest.raises(Unauthenticated, match="cannot be fetched"):
        tokens.authenticate(issuer.token("t1", ["caseworker"]))


def test_unknown_key_ids_do_not_make_us_fetch_the_jwks_each_time(tmp_path):
    issuer = TestIssuer(tmp_path)
    cache = JwksCache(issuer.jwks_path.resolve().as_uri(), 300, allow_file=True, min_refetch=60)
    fetches = []
    real = cache._fetch
    cache._fetch = lambda: (fetches.append(1), real())
    cache.key("test-key-1")
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            cache.key("nobody")
    assert len(fetches) == 1


@pytest.mark.parametrize("url, environment", [("http://idp.example/jwks", "test"), ("http://idp.example/jwks", "production"),
                                              ("file:///etc/jwks.json", "production"),
                                              ("file:///etc/jwks.json", "development")])
def test_only_an_https_jwks_outside_tests(url, environment):
    with pytest.raises(ValidationError, match="must be https"):
        Settings(database_url="memory://", oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=url,
                 environment=environment)
    # Also where settings were bypassed (model_copy does not validate): the cache refuses it.
    with pytest.raises(Unauthenticated, match="must be https"):
        JwksCache(url, 300, allow_file=environment == "test" and url.startswith("file"))


def test_https_is_accepted_and_an_audience_is_required():
    ok = Settings(database_url="memory://", oidc_issuer=ISSUER, oidc_audience=AUDIENCE,
                  oidc_jwks_url="https://idp.example/realms/luotto/certs")
    assert ok.oidc_jwks_url.startswith("https://")
    with pytest.raises(ValidationError, match="audience"):
        Settings(database_url="memory://", oidc_issuer=ISSUER, oidc_jwks_url="https://idp.example/certs")


def test_a_token_without_an_audience_or_for_another_is_refused(tmp_path):
    issuer = TestIssuer(tmp_path)
    tokens = OidcTokens(_settings(issuer))
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "x", "iat": now, "exp": now + 60, "luotto_tenant": "t1", "roles": ["auditor"]}
    sign = lambda body: jwt.encode(body, issuer.key, algorithm="RS256", headers={"kid": issuer.kid})  # noqa: E731
    with pytest.raises(Unauthenticated, match="aud"):
        tokens.authenticate(sign(claims))
    with pytest.raises(Unauthenticated, match="(?i)audience"):
        tokens.authenticate(sign({**claims, "aud": "another-api"}))
    assert tokens.authenticate(sign({**claims, "aud": AUDIENCE})).tenant == "t1"
    unchecked = OidcTokens(_settings(issuer).model_copy(update={"oidc_audience": None}))
    with pytest.raises(Unauthenticated, match="no audience"):
        unchecked.authenticate(sign({**claims, "aud": AUDIENCE}))


@pytest.fixture
def https_jwks(tmp_path, monkeypatch):
    """The issuer's JWKS served over TLS on 127.0.0.1 by a certificate this test makes and trusts
    (httpx reads SSL_CERT_FILE): the production path, not the file:// one."""
    import datetime as dt
    import http.server
    import ipaddress
    import ssl
    import threading

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
    issuer = TestIssuer(tmp_path / "served")
    served = {"body": issuer.jwks_path.read_bytes()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the library's name
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(served["body"])

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer, served, f"https://127.0.0.1:{server.server_address[1]}/certs"
    finally:
        server.shutdown()


def test_over_https_a_key_rotated_out_stops_being_trusted(https_jwks):
    """The reproduction: the library's key cache never expired, even after a fresh fetch."""
    issuer, served, url = https_jwks
    second = TestIssuer(issuer.jwks_path.parent / "second", kid="test-key-2")
    keys = json.loads(served["body"])["keys"] + json.loads(second.jwks_path.read_text())["keys"]
    served["body"] = json.dumps({"keys": keys}).encode()
    settings = Settings(database_url="memory://", oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=url,
                        oidc_jwks_cache_seconds=0.3)
    tokens = OidcTokens(settings)
    assert tokens.authenticate(second.token("t1", ["finance"])).roles == {"finance"}
    served["body"] = json.dumps({"keys": [k for k in keys if k["kid"] == "test-key-1"]}).encode()
    time.sleep(0.35)
    with pytest.raises(Unauthenticated, match="no key 'test-key-2'"):
        tokens.authenticate(second.token("t1", ["finance"]))
    assert tokens.authenticate(issuer.token("t1", ["finance"]))
