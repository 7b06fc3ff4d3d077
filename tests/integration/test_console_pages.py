"""The console's further pages (issue 21): replay, decisions with their rule checks, payments,
portfolio charts, evidence and the access log; each through the same roles and organiser scoping."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

from domain.loan import Decision
from tests.integration.test_console import REASONS, build, signed_in
from tests.support.console import csrf_of, summary_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bankfiles"


def _events(c, loan_id: str, tenant: str = "t1") -> list[str]:
    return [type(e).__name__ for e in c.service.events.get(c.service.loan(tenant, loan_id).id)]


def test_replay_as_known_at_an_instant_and_what_each_decision_maker_saw(tmp_path):
    app = build(tmp_path)
    c = app.state.container
    c.service.clock.day = dt.date(2025, 3, 13)  # recorded 2025-03-13 12:00 Helsinki time
    c.service.end_hardship("t1", "L1", on=dt.date(2025, 3, 13), decision=Decision("cw-2", "toipunut"))
    with signed_in(app, ["decision_maker"], subject="dm-7") as cl:
        now = cl.get("/console/loans/L1/replay").text
        assert "Maksuvaikeuden syy päättyi" in now
        # as known on the evening before (Helsinki wall time, as the form's datetime-local sends it)
        then = cl.get("/console/loans/L1/replay?on=2025-03-12&known_at=2025-03-12T23:00")
        assert then.status_code == 200, then.text
        timeline = then.text.split('id="timeline-table"')[1]
        assert "Maksuvaikeuden syy kirjattu (sairaus)" in timeline and "päättyi" not in timeline
        seen = then.text.split('id="decisions-seen"')[1].split("</table>")[0]
        # the grant (nothing before it) and the hardship: the loan as cw-1 saw it on 2025-03-12
        assert "Myöntäminen" in seen and "Maksuvaikeuden syy" in seen and "cw-1" in seen
        assert "Jäljellä oleva pääoma 1 100,00 €" in seen
        assert "laki sosiaalisesta luototuksesta (1133/2002) 8 § 2 mom." in seen
        future = cl.get("/console/loans/L1/replay?on=2999-01-01")
        assert future.status_code == 422 and "R-DATE-1" in future.text


def test_hardship_checked_then_recorded_by_the_signed_in_person_and_the_work_queue_changes(tmp_path):
    app = build(tmp_path)
    c = app.state.container
    c.service.end_hardship("t1", "L1", on=dt.date(2025, 3, 12), decision=Decision("cw-1", "toipunut"))
    c.read_model.catch_up()
    with signed_in(app, ["caseworker"], subject="cw-5") as cl:
        queue = cl.get("/console/work-queue").text
        assert 'id="list-hardships_active"' not in queue
        form = cl.get("/console/loans/L1/decisions/hardship")
        assert form.status_code == 200 and "R-ACC-5" in form.text
        before = _events(c, "L1")
        fields = {"csrf": csrf_of(form.text), "cause": "unemployment", "reasons": "Irtisanottu", "on": "2025-03-12"}
        checked = cl.post("/console/loans/L1/decisions/hardship", data={**fields, "action": "check"})
        assert checked.status_code == 200 and "Säännöt sallivat tämän päätöksen" in checked.text
        assert _events(c, "L1") == before  # a check records nothing
        done = cl.post("/console/loans/L1/decisions/hardship", data={**fields, "action": "record"},
                       follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/console/loans/L1?done=hardship"
        last = list(c.service.events.get(c.service.loan("t1", "L1").id))[-1]
        assert type(last).__name__ == "HardshipRecorded" and last.decided_by == "cw-5" and last.cause == "unemployment"
        assert "Kirjattu: Maksuvaikeuden syy." in cl.get(done.headers["location"]).text
        hardships = cl.get("/console/work-queue").text.split('id="list-hardships_active"')[1].split("</ul>")[0]
        assert 'href="/console/loans/L1"' in hardships
        again = cl.post("/console/loans/L1/decisions/hardship", data={**fields, "action": "record"})
        assert again.status_code == 422 and "Sääntö R-ACC-5" in again.text and "is still active" in again.text
        assert "Säännöt eivät salli tätä päätöstä." in again.text and _events(c, "L1")[-1] == "HardshipRecorded"
        assert len(_events(c, "L1")) == len(before) + 1
        forged = cl.post("/console/loans/L1/decisions/hardship", data={**fields, "csrf": "x", "action": "record"})
        assert forged.status_code == 403 and len(_events(c, "L1")) == len(before) + 1


def test_an_acceleration_notice_the_act_does_not_allow_is_refused_with_its_rule(tmp_path):
    app = build(tmp_path)
    c = app.state.container
    with signed_in(app, ["caseworker"]) as cl:
        form = cl.get("/console/loans/L1/decisions/acceleration-notice").text
        before = _events(c, "L1")
        refused = cl.post("/console/loans/L1/decisions/acceleration-notice",
                          data={"csrf": csrf_of(form), "reasons": "viivästys", "on": "2025-03-12", "action": "record"})
        assert refused.status_code == 409 and re.search(r"Sääntö R-ACC-\d", refused.text), refused.text
        assert 'id="record"' not in refused.text and _events(c, "L1") == before


def test_decisions_only_for_the_roles_the_table_names(tmp_path):
    app = build(tmp_path)
    c = app.state.container
    with signed_in(app, ["caseworker"]) as cl:
        refused = cl.get("/console/loans/L1/decisions/free-months")
        assert refused.status_code == 403 and "R-DATA-6" in refused.text
        assert "decisions/free-months" not in cl.get("/console/loans/L1").text  # not offered either
    with signed_in(app, ["decision_maker"], subject="dm-2") as cl:
        token = csrf_of(cl.get("/console/loans/L1/decisions/free-months").text)
        base = {"csrf": token, "reasons": "työtön", "on": "2025-03-12", "action": "record"}
        no_date = cl.post("/console/loans/L1/decisions/due-date-extension",
                          data={**base, "instalment": "4", "new_due_date": ""})
        assert no_date.status_code == 422 and "Kenttä: new_due_date" in no_date.text and "R-DATE-1" in no_date.text
        for kind, extra, event in (("free-months", {"months": "2", "from_instalment": "3"}, "RepaymentDeferred"),
                                   ("due-date-extension", {"instalment": "4", "new_due_date": "2025-08-01"},
                                    "RepaymentDeferred"),
                                   ("terms", {"from_instalment": "6", "instalment_amount": "50,00"},
                                    "RepaymentTermsChanged"),
                                   ("exemption", {"kind": "partial", "amount": "1.00"}, "PaymentWaived")):
            done = cl.post(f"/console/loans/L1/decisions/{kind}", data={**base, **extra}, follow_redirects=False)
            assert done.status_code in (303, 422), (kind, done.text[:300])
            if done.status_code == 422:  # "50,00" is not an amount: the field is named
                assert "instalment_amount" in done.text, (kind, re.findall(r"<span lang=\"en\">([^<]*)", done.text))
                done = cl.post(f"/console/loans/L1/decisions/{kind}",
                               data={**base, **extra, "instalment_amount": "50.00"}, follow_redirects=False)
            assert done.status_code == 303, (kind, done.text[:500])
            assert _events(c, "L1")[-1] == event


def test_bank_file_upload_with_its_report_and_allocation(tmp_path):
    app = build(tmp_path)
    c = app.state.container
    for n in (2, 3):  # references 10029, 10032 as the fixture expects
        c.service.grant(tenant="t1", loan_id=f"L{n}", borrower_id=f"B{n}", purpose="vuokrarästit", principal=120000,
                        granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 15),
                        instalment_amount=10000, decision=Decision("dm-1", "myönnetty"))
    with signed_in(app, ["caseworker"]) as cl:
        assert cl.get("/console/payments").status_code == 403
    with signed_in(app, ["finance"], subject="fi-3") as cl:
        page = cl.get("/console/payments")
        token = csrf_of(page.text)
        report = cl.post("/console/payments/files", data={"csrf": token},
                         files={"file": ("ktl.txt", (FIXTURES / "ktl_payments.txt").read_bytes(), "text/plain")})
        assert report.status_code == 200, report.text
        counts = dict(re.findall(r"<li>([^<:]+): <strong>(\d+)</strong></li>", report.text))
        # tests/fixtures/bankfiles/README.md: matched 3, unmatched 1, duplicate 1, reversed 1, rejected 3
        assert counts == {"Tapahtumia": "9", "Kohdistettu lainoihin": "3", "Kohdistamattomiin": "1",
                          "Jo tuotu aiemmin": "1", "Palautukset (maksu peruttu)": "1", "Hylätyt": "3",
                          "Palautukset odottamassa": "0"}, counts
        assert "999991" in report.text.split('id="unallocated-table"')[1]
        unallocated = re.findall(r"<tr><td>([^<]+)</td><td>2025-03-0[0-9]</td>", report.text)
        assert len(unallocated) == 1
        payment_id = unallocated[0]
        again = cl.post("/console/payments/files", data={"csrf": token},
                        files={"file": ("ktl.txt", (FIXTURES / "ktl_payments.txt").read_bytes(), "text/plain")})
        assert dict(re.findall(r"<li>([^<:]+): <strong>(\d+)</strong></li>", again.text))["Jo tuotu aiemmin"] == "6"
        done = cl.post(f"/console/payments/{payment_id}/allocation", data={"csrf": token, "loan_id": "L2"},
                       follow_redirects=False)
        assert done.status_code == 303, done.text
        after = cl.get(done.headers["location"]).text
        assert f"Maksu {payment_id} kohdistettu." in after and payment_id not in after.split('id="unallocated')[1]
        assert "PaymentReceived" in _events(c, "L2")
        bad = cl.post("/console/payments/files", data={"csrf": token},
                      files={"file": ("x.txt", (FIXTURES / "ktl_wrong_totals.txt").read_bytes(), "text/plain")})
        assert bad.status_code == 422 and "file" in bad.text
    rows = c.access_log.query("t1", subject="fi-3", loan_id="L2")
    assert {r["endpoint"] for r in rows} >= {"/console/payments/files", "/console/payments/{payment_id}/allocation"}


def test_portfolio_charts(tmp_path):
    app = build(tmp_path)
    with signed_in(app, ["auditor"], subject="au-1") as cl:
        html = cl.get("/console/portfolio").text
    # L1: 1,200.00 granted, 100.00 paid: 1,100.00 in use; the default policy sets no capital limit
    assert "Käytössä 1 100,00 €, raja ei rajaa." in html
    assert html.count("<svg") == 2 and "<script" not in html
    # on 2025-03-12 nothing is overdue (instalment 2 falls due on 2025-03-15)
    ages = html.split('id="delinquency"')[1].split("</table>")[0]
    assert ages.count("<td class=\"num\">0,00 €</td>") == 4
    grants = html.split('id="grants"')[1].split("</table>")[0]
    assert "<tr><td>2025-01</td><td class=\"num\">1</td><td class=\"num\">1 200,00 €</td></tr>" in grants


def test_evidence_download_and_the_access_log_for_auditors(tmp_path):
    app = build(tmp_path)
    with signed_in(app, ["caseworker"]) as cl:
        assert cl.get("/console/loans/L1/evidence").status_code == 403
        assert cl.get("/console/access-log").status_code == 403
    with signed_in(app, ["decision_maker"], subject="dm-3") as cl:
        got = cl.get("/console/loans/L1/evidence")
        assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(got.content)).namelist()
        assert any(n.endswith("personal.json") for n in names)  # a decision maker may read personal data
    with signed_in(app, ["auditor"], subject="au-1") as cl:
        names = zipfile.ZipFile(io.BytesIO(cl.get("/console/loans/L1/evidence").content)).namelist()
        assert not any(n.endswith("personal.json") for n in names)  # R-DATA-3
        log = cl.get("/console/access-log?loan_id=L1").text
        rows = log.split('id="access-log-table"')[1]
        assert "dm-3 (console)" in rows and "GET /console/loans/{loan_id}/evidence" in rows
        assert REASONS not in log
