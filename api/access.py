"""Who may call what: the one table of routes, permissions and roles (R-DATA-6).

Every route of the API is a row here; the route dependency `authorise` looks its row up, so a
route that is not in the table answers 403 to everyone. A row's `partly` names what a route does
only for callers holding a further permission (its handler asks `who.may(...)` for exactly that
permission). README.md shows `markdown_table()` between the `access-table` markers, and
tests/integration/test_role_matrix.py checks the README against it and every role against every
row, side effects included. Roles per permission: adapters.auth.PERMISSIONS.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from adapters.auth import PERMISSIONS, ROLES


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    permission: str  # adapters.auth.PERMISSIONS, or "public" / "metrics" / "docs" (settings decide)
    what: str
    partly: dict[str, str] = field(default_factory=dict)  # permission -> what callers without it do not get


LOAN = "/v1/loans/{loan_id}"
APP = "/v1/applications/{application_id}"
ROUTES = (
    Route("POST", "/v1/loans", "decision", "grant a loan"),
    Route("GET", "/v1/loans", "read", "list loans (paged)"),
    Route("GET", LOAN, "read", "a loan's balance and status"),
    Route("GET", f"{LOAN}/schedule", "read", "the plan and payment instructions"),
    Route("GET", f"{LOAN}/events", "read", "the loan's events",
          {"personal_data": "the decisions' free text (a marker instead)"}),
    Route("POST", f"{LOAN}/acceleration-notices", "acceleration_notice", "send an acceleration notice"),
    Route("POST", f"{LOAN}/hardships", "hardship", "record a cause of delay (Act §8(2))"),
    Route("POST", f"{LOAN}/hardships/end", "hardship", "end a cause of delay"),
    Route("POST", f"{LOAN}/free-months", "decision", "free months (Act §7a)"),
    Route("POST", f"{LOAN}/due-date-extensions", "decision", "a due date extension"),
    Route("POST", f"{LOAN}/terms", "decision", "a terms change"),
    Route("POST", f"{LOAN}/exemptions", "decision", "an exemption (Act §7b)"),
    Route("POST", f"{LOAN}/refunds", "payment_admin", "refund an overpayment"),
    Route("POST", f"{LOAN}/collection-transfer", "decision", "transfer to collection"),
    Route("POST", f"{LOAN}/write-off", "payment_admin", "write the loan off"),
    Route("POST", f"{LOAN}/appeals", "appeal", "file a request for rectification"),
    Route("POST", f"{LOAN}/appeals/{{appeal_version}}/decision", "decision", "decide an appeal"),
    Route("POST", f"{LOAN}/acceleration-revocation", "decision", "revoke an acceleration"),
    Route("POST", f"{LOAN}/what-if", "read", "re-run the history with corrected facts (writes nothing)"),
    Route("POST", "/v1/assessments", "assess", "assess an application (R-APP-2 … 4; stores nothing)"),
    Route("POST", "/v1/applications", "prepare", "receive an application with its facts (R-APP-1)"),
    Route("GET", "/v1/applications", "personal_data", "list applications (paged)"),
    Route("GET", APP, "personal_data", "an application, its facts and assessment"),
    Route("PUT", f"{APP}/facts", "prepare", "a new version of the facts (R-APP-1)"),
    Route("POST", f"{APP}/assessment", "prepare", "assess the facts and record it (R-APP-2 … 4)"),
    Route("POST", f"{APP}/judgement-grounds", "prepare", "record a judged ground with reasons (R-APP-4)"),
    Route("POST", f"{APP}/criteria", "prepare", "criteria given and understood (Act §4(3))"),
    Route("POST", f"{APP}/social-assistance", "prepare", "right to social assistance looked into (Act §10)"),
    Route("POST", f"{APP}/decision", "decision", "decide an application (R-APP-5, R-APP-9; four eyes)"),
    Route("POST", f"{APP}/withdrawal", "prepare", "record a withdrawal"),
    Route("GET", f"{APP}/letters/{{borrower_id}}", "personal_data", "a decision letter (PDF)"),
    Route("GET", "/v1/waiting-list", "personal_data", "grants waiting for capital, positions and offers (R-APP-6)"),
    Route("POST", "/v1/waiting-list/offers", "decision", "offer what the freed capital covers, in order (R-APP-6)"),
    Route("POST", f"{APP}/grant-withdrawal", "prepare", "record that the applicant gives up a waiting or offered grant"),
    Route("POST", f"{APP}/contract", "decision", "draw the contract for an offer, a PDF to each borrower (R-APP-7)"),
    Route("GET", f"{APP}/contract/{{borrower_id}}", "personal_data", "the contract sent to a borrower (PDF)"),
    Route("POST", f"{APP}/contract/signatures", "decision", "record a borrower's or sign as the official (R-APP-7)"),
    Route("POST", f"{APP}/payees", "decision", "decide the payees of a granted loan (R-APP-8)"),
    Route("POST", f"{LOAN}/disbursements", "payment_admin", "pay the loan out: a pain.001 file (R-APP-8)"),
    Route("GET", f"{LOAN}/disbursements/{{message_id}}", "payment_admin", "an earlier pain.001 file again"),
    Route("POST", f"{LOAN}/disbursements/{{transfer_id}}/return", "payment_admin", "record a returned transfer"),
    Route("POST", f"{LOAN}/relief-applications", "prepare", "receive a relief application (R-APP-9)"),
    Route("POST", "/v1/discussions", "prepare", "record a request for a personal discussion (R-APP-10)"),
    Route("POST", "/v1/discussions/{request_id}/meeting", "prepare", "record the discussion held (R-APP-10)"),
    Route("GET", f"{LOAN}/evidence", "evidence", "the evidence bundle",
          {"personal_data": "the letters and the decisions' free text"}),
    Route("GET", f"{LOAN}/court-package", "legal", "the court package: claim, §8 trail, letters, application draft"),
    Route("POST", f"{LOAN}/legal-steps", "legal", "record a claim filed, a judgment or an enforcement"),
    Route("POST", f"{LOAN}/collection-transfer/{{transfer_id}}/recall", "decision", "recall a collection transfer"),
    Route("GET", f"{LOAN}/collection-transfer/{{transfer_id}}/export", "legal",
          "the collection agency's file of a transfer (JSON or CSV)"),
    Route("POST", f"{LOAN}/collection-transfer/{{transfer_id}}/payments", "payment_admin",
          "record a payment the collection agency collected"),
    Route("POST", "/v1/payments", "payment", "post a payment"),
    Route("POST", "/v1/payments/files", "payment", "import a bank file",
          {"payment_admin": "applying the file's returns: they wait for finance in `/v1/payments/returns`"}),
    Route("GET", "/v1/payments/unallocated", "payment_admin", "the unallocated payments (paged)"),
    Route("POST", "/v1/payments/{payment_id}/allocation", "payment_admin", "allocate a payment"),
    Route("POST", "/v1/payments/{payment_id}/reversal", "payment_admin", "reverse a payment"),
    Route("GET", "/v1/payments/returns", "payment_admin", "bank returns queued for finance (paged)"),
    Route("POST", "/v1/payments/returns/{return_id}/decision", "payment_admin", "apply or set aside a queued return"),
    Route("POST", "/v1/servicing-runs", "operations", "run the daily servicing"),
    Route("GET", "/v1/servicing-runs", "operations_read", "past servicing runs"),
    Route("GET", "/v1/reference-rates", "operations_read", "the reference rates in force (R-PEN-4)"),
    Route("POST", "/v1/reference-rates", "admin", "record a half-year's reference rate"),
    Route("GET", "/v1/portfolio", "read", "portfolio figures"),
    Route("GET", "/v1/work-queue", "read", "the work queue (paged)",
          {"payment_admin": "the unallocated payments"}),
    Route("GET", "/v1/statistics", "statistics", "the organiser's statistics for a period (R-STAT-1; JSON, CSV, XLSX)"),
    Route("GET", "/v1/statistics/national", "national_statistics",
          "every organiser's statistics together, no personal data (R-STAT-2)"),
    Route("POST", "/v1/capital", "payment_admin", "record lending capital by source (R-CAP-1, Act §10a)"),
    Route("GET", "/v1/books/journal", "books", "journal entries per day for the organiser's ledger, CSV (R-BOOK-1)"),
    Route("GET", "/v1/books/bank-files", "books", "each imported bank file reconciled with its payments (R-BOOK-2)"),
    Route("GET", "/v1/digests/latest", "audit", "the latest signed digest"),
    Route("PUT", "/v1/borrowers/{borrower_id}", "personal_data", "store a borrower's personal data"),
    Route("GET", "/v1/borrowers/{borrower_id}", "personal_data", "read a borrower's personal data"),
    Route("DELETE", "/v1/borrowers/{borrower_id}", "erasure", "erase a borrower (when the law allows)"),
    Route("GET", "/v1/borrowers/{borrower_id}/access-log", "audit", "who processed the borrower's data"),
    Route("GET", "/v1/access-log", "audit", "the access log (paged)"),
    # The staff console (api/web): pages for people signed in with a session cookie.
    Route("GET", "/console", "public", "console: to the work queue"),
    Route("GET", "/console/static/console.css", "public", "console: the stylesheet"),
    Route("GET", "/console/sign-in", "public", "console: sign-in page"),
    Route("POST", "/console/dev-sign-in", "public", "console: local development sign-in (R-WEB-2)"),
    Route("GET", "/console/oidc/start", "public", "console: sign in with the organiser's OIDC issuer (PKCE)"),
    Route("GET", "/console/oidc/callback", "public", "console: the issuer's answer (R-DATA-7)"),
    Route("POST", "/console/sign-out", "public", "console: sign out"),
    Route("POST", "/console/language", "public", "console: choose fi, sv or en"),
    Route("GET", "/console/work-queue", "read", "console: the work queue by role",
          {"payment_admin": "the unallocated payments"}),
    Route("GET", "/console/loans", "read", "console: find a loan by id"),
    Route("GET", "/console/loans/{loan_id}", "read", "console: a loan's balances, schedule and timeline",
          {"personal_data": "the decisions' free text (a marker instead)"}),
    Route("GET", "/console/loans/{loan_id}/replay", "read", "console: the loan on a date, as known at an instant, "
          "and what each decision-maker saw (R-EVID-4)"),
    Route("GET", "/console/loans/{loan_id}/evidence", "evidence", "console: download the evidence bundle",
          {"personal_data": "the letters and the decisions' free text"}),
    *(Route(method, f"/console/loans/{{loan_id}}/decisions/{name}", permission,
            f"console: {name.replace('-', ' ')} " + ("form and rule checks" if method == "GET" else
                                                    "rule check, then record (R-WEB-1)"))
      for name, permission in (("acceleration-notice", "acceleration_notice"), ("hardship", "hardship"),
                               ("free-months", "decision"), ("due-date-extension", "decision"),
                               ("terms", "decision"), ("exemption", "decision"))
      for method in ("GET", "POST")),
    # after acceleration (issue 22, api/web/legal_pages.py): the same permissions as the API's routes
    Route("GET", "/console/loans/{loan_id}/legal", "read", "console: legal status, court and collection forms",
          {"legal": "the court package, legal steps and the agency's files (they name the debtor)"}),
    Route("GET", "/console/loans/{loan_id}/court-package", "legal", "console: download the court package on a date"),
    Route("POST", "/console/loans/{loan_id}/legal-steps", "legal", "console: record a claim filed, judgment or "
          "enforcement (R-LEGAL-1, R-WEB-1)"),
    Route("POST", "/console/loans/{loan_id}/collection-transfer", "decision",
          "console: transfer overdue instalments or the accelerated loan to collection (R-COL-1)"),
    Route("GET", "/console/loans/{loan_id}/collection-transfer/{transfer_id}/export", "legal",
          "console: the collection agency's file (JSON or CSV)"),
    Route("POST", "/console/loans/{loan_id}/collection-transfer/{transfer_id}/payments", "payment_admin",
          "console: record a payment the collection agency collected"),
    Route("POST", "/console/loans/{loan_id}/collection-transfer/{transfer_id}/recall", "decision",
          "console: recall a collection transfer"),
    # from decision to money (issue 22, api/web/money_pages.py): the same permissions as the API's routes
    Route("GET", "/console/waiting-list", "personal_data", "console: the waiting list with positions and the offers "
          "(R-APP-6)"),
    Route("POST", "/console/waiting-list/offers", "decision", "console: offer what the freed capital covers, in order "
          "(R-APP-6, R-WEB-1)"),
    Route("POST", "/console/applications/{application_id}/grant-withdrawal", "prepare",
          "console: record that the applicant gives up a waiting or offered grant (R-APP-6)"),
    Route("GET", "/console/applications/{application_id}/contract", "personal_data",
          "console: an offer's contract, its letters and signatures (R-APP-7)"),
    Route("POST", "/console/applications/{application_id}/contract", "decision", "console: draw the contract again "
          "(R-APP-7)"),
    Route("GET", "/console/applications/{application_id}/contract/{borrower_id}", "personal_data",
          "console: the contract sent to a borrower (PDF, shown or downloaded)"),
    Route("POST", "/console/applications/{application_id}/contract/signatures", "decision",
          "console: record a borrower's signature or sign as the official (R-APP-7)"),
    Route("POST", "/console/applications/{application_id}/payees", "decision",
          "console: decide the payees of a granted loan (R-APP-8)"),
    Route("GET", "/console/disbursements", "read", "console: loans granted through an application and their "
          "disbursement status (R-APP-8)"),
    Route("GET", "/console/loans/{loan_id}/disbursements", "read", "console: a loan's payees, transfers and "
          "disbursement status (payment files and forms: finance only)"),
    Route("POST", "/console/loans/{loan_id}/disbursements", "payment_admin", "console: make the pain.001 file "
          "(R-APP-8)"),
    Route("GET", "/console/loans/{loan_id}/disbursements/{message_id}", "payment_admin",
          "console: an earlier pain.001 file again"),
    Route("POST", "/console/loans/{loan_id}/disbursements/{transfer_id}/return", "payment_admin",
          "console: record a returned transfer (R-APP-8)"),
    # applications (issue 22, api/web/application_pages.py): the same permissions as the API's routes
    Route("GET", "/console/static/application.js", "public", "console: the intake form's live assessment script"),
    Route("GET", "/console/applications", "personal_data", "console: applications by status (paged)"),
    Route("GET", "/console/applications/new", "prepare", "console: the intake form"),
    Route("POST", "/console/applications", "prepare", "console: recalculate the assessment, or receive and "
          "assess an application (R-APP-1 … 4, R-WEB-1)"),
    Route("POST", "/console/assessment-preview", "assess", "console: the assessment of a form's facts "
          "(stores nothing)"),
    Route("GET", "/console/applications/{application_id}", "personal_data",
          "console: an application, its facts, assessment, preparation and decision"),
    Route("GET", "/console/applications/{application_id}/facts", "prepare", "console: the facts form again"),
    Route("POST", "/console/applications/{application_id}/facts", "prepare", "console: recalculate, or a new "
          "version of the facts assessed (R-APP-1)"),
    Route("POST", "/console/applications/{application_id}/assessment", "prepare",
          "console: record the assessment of the facts as they stand"),
    Route("POST", "/console/applications/{application_id}/judgement-grounds", "prepare",
          "console: a judged ground with reasons (R-APP-4)"),
    Route("POST", "/console/applications/{application_id}/criteria", "prepare",
          "console: criteria given and understood (Act §4(3))"),
    Route("POST", "/console/applications/{application_id}/social-assistance", "prepare",
          "console: right to social assistance looked into (Act §10)"),
    Route("POST", "/console/applications/{application_id}/decision", "decision",
          "console: preview the rules and letters, or decide (R-APP-5, R-APP-9; four eyes)"),
    Route("POST", "/console/applications/{application_id}/withdrawal", "prepare", "console: record a withdrawal"),
    Route("GET", "/console/applications/{application_id}/letters/{borrower_id}", "personal_data",
          "console: a decision letter (PDF)"),
    Route("GET", "/console/loans/{loan_id}/relief", "prepare", "console: the relief application form"),
    Route("POST", "/console/loans/{loan_id}/relief-applications", "prepare",
          "console: receive a relief application (R-APP-9)"),
    Route("POST", "/console/discussions", "prepare", "console: a request for a personal discussion (R-APP-10)"),
    Route("POST", "/console/discussions/{request_id}/meeting", "prepare", "console: the discussion held (R-APP-10)"),
    Route("GET", "/console/payments", "payment_admin", "console: unallocated payments and bank-file upload"),
    Route("POST", "/console/payments/{payment_id}/allocation", "payment_admin", "console: allocate a payment"),
    Route("POST", "/console/payments/files", "payment_admin", "console: import a bank file, with its report"),
    Route("GET", "/console/portfolio", "read", "console: portfolio with charts"),
    Route("GET", "/console/access-log", "audit", "console: the access log"),
    # reports (issue 22, api/web/report_pages.py): the same permissions as the API's routes
    Route("GET", "/console/statistics", "statistics", "console: the organiser's statistics for a period with "
          "charts, CSV and XLSX (R-STAT-1 … 3)"),
    Route("GET", "/console/statistics/national", "national_statistics", "console: every organiser's statistics "
          "together, CSV and XLSX (R-STAT-2)"),
    Route("GET", "/console/capital", "statistics", "console: lending capital by source and the state grant's use "
          "(R-CAP-2)", {"payment_admin": "the form recording capital"}),
    Route("POST", "/console/capital", "payment_admin", "console: record lending capital by source (R-CAP-1, R-WEB-1)"),
    Route("GET", "/console/books", "books", "console: the journal for a period and the bank files reconciled "
          "(R-BOOK-1, R-BOOK-2)"),
    Route("GET", "/console/books/journal", "books", "console: download the journal, CSV (R-BOOK-1)"),
    Route("GET", "/console/books/bank-files", "books", "console: download the bank files' reconciliation, CSV "
          "(R-BOOK-2)"),
    Route("GET", "/healthz", "public", "liveness"),
    Route("GET", "/readyz", "public", "readiness"),
    Route("GET", "/metrics", "metrics", "Prometheus metrics (LUOTTO_METRICS)"),
    Route("GET", "/openapi.json", "docs", "the OpenAPI description (LUOTTO_DOCS)"),
    Route("GET", "/docs", "docs", "the OpenAPI pages (LUOTTO_DOCS)"),
)
BY_KEY = {(r.method, r.path): r for r in ROUTES}
SETTING = {"metrics": "LUOTTO_METRICS", "docs": "LUOTTO_DOCS"}


def allowed(route: Route, role: str) -> bool:
    if route.permission == "public":
        return True
    return role in PERMISSIONS[route.permission]


def markdown_table() -> str:
    """The table as README.md shows it: ✓ may call, ✓ with a note letter: only partly, — refused."""
    notes: dict[str, str] = {}
    lines = ["| method | route | " + " | ".join(ROLES) + " | what |", "| --- | --- |" + " :---: |" * len(ROLES)
             + " --- |"]
    for r in ROUTES:
        cells = []
        for role in ROLES:
            if r.permission in SETTING:
                cells.append(f"see {SETTING[r.permission]}" if role == ROLES[0] else "")
                continue
            if not allowed(r, role):
                cells.append("—")
                continue
            missing = [what for permission, what in r.partly.items() if role not in PERMISSIONS[permission]]
            marks = []
            for what in missing:
                letter = notes.setdefault(what, chr(ord("a") + len(notes)))
                marks.append(letter)
            cells.append("✓" + (f" ({', '.join(marks)})" if marks else ""))
        lines.append(f"| {r.method} | `{r.path}` | " + " | ".join(cells) + f" | {r.what} |")
    lines.append("")
    lines += [f"({letter}) without {what}." for what, letter in notes.items()]
    lines.append("")
    lines.append("`/healthz` and `/readyz` need no credential. `LUOTTO_METRICS` / `LUOTTO_DOCS`: `off`, "
                 "`authenticated` (metrics: " + ", ".join(sorted(PERMISSIONS["metrics"])) + "; docs: any role) "
                 "or `public`.")
    return "\n".join(lines)
