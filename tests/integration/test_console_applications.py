"""Applications in the console (issue 22, api/web/application_pages.py): intake with the assessment
of the facts as typed (recalculated server-side, nothing stored; the fragment the script asks for),
saving receives and assesses them with the facts kept out of the events; preparation (§4(3), §10,
judgement grounds); the decision by a second person (four eyes, R-APP-5: 409 on the page) with each
letter previewed in the applicant's language before anything is stored; relief applications decided
either way (R-APP-9); requests for a personal discussion in the work queue with their deadline
(R-APP-10); the list by status; CSRF (R-WEB-1) and roles (R-DATA-6)."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from adapters.settings import Settings
from api.app import create_app
from domain.loan import Decision
from tests.integration.test_console import client
from tests.support.clock import Clock
from tests.support.console import csrf_of, session_cookie

NORM = {"source": "järjestäjän päätös 12/2026", "first_adult": "560.00", "other_adult": "400.00",
        "children": [{"from_age": 0, "to_age": 6, "amount": "300.00"}, {"from_age": 7, "to_age": 17, "amount": "380.00"}]}
TENANTS = {"t1": {"preset": "etela-karjala", "overrides": {"living_cost_norm": NORM}}, "t2": {"preset": "default"}}
DAY = dt.date(2026, 3, 2)
CREDITOR = "Esimerkkirahoitus Oyj"  # the applicant's personal data: never in the events
# The worked example of spec/application-format.md as a person fills the intake form: capacity 154.88 a
# month, 16 instalments of 150.00.
FORM = {"applicant": "B-1", "purpose": "velkojen järjestely", "requested_amount": "2 400", "first_due_date": "2026-04-10",
        "adults": "1", "children-0-born": "2015-05-01",
        "incomes-0-kind": "palkka", "incomes-0-amount": "1650,00",
        "incomes-1-kind": "lapsilisä", "incomes-1-amount": "94,88", "incomes-1-to": "2033-04",
        "expenses-0-kind": "asuminen", "expenses-0-amount": "620", "expenses-1-kind": "terveys", "expenses-1-amount": "30",
        "debts-0-creditor": CREDITOR, "debts-0-basis": "kulutusluotto", "debts-0-amount": "2400",
        "debts-0-monthly_payment": "180", "debts-0-paid_off_by_loan": "yes",
        "assets-0-kind": "auto", "assets-0-value": "800", "open_social_loans": "0",
        "person_name": "Britt Sjöberg", "person_identity_code": "131052-308T",
        "person_address": "Storgatan 1\n53100 Villmanstrand", "person_language": "sv"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("console-apps")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/luotto.sqlite", signing_key_file=str(tmp_path / "key"),
                        notice_store=str(tmp_path / "notices"), notice_print_folder=str(tmp_path / "print"),
                        tenants=TENANTS, environment="development")
    built = create_app(settings)
    c = built.state.container
    c.service.clock = Clock(dt.date(2026, 1, 15))
    c.service.grant(tenant="t1", loan_id="L1", borrower_id="B7", purpose="vuokrarästit", principal=120000,
                    granted_on=dt.date(2026, 1, 15), first_due_date=dt.date(2026, 2, 15), instalment_amount=10000,
                    decision=Decision("dm-1", "myönnetty"))
    c.service.clock.day = DAY
    yield built
    c.close()


def as_(app, roles: list[str], subject: str):
    cl = client(app)
    for name, value in session_cookie(app, "t1", roles, subject).items():
        cl.cookies.set(name, value)
    return cl


def _events(c) -> int:
    return c.service.recorder.max_notification_id()


def _all_event_text(c) -> str:
    return " ".join(repr(n.state) for n in c.service.recorder.select_notifications(start=1, limit=100000))


def _receive(app, application_id: str, **changes) -> None:
    with as_(app, ["caseworker"], "cw-1") as cl:
        page = cl.get("/console/applications/new").text
        form = {**FORM, **changes, "csrf": csrf_of(page), "application_id": application_id, "action": "save"}
        done = cl.post("/console/applications", data=form, follow_redirects=False)
        assert done.status_code == 303, done.text[-1500:]


def test_intake_recalculates_without_storing_then_saves_the_application_assessed(app):
    c = app.state.container
    with as_(app, ["caseworker"], "cw-1") as cl:
        page = cl.get("/console/applications/new")
        assert page.status_code == 200 and 'id="facts-form"' in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "connect-src 'self'" in csp and "unsafe" not in csp
        assert '<script src="/console/static/application.js"></script>' in page.text
        assert len(re.findall(r"<script", page.text)) == 1  # no inline script
        new_id = re.search(r'name="application_id" value="([^"]+)"', page.text).group(1)
        before = _events(c)
        shown = cl.post("/console/applications", data={**FORM, "csrf": csrf_of(page.text), "application_id": new_id,
                                                        "action": "recalculate"})
        assert shown.status_code == 200 and _events(c) == before
        assert 'id="capacity">154,88 €' in shown.text and "16 kk, erä 150,00 €" in shown.text
        assert "Ei laskettuja hylkäysperusteita." in shown.text
        assert 'value="2400.00"' in shown.text and 'name="incomes-3-amount"' in shown.text  # two blank rows more
        low = cl.post("/console/applications", data={**FORM, "incomes-0-amount": "1400", "csrf": csrf_of(page.text),
                                                      "application_id": new_id, "action": "recalculate"})
        assert 'data-ground="no_payment_capacity"' in low.text and "maksuvara ei riitä" in low.text
        bad = cl.post("/console/applications", data={**FORM, "incomes-0-amount": "paljon", "csrf": csrf_of(page.text),
                                                      "application_id": new_id, "action": "save"})
        assert bad.status_code == 422 and "facts.incomes[0].amount" in bad.text and "R-MONEY-1" in bad.text
        assert _events(c) == before and 'value="paljon"' in bad.text  # what was typed is kept
        # the fragment the script asks for as fields change
        fragment = cl.post("/console/assessment-preview", data={**FORM, "csrf": csrf_of(page.text)})
        assert fragment.status_code == 200 and 'id="capacity">154,88 €' in fragment.text
        assert "<html" not in fragment.text and _events(c) == before
        forged = cl.post("/console/assessment-preview", data={**FORM, "csrf": "x"})
        assert forged.status_code == 403 and "R-WEB-1" in forged.text
        saved = cl.post("/console/applications", data={**FORM, "csrf": csrf_of(page.text), "application_id": new_id,
                                                        "action": "save"}, follow_redirects=False)
        assert saved.status_code == 303 and saved.headers["location"] == f"/console/applications/{new_id}?done=received"
        again = cl.post("/console/applications", data={**FORM, "csrf": csrf_of(page.text), "application_id": new_id,
                                                        "action": "save"}, follow_redirects=False)
        assert again.status_code == 303  # the same form sent twice: one application
        case = c.service.case("t1", new_id)
        assert case.current_facts().version == 1 and case.current_assessment().facts_version == 1
        assert c.service.application_facts(case)["debts"][0]["creditor"] == CREDITOR
        assert c.borrowers.get("t1", "B-1")["language"] == "sv"
        assert CREDITOR not in _all_event_text(c) and "Britt" not in _all_event_text(c)
        shown = cl.get(saved.headers["location"]).text
        assert "Hakemus vastaanotettu ja arvioitu." in shown and CREDITOR in shown and "154,88 €" in shown
        assert "Arvio kirjattu 2026-03-02 (cw-1)" in shown
        # a new version of the facts, assessed at once
        edit = cl.get(f"/console/applications/{new_id}/facts").text
        assert f'value="{CREDITOR}"' in edit and 'readonly' in edit
        changed = cl.post(f"/console/applications/{new_id}/facts",
                          data={**FORM, "incomes-0-amount": "1700", "csrf": csrf_of(edit), "action": "save"},
                          follow_redirects=False)
        assert changed.status_code == 303
        case = c.service.case("t1", new_id)
        assert case.current_facts().version == 2 and case.current_assessment().facts_version == 2


def test_a_second_person_decides_after_previewing_the_letter_in_the_applicants_language(app):
    c = app.state.container
    _receive(app, "H-2")
    with as_(app, ["decision_maker"], "dm-1") as dm1:
        page = dm1.get("/console/applications/H-2").text
        sa = dm1.post("/console/applications/H-2/social-assistance",
                      data={"csrf": csrf_of(page), "finding": "no_right", "reasons": "tulot ylittävät normin"},
                      follow_redirects=False)
        assert sa.status_code == 303 and c.service.case("t1", "H-2").social_assistance == "no_right"
        page = dm1.get("/console/applications/H-2").text
        assert 'id="four-eyes-note"' in page  # dm-1 prepared it: told before trying
        decision = {"csrf": csrf_of(page), "outcome": "granted", "decided_by": "Maija Virtanen",
                    "reasons": "täyttää perusteet", "on": ""}
        before = _events(c)
        own = dm1.post("/console/applications/H-2/decision", data={**decision, "action": "record"})
        assert own.status_code == 409 and 'id="refusal"' in own.text and "R-APP-5" in own.text
        assert "Neljän silmän periaate: toinen henkilö päättää." in own.text and "dm-1 prepared" in own.text
        assert _events(c) == before
    with as_(app, ["caseworker"], "cw-1") as cw:
        page = cw.get("/console/applications/H-2").text
        assert 'id="decision-form"' not in page  # caseworkers prepare, decision makers decide
        given = cw.post("/console/applications/H-2/criteria", data={"csrf": csrf_of(page), "understood": "yes"},
                        follow_redirects=False)
        assert given.status_code == 303 and c.service.case("t1", "H-2").criteria_on == DAY
    with as_(app, ["decision_maker"], "dm-2") as dm2:
        page = dm2.get("/console/applications/H-2").text
        assert 'id="four-eyes-note"' not in page and 'id="record-decision"' not in page
        decision["csrf"] = csrf_of(page)
        before = _events(c)
        preview = dm2.post("/console/applications/H-2/decision", data={**decision, "action": "preview"})
        assert preview.status_code == 200 and 'id="allowed"' in preview.text and 'id="record-decision"' in preview.text
        letter = re.search(r'<article class="letter" lang="sv".*?</article>', preview.text, re.S).group(0)
        for wording in ("Ansökan har beviljats", "16 månader", "150,00", "Maija Virtanen", "Britt Sjöberg"):
            assert wording in letter, wording
        assert _events(c) == before  # a preview stores nothing
        done = dm2.post("/console/applications/H-2/decision", data={**decision, "action": "record"},
                        follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/console/applications/H-2?done=decided"
        case = c.service.case("t1", "H-2")
        assert (case.decision.outcome, case.decision.by, case.decision.decided_by) == ("granted", "dm-2",
                                                                                       "Maija Virtanen")
        shown = dm2.get(done.headers["location"]).text
        assert "/console/applications/H-2/letters/B-1" in shown and 'id="grant-status"' in shown
        pdf = dm2.get("/console/applications/H-2/letters/B-1")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"


def test_a_rejection_names_its_grounds_and_the_page_speaks_swedish_and_english(app):
    c = app.state.container
    _receive(app, "H-3", **{"incomes-0-amount": "1400"})
    with as_(app, ["caseworker"], "cw-1") as cw:
        page = cw.get("/console/applications/H-3").text
        judged = cw.post("/console/applications/H-3/judgement-grounds",
                         data={"csrf": csrf_of(page), "ground": "unstable_finances", "reasons": "työsuhde päättyy"},
                         follow_redirects=False)
        assert judged.status_code == 303
        empty = cw.post("/console/applications/H-3/judgement-grounds",
                        data={"csrf": csrf_of(page), "ground": "other", "reasons": ""})
        assert empty.status_code == 422 and "R-APP-4" in empty.text
    with as_(app, ["decision_maker"], "dm-2") as dm2:
        page = dm2.get("/console/applications/H-3").text
        assert 'id="g-no_payment_capacity"' in page and 'id="g-unstable_finances"' in page
        base = {"csrf": csrf_of(page), "outcome": "rejected", "decided_by": "Pekka Päättäjä", "on": ""}
        no_ground = dm2.post("/console/applications/H-3/decision", data={**base, "reasons": "ei", "action": "preview"})
        assert no_ground.status_code == 422 and "grounds" in no_ground.text and 'id="record-decision"' not in no_ground.text
        form = {**base, "reasons": "Maksuvara ei riitä.", "grounds": ["no_payment_capacity", "unstable_finances"]}
        preview = dm2.post("/console/applications/H-3/decision", data={**form, "action": "preview"})
        assert preview.status_code == 200 and "Ansökan har avslagits" in preview.text
        done = dm2.post("/console/applications/H-3/decision", data={**form, "action": "record"}, follow_redirects=False)
        assert done.status_code == 303
        assert c.service.case("t1", "H-3").decision.grounds == ("no_payment_capacity", "unstable_finances")
        swedish = dm2.get("/console/applications/H-3", headers={"Accept-Language": "sv"}).text
        assert "Ansökan H-3" in swedish and "Avslås" in swedish and "betalningsförmågan räcker inte" in swedish
        english = dm2.get("/console/applications/H-3", headers={"Accept-Language": "en"}).text
        assert "Application H-3" in english and "Judgement grounds" in english and "unstable finances" in english
        listed = dm2.get("/console/applications?status=rejected").text
        assert 'href="/console/applications/H-3"' in listed and 'href="/console/applications/H-2"' not in listed
        everything = dm2.get("/console/applications").text
        assert 'href="/console/applications/H-2"' in everything


def test_relief_applications_are_decided_either_way(app):
    c = app.state.container
    with as_(app, ["caseworker"], "cw-1") as cw:
        page = cw.get("/console/loans/L1/relief").text
        assert 'id="relief-form"' in page
        for rid, months in (("R-1", "2"), ("R-2", "1")):
            got = cw.post("/console/loans/L1/relief-applications",
                          data={"csrf": csrf_of(page), "application_id": rid, "kind": "free_months", "months": months,
                                "from_instalment": "3", "explanation": "sairausloma"}, follow_redirects=False)
            assert got.status_code == 303 and got.headers["location"] == f"/console/applications/{rid}?done=relief"
        bad = cw.post("/console/loans/L1/relief-applications",
                      data={"csrf": csrf_of(page), "application_id": "R-3", "kind": "free_months", "months": "x",
                            "from_instalment": "3"})
        assert bad.status_code == 422 and "R-APP-9" in bad.text and "request.months" in bad.text
    loan_events = lambda: [type(e).__name__ for e in c.service.events.get(c.service.loan("t1", "L1").id)]  # noqa: E731
    with as_(app, ["decision_maker"], "dm-2") as dm2:
        page = dm2.get("/console/applications/R-1").text
        assert "vapaakuukaudet" in page and "sairausloma" in page
        form = {"csrf": csrf_of(page), "decided_by": "Pekka Päättäjä", "on": ""}
        rejected = dm2.post("/console/applications/R-1/decision", data={**form, "outcome": "rejected", "action": "record",
                                                                        "reasons": "maksukyky ei ole heikentynyt"},
                            follow_redirects=False)
        assert rejected.status_code == 303 and c.service.case("t1", "R-1").decision.outcome == "rejected"
        assert "RepaymentDeferred" not in loan_events()
        preview = dm2.post("/console/applications/R-2/decision", data={**form, "outcome": "granted", "action": "preview",
                                                                       "reasons": "sairausloma"})
        assert preview.status_code == 200 and "Päätös vapaakuukausihakemukseen" in preview.text
        assert "Hakemus on hyväksytty." in preview.text and "Vapaakuukausia 1 erästä 3 alkaen" in preview.text
        granted = dm2.post("/console/applications/R-2/decision", data={**form, "outcome": "granted", "action": "record",
                                                                       "reasons": "sairausloma"}, follow_redirects=False)
        assert granted.status_code == 303 and c.service.case("t1", "R-2").decision.outcome == "granted"
        assert loan_events()[-1] == "RepaymentDeferred"


def test_a_discussion_request_waits_in_the_work_queue_with_its_deadline_until_held(app):
    c = app.state.container
    _receive(app, "H-4")
    with as_(app, ["caseworker"], "cw-2") as cw:
        page = cw.get("/console/applications/H-4").text
        request_id = re.search(r'name="request_id" value="([^"]+)"', page).group(1)
        asked = cw.post("/console/discussions", data={"csrf": csrf_of(page), "request_id": request_id,
                                                      "application_id": "H-4", "borrower_id": "B-1"},
                        follow_redirects=False)
        assert asked.status_code == 303 and asked.headers["location"] == "/console/applications/H-4?done=discussion"
        queue = cw.get("/console/work-queue").text
        row = re.search(rf'<li id="discussion-{request_id}".*?</li>', queue, re.S).group(0)
        assert "määräaika 2026-03-16" in row and 'href="/console/applications/H-4"' in row  # 14 days (policy)
        held = cw.post(f"/console/discussions/{request_id}/meeting", data={"csrf": csrf_of(queue), "held_on": ""},
                       follow_redirects=False)
        assert held.status_code == 303
        assert f'id="discussion-{request_id}"' not in cw.get("/console/work-queue").text
        twice = cw.post(f"/console/discussions/{request_id}/meeting", data={"csrf": csrf_of(queue), "held_on": ""})
        assert twice.status_code == 409 and "R-APP-10" in twice.text
    assert c.service.case_register("t1").discussions[request_id]["held_on"] == DAY


def test_roles_and_organisers(app):
    with as_(app, ["finance"], "fi-1") as fi:
        assert fi.get("/console/applications").status_code == 403
        assert 'href="/console/applications"' not in fi.get("/console/work-queue").text
    with as_(app, ["decision_maker"], "dm-2") as dm:
        assert 'href="/console/applications"' in dm.get("/console/work-queue").text
        page = dm.get("/console/applications/H-2").text
        assert dm.post("/console/applications/H-2/withdrawal", data={"csrf": csrf_of(page)}).status_code == 409
    other = client(app)
    for name, value in session_cookie(app, "t2", ["decision_maker"], "dm-9").items():
        other.cookies.set(name, value)
    assert other.get("/console/applications/H-2").status_code == 404  # another organiser's
