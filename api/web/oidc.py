"""Console sign-in with the organiser's OpenID Connect issuer (adapters/oidc_login.py): the start
puts a fresh state, nonce and PKCE verifier in the session and sends the browser to the issuer;
the callback checks the state, exchanges the code with the verifier, and starts a new session for
the person the ID token names (R-DATA-7: the organiser and roles from the token, never the request)."""
from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from adapters.oidc_login import OidcLogin, SignInFailed, pkce_pair
from api.web.core import PREFIX, Page, anyone, local
from domain.errors import DomainError

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Anyone = Annotated[Page, Depends(anyone)]


def login(request: Request) -> OidcLogin:
    app = request.app
    found = getattr(app.state, "console_oidc", None)
    if found is None:
        found = app.state.console_oidc = OidcLogin(app.state.container.settings)
    return found


def redirect_uri(request: Request) -> str:
    base = request.app.state.container.settings.console_url
    return (base.rstrip("/") if base else str(request.base_url).rstrip("/")) + f"{PREFIX}/oidc/callback"


def _refused(message: str) -> DomainError:
    return DomainError("unauthenticated", message, rule="R-DATA-7")


@router.get("/oidc/start")
def start(request: Request, p: Anyone, next: Annotated[str | None, Query(max_length=512)] = None):
    oidc = login(request)
    if not oidc.configured:
        raise _refused("sign-in with an identity provider is not configured (LUOTTO_OIDC_ISSUER, "
                       "LUOTTO_CONSOLE_CLIENT_ID)")
    verifier, challenge = pkce_pair()
    flow = {"state": secrets.token_urlsafe(24), "nonce": secrets.token_urlsafe(24), "verifier": verifier,
            "next": local(next)}
    try:
        target = oidc.authorization_url(redirect_uri(request), flow["state"], flow["nonce"], challenge)
    except SignInFailed as e:
        raise _refused(str(e)) from None
    p.start_session(oidc=flow)
    return p.redirect(target)


@router.get("/oidc/callback")
def callback(request: Request, p: Anyone, state: Annotated[str | None, Query(max_length=512)] = None,
             code: Annotated[str | None, Query(max_length=4096)] = None,
             error: Annotated[str | None, Query(max_length=256)] = None):
    flow = p.session.get("oidc")
    if not flow or not state or not secrets.compare_digest(state, flow.get("state", "")):
        raise _refused("the sign-in's state does not match this browser's (start the sign-in again)")
    if error or not code:
        raise _refused(f"the identity provider answered {error or 'no code'}")
    try:
        person = login(request).sign_in(code, redirect_uri(request), flow["verifier"], flow["nonce"])
    except SignInFailed as e:
        raise _refused(str(e)) from None
    if person["tenant"] not in p.container.settings.tenants:
        raise DomainError("forbidden", f"the organiser {person['tenant']!r} is not served here", rule="R-DATA-7")
    if not person["roles"]:
        raise DomainError("forbidden", "the ID token names no Luotto role", rule="R-DATA-6")
    p.start_session(sub=person["sub"], tenant=person["tenant"], roles=person["roles"], via="oidc")
    return p.redirect(flow["next"])
