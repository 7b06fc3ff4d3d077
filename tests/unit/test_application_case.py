"""The application aggregate (R-APP-1 … 5, 9), the casework register (R-APP-10), joint borrowers in
the grant register (R-APP-1) and the decision letters' wording (fi/sv)."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from adapters.notices.decision_letter import render_decision
from domain.case import ApplicationCase
from domain.case_register import CaseRegister
from domain.case_state import Letter
from domain.errors import DomainError
from domain.policy import make_policy
from domain.register import BorrowerLoans, Exposure, GrantRegister

ON = dt.date(2026, 3, 2)
AT = dt.datetime(2026, 3, 2, 10, tzinfo=dt.timezone.utc)
POLICY = make_policy("etela-karjala")


def received(kind: str = "loan", by: str = "cw-1", **kwargs) -> ApplicationCase:
    return ApplicationCase.receive(tenant="t", application_id="A-1", kind=kind, applicant="B-1",
                                   co_applicant=kwargs.pop("co_applicant", None), facts_hash="f1", on=ON, by=by,
                                   recorded_at=AT, **kwargs)


def assessed(grounds=(), by: str = "cw-1") -> ApplicationCase:
    case = received(by=by)
    case.record_assessment(facts_version=1, assessment_hash="a1", grounds=list(grounds), warnings=[], on=ON, by=by,
                           recorded_at=AT)
    return case


def prepared(grounds=()) -> ApplicationCase:
    case = assessed(grounds)
    case.give_criteria(understood=True, on=ON, by="cw-1", recorded_at=AT)
    case.look_into_social_assistance(finding="no_right", reasons="", on=ON, by="cw-1", recorded_at=AT)
    return case


def decide(case, outcome="granted", by="dm-1", policy=POLICY, **kwargs):
    fields = {"grounds": [], "reasons": "", "override_reasons": None, **kwargs}
    case.decide(outcome=outcome, terms={}, letters=[Letter("B-1", "h")], on=ON, by=by, decided_by="Dm", recorded_at=AT,
                policy=policy, **fields)


def refused(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def test_r_app_5_four_eyes_the_preparer_may_not_decide_unless_the_policy_allows_it():
    case = prepared()
    error = refused(lambda: decide(case, by="cw-1"))
    assert (error.code, error.rule) == ("four_eyes", "R-APP-5") and "cw-1 prepared" in error.message
    decide(prepared(), by="cw-1", policy=make_policy("etela-karjala", {"four_eyes": False}))
    decide(case, by="dm-1")
    assert case.status == "granted"


def test_r_app_5_a_grant_needs_criteria_understood_and_social_assistance_looked_into():
    case = assessed()
    assert "§4(3)" in refused(lambda: decide(case)).message
    case.give_criteria(understood=True, on=ON, by="cw-1", recorded_at=AT)
    assert "§10" in refused(lambda: decide(case)).message
    assert refused(lambda: case.give_criteria(understood=False, on=ON, by="cw-1", recorded_at=AT)).field == \
        "understood"


def test_r_app_5_granting_over_a_computed_or_judged_ground_needs_override_reasons():
    case = prepared(grounds=["can_save"])
    assert refused(lambda: decide(case)).field == "override_reasons"
    decide(case, override_reasons="säästäminen ei ole realistista: vuokrarästit")
    judged = prepared()
    judged.record_judgement(ground="unstable_finances", reasons="työ päättyy", on=ON, by="cw-1", recorded_at=AT)
    assert refused(lambda: decide(judged)).field == "override_reasons"


def test_r_app_5_a_rejection_names_grounds_in_the_record_and_gives_reasons():
    case = assessed(grounds=["no_payment_capacity"])
    assert refused(lambda: decide(case, "rejected", grounds=["no_payment_capacity"])).field == "reasons"
    assert refused(lambda: decide(case, "rejected", reasons="x")).field == "grounds"
    assert "not in the record" in refused(lambda: decide(case, "rejected", grounds=["can_save"], reasons="x")).message
    assert "not in the record" in refused(lambda: decide(case, "rejected", grounds=["realisable_assets"],
                                                         reasons="x")).message
    decide(case, "rejected", grounds=["no_payment_capacity"], reasons="maksuvara ei riitä")
    assert case.status == "rejected" and case.decision.grounds == ("no_payment_capacity",)
    assert refused(lambda: decide(case, "rejected", grounds=["no_payment_capacity"], reasons="x")).code == \
        "not_eligible"  # decided once


def test_r_app_1_facts_change_while_open_and_the_decision_needs_their_assessment():
    case = prepared()
    assert case.update_facts(facts_hash="f2", on=ON, by="cw-2", recorded_at=AT) == 2
    assert case.current_assessment() is None and "not assessed" in refused(lambda: decide(case)).message
    case.record_assessment(facts_version=2, assessment_hash="a2", grounds=[], warnings=[], on=ON, by="cw-2",
                           recorded_at=AT)
    decide(case)
    assert refused(lambda: case.update_facts(facts_hash="f3", on=ON, by="cw-1", recorded_at=AT)).code == "not_eligible"
    withdrawn = received()
    withdrawn.withdraw(reason="", on=ON, by="cw-1", recorded_at=AT)
    assert withdrawn.status == "withdrawn" and refused(lambda: decide(withdrawn)).code == "not_eligible"


def test_r_app_1_a_joint_application_names_both_and_a_relief_application_its_loan():
    joint = received(co_applicant="B-2")
    assert joint.applicants == ("B-1", "B-2")
    assert refused(lambda: received(co_applicant="B-1")).field == "co_applicant"
    assert refused(lambda: received(kind="free_months")).field == "loan_id"
    relief = received(kind="free_months", loan_id="L-1", request={"months": 2, "from_instalment": 3})
    assert refused(lambda: decide(relief, "rejected")).field == "reasons"  # R-APP-9: with reasons
    decide(relief, "rejected", reasons="ei tilapäistä heikkenemistä")
    assert relief.status == "rejected"


def test_r_app_1_one_open_loan_per_borrower_applies_to_both_joint_borrowers():
    register, books = GrantRegister.open("t", POLICY), {}

    def grant(loan_id: str, borrower_id: str, co_borrower_id: str | None = None) -> None:
        # as application.loans.grant_aggregates does: the register checks, each borrower's book records
        theirs = [books.setdefault(p, BorrowerLoans.open("t", p)) for p in (borrower_id, co_borrower_id) if p]
        register.register_grant(loan_id=loan_id, borrower_id=borrower_id, co_borrower_id=co_borrower_id,
                                principal=100000, granted_on=ON, exposure=Exposure.of(register, theirs, {}, 0))
        for book in theirs:
            book.add(loan_id, 100000)

    grant("L-1", "B-1", "B-2")
    assert sorted(books) == ["B-1", "B-2"] and books["B-2"].loans == {"L-1": "1000.00"}
    error = refused(lambda: grant("L-2", "B-2"))
    assert error.code == "limit_exceeded" and "B-2 already has open loan L-1" in error.message
    error = refused(lambda: grant("L-3", "B-3", "B-1"))
    assert error.field == "co_borrower_id"
    assert Exposure.of(register, [books["B-1"]], {"L-1": 0}, 100000).open_loans("B-1") == {}  # repaid: no limit


def test_r_app_10_a_requested_discussion_is_due_within_the_policy_days_until_held():
    register = CaseRegister.open("t")
    assert register.request_discussion(request_id="D-1", borrower_id="B-1", application_id=None, loan_id="L-1",
                                       on=ON, within_days=14, by="cw-1")
    assert not register.request_discussion(request_id="D-1", borrower_id="B-1", application_id=None, loan_id="L-1",
                                           on=ON, within_days=14, by="cw-1")  # a retry
    pending = register.pending_discussions(ON + dt.timedelta(days=15))
    assert [(p["request_id"], p["due_by"], p["overdue"]) for p in pending] == [("D-1", dt.date(2026, 3, 16), True)]
    register.record_discussion(request_id="D-1", held_on=ON + dt.timedelta(days=15), by="cw-1")
    assert register.pending_discussions(ON) == []
    assert refused(lambda: register.record_discussion(request_id="D-1", held_on=ON, by="x")).code == "not_eligible"


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


ORGANISER = {"name": "Kittilän kunta", "phone": "016 123 456"}


def test_letters_carry_grounds_figures_discussion_and_the_rectification_instructions_in_finnish():
    content = {"kind": "loan", "outcome": "rejected", "reference": "A-1", "decided_on": "2026-03-02",
               "decided_by": "Maija Virtanen", "legal_basis": "Act 1133/2002 §4, §5", "requested_amount": "2400.00",
               "capacity": "-95.12", "grounds": [{"code": "no_payment_capacity", "figures": {
                   "capacity": "-95.12", "largest_instalment": "40.00"}}], "reasons": "Maksuvara ei riitä.",
               "rectification_body": POLICY.rectification_body}
    pdf = render_decision(content, {"name": "Matti Meikäläinen", "address": ["Katu 1"], "language": "fi"}, ORGANISER)
    assert pdf == render_decision(content, {"name": "Matti Meikäläinen", "address": ["Katu 1"], "language": "fi"},
                                  ORGANISER)  # deterministic: its hash can be recorded before it is sent
    text = _text(pdf)
    assert "Laki sosiaalisesta luototuksesta (1133/2002) 4 ja 5 §" not in text  # the decision named its own basis
    for wording in ("Päätös sosiaalisesta luotosta", "Hakemus on hylätty", "Hylkäämisen perusteet",
                    "pienin kuukausittainen maksuvara on -95,12", "Oikeus henkilökohtaiseen keskusteluun",
                    "taloudellista neuvontaa", "Oikaisuvaatimusohje", "30 päivän kuluessa",
                    "Etelä-Karjalan hyvinvointialueen yksilöasioiden jaosto", "016 123 456"):
        assert wording in text, wording


@pytest.mark.parametrize(("language", "wordings"), [
    ("fi", ("Päätös oikaisuvaatimukseen", "Oikaisuvaatimus on hylätty", "Valitusosoitus", "hallinto-oikeuteen",
            "808/2019", "Hallintolaki (434/2003) 49 d §")),
    ("sv", ("Beslut med anledning av begäran om omprövning", "Besvärsanvisning", "förvaltningsdomstolen",
            "Rätt till personligt samtal", "Förvaltningslagen (434/2003) 49 d §"))])
def test_r_app_9_a_decision_on_rectification_carries_the_administrative_court_instructions(language, wordings):
    content = {"kind": "appeal", "outcome": "rejected", "reference": "L-1", "decided_on": "2026-03-02",
               "decided_by": "Jaosto", "legal_basis": None, "reasons": "x"}  # the law named in the letter's language
    text = _text(render_decision(content, {"name": "N", "address": [], "language": language}, ORGANISER))
    for wording in wordings:
        assert wording in text, wording
    assert "Oikaisuvaatimusohje" not in text and "Anvisning för begäran om omprövning" not in text
