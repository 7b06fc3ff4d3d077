"""Appeals and disputes: a loan as it stood (R-EVID-4) and what-if re-runs with a corrected fact."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from application.service import LoanService
from domain import events as ev
from domain.errors import DomainError, invalid
from domain.evidence import plain
from domain.loan import Loan
from domain.money import format_cents
from application.days import Action, SimulatedClock, drive, sandbox
from application.simulation import TENANT, ScenarioError, result

HELSINKI = ZoneInfo("Europe/Helsinki")
DECISIONS = (ev.LoanGranted, ev.RepaymentDeferred, ev.RepaymentTermsChanged, ev.PaymentWaived, ev.NoticeSent,
             ev.HardshipRecorded, ev.HardshipEnded, ev.LoanTransferredToCollection, ev.LoanWrittenOff,
             ev.OverpaymentRefunded, ev.CollectionRecalled, ev.ClaimFiled, ev.JudgmentGiven, ev.EnforcementStarted)


def _day(event) -> dt.date:
    return event.timestamp.astimezone(HELSINKI).date()


def replay(service: LoanService, tenant: str, loan_id: str, on: dt.date, known_at: dt.datetime | None) -> dict:
    """Balance and schedule on `on` as known at `known_at`, and for each decision known then the
    state its decision-maker saw (the loan just before the decision was recorded, on its date)."""
    loan = service.loan_known_at(tenant, loan_id, known_at) if known_at else service.loan(tenant, loan_id)
    rates = service.rate_source.known_at(known_at) if known_at else service.rates  # R-PEN-4
    books = loan.books(rates)
    pos = books.position(on)
    seen = []
    for event in service.events.get(loan.id, lte=loan.version):
        if isinstance(event, DECISIONS) and getattr(event, "decided_by", "scheduler") != "scheduler":
            before = service.loan(tenant, loan_id, version=event.originator_version - 1) \
                if event.originator_version > 1 else None
            seen.append({"type": type(event).__name__, "version": event.originator_version,
                         "effective_date": event.effective_date.isoformat(),
                         "recorded_at": event.timestamp.isoformat(), "decided_by": event.decided_by,
                         "legal_basis": getattr(event, "legal_basis", None),
                         "state_seen": before.books(rates).balance(event.effective_date) if before else None})
    return {"loan_id": loan_id, "on": on.isoformat(), "known_at": known_at.isoformat() if known_at else None,
            "version": loan.version, "balance": books.balance(on),
            "schedule": [{"instalment": r.number, "due_date": r.due_date.isoformat(), "amount": format_cents(r.amount),
                          "unpaid": format_cents(r.unpaid)} for r in pos.instalments],
            "decisions": seen, "legal_status": legal_status(loan, on)}


def legal_status(loan, on: dt.date) -> dict:
    """Issue 20: the collection agency transfers and the court steps standing on `on`."""
    return {"collection": [{"transfer_id": t.transfer_id, "on": t.on.isoformat(), "instalments": list(t.instalments)
                            or None, "recalled_on": t.recalled_on.isoformat() if t.recalled_on else None,
                            "version": t.version} for t in loan.collections if t.on <= on],
            "court": [{"step": s.kind, "on": s.on.isoformat(), "court": s.court, "case_number": s.case_number,
                       "amount": format_cents(s.amount) if s.amount is not None else None, "outcome": s.outcome,
                       "version": s.version} for s in loan.legal_steps if s.on <= on]}


def history_actions(events: list) -> list[Action]:
    """The commands of a stored history as simulator actions on the days they were recorded;
    what the scheduler recorded is left out, since the re-run decides it again."""
    actions = []
    for event in events[1:]:
        data = _action_data(event)
        if data is not None:
            kind, fields = data
            actions.append(Action(len(actions), _day(event), kind, fields))
    return actions


def _action_data(event) -> tuple[str, dict] | None:
    decision = {k: getattr(event, k) for k in ("decided_by", "reasons", "legal_basis") if hasattr(event, k)}
    if isinstance(event, ev.PaymentReceived):
        return "payment", {"payment_id": event.payment_id, "amount": event.amount, "value_date": event.value_date}
    if isinstance(event, ev.PaymentReversed):
        return "payment_reversal", {"payment_id": event.payment_id, "reason": event.reason}
    if isinstance(event, ev.NoticeSent) and event.kind == "acceleration" and event.decided_by != "scheduler":
        return "acceleration_notice", {**decision, "override_reason": event.override_reason}
    if isinstance(event, ev.HardshipRecorded):
        return "hardship", {**decision, "cause": event.cause}
    if isinstance(event, ev.HardshipEnded):
        return "hardship_end", decision
    if isinstance(event, ev.RepaymentDeferred) and event.kind == "free_months":
        return "free_months", {**decision, "months": event.months,
                               "from_instalment": min(m["instalment"] for m in event.moved)}
    if isinstance(event, ev.RepaymentDeferred):
        moved = event.moved[0]
        return "due_date_extension", {**decision, "instalment": moved["instalment"],
                                      "new_due_date": dt.date.fromisoformat(moved["due_date"])}
    if isinstance(event, ev.RepaymentTermsChanged) and event.decided_by != "scheduler":  # not a rule correction
        return "terms_change", {**decision, "from_instalment": event.from_instalment,
                                "instalment_amount": event.instalment_amount}
    if isinstance(event, ev.PaymentWaived):
        return "waiver", {**decision, "kind": event.kind, **({"amount": event.amount} if event.kind == "partial" else {})}
    if isinstance(event, ev.OverpaymentRefunded):
        return "refund", {**decision, "amount": event.amount}
    if isinstance(event, ev.LoanTransferredToCollection):
        return "transfer_to_collection", {**decision, **({"instalments": event.instalments} if event.instalments
                                                         else {}),
                                          **({"transfer_id": event.transfer_id} if event.transfer_id else {})}
    if isinstance(event, ev.LoanWrittenOff):
        return "write_off", decision
    return None


def correct(actions: list[Action], corrections: list[dict]) -> list[Action]:
    """Apply corrections: {"payment_id", "value_date"} moves a payment's value date;
    {"hardship": cause, "from": date[, "until": date]} adds a hardship over those days;
    {"remove_payment": payment_id} drops a payment."""
    out = list(actions)
    for i, c in enumerate(corrections):
        if "payment_id" in c and "value_date" in c:
            value_date = dt.date.fromisoformat(c["value_date"])
            out = [Action(a.index, max(a.on, value_date), a.type, {**a.data, "value_date": value_date})
                   if a.type == "payment" and a.data["payment_id"] == c["payment_id"] else a for a in out]
        elif "remove_payment" in c:
            out = [a for a in out if not (a.type == "payment" and a.data["payment_id"] == c["remove_payment"])]
        elif "hardship" in c:
            decision = {"decided_by": c.get("decided_by", "what-if"), "reasons": "what-if correction"}
            out.append(Action(len(out), dt.date.fromisoformat(c["from"]), "hardship",
                              {**decision, "cause": c["hardship"]}))
            if c.get("until"):
                out.append(Action(len(out), dt.date.fromisoformat(c["until"]), "hardship_end", decision))
        else:
            raise ScenarioError(f"corrections[{i}]: unknown correction {c!r}")
    return sorted(out, key=lambda a: (a.on, a.index))


def rerun(service: LoanService, tenant: str, loan_id: str, actions: list[Action], until: dt.date) -> dict:
    """Re-run a stored loan's history on an in-memory store, writing nothing to `service`."""
    granted = next(iter(service.events.get(service.loan(tenant, loan_id).id)))
    clock = SimulatedClock(granted.effective_date)
    rerunning = sandbox(clock, service.rates)
    fields = {k: v for k, v in vars(granted).items()
              if k not in ("originator_id", "originator_version", "timestamp", "originator_topic")}
    fields["tenant"] = TENANT
    rerunning.save(Loan._create(ev.LoanGranted, id=Loan.id_for(TENANT, loan_id), timestamp=granted.timestamp,
                                **fields))
    rejections = drive(rerunning, clock, TENANT, loan_id, actions, granted.effective_date, until)
    return result(rerunning, loan_id, rejections, until)


