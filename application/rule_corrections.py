"""The report of rule corrections (issue 12): every loan whose stored history a run corrected.

When a rule of the book was corrected (domain.corrections), the next servicing run records a
correcting event on each loan whose stored history the old rule got wrong; nothing is edited.
This lists those events, every cure that a reversal revoked (R-ACC-7), and the loans a person must
still look at: a terms change that reached back (R-TERMS-1) but was followed by another change of
the plan, so that no run can tell what the plan should have been.
"""
from __future__ import annotations

from collections.abc import Callable

from domain import events as ev
from domain.corrections import is_correction
from projections.follower import scan

TOPICS = [f"{ev.__name__}:{cls.__name__}" for cls in
          (ev.AccelerationRevoked, ev.AccelerationLapseRevoked, ev.RepaymentTermsChanged)]


def corrections(service, tenant: str | None = None, progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """[{tenant, loan_id, event, version, effective_date, reason}] in recorded order."""
    found, terms_changed = [], {}
    total = service.recorder.max_notification_id() or 0
    for batch in scan(service, topics=TOPICS):
        for notification in batch:
            event = service.mapper.to_domain_event(notification)
            loan = _owner(service, event)
            if tenant is not None and loan.tenant != tenant:
                continue
            reason = getattr(event, "reasons", None) or getattr(event, "reason", "")
            if isinstance(event, ev.RepaymentTermsChanged):
                terms_changed[event.originator_id] = loan
            if is_correction(event):
                found.append({"tenant": loan.tenant, "loan_id": loan.loan_id, "event": type(event).__name__,
                              "version": event.originator_version,
                              "effective_date": event.effective_date.isoformat(), "reason": reason})
        if progress:
            progress(batch[-1].id, total)
    for loan_uuid in terms_changed:
        loan = service.repository.get(loan_uuid)
        for change in loan.terms_changes:
            if change.reached_back and not change.corrected:
                found.append({"tenant": loan.tenant, "loan_id": loan.loan_id, "event": "RepaymentTermsChanged",
                              "version": change.version, "effective_date": change.on.isoformat(),
                              "reason": "needs review (R-TERMS-1): the change reached back to an instalment "
                                        "already due and the plan was changed again since"})
    return found


def _owner(service, event):
    """The loan an event belongs to, at that event's version (its tenant and loan id never change)."""
    return service.repository.get(event.originator_id, version=1)
