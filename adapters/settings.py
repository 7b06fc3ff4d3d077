"""Every setting of a Luotto process, read from LUOTTO_* environment variables (README lists them)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Exposure = Literal["off", "authenticated", "public"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUOTTO_", extra="ignore")

    database_url: str = Field("sqlite:///var/luotto.sqlite",
                              description="postgresql://user:password@host:port/dbname, sqlite:///path or memory://")
    postgres_schema: str | None = Field(None, description="PostgreSQL schema for all tables (default: public)")
    postgres_pool_size: int = Field(5, description="PostgreSQL connections kept open per process")
    postgres_lock_timeout: int = Field(5, description="seconds a write waits for the event table lock")
    migrate: bool = Field(True, description="create missing tables and triggers at start; false for a role that "
                                            "may not (run `luotto migrate` as the owner instead)")
    host: str = Field("127.0.0.1", description="address the HTTP API listens on")
    port: int = Field(8000, description="port the HTTP API listens on")
    tenants: dict[str, dict] = Field(
        default_factory=lambda: {"demo": {"preset": "default"}},
        description='organisers and their policies as JSON, e.g. {"kittila": {"preset": "kittila", "overrides": {}}}')
    aggregate_cache_size: int = Field(10_000, description="aggregates kept in memory per process (each read still "
                                                          "fetches the events recorded since, by any process)")
    snapshot_interval: int = Field(100, description="events between loan snapshots")
    read_wait_seconds: float = Field(5.0, description="how long a read waits for read models to reach a position")
    grant_horizon_days: int = Field(366, ge=0, le=3650,
                                    description="how far ahead of today (Europe/Helsinki) a grant may be dated")
    max_body_bytes: int = Field(1024 * 1024, ge=1024,
                                description="largest request body; bank files (POST /v1/payments/files) may be "
                                            "64 MiB")
    retry_seconds: float = Field(60.0, gt=0, description="how often items set aside after a failure are retried")
    projection_poll_seconds: float = Field(0.2, description="how often the read models poll for new events")
    ready_timeout_seconds: float = Field(1.0, description="/readyz fails when the database takes longer to answer")
    ready_lag_seconds: float = Field(30.0, description="/readyz fails when the read models are further behind")
    log_format: str = Field("json", description="json (production) or console")
    servicing_time: str = Field("06:00", description="Europe/Helsinki time of the daily servicing run (HH:MM)")
    environment: Literal["production", "development", "test"] = Field(
        "production", description="test: file:// JWKS allowed (nothing else differs)")
    docs: Exposure = Field("off", description="/docs and /openapi.json: off, authenticated (any role) or public")
    metrics: Exposure = Field("authenticated", description="/metrics: off, authenticated (role admin) or public")
    oidc_issuer: str | None = Field(None, description="issuer (iss) of the organisers' OIDC bearer tokens")
    oidc_audience: str | None = Field(None, description="audience (aud) the tokens must carry (required with an issuer)")
    oidc_jwks_url: str | None = Field(None, description="the issuer's JWKS URL (https://; file:// in tests only)")
    oidc_jwks_cache_seconds: float = Field(300.0, gt=0, le=86400,
                                           description="how long fetched signing keys are trusted before the "
                                                       "JWKS is fetched again (a key removed there is refused then)")
    oidc_tenant_claim: str = Field("luotto_tenant", description="token claim naming the organiser")
    oidc_roles_claim: str = Field("roles", description="token claim listing the caller's roles")
    console_client_id: str | None = Field(None, description="the staff console's OIDC client id at the issuer "
                                                            "(authorization-code flow with PKCE); unset: no sign-in")
    console_client_secret: str | None = Field(None, description="the console's client secret, when the issuer makes "
                                                                "it a confidential client")
    console_url: str | None = Field(None, description="public base URL of the service, e.g. https://luotto.example.fi"
                                                      " (the OIDC redirect is <console_url>/console/oidc/callback); "
                                                      "default: the request's own")
    notice_store: str = Field("var/notices", description="folder of the content-addressed notice PDFs")
    notice_channel: str = Field("letter", description="letter (print folder) or suomifi (Suomi.fi Messages)")
    notice_print_folder: str = Field("var/print", description="where letters are left for printing and enveloping")
    suomifi_base_url: str | None = Field(None, description="Suomi.fi Messages REST API base URL")
    suomifi_username: str | None = Field(None, description="Suomi.fi Messages API user")
    suomifi_password: str | None = Field(None, description="Suomi.fi Messages API password")
    suomifi_service_id: str | None = Field(None, description="the organiser's Suomi.fi sender service id")
    suomifi_password_file: str | None = Field(None, description="file holding the Suomi.fi API password, which "
                                                                "`luotto suomifi-rotate-password` rotates (issue 20)")
    suomifi_visibility: str = Field("Normal", description="Suomi.fi message visibility: Normal (2026) or "
                                                          "Recipient only")
    suomifi_paper_mail: dict | None = Field(None, description="the service's own paper mail: {username, password, "
                                                              "email, sender: {name, streetAddress, zipCode, city}}")
    signing_key: str | None = Field(None, description="base64 of the 32-byte Ed25519 seed that signs daily digests")
    signing_key_file: str = Field("var/luotto-signing.key",
                                  description="file holding the signing key when LUOTTO_SIGNING_KEY is unset "
                                              "(created with a new key if missing)")

    @model_validator(mode="after")
    def _oidc(self) -> "Settings":
        """Tokens only from an issuer whose keys come over TLS, and only for this API (R-DATA-7)."""
        if self.oidc_issuer or self.oidc_jwks_url:
            if not (self.oidc_issuer and self.oidc_jwks_url and self.oidc_audience):
                raise ValueError("LUOTTO_OIDC_ISSUER, LUOTTO_OIDC_JWKS_URL and LUOTTO_OIDC_AUDIENCE go together: "
                                 "tokens are accepted only for a named audience")
            scheme = self.oidc_jwks_url.split(":", 1)[0].lower()
            if scheme != "https" and not (scheme == "file" and self.environment == "test"):
                raise ValueError(f"LUOTTO_OIDC_JWKS_URL must be https:// (file:// only with LUOTTO_ENVIRONMENT=test), "
                                 f"got {scheme}://")
        return self