KEY = ("type", "effective_date", "instalment", "kind", "payment_id")


def check_corrections(granted_on: dt.date, actions: list[Action], corrections: list[dict], until: dt.date) -> None:
    """Refuse a correction the re-run could only drop: a date before the grant or after `until`, a
    hardship that ends before it starts, or a payment the loan never received (404)."""
    paid = {a.data["payment_id"] for a in actions if a.type == "payment"}
    for i, c in enumerate(corrections):
        for key in ("value_date", "from", "until"):
            if key in c and not granted_on <= dt.date.fromisoformat(c[key]) <= until:
                raise invalid(f"corrections[{i}].{key} {c[key]} is outside the loan's days {granted_on}..{until}",
                              rule="R-DATE-1", field=f"corrections[{i}].{key}")
        if "from" in c and "until" in c and c["until"] < c["from"]:
            raise invalid(f"corrections[{i}]: until {c['until']} is before from {c['from']}", rule="R-ACC-5",
                          field=f"corrections[{i}].until")
        for key in ("payment_id", "remove_payment"):
            if key in c and c[key] not in paid:
                raise DomainError("not_found", f"corrections[{i}].{key}: payment {c[key]!r} was never received "
                                  "on this loan", rule="R-EVID-4", field=f"corrections[{i}].{key}")


