"""Commands on applications (R-APP-1 … 5, 9, 10): receipt, facts, assessment, preparation, the
decision with its letters, withdrawal, and requests for a personal discussion.

The facts go to the personal-data store (adapters.application_facts) and only their version and
salted hash into the events; free text is sealed with the applicant's key (R-DATA-2). A decision is
one write: the application, the casework register and, for a grant, the register, the loan and its
reference marker (as `POST /v1/loans` records them), or for a granted relief the loan's own
decision event. `by` is the caller's identity from the credential, so four eyes compares people.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from domain.applications import parse_application
from domain.assessment import assess
from domain.case import ApplicationCase, case_uuid
from domain.case_register import CaseRegister, case_register_id
from domain.case_state import LOAN, RELIEF_KINDS
from domain.errors import DomainError, invalid
from domain.loan import Decision
from domain.money import format_cents, parse_amount

RELIEF_FIELDS = {"free_months": ("months", "from_instalment"), "due_date_extension": ("instalment", "new_due_date"),
                 "terms_change": ("from_instalment", "instalment_amount"), "exemption": ("kind", "amount")}


class ApplicationCommands:
    facts = None  # adapters.application_facts.ApplicationFacts, set by the composition root
    letters = None  # application.decision_letters.DecisionLetters, set by the composition root

    # --- reading -----------------------------------------------------------------------------

    def case(self, tenant: str, application_id: str) -> ApplicationCase:
        try:
            return self.repository.get(case_uuid(tenant, application_id))
        except AggregateNotFoundError:
            raise DomainError("not_found", f"application {application_id!r} not found",
                              field="application_id") from None

    def case_register(self, tenant: str) -> CaseRegister:
        try:
            return self.repository.get(case_register_id(tenant))
        except AggregateNotFoundError:
            return CaseRegister.open(tenant)

    def application_facts(self, case: ApplicationCase, version: int | None = None) -> dict | None:
        row = case.facts[-1] if version is None else next(f for f in case.facts if f.version == version)
        return self.facts.get(case.tenant, case.application_id, row.hash)

    # --- receipt and facts -------------------------------------------------------------------

    def receive_application(self, tenant: str, application_id: str, *, kind: str, facts: dict, on: dt.date, by: str,
                            loan_id: str | None = None, request: dict | None = None):
        """R-APP-1 (a loan application with its facts) or R-APP-9 (relief for `loan_id`); a retry answers
        the application already received."""
        applicant, co_applicant, request = self._parties(tenant, kind, facts, loan_id, request)

        def change() -> list:
            try:
                existing = self.case(tenant, application_id)
            except DomainError:
                existing = None
            if existing is not None:
                if (existing.kind, existing.applicant, existing.loan_id) != (kind, applicant, loan_id):
                    raise DomainError("application_exists", f"application {application_id!r} was received for "
                                      "another applicant or kind", rule="R-APP-1", field="application_id")
                return []
            facts_hash = self.facts.put(tenant, application_id, 1, applicant=applicant, co_applicant=co_applicant,
                                        facts=facts)
            case = ApplicationCase.receive(tenant=tenant, application_id=application_id, kind=kind,
                                           applicant=applicant, co_applicant=co_applicant, facts_hash=facts_hash,
                                           on=on, by=by, recorded_at=self.clock(), loan_id=loan_id, request=request)
            register = self.case_register(tenant)
            register.index(application_id=application_id, kind=kind, applicants=list(case.applicants),
                           status="received", on=on, loan_id=loan_id)
            return [case, register]
        return self.write(change, lambda: self.case(tenant, application_id))

    def _parties(self, tenant: str, kind: str, facts: dict, loan_id: str | None,
                 request: dict | None) -> tuple[str, str | None, dict]:
        if kind == LOAN:
            parsed = parse_application(facts, "facts")
            return parsed.applicant, parsed.co_applicant, {}
        if kind not in RELIEF_KINDS:
            raise invalid(f"kind must be loan or one of {', '.join(RELIEF_KINDS)}, got {kind!r}", rule="R-APP-9",
                          field="kind")
        if loan_id is None:
            raise invalid("a relief application names its loan", rule="R-APP-9", field="loan_id")
        loan = self.loan(tenant, loan_id, read_only=True)
        return loan.borrower_id, loan.co_borrower_id, relief_request(kind, request or {})

    def update_application_facts(self, tenant: str, application_id: str, *, facts: dict, on: dt.date, by: str):
        """R-APP-1: a new version of the facts while the application is open; the applicants stay."""
        def change() -> list:
            case = self.case(tenant, application_id)
            if case.kind == LOAN:
                parsed = parse_application(facts, "facts")
                if (parsed.applicant, parsed.co_applicant) != (case.applicant, case.co_applicant):
                    raise invalid("the applicant and co-applicant of an application do not change; receive a new "
                                  "application", rule="R-APP-1", field="facts.applicant")
            version = case.current_facts().version + 1
            facts_hash = self.facts.put(tenant, application_id, version, applicant=case.applicant,
                                        co_applicant=case.co_applicant, facts=facts)
            case.update_facts(facts_hash=facts_hash, on=on, by=by, recorded_at=self.clock())
            return [case]
        return self.write(change, lambda: self.case(tenant, application_id))

    # --- preparation -------------------------------------------------------------------------

    def assess_application(self, tenant: str, application_id: str, *, on: dt.date, by: str):
        """R-APP-2 … 4 on the current facts with the organiser's policy; the result is kept with the facts."""
        outcome: dict = {}

        def change() -> list:
            case = self.case(tenant, application_id)
            facts = self.application_facts(case)
            if facts is None:
                raise DomainError("not_eligible", "the application's facts were erased", rule="R-DATA-2")
            result = assess(parse_application(facts, "facts"), self.policy(tenant), self.rates, on).to_json()
            version = case.current_facts()
            assessment_hash = self.facts.put_assessment(tenant, application_id, version.hash, result)
            case.record_assessment(facts_version=version.version, assessment_hash=assessment_hash,
                                   grounds=[g["code"] for g in result["grounds"]],
                                   warnings=[w["code"] for w in result["warnings"]], on=on, by=by,
                                   recorded_at=self.clock())
            outcome["assessment"] = result
            return [case]
        written = self.write(change, lambda: outcome["assessment"])
        return written

    def record_judgement_ground(self, tenant: str, application_id: str, *, ground: str, reasons: str, on: dt.date,
                                by: str):
        return self._on_case(tenant, application_id, lambda case, seal: case.record_judgement(
            ground=ground, reasons=seal(reasons), on=on, by=by, recorded_at=self.clock()))

    def give_granting_criteria(self, tenant: str, application_id: str, *, understood: bool, on: dt.date, by: str):
        return self._on_case(tenant, application_id, lambda case, seal: case.give_criteria(
            understood=understood, on=on, by=by, recorded_at=self.clock()))

    def look_into_social_assistance(self, tenant: str, application_id: str, *, finding: str, reasons: str,
                                    on: dt.date, by: str):
        return self._on_case(tenant, application_id, lambda case, seal: case.look_into_social_assistance(
            finding=finding, reasons=seal(reasons), on=on, by=by, recorded_at=self.clock()))

    def withdraw_application(self, tenant: str, application_id: str, *, reason: str, on: dt.date, by: str):
        def change() -> list:
            case = self.case(tenant, application_id)
            case.withdraw(reason=self._seal(tenant, case.applicant, reason), on=on, by=by, recorded_at=self.clock())
            register = self.case_register(tenant)
            register.index(application_id=application_id, kind=case.kind, applicants=list(case.applicants),
                           status="withdrawn", on=on, loan_id=case.loan_id)
            return [case, register]
        return self.write(change, lambda: self.case(tenant, application_id))

    def _on_case(self, tenant: str, application_id: str, command):
        def change() -> list:
            case = self.case(tenant, application_id)
            command(case, lambda text: self._seal(tenant, case.applicant, text))
            return [case]
        return self.write(change, lambda: self.case(tenant, application_id))

    # --- the decision ------------------------------------------------------------------------

    def decide_application(self, tenant: str, application_id: str, *, outcome: str, decided_by: str, on: dt.date,
                           by: str, reasons: str = "", grounds: list[str] | None = None,
                           override_reasons: str | None = None, grant: dict | None = None,
                           terms: dict | None = None, legal_basis: str | None = None):
        """R-APP-5 / R-APP-9: rejected with grounds and reasons, or granted; one letter to each applicant,
        in their language, with the figures, the grounds, the reasons and the appeal instructions."""
        from application.decision_letters import decision_content

        grounds = list(grounds or [])

        def change() -> list:
            case = self.case(tenant, application_id)
            policy = self.policy(tenant)
            case.check_decision(outcome=outcome, grounds=grounds, reasons=reasons, override_reasons=override_reasons,
                                on=on, by=by, policy=policy)
            seal = lambda text: self._seal(tenant, case.applicant, text)  # noqa: E731
            decision = Decision(decided_by, seal(reasons or override_reasons or ""), legal_basis)
            others, loan_id, loan_version, decided = [], case.loan_id, None, {}
            assessment = self.application_assessment(case)
            changes: list = []
            if outcome == "granted" and case.kind == LOAN:
                # R-APP-6/7: no loan yet; the grant waits for capital or is offered, and the signed
                # contract records LoanGranted (application.contracts).
                decided = self._grant_terms(case, grant or {}, assessment)
                loan_id = decided.pop("loan_id")
                decided["plan_by"] = "instalment_amount" if decided.get("instalment_amount") else "term_months"
                probe = self.probe_loan(tenant, loan_id, case, decided, on)
                decided.update(plan_figures(probe))
                decided["purpose_sealed"] = seal(decided["purpose"])
                register, changes = self.queue_grant(tenant, case, probe.principal, on)
                others = [register]
                offered = ("offered", application_id) in changes
                decided["waiting_position"] = None if offered else register.position_of(application_id)
                decided["offer_valid_until"] = register.offers[application_id]["valid_until"].isoformat() \
                    if offered else None
            elif outcome == "granted":
                decided = relief_request(case.kind, terms) if terms else dict(case.request)
                loan = self.loan(tenant, case.loan_id)
                self._carry_out_relief(loan, case.kind, decided, decision, on)
                others, loan_version = [loan], loan.version
            requested = (self.application_facts(case) or {}).get("requested_amount") if case.kind == LOAN else None
            content = decision_content(case, outcome=outcome, grounds=grounds, assessment=assessment, requested=requested,
                                       reasons=reasons, override_reasons=override_reasons, decided_by=decided_by,
                                       on=on, terms=decided, policy=policy, legal_basis=legal_basis)
            letters = [self.letters.render(tenant, person, content) for person in case.applicants]
            case.decide(outcome=outcome, grounds=grounds, reasons=seal(reasons), override_reasons=seal(override_reasons),
                        terms={k: v for k, v in decided.items() if k != "purpose" and v is not None},
                        letters=letters, on=on, by=by, decided_by=decided_by, recorded_at=self.clock(),
                        policy=policy, loan_id=loan_id, loan_version=loan_version, legal_basis=legal_basis)
            if outcome == "granted" and case.kind == LOAN and (grant or {}).get("payees"):
                from application.disbursements import parse_payees  # R-APP-8: decided with the grant

                self.record_payees(case, parse_payees(grant["payees"], "grant.payees"), decided_by=decided_by,
                                   reasons=reasons, on=on, by=by)
            if changes:
                others += self.record_offer_changes(tenant, others[0], changes, on, current=case)
            register = self.case_register(tenant)
            register.index(application_id=application_id, kind=case.kind, applicants=list(case.applicants),
                           status=outcome, on=on, loan_id=loan_id)
            return [case, register, *others]
        return self.write(change, lambda: self.case(tenant, application_id))

    def application_assessment(self, case: ApplicationCase) -> dict | None:
        current = case.current_assessment()
        if current is None:
            return None
        return self.facts.assessment(case.tenant, case.application_id, current.facts_hash)

    def _grant_terms(self, case: ApplicationCase, grant: dict, assessment: dict | None) -> dict:
        """What is granted: the decision's own terms, else what was applied for on the assessed plan."""
        facts = self.application_facts(case) or {}
        plan = (assessment or {}).get("plan") or {}
        out = {"loan_id": grant.get("loan_id") or case.application_id,
               "principal": grant.get("principal") or facts.get("requested_amount"),
               "purpose": grant.get("purpose") or facts.get("purpose") or "",
               "first_due_date": grant.get("first_due_date") or facts.get("first_due_date"),
               "interest": grant.get("interest") or facts.get("interest"),
               "purpose_class": grant.get("purpose_class")}
        if grant.get("instalment_amount"):
            out["instalment_amount"] = grant["instalment_amount"]
        else:
            out["term_months"] = grant.get("term_months") or plan.get("term_months")
            if out["term_months"] is None:
                raise invalid("no plan fits the applicant's capacity: give term_months or instalment_amount",
                              rule="R-APP-3", field="grant.term_months")
        if not out["purpose"]:
            raise invalid("a grant names its purpose (Act §6)", rule="R-APP-5", field="grant.purpose")
        return out

    def _carry_out_relief(self, loan, kind: str, terms: dict, decision: Decision, on: dt.date) -> None:
        """R-APP-9: a granted relief application is recorded on the loan by its own decision event."""
        common = {"on": on, "decision": decision, "recorded_at": self.clock()}
        if kind == "free_months":
            loan.defer_free_months(months=terms["months"], from_instalment=terms["from_instalment"], **common)
        elif kind == "due_date_extension":
            loan.extend_due_date(instalment=terms["instalment"],
                                 new_due_date=dt.date.fromisoformat(terms["new_due_date"]), **common)
        elif kind == "terms_change":
            loan.change_terms(from_instalment=terms["from_instalment"], rates=self.rates,
                              instalment_amount=parse_amount(terms["instalment_amount"], "terms.instalment_amount"),
                              **common)
        else:
            amount = terms.get("amount")
            loan.waive(kind=terms["kind"], rates=self.rates,
                       amount=parse_amount(amount, "terms.amount") if amount is not None else None, **common)

    def record_letter_delivery(self, tenant: str, application_id: str, *, borrower_id: str, outcome: str,
                               channel: str, on: dt.date, letter_version: int | None = None):
        def change() -> list:
            case = self.case(tenant, application_id)
            case.record_letter_delivery(borrower_id=borrower_id, outcome=outcome, channel=channel, on=on,
                                        recorded_at=self.clock(), letter_version=letter_version)
            return [case]
        return self.write(change)

    # --- personal discussions (R-APP-10, Act §9) ---------------------------------------------

    def request_discussion(self, tenant: str, request_id: str, *, borrower_id: str, on: dt.date, by: str,
                           application_id: str | None = None, loan_id: str | None = None):
        within = self.policy(tenant).discussion_within_days

        def change() -> list:
            register = self.case_register(tenant)
            register.request_discussion(request_id=request_id, borrower_id=borrower_id, application_id=application_id,
                                        loan_id=loan_id, on=on, within_days=within, by=by)
            return [register]
        return self.write(change, lambda: self.case_register(tenant).discussions[request_id])

    def record_discussion(self, tenant: str, request_id: str, *, held_on: dt.date, by: str):
        def change() -> list:
            register = self.case_register(tenant)
            register.record_discussion(request_id=request_id, held_on=held_on, by=by)
            return [register]
        return self.write(change, lambda: self.case_register(tenant).discussions[request_id])


