"""The decisions a person makes on a loan, checked before they are submitted: the same domain
command run on a copy of the loan that is never saved, so the rules that would refuse it (and
their rule ids) show before anything is recorded. One row per decision kind: the service command
that records it for real, the domain command that checks it, and the rules the domain applies."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from domain.errors import DomainError
from domain.loan import Decision


@dataclass(frozen=True)
class Kind:
    name: str  # the console's path segment
    permission: str  # adapters.auth.PERMISSIONS (api/access.py names it too)
    fields: tuple[str, ...]  # form fields besides the decision's own (reasons, legal basis, date)
    rules: tuple[str, ...]  # the rule ids the domain command checks
    record: Callable  # (service, tenant, loan_id, on, decision, values) -> Written
    check: Callable  # (loan, rates, on, decision, values, now) -> None (raises DomainError)


def _int(values: dict, key: str) -> int:
    return int(values[key])


KINDS = {k.name: k for k in (
    Kind("acceleration-notice", "acceleration_notice", ("override_reason",), ("R-ACC-5", "R-ACC-6"),
         lambda s, t, l, on, d, v: s.send_acceleration_notice(t, l, on=on, decision=d,
                                                              override_reason=v.get("override_reason") or None),
         lambda loan, rates, on, d, v, now: loan.send_acceleration_notice(
             on=on, decision=d, override_reason=v.get("override_reason") or None, rates=rates, recorded_at=now)),
    Kind("hardship", "hardship", ("cause",), ("R-ACC-5",),
         lambda s, t, l, on, d, v: s.record_hardship(t, l, on=on, decision=d, cause=v["cause"]),
         lambda loan, rates, on, d, v, now: loan.record_hardship(cause=v["cause"], on=on, decision=d,
                                                                 recorded_at=now)),
    Kind("free-months", "decision", ("months", "from_instalment"), ("R-FREE-1",),
         lambda s, t, l, on, d, v: s.defer_free_months(t, l, on=on, decision=d, months=_int(v, "months"),
                                                       from_instalment=_int(v, "from_instalment")),
         lambda loan, rates, on, d, v, now: loan.defer_free_months(
             months=_int(v, "months"), from_instalment=_int(v, "from_instalment"), on=on, decision=d,
             recorded_at=now)),
    Kind("due-date-extension", "decision", ("instalment", "new_due_date"), ("R-EXT-1",),
         lambda s, t, l, on, d, v: s.extend_due_date(t, l, on=on, decision=d, instalment=_int(v, "instalment"),
                                                     new_due_date=dt.date.fromisoformat(v["new_due_date"])),
         lambda loan, rates, on, d, v, now: loan.extend_due_date(
             instalment=_int(v, "instalment"), new_due_date=dt.date.fromisoformat(v["new_due_date"]), on=on,
             decision=d, recorded_at=now)),
    Kind("terms", "decision", ("from_instalment", "instalment_amount"), ("R-TERMS-1",),
         lambda s, t, l, on, d, v: s.change_terms(t, l, on=on, decision=d, from_instalment=_int(v, "from_instalment"),
                                                  instalment_amount=v["instalment_amount_cents"]),
         lambda loan, rates, on, d, v, now: loan.change_terms(
             from_instalment=_int(v, "from_instalment"), instalment_amount=v["instalment_amount_cents"], on=on,
             rates=rates, decision=d, recorded_at=now)),
    Kind("exemption", "decision", ("kind", "amount"), ("R-WAIVE-1",),
         lambda s, t, l, on, d, v: s.waive(t, l, on=on, decision=d, kind=v["kind"], amount=v.get("amount_cents")),
         lambda loan, rates, on, d, v, now: loan.waive(kind=v["kind"], amount=v.get("amount_cents"), on=on,
                                                       rates=rates, decision=d, recorded_at=now)),
)}


def check(service, tenant: str, loan_id: str, kind: Kind, on: dt.date, decision: Decision,
          values: dict) -> DomainError | None:
    """What the rules say of this decision now: None (it would be recorded) or the refusal. The
    loan is a copy (never the cached instance) and nothing is saved."""
    loan = service.loan(tenant, loan_id)
    try:
        kind.check(loan, service.rates, on, decision, values, service.clock())
    except DomainError as e:
        return e
    except (KeyError, ValueError) as e:
        return DomainError("invalid_request", f"{e}", field=str(e).strip("'") if isinstance(e, KeyError) else None)
    return None


def record(service, tenant: str, loan_id: str, kind: Kind, on: dt.date, decision: Decision, values: dict):
    return kind.record(service, tenant, loan_id, on, decision, values)
