"""The loan's state, declared in one place: every attribute an event sets, its type and meaning.

Values are immutable (tuples of frozen dataclasses, dates, integers, strings): an event replaces
an attribute, never changes one in place, so a cached aggregate can be shared by readers and a copy
for a command is cheap (adapters.eventsourcing_internals.repository). `LoanGranted` sets every
attribute; later events replace some. Snapshots store this state as plain JSON (`state_to_json`, `state_from_json`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
import typing
from dataclasses import dataclass

from domain.ledger import Movement
from domain.money import Cents

Date = dt.date


@dataclass(frozen=True)
class PlanRow:
    """Instalment `n`: its principal part, due `months` after the first due date unless extended."""

    n: int
    months: int
    extended_to: Date | None
    amount: Cents


@dataclass(frozen=True)
class Payment:
    payment_id: str
    amount: Cents
    value_date: Date
    seq: int  # the PaymentReceived's version
    reversed: bool = False


@dataclass(frozen=True)
class Notice:
    """An acceleration notice (NoticeSent kind acceleration) and what became of it (R-ACC-6 … 10)."""

    version: int
    sent_on: Date
    instalments: tuple[int, ...]
    delayed_amount: Cents | None
    cure_deadline: Date  # moved off weekends and holidays (R-ACC-6), also for notices recorded before
    takes_effect_on: Date
    override: bool  # sent with an override_reason (R-ACC-5)
    lapsed_on: Date | None = None
    lapse: str | None = None  # cure | hardship | revoked
    accelerated: bool = False
    accelerated_version: int | None = None


@dataclass(frozen=True)
class NoticeDate:
    on: Date
    kind: str  # reminder | acceleration


@dataclass(frozen=True)
class Hardship:
    start: Date
    end: Date | None
    version: int  # of the HardshipRecorded


@dataclass(frozen=True)
class Appeal:
    filed: int  # version of the AppealFiled
    decision: int  # version of the appealed decision
    outcome: str | None = None


@dataclass(frozen=True)
class Delivery:
    notice: int
    outcome: str


@dataclass(frozen=True)
class TermsChange:
    """A RepaymentTermsChanged, kept so that one reaching back (R-TERMS-1) can be corrected."""

    version: int
    from_instalment: int
    on: Date
    amount: Cents
    replaced: tuple[PlanRow, ...]
    rows: tuple[PlanRow, ...]
    corrected: bool
    reached_back: bool


@dataclass(frozen=True)
class Disbursement:
    transfer_id: str
    on: Date
    amount: Cents
    returned: bool


@dataclass(frozen=True)
class FreeWindow:
    """Days on which no interest accrues: after `after` up to and including `through` (R-INT-6)."""

    after: Date
    through: Date


@dataclass(frozen=True)
class LegalStep:
    """Issue 20: a step of the loan's legal recovery: claim_filed, judgment or enforcement."""

    kind: str
    on: Date
    version: int
    court: str | None
    case_number: str | None
    amount: Cents | None
    outcome: str | None = None


@dataclass(frozen=True)
class CollectionTransfer:
    """Issue 20: instalments (or, with none listed, the accelerated loan) handed to the collection agency."""

    transfer_id: str
    on: Date
    instalments: tuple[int, ...]
    version: int
    recalled_on: Date | None = None


class LoanState:
    """The Loan aggregate's attributes (set by domain.events, read by domain.books and the rules)."""

    loan_id: str
    tenant: str
    borrower_id: str
    co_borrower_id: str | None = None  # jointly liable (R-APP-1); a class default: older snapshots lack it
    principal: Cents
    granted_on: Date
    first_due_date: Date
    policy: dict  # the policy snapshot of the grant (domain.policy.Policy.to_json)
    reference: str | None  # the national payment reference (R-PAY-2)
    plan: tuple[PlanRow, ...]
    fell_due: tuple[int, ...]  # instalments whose InstalmentFellDue stands
    late: tuple[int, ...]  # instalments whose InstalmentLate stands
    payments: tuple[Payment, ...]
    movements: tuple[Movement, ...]  # what the ledger folds: payments, waivers, refunds
    change_dates: tuple[Date, ...]  # effective dates of facts that can make acceleration conditions fail
    notices: tuple[Notice, ...]  # acceleration notices
    notice_dates: tuple[NoticeDate, ...]  # every notice, reminders too
    acm_dates: tuple[Date, ...]  # AccelerationConditionsMet
    acm_rearmed: bool  # R-ACC-4: recorded again after a lapse or a hardship's end
    hardships: tuple[Hardship, ...]
    accelerated_on: Date | None
    repaid_on: Date | None
    closed: str | None  # waived | written_off
    closed_on: Date | None
    collection_on: Date | None
    appeals: tuple[Appeal, ...]
    deliveries: tuple[Delivery, ...]
    terms_changes: tuple[TermsChange, ...]
    interest: dict | None  # R-INT-1 terms as JSON; None: interest-free
    interest_from: Date  # R-INT-2: the grant, or the last disbursement
    penalty_agreed_on: Date | None  # R-PEN-6
    free_windows: tuple[FreeWindow, ...]
    disbursements: tuple[Disbursement, ...]
    # Issue 20 (class defaults: older snapshots lack them). Legal recovery and collection agency transfers.
    legal_steps: tuple[LegalStep, ...] = ()
    collections: tuple[CollectionTransfer, ...] = ()
    hash_head: str  # R-EVID-1: the hash of the latest event
    ledger_version: int  # events that changed what the ledger folds (domain.events._Chained)


_HINTS: dict[str, typing.Any] = {}


def _hints() -> dict[str, typing.Any]:
    if not _HINTS:
        _HINTS.update(typing.get_type_hints(LoanState, globals()))
    return _HINTS


def state_to_json(values: dict) -> dict:
    """The state attributes of a loan as plain JSON (for a snapshot)."""
    return {name: _encode(values[name]) for name in _hints() if name in values}


def state_from_json(data: dict) -> dict:
    return {name: _decode(kind, data[name]) for name, kind in _hints().items() if name in data}


def _encode(value):
    if dataclasses.is_dataclass(value):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _decode(kind, value):
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        inner = [k for k in typing.get_args(kind) if k is not type(None)]
        return _decode(inner[0], value)
    if origin is tuple:
        return tuple(_decode(typing.get_args(kind)[0], v) for v in value)
    if kind is dt.date:
        return dt.date.fromisoformat(value)
    if dataclasses.is_dataclass(kind):
        hints = _fields(kind)
        return kind(**{name: _decode(hint, value[name]) for name, hint in hints})
    return value


@functools.lru_cache(maxsize=None)
def _fields(kind) -> tuple[tuple[str, typing.Any], ...]:
    hints = typing.get_type_hints(kind, globals())
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(kind))
