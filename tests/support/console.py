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
             "/console/loans/{loan_id}/collection-transfer/{transfer_id}/recall": {"reasons": "test"}}
    if "/decisions/" in path:  # a rule check: records nothing
        return {"csrf": csrf, "reasons": "test", "on": "2025-03-31", "action": "check", "cause": "illness",
                "months": "1", "from_instalment": "5", "instalment": "3", "new_due_date": "2025-05-10",
                "instalment_amount": "50.00", "kind": "partial", "amount": "1.00"}
    return {"csrf": csrf, **forms.get(path, {})}
