"""Erasure of a borrower: when the law allows it (R-DATA-4), and so that it erases (R-DATA-2).

Refused (409 `erasure_not_allowed`, with the date from which it is possible where one is known)
while the borrower
- has a loan that is not closed (repaid, waived or written off): the organiser still needs to
  know whom to notify and collect from;
- has a claim pending: money owed back to them (an overpayment not refunded);
- has an appeal pending (a request for rectification not yet decided);
- or while the organiser's retention period (LUOTTO_TENANTS `retention_years`, default 12) has
  not run out since the last loan closed or its last event, whichever is later, so that the
  evidence of notices survives as long as a dispute about them can arise.

Applications count too (R-APP-1): not while one is open or a requested discussion is not held, and
the retention period runs from the last one's last event.

Erasing then removes, in this order (each step can be repeated after a crash): the letters in the
content store (notices, decision letters), the applications' facts, the outbox rows' envelopes and any
letter still in the print folder, and last the personal-data row and the sealing key. The events keep their ciphertext and their hashes, so
every chain still verifies (`luotto verify`) while nothing of the person can be read any more.
"""
from __future__ import annotations

import datetime as dt

from application.decision_letters import outbox_key
from application.notices import co_borrower_key
from domain.dates import add_months
from domain.errors import DomainError

DEFAULT_RETENTION_YEARS = 12
RULE = "R-DATA-4"


def retention_years(settings, tenant: str) -> int:
    return int(settings.tenants.get(tenant, {}).get("retention_years", DEFAULT_RETENTION_YEARS))


def loans_of(service, tenant: str, borrower_id: str) -> list[str]:
    """The borrower's loans, joint ones too (R-APP-1)."""
    return service.loans_of_borrower(tenant, borrower_id)


def applications_refusal(service, tenant: str, borrower_id: str) -> tuple[DomainError | None, dt.date | None]:
    """Applications are personal data under the same rules (R-APP-1): not while one is open or a
    requested discussion is not held; the retention period runs from the last application's last event."""
    register = service.case_register(tenant)
    latest = None
    for application_id in register.of_borrower(borrower_id):
        case = service.case(tenant, application_id)
        if case.open:
            return _refused(f"application {application_id} is not decided or withdrawn"), None
        last = case.modified_on.date()
        latest = max(latest or last, last)
    if any(r["borrower_id"] == borrower_id and r["held_on"] is None for r in register.discussions.values()):
        return _refused("a requested personal discussion has not been held (R-APP-10)"), None
    return None, latest


def refusal(container, tenant: str, borrower_id: str, today: dt.date) -> DomainError | None:
    """Why the borrower may not be erased today (None: they may)."""
    service = container.service
    years = retention_years(container.settings, tenant)
    latest: dt.date | None = None
    for loan_id in loans_of(service, tenant, borrower_id):
        loan = service.loan(tenant, loan_id, read_only=True)
        books = loan.books(service.rates)
        closed_on = loan.repaid_on or loan.closed_on
        if closed_on is None or books.status(today) not in ("repaid", "waived", "written_off"):
            return _refused(f"loan {loan_id} is not closed: the borrower can be erased only after it is closed "
                            f"and {years} years have passed")
        if any(a.outcome is None for a in loan.appeals):
            return _refused(f"an appeal on loan {loan_id} is pending")
        if books.position(today).overpayment > 0:
            return _refused(f"loan {loan_id} has an overpayment not yet refunded: the borrower's claim is pending")
        last_event = max(closed_on, loan.modified_on.date())
        latest = max(latest or last_event, last_event)
    problem, last_application = applications_refusal(service, tenant, borrower_id)
    if problem is not None:
        return problem
    if last_application is not None:
        latest = max(latest or last_application, last_application)
    if latest is not None:
        possible = add_months(latest, 12 * years) + dt.timedelta(days=1)
        if today < possible:
            return _refused(f"the retention period of {years} years since {latest} has not run out",
                            possible_from=possible)
    return None


def _refused(why: str, possible_from: dt.date | None = None) -> DomainError:
    when = f"; possible from {possible_from.isoformat()}" if possible_from else ""
    error = DomainError("erasure_not_allowed", f"{why}{when}", rule=RULE, field="borrower_id")
    error.possible_from = possible_from.isoformat() if possible_from else None
    return error


def erase(container, tenant: str, borrower_id: str, today: dt.date) -> dict:
    problem = refusal(container, tenant, borrower_id, today)
    if problem is not None:
        raise problem
    service = container.service
    loan_ids = loans_of(service, tenant, borrower_id)
    dispatcher = container.notices
    for loan_id in loan_ids:
        for event in service.events.get(service.loan(tenant, loan_id, read_only=True).id):
            if type(event).__name__ == "NoticeSent":
                dispatcher.pdfs.delete(event.content_hash)
            elif type(event).__name__ == "AppealDecided" and getattr(event, "letter_hash", None):
                dispatcher.pdfs.delete(event.letter_hash)
    keys = list(loan_ids) + [co_borrower_key(loan_id, borrower_id) for loan_id in loan_ids]
    for application_id in service.case_register(tenant).of_borrower(borrower_id):
        case = service.case(tenant, application_id)
        contract = getattr(case, "contract", None)  # R-APP-7: the contracts too (issue 18)
        for letter in (case.decision.letters if case.decision else ()) + (contract.letters if contract else ()):
            if letter.borrower_id == borrower_id:  # a co-applicant's letter is sealed with their own key
                dispatcher.pdfs.delete(letter.hash)
        keys.append(outbox_key(application_id, borrower_id))
    service.facts.erase(tenant, borrower_id)
    for message_id in dispatcher.outbox.erase_loans(tenant, keys):
        remove = getattr(dispatcher.adapter, "remove", None)
        if remove is not None:
            remove(message_id)
    return container.borrowers.erase(tenant, borrower_id)