def _corrected(actions: list[Action], corrections: list[dict]) -> dict[int, int]:
    """Which correction each action of the corrected history comes from (action index -> correction)."""
    by_payment = {c["payment_id"]: i for i, c in enumerate(corrections) if "payment_id" in c}
    out = {a.index: by_payment[a.data["payment_id"]] for a in actions
           if a.type == "payment" and a.data["payment_id"] in by_payment}
    index = len(actions)  # correct() appends a hardship (and its end) with the next indices
    for i, c in enumerate(corrections):
        if "hardship" in c:
            for _ in range(2 if c.get("until") else 1):
                out[index] = i
                index += 1
    return out


def _key(event: dict) -> tuple:
    return tuple(event.get(k) for k in KEY)


def what_if(service: LoanService, tenant: str, loan_id: str, corrections: list[dict], until: dt.date) -> dict:
    """The difference a corrected fact makes to a loan's events and balance; writes nothing.

    `events_removed` lists only events that are stored on the loan (a re-run of the history may
    foresee events the daily run has not recorded yet); `corrections_refused` lists the corrected
    facts the rules refused in the re-run, with the correction's index."""
    stored = list(service.events.get(service.loan(tenant, loan_id).id))
    actions = history_actions(stored)
    check_corrections(stored[0].effective_date, actions, corrections, until)
    before = rerun(service, tenant, loan_id, actions, until)
    after = rerun(service, tenant, loan_id, correct(actions, corrections), until)
    real = {_key({"type": type(e).__name__, **plain({k: getattr(e, k, None) for k in KEY[1:]})}) for e in stored}
    old, new = [_key(e) for e in before["events"]], [_key(e) for e in after["events"]]
    corrected = _corrected(actions, corrections)
    return {"loan_id": loan_id, "until": until.isoformat(), "corrections": plain(corrections),
            "events_removed": [dict(zip(KEY, k)) for k in old if k not in new and k in real],
            "events_added": [dict(zip(KEY, k)) for k in new if k not in old],
            "balance_before": before["balance"], "balance_after": after["balance"],
            "rejections_after": after["rejections"],
            "corrections_refused": [{**r, "correction": corrected[r["action_index"]]} for r in after["rejections"]
                                    if r["action_index"] in corrected]}
