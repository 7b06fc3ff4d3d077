"""Console test helpers: a session cookie as a sign-in would leave it, and a page's CSRF token."""
from __future__ import annotations

import re

from api.web.session import COOKIE, Sessions


def session_cookie(app, tenant: str, roles: list[str], subject: str = "tester") -> dict[str, str]:
    """The cookie the console sets after a sign-in (OIDC or development) for this person."""
    sessions = Sessions(app.state.container.signer.derived_key("console-session"))
    return {COOKIE: sessions.dump(sessions.new(sub=subject, tenant=tenant, roles=roles, via="test"))}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def summary_of(html: str) -> str:
    """The error page's one-line explanation in the reader's language."""
    found = re.search(r'class="summary">([^<]*)<', html)
    return found.group(1) if found else ""


def console_form(path: str, csrf: str) -> dict:
    """A valid form for each console POST route (the role matrix sends it)."""
    forms = {"/console/language": {"lang": "sv", "next": "/console/work-queue"},
             "/console/dev-sign-in": {"subject": "dev", "tenant": "t1", "roles": ["caseworker"]},
             "/console/payments/{payment_id}/allocation": {"loan_id": "L2"},
             # issue 22: L1's instalment 2 is overdue on the matrix's day; T-1 is no transfer (404, R-COL-1)
             "/console/loans/{loan_id}/legal-steps": {"kind": "claim_filed", "case_number": "HO 1/2025",
                                                      "reasons": "test"},
             "/console/loans/{loan_id}/collection-transfer": {"instalments": "2", "reasons": "test"},
             "/console/loans/{loan_id}/collection-transfer/{transfer_id}/payments": {"payment_id": "AG-1",
                                                                                     "amount": "5.00"},
             "/console/loans/{loan_id}/collection-transfer/{transfer_id}/recall": {"reasons": "test"},
             # issue 22: the role matrix's A1 (received by cw-0, not assessed) and D1 (a discussion requested)
             "/console/applications": {"application_id": "A-console", "applicant": "B-console",
                                        "requested_amount": "500", "first_due_date": "2025-04-30", "adults": "1",
                                        "purpose": "pesukone", "incomes-0-amount": "1500", "action": "save"},
             "/console/assessment-preview": {"applicant": "B1", "requested_amount": "500",
                                             "first_due_date": "2025-04-30", "adults": "1"},
             "/console/applications/{application_id}/facts": {"applicant": "B1", "requested_amount": "600",
                                                              "first_due_date": "2025-04-30", "adults": "1",
                                                              "purpose": "pesukone", "incomes-0-amount": "1500",
                                                              "action": "save"},
             "/console/applications/{application_id}/judgement-grounds": {"ground": "other", "reasons": "test"},
             "/console/applications/{application_id}/criteria": {"understood": "yes"},
             "/console/applications/{application_id}/social-assistance": {"finding": "no_right"},
             "/console/applications/{application_id}/decision": {"outcome": "rejected", "decided_by": "dm",
                                                                 "grounds": "other", "reasons": "ei",
                                                                 "action": "preview"},  # stores nothing
             "/console/loans/{loan_id}/relief-applications": {"application_id": "R-console", "kind": "free_months",
                                                              "months": "1", "from_instalment": "5"},
             "/console/discussions": {"request_id": "D-console", "borrower_id": "B1"},
             "/console/discussions/{request_id}/meeting": {"held_on": "2025-03-31"},
             "/console/capital": {"source": "own_funds", "amount": "1000.00", "on": "2025-01-01"}}
    if "/decisions/" in path:  # a rule check: records nothing
        return {"csrf": csrf, "reasons": "test", "on": "2025-03-31", "action": "check", "cause": "illness",
                "months": "1", "from_instalment": "5", "instalment": "3", "new_due_date": "2025-05-10",
                "instalment_amount": "50.00", "kind": "partial", "amount": "1.00"}
    return {"csrf": csrf, **forms.get(path, {})}
