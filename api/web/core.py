"""What every console page shares: the session and language of the request, who is signed in
(and whether the one access table, api/access.py, lets that role open this page), the CSRF check
of every form, and rendering a template in the reader's language. Errors are pages in that
language too (`install_errors`)."""
from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.auth import ROLES, Principal
from api.access import BY_KEY
from api.deps import ACTIONS
from api.errors import STATUS
from api.web import i18n
from api.web.session import COOKIE, LANG_COOKIE, LIFETIME, Sessions, set_cookie
from domain.errors import DomainError

HELSINKI = ZoneInfo("Europe/Helsinki")
PREFIX = "/console"
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True,
                        trim_blocks=True, lstrip_blocks=True)


class SignInNeeded(Exception):
    """No signed-in session: the page answers with the sign-in page's address."""


def sessions(request: Request) -> Sessions:
    app = request.app
    found = getattr(app.state, "console_sessions", None)
    if found is None:
        found = app.state.console_sessions = Sessions(app.state.container.signer.derived_key("console-session"))
    return found


@dataclass
class Page:
    """One request's console context."""

    request: Request
    session: dict
    lang: str
    fresh: bool = False  # the session is new: its cookie goes out with the answer
    who: Principal | None = None
    cookies: dict = field(default_factory=dict)

    def t(self, key: str, **values) -> str:
        return i18n.t(self.lang, key, **values)

    @property
    def container(self):
        return self.request.app.state.container

    def render(self, template: str, status_code: int = 200, **values) -> HTMLResponse:
        html = TEMPLATES.get_template(template).render(page=self, _=self.t, lang=self.lang,
                                                       basis=lambda text: i18n.basis_in_words(text, self.lang),
                                                       **values)
        return self.finish(HTMLResponse(html, status_code=status_code))

    def redirect(self, url: str) -> RedirectResponse:
        return self.finish(RedirectResponse(url, status_code=303))

    def finish(self, response: Response) -> Response:
        if self.fresh:
            set_cookie(response, COOKIE, sessions(self.request).dump(self.session), LIFETIME)
        for name, value in self.cookies.items():
            set_cookie(response, name, value, 365 * 86400)
        return response

    def start_session(self, **fields) -> None:
        self.session, self.fresh = sessions(self.request).new(**fields), True

    # shown in the layout
    def may(self, permission: str) -> bool:
        return self.who is not None and self.who.may(permission)

    def role_names(self) -> str:
        return ", ".join(i18n.t(self.lang, f"role.{r}") for r in ROLES if self.who and r in self.who.roles)

    def when(self, instant: dt.datetime) -> str:
        return instant.astimezone(HELSINKI).strftime("%Y-%m-%d %H:%M")

    def money(self, value) -> str:
        """'1200.00' -> '1 200,00' (fi, sv) or '1,200.00' (en)."""
        if value is None:
            return "–"
        text = str(value)
        sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
        whole, _, cents = text.partition(".")
        groups = f"{int(whole):,}"
        if self.lang == "en":
            return f"{sign}{groups}.{cents or '00'}"
        return f"{sign}{groups.replace(',', ' ')},{cents or '00'}"

    def value(self, prefix: str, raw) -> str:
        return i18n.maybe(self.lang, f"{prefix}.{raw}", str(raw))


def page(request: Request) -> Page:
    """The request's session and language; a visitor without a session gets one (it carries the
    CSRF token of the sign-in forms)."""
    session = sessions(request).load(request.cookies.get(COOKIE))
    lang = i18n.pick(request.headers.get("accept-language"), request.cookies.get(LANG_COOKIE))
    found = Page(request, session or {}, lang)
    if session is None:
        found.start_session()
    elif session.get("sub"):
        found.who = Principal(session["sub"], session["tenant"], frozenset(session["roles"]), "console")
    return found


async def anyone(request: Request) -> Page:
    return page(request)


async def signed_in(request: Request) -> Page:
    """A signed-in member of an organiser served here, whose roles the access table lets open the
    route (R-DATA-6). The principal goes on request.state, so the access log records the visit."""
    found = page(request)
    who = found.who
    if who is None:
        raise SignInNeeded()
    if who.tenant not in found.container.settings.tenants:
        raise SignInNeeded()
    request.state.principal = who
    request.state.console_page = found
    route = BY_KEY.get((request.method, getattr(request.scope.get("route"), "path", "")))
    if route is None or (route.permission != "public" and not who.may(route.permission)):
        action = ACTIONS.get(route.permission, route.what) if route else "open a page missing from the table"
        raise DomainError("forbidden", f"roles {sorted(who.roles)} may not {action}", rule="R-DATA-6")
    return found


async def checked_form(request: Request, found: Page) -> dict:
    """The form's fields, once its CSRF token matches the session's and the request comes from
    this site (Origin, when the browser sends one)."""
    form = await request.form()
    origin = request.headers.get("origin")
    # Our pages' Referrer-Policy (no-referrer) makes the browser send "Origin: null" on our own forms.
    if origin and origin != "null" and urlparse(origin).netloc != request.headers.get("host", ""):
        raise DomainError("forbidden", "the form was sent from another site", rule="R-WEB-1", field="csrf")
    token = form.get("csrf")
    if not isinstance(token, str) or not hmac.compare_digest(token, found.session.get("csrf", "")):
        raise DomainError("forbidden", "the form's CSRF token does not match the session", rule="R-WEB-1",
                          field="csrf")
    return form


def local(url: str | None) -> str:
    """Only a console address is followed after a form (no open redirect)."""
    if url and url.startswith(PREFIX + "/") and not url.startswith("//") and "\\" not in url:
        return url
    return PREFIX + "/work-queue"


def error_page(request: Request, status: int, code: str, message: str, rule: str | None = None,
               field: str | None = None) -> Response:
    found = getattr(request.state, "console_page", None) or page(request)
    key = "err.csrf" if field == "csrf" else f"err.{code}" if f"err.{code}" in i18n.M else "err.invalid_request"
    return found.render("error.html", status_code=status, code=code, summary=found.t(key), detail=message, rule=rule,
                        field=field)


def install_errors(app) -> None:
    """Errors under /console are pages in the reader's language (the rule id and field beside);
    elsewhere the API's JSON bodies stay as they were."""
    json_domain = app.exception_handlers[DomainError]
    json_validation = app.exception_handlers[RequestValidationError]
    json_http = app.exception_handlers[StarletteHTTPException]

    def console(request: Request) -> bool:
        return request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/")

    async def domain_error(request: Request, e: DomainError):
        if not console(request):
            return await json_domain(request, e)
        return error_page(request, STATUS[e.code], e.code, e.message, e.rule, e.field)

    async def validation_error(request: Request, e: RequestValidationError):
        if not console(request):
            return await json_validation(request, e)
        first = e.errors()[0] if e.errors() else {"loc": (), "msg": "invalid request"}
        field_ = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "form"))
        return error_page(request, 422, "invalid_request", f"{field_}: {first.get('msg')}", None, field_ or None)

    async def http_error(request: Request, e: StarletteHTTPException):
        if not console(request):
            return await json_http(request, e)
        code = {404: "not_found", 401: "unauthenticated", 403: "forbidden"}.get(e.status_code, "invalid_request")
        return error_page(request, e.status_code, code, str(e.detail))

    async def sign_in_needed(request: Request, _: SignInNeeded):
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{PREFIX}/sign-in?next={quote(back, safe='')}", status_code=303)

    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(SignInNeeded, sign_in_needed)
