"""Every refusal as `{"code", "message", "rule", "field"}` with a 4xx status; never a 5xx for bad input."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import DomainError

STATUS = {
    "invalid_request": 422,
    "limit_exceeded": 422,
    "not_found": 404,
    "payment_conflict": 409,
    "loan_exists": 409,
    "not_eligible": 409,
    "hardship_active": 409,
    "notice_pending": 409,
    "loan_closed": 409,
    "busy": 503,
    "internal_error": 500,
    "unauthenticated": 401,
    "forbidden": 403,
    "erasure_not_allowed": 409,
    "four_eyes": 409,
    "application_exists": 409,
}


class ErrorBody(BaseModel):
    code: str
    message: str
    rule: str | None = None
    field: str | None = None
    possible_from: str | None = None  # erasure_not_allowed: the first day erasure will be allowed, if known


REPLAY = {200: {"description": "a retry of an earlier request: the first result, nothing recorded again"}}


# Validation errors of api/schemas.py and the rule each enforces.
RULE_OF_ERROR = {"date_window": "R-DATE-1"}


def error_responses(*codes: str) -> dict:
    """OpenAPI documentation of the error answers an endpoint can give."""
    by_status: dict[int, list[str]] = {}
    for code in ("invalid_request", *codes):
        by_status.setdefault(STATUS[code], []).append(code)
    return {status: {"model": ErrorBody, "description": "codes: " + ", ".join(sorted(names))}
            for status, names in by_status.items()}


def _body(code: str, message: str, rule: str | None = None, field: str | None = None) -> dict:
    return {"code": code, "message": message, "rule": rule, "field": field}


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, e: DomainError) -> JSONResponse:
        return JSONResponse(e.as_dict(), status_code=STATUS[e.code])

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header"))
        message = first.get("msg", "invalid request")
        if first.get("type") == "json_invalid":
            message, field = "the body is not valid JSON", None
        rule = RULE_OF_ERROR.get(first.get("type"))
        if rule is None and (field and "amount" in field or field == "principal"):
            rule = "R-MONEY-1"
        if rule and not message.startswith(rule):
            message = f"{rule}: {message}"
        # The value the caller sent is not echoed: it may be what made the request invalid.
        return JSONResponse(_body("invalid_request", f"{field or 'body'}: {message}", rule, field or None),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, e: StarletteHTTPException) -> JSONResponse:
        if e.status_code == 404:
            return JSONResponse(_body("not_found", str(e.detail)), status_code=404)
        # A body that cannot be parsed (e.g. not UTF-8) is bad input like any other: 422.
        status = 422 if e.status_code == 400 else e.status_code
        return JSONResponse(_body("invalid_request", str(e.detail)), status_code=status)


def document(app: FastAPI) -> None:
    """Make the OpenAPI description tell the truth about errors: every 4xx/5xx body is ErrorBody,
    every authenticated operation may answer 401, 403 and 404 (another organiser's loan), every
    request 422 and 500 internal_error (with the request id), every write 503 busy and every body
    413 (larger than LUOTTO_MAX_BODY_BYTES)."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["ErrorBody"] = ErrorBody.model_json_schema()
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for path in schema["paths"].values():
            for method, operation in path.items():
                responses = operation.setdefault("responses", {})
                scoped = any(p.get("name") == "authorization" for p in operation.get("parameters", []))
                extra = {"422": ["invalid_request"], "500": ["internal_error"],
                         **({"401": ["unauthenticated"], "403": ["forbidden"], "404": ["not_found"]} if scoped else {}),
                         **({"413": ["invalid_request"]} if method in ("post", "put") else {}),
                         **({"503": ["busy"]} if method == "post" else {})}
                for status, codes in extra.items():
                    entry = responses.setdefault(status, {"description": ""})
                    description = entry.get("description", "")
                    known = description.removeprefix("codes: ").split(", ") if description.startswith("codes: ") else []
                    entry["description"] = "codes: " + ", ".join(sorted({c for c in known + codes if c}))
                for status, entry in responses.items():
                    if status[0] in "45":
                        entry["content"] = ref
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
