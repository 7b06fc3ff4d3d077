"""Domain refusals. Each carries a code from scenario-format.md and names the rule it enforces."""
from __future__ import annotations

CODES = (
    "not_eligible",
    "hardship_active",
    "notice_pending",
    "loan_closed",
    "limit_exceeded",
    "invalid_request",
    "payment_conflict",
    "not_found",
    "loan_exists",
    "busy",
    "unauthenticated",
    "forbidden",
    "internal_error",
    "erasure_not_allowed",
    "four_eyes",  # R-APP-5: the person who prepared an application may not decide it
    "application_exists",
)


class DomainError(Exception):
    """A command the rules forbid. `rule` is a rule-book id, `field` the input at fault."""

    def __init__(self, code: str, message: str, *, rule: str | None = None, field: str | None = None):
        assert code in CODES, code
        self.code = code
        self.rule = rule
        self.field = field
        self.message = f"{rule}: {message}" if rule else message
        super().__init__(self.message)

    possible_from: str | None = None  # erasure_not_allowed: the first day it will be allowed, if known

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": self.message, "rule": self.rule, "field": self.field}
        if self.possible_from:
            body["possible_from"] = self.possible_from
        return body


def invalid(message: str, *, rule: str | None = None, field: str | None = None) -> DomainError:
    return DomainError("invalid_request", message, rule=rule, field=field)