def plan_figures(loan) -> dict:
    """The granted plan as the letter shows it (principal parts; interest follows R-INT)."""
    rows = loan.instalments()
    return {"term_months": len(rows), "instalment_amount": format_cents(rows[0].amount),
            "largest_instalment": format_cents(max(r.amount for r in rows)),
            "first_due_date": rows[0].due_date.isoformat(), "last_due_date": rows[-1].due_date.isoformat(),
            "interest": loan.interest}


def relief_request(kind: str, raw: dict) -> dict:
    """The terms a relief application asks for, checked for shape (the loan's rules check the rest)."""
    names = RELIEF_FIELDS[kind]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise invalid(f"request.{unknown[0]}: unknown field for a {kind} application", rule="R-APP-9",
                      field=f"request.{unknown[0]}")
    out: dict[str, Any] = {}
    for name in names:
        value = raw.get(name)
        where = f"request.{name}"
        if name in ("months", "from_instalment", "instalment"):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
                raise invalid(f"{where} must be a whole number 1..1000, got {value!r}", rule="R-APP-9", field=where)
        elif name == "new_due_date":
            try:
                value = dt.date.fromisoformat(value).isoformat()
            except (TypeError, ValueError):
                raise invalid(f"{where} must be a date YYYY-MM-DD, got {value!r}", rule="R-APP-9",
                              field=where) from None
        elif name == "kind":
            if value not in ("partial", "full"):
                raise invalid(f"{where} must be partial or full, got {value!r}", rule="R-APP-9", field=where)
        elif name in ("instalment_amount", "amount"):
            if value is None and name == "amount" and raw.get("kind") == "full":
                continue
            value = format_cents(parse_amount(value, where))
        out[name] = value
    return out

