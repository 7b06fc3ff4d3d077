"""A decision on an application, previewed before it is made (R-APP-5, R-APP-9): the rules checked
on the application as it stands (four eyes, the §4(3) criteria, the §10 check, grounds in the
record) and each applicant's letter in their own language (fi/sv), built from the same content the
decision would send (application.decision_letters.decision_content). Nothing is stored, sealed or
queued: the letter shown is the text the PDF will carry, not the PDF itself.
"""
from __future__ import annotations

import datetime as dt

from adapters.notices.decision_letter import blocks
from application.applications import plan_figures, relief_request
from application.decision_letters import decision_content
from application.notices import _Whom, borrower_of, organiser
from domain.case_state import LOAN
from domain.errors import DomainError


def preview_decision(c, tenant: str, application_id: str, *, outcome: str, decided_by: str, on: dt.date, by: str,
                     reasons: str = "", grounds: list[str] | None = None, override_reasons: str | None = None,
                     grant: dict | None = None, terms: dict | None = None,
                     legal_basis: str | None = None) -> dict:
    """{"refusal": DomainError | None, "letters": [{borrower_id, language, name, title, blocks}]}.
    A refused decision still shows its letters where they can be built, so the wording can be read."""
    service = c.service
    grounds = list(grounds or [])
    case = service.case(tenant, application_id)
    policy = service.policy(tenant)
    refusal = None
    try:
        case.check_decision(outcome=outcome, grounds=grounds, reasons=reasons, override_reasons=override_reasons,
                            on=on, by=by, policy=policy)
    except DomainError as e:
        refusal = e
    assessment = service.application_assessment(case)
    decided: dict = {}
    try:
        if outcome == "granted" and case.kind == LOAN:
            # The plan as the decision would grant it; the place in the waiting list is known only then.
            decided = service._grant_terms(case, grant or {}, assessment)
            loan_id = decided.pop("loan_id")
            decided.update(plan_figures(service.probe_loan(tenant, loan_id, case, decided, on)))
        elif outcome == "granted":
            decided = relief_request(case.kind, terms) if terms else dict(case.request)
    except DomainError as e:
        refusal = refusal or e
        if case.kind == LOAN and outcome == "granted":
            return {"refusal": refusal, "letters": []}
    requested = (service.application_facts(case) or {}).get("requested_amount") if case.kind == LOAN else None
    content = decision_content(case, outcome=outcome, grounds=grounds, assessment=assessment, requested=requested,
                               reasons=reasons, override_reasons=override_reasons, decided_by=decided_by, on=on,
                               terms=decided, policy=policy, legal_basis=legal_basis)
    sender = organiser(c.settings, tenant)
    letters = []
    for person in case.applicants:
        addressee = borrower_of(c, _Whom(tenant, person))
        title, parts = blocks(content, addressee["language"], sender)
        letters.append({"borrower_id": person, "language": addressee["language"], "name": addressee["name"],
                        "title": title, "blocks": parts})
    return {"refusal": refusal, "letters": letters}
