"""Statistics over a known history, every expected figure counted by hand (R-STAT-1 … 3), on
PostgreSQL and SQLite: applications received, decided, granted, rejected by ground, processing
days; loans granted by purpose, age band and household type with small cells suppressed; principal
outstanding at the period's end; repaid, written off (credit loss and its share), free months,
exemptions, appeals; the national view for an administrator only; CSV and XLSX downloads.

The history (organiser "ek", period 2026-03-01 … 2026-06-30):
  applications  A-4 received 02-20, granted 03-02 (10 days; B-2 born 1990-01-01: 36 → "35-44")
                A-1 received 03-02, granted 03-06 (4 days; B-1 born 1952-10-13: 73 → "65+")
                A-2 received 03-02, rejected 03-12 (10 days, market_credit_available)
                A-3 received 03-10, rejected 03-11 (1 day, market_credit_available)
                A-6 received 03-03, withdrawn 03-04;  A-5 received 06-20, open
                both granted ones: 2,400.00, debt_restructuring, one adult and a child (single_parent)
  loans         L-1 … L-5 granted 03-02 directly, 1,000.00 each, housing, no personal data (unknown)
                L-1 pays 100.00 on 04-10 (and 100.00 on 07-10, after the period)
                L-2 pays 1,000.00 on 04-01: repaid
                L-3 two free months from instalment 1 (03-20)
                L-4 partial exemption 300.00 (04-05, before its first due date: principal only)
                L-5 written off 03-25 (before its first due date: 1,000.00 principal, nothing else owed)
                A-1's grant appealed 04-01, appeal rejected 04-15
                L-6 granted 07-01 (after the period), 1,000.00 housing
  organiser "kk": K-1 granted 03-05, 600.00, no purpose class (national view only)
"""
from __future__ import annotations

import copy
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from domain.loan import Decision
from domain.money import parse_amount
from tests.integration.helpers import Stack, stack  # noqa: F401 - fixture
from tests.integration.served_api import served_api

EXAMPLE = json.loads((Path(__file__).resolve().parents[3] / "shared" / "spec" / "applications" /
                      "example-fit.json").read_text(encoding="utf-8"))
NORM = EXAMPLE["policy"]["overrides"]["living_cost_norm"]
LEDGER = {"bank": "1910", "loans_receivable": "1550", "interest_income": "3800", "penalty_interest_income": "3810",
          "overpayments": "2890", "credit_losses": "7780"}  # credit_losses_exemptions left out: shown by its key
TENANTS = {"ek": {"preset": "etela-karjala", "overrides": {"living_cost_norm": NORM},
                  "organiser": {"name": "Etelä-Karjalan hyvinvointialue", "phone": "05 352 000",
                                "ledger_accounts": LEDGER}},
           "kk": {"preset": "default"}}
D = dt.date.fromisoformat
PERIOD = "from=2026-03-01&to=2026-06-30"


@pytest.fixture
def api(stack: Stack, tmp_path):  # noqa: F811 - the fixture
    with served_api(stack, tmp_path, TENANTS) as (client, issuer, container, _clock):
        yield client, issuer, container


def _history(c) -> None:
    s, clock = c.service, c.service.clock
    dm = Decision("dm-1", "päätös")

    def on(day: str) -> dt.date:
        clock.set_day(D(day))
        return D(day)

    c.borrowers.put("ek", "B-1", name="Henkilö Yksi", identity_code="131052-308T", address=["Katu 1"], language="fi")
    c.borrowers.put("ek", "B-2", name="Henkilö Kaksi", identity_code="010190-123M", address=["Katu 2"], language="fi")
    for other in ("B-3", "B-4", "B-5", "B-6"):  # applicants never granted: their age is never asked
        c.borrowers.put("ek", other, name="Henkilö", identity_code="131052-308T", address=["Katu 3"], language="sv")

    def application(app_id: str, applicant: str, day: str) -> None:
        facts = copy.deepcopy(EXAMPLE["application"])
        facts["applicant"] = applicant
        s.receive_application("ek", app_id, kind="loan", facts=facts, on=on(day), by="cw-1")

    def prepared(app_id: str, day: str) -> None:
        s.assess_application("ek", app_id, on=on(day), by="cw-1")
        s.give_granting_criteria("ek", app_id, understood=True, on=on(day), by="cw-1")
        s.look_into_social_assistance("ek", app_id, finding="no_right", reasons="", on=on(day), by="cw-1")

    def granted(app_id: str, day: str) -> None:
        prepared(app_id, day)
        s.decide_application("ek", app_id, outcome="granted", decided_by="Päättäjä", on=on(day), by="dm-1",
                             grant={"purpose_class": "debt_restructuring"})
        applicant = s.case("ek", app_id).applicant
        s.draw_contract("ek", app_id, on=on(day), by="dm-1")
        for signer in (applicant, "official"):  # R-APP-7: the loan is granted on the last signature
            s.sign_contract("ek", app_id, signer=signer, on=on(day), by="dm-1")

    def rejected(app_id: str, day: str) -> None:
        prepared(app_id, day)
        s.record_judgement_ground("ek", app_id, ground="market_credit_available", reasons="pankki", on=on(day),
                                  by="cw-1")
        s.decide_application("ek", app_id, outcome="rejected", decided_by="Päättäjä", on=on(day), by="dm-1",
                             grounds=["market_credit_available"], reasons="pankkilaina saatavilla")

    def loan(tenant: str, loan_id: str, day: str, principal: str = "1000.00", purpose_class: str | None = "housing",
             first_due: str = "2026-04-10"):
        terms = {"purpose_class": purpose_class} if purpose_class else {}
        s.grant(tenant=tenant, loan_id=loan_id, borrower_id=f"C-{loan_id}", purpose="vuokra",
                principal=parse_amount(principal, "p"), granted_on=on(day), first_due_date=D(first_due),
                instalment_amount=parse_amount("100.00", "i"), decision=dm, **terms)

    def pay(payment_id: str, loan_id: str, amount: str, day: str) -> None:
        s.post_payment(tenant="ek", payment_id=payment_id, amount=parse_amount(amount, "a"), value_date=on(day),
                       on=on(day), loan_id=loan_id, reference=None)

    application("A-4", "B-2", "2026-02-20")
    granted("A-4", "2026-03-02")
    for n in range(1, 6):
        loan("ek", f"L-{n}", "2026-03-02")
    application("A-1", "B-1", "2026-03-02")
    application("A-2", "B-3", "2026-03-02")
    application("A-6", "B-6", "2026-03-03")
    s.withdraw_application("ek", "A-6", reason="peruttu", on=on("2026-03-04"), by="cw-1")
    loan("kk", "K-1", "2026-03-05", "600.00", None)
    granted("A-1", "2026-03-06")
    application("A-3", "B-4", "2026-03-10")
    rejected("A-3", "2026-03-11")
    rejected("A-2", "2026-03-12")
    s.defer_free_months("ek", "L-3", on=on("2026-03-20"), decision=dm, months=2, from_instalment=1)
    s.write_off("ek", "L-5", on=on("2026-03-25"), decision=dm)
    pay("P-2", "L-2", "1000.00", "2026-04-01")
    s.service("ek", "L-2", on("2026-04-02"))  # the run records LoanRepaid
    s.file_appeal("ek", "A-1", decision_version=1, on=on("2026-04-01"), appellant="B-1", grounds="liian pieni")
    appeal = [e for e in s.events.get(s.loan("ek", "A-1").id) if type(e).__name__ == "AppealFiled"][0]
    s.decide_appeal("ek", "A-1", on=on("2026-04-15"), decision=dm, appeal=appeal.originator_version,
                    outcome="rejected")
    s.waive("ek", "L-4", on=on("2026-04-05"), decision=dm, kind="partial", amount=parse_amount("300.00", "a"))
    pay("P-1a", "L-1", "100.00", "2026-04-10")
    application("A-5", "B-5", "2026-06-20")
    loan("ek", "L-6", "2026-07-01", first_due="2026-08-10")
    pay("P-1b", "L-1", "100.00", "2026-07-10")


def test_r_stat_1_organiser_statistics_over_a_known_history(api):
    client, issuer, c = api
    _history(c)
    finance = issuer.headers("ek", ["finance"], subject="fin-1")
    answer = client.get(f"/v1/statistics?{PERIOD}", headers=finance)
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["behind"] == 0 and got["scope"] == "organiser"
    assert got["applications"] == {
        "received": 5, "decided": 4, "granted": 2, "rejected": 2, "withdrawn": 1,
        # R-STAT-2: two rejections on the ground: a cell under five is withheld.
        "rejected_by_ground": {"market_credit_available": {"count": None, "suppressed": True}},
        # [1, 4, 10, 10]: median (4 + 10) / 2 = 7.0; p90 nearest rank ceil(3.6) = 4th = 10.
        "processing_days": {"median": 7.0, "p90": 10},
    }
    assert got["loans_granted"] == {
        "count": 7, "euros": "9800.00",
        "by_purpose": {"debt_restructuring": {"count": None, "euros": None, "suppressed": True},
                       "housing": {"count": 5, "euros": "5000.00", "suppressed": False}},
        "by_age_band": {"35-44": {"count": None, "euros": None, "suppressed": True},
                        "65+": {"count": None, "euros": None, "suppressed": True},
                        "unknown": {"count": 5, "euros": "5000.00", "suppressed": False}},
        "by_household_type": {"single_parent": {"count": None, "euros": None, "suppressed": True},
                              "unknown": {"count": 5, "euros": "5000.00", "suppressed": False}},
    }
    # 9,800.00 granted − 1,100.00 repaid (L-1 100.00, L-2 1,000.00) − 300.00 exempted − 1,000.00 lost.
    assert got["outstanding_principal_at_end"] == "7400.00"
    assert got["principal_in_period"] == {"granted": "9800.00", "repaid": "1100.00", "exempted": "300.00",
                                          "lost": "1000.00"}
    assert got["repaid"] == 1 and got["accelerated"] == 0 and got["sent_to_collection"] == 0
    # 1,000.00 / 9,800.00 = 10.204…% → 10.20.
    assert got["written_off"] == {"count": 1, "claims_written_off": "1000.00", "credit_loss": "1000.00",
                                  "credit_loss_share_of_granted_in_period_percent": "10.20",
                                  "credit_loss_to_date_share_of_granted_to_date_percent": "10.20"}
    assert got["free_months"] == {"decisions": 1, "months": 2}
    assert got["exemptions"] == {"count": 1, "partial": 1, "full": 0, "euros": "300.00"}
    assert got["appeals"] == {"filed": 1, "decided": {"upheld": 0, "partly_upheld": 0, "rejected": 1}}

    # July: L-6 granted, L-1's second 100.00; outstanding 7,400.00 + 1,000.00 − 100.00.
    july = client.get("/v1/statistics?from=2026-07-01&to=2026-07-31", headers=finance).json()
    assert (july["loans_granted"]["count"], july["loans_granted"]["euros"]) == (1, "1000.00")
    assert july["principal_in_period"]["repaid"] == "100.00"
    assert july["outstanding_principal_at_end"] == "8300.00"
    assert july["applications"]["received"] == 0 and july["written_off"]["count"] == 0

    # CSV and XLSX carry the same figures; a suppressed cell is empty.
    csv_text = client.get(f"/v1/statistics?{PERIOD}&format=csv", headers=finance).content.decode("utf-8-sig")
    lines = csv_text.splitlines()
    assert lines[0] == "section;item;count_or_value;euros"
    assert "loans_granted.by_purpose;housing;5;5000.00" in lines
    assert "loans_granted.by_purpose;debt_restructuring;;" in lines
    assert "totals;outstanding_principal_at_end;7400.00;" in lines
    xlsx = client.get(f"/v1/statistics?{PERIOD}&format=xlsx", headers=finance)
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).worksheets[0]
    rows = {(r[0], r[1]): (r[2], r[3]) for r in sheet.iter_rows(values_only=True)}
    assert rows[("loans_granted.by_age_band", "unknown")] == (5, "5000.00")
    assert rows[("written_off", "credit_loss")] == ("1000.00", None)


def test_r_cap_1_2_capital_by_source_lent_out_returned_and_lost(api):
    """Own funds 10,000.00 (2026-01-01) and a state grant of 5,000.00 (decision STM/123/2025, 2026-02-01):
    shares 2/3 and 1/3 of every figure to 2026-06-30, each rounded half up to the cent, the state
    grant (last by name) taking the remainder:
      lent out 9,800.00 → 6,533.33 (653,333.3 cents) / 3,266.67
      returned 1,100.00 → 733.33 / 366.67;  lost 300.00 + 1,000.00 = 1,300.00 → 866.67 / 433.33
      outstanding 6,533.33 − 733.33 − 866.67 = 4,933.33 / 2,466.67 (together 7,400.00)
      available 10,000.00 − 4,933.33 − 866.67 = 4,200.00 / 5,000.00 − 2,466.67 − 433.33 = 2,100.00"""
    client, issuer, c = api
    _history(c)
    finance = issuer.headers("ek", ["finance"], subject="fin-1")
    for body in ({"source": "own_funds", "amount": "10000.00", "on": "2026-01-01"},
                 {"source": "state_grant", "amount": "5000.00", "on": "2026-02-01", "decision_number": "STM/123/2025"}):
        assert client.post("/v1/capital", headers=finance, json=body).status_code == 201
    missing = client.post("/v1/capital", headers=finance, json={"source": "state_grant", "amount": "1.00",
                                                                "on": "2026-02-01"})
    assert missing.status_code == 422 and missing.json()["field"] == "decision_number"
    assert missing.json()["rule"] == "R-CAP-1"
    answer = client.get(f"/v1/statistics?{PERIOD}", headers=finance)
    assert answer.status_code == 200, answer.text
    got = answer.json()["capital_sources"]
    assert got == {
        "own_funds": {"recorded": "10000.00", "share_percent": "66.67", "lent_out": "6533.33", "returned": "733.33",
                      "lost": "866.67", "lent_out_in_period": "6533.33", "returned_in_period": "733.33",
                      "lost_in_period": "866.67", "outstanding": "4933.33", "available": "4200.00"},
        "state_grant:STM/123/2025": {"recorded": "5000.00", "share_percent": "33.33", "lent_out": "3266.67",
                                     "returned": "366.67", "lost": "433.33", "lent_out_in_period": "3266.67",
                                     "returned_in_period": "366.67", "lost_in_period": "433.33",
                                     "outstanding": "2466.67", "available": "2100.00"}}
    # Before any capital was recorded (January's report counts only the own funds).
    january = client.get("/v1/statistics?from=2026-01-01&to=2026-01-31", headers=finance).json()
    assert list(january["capital_sources"]) == ["own_funds"]
    assert january["capital_sources"]["own_funds"]["available"] == "10000.00"


def test_r_book_1_journal_per_day_with_the_organisers_accounts(api):
    """The history's money days in March and April 2026, each entry balanced:
      03-02 loans paid out: L-1 … L-5 5 × 1,000.00 + A-4 2,400.00 = 7,400.00
      03-06 loans paid out: A-1 2,400.00
      03-25 L-5 written off: 1,000.00 principal is a credit loss
      04-01 L-2 pays 1,000.00: all principal
      04-05 L-4's exemption of 300.00 principal (before any due date: nothing else owed)
      04-10 L-1 pays 100.00: its first instalment's principal (interest-free, on time)"""
    client, issuer, c = api
    _history(c)
    assert client.get("/v1/books/journal?from=2026-03-01&to=2026-04-30",
                      headers=issuer.headers("ek", ["caseworker"], subject="cw")).status_code == 403
    answer = client.get("/v1/books/journal?from=2026-03-01&to=2026-04-30",
                        headers=issuer.headers("ek", ["finance"], subject="fin-1"))
    assert answer.status_code == 200, answer.text
    assert answer.content.decode("utf-8-sig").splitlines() == [
        "date;value_date;account;debit;credit;what",
        "2026-03-02;2026-03-02;1550;7400.00;;loans paid out", "2026-03-02;2026-03-02;1910;;7400.00;loans paid out",
        "2026-03-06;2026-03-06;1550;2400.00;;loans paid out", "2026-03-06;2026-03-06;1910;;2400.00;loans paid out",
        "2026-03-25;2026-03-25;7780;1000.00;;principal written off",
        "2026-03-25;2026-03-25;1550;;1000.00;principal written off",
        "2026-04-01;2026-04-01;1910;1000.00;;payments received",
        "2026-04-01;2026-04-01;1550;;1000.00;payments received",
        "2026-04-05;2026-04-05;credit_losses_exemptions;300.00;;principal exempted (Act §7b)",
        "2026-04-05;2026-04-05;1550;;300.00;principal exempted (Act §7b)",
        "2026-04-10;2026-04-10;1910;100.00;;payments received",
        "2026-04-10;2026-04-10;1550;;100.00;payments received",
    ]


def test_r_book_1_a_back_dated_payment_and_its_reversal_never_change_a_closed_day(api):
    """R-BOOK-1: a change is booked on the day it is recorded, its value date beside it. Loan J-1
    (1,000.00, interest-free, first due 04-10) granted 03-02; March's journal is taken on 04-01.
    On 04-03 a payment of 100.00 value-dated 03-20 arrives (before any due date: all principal);
    on 04-06 it is reversed. March reads the same afterwards; April has both, on their booking days."""
    client, issuer, c = api
    s, clock = c.service, c.service.clock
    dm = Decision("dm-1", "päätös")
    clock.set_day(D("2026-03-02"))
    s.grant(tenant="ek", loan_id="J-1", borrower_id="C-J-1", purpose="vuokra", principal=100000,
            granted_on=D("2026-03-02"), first_due_date=D("2026-04-10"), instalment_amount=10000, decision=dm,
            purpose_class="housing")
    finance = issuer.headers("ek", ["finance"], subject="fin-1")

    def journal(start: str, end: str) -> list[str]:
        answer = client.get(f"/v1/books/journal?from={start}&to={end}", headers=finance)
        assert answer.status_code == 200, answer.text
        return answer.content.decode("utf-8-sig").splitlines()[1:]

    clock.set_day(D("2026-04-01"))
    march = journal("2026-03-01", "2026-03-31")
    assert march == ["2026-03-02;2026-03-02;1550;1000.00;;loans paid out",
                     "2026-03-02;2026-03-02;1910;;1000.00;loans paid out"]
    clock.set_day(D("2026-04-03"))
    s.post_payment(tenant="ek", payment_id="BD-1", amount=10000, value_date=D("2026-03-20"), on=D("2026-04-03"),
                   loan_id="J-1")
    clock.set_day(D("2026-04-06"))
    s.reverse_payment(tenant="ek", payment_id="BD-1", reason="palautus", on=D("2026-04-06"))
    assert journal("2026-03-01", "2026-03-31") == march
    assert journal("2026-04-01", "2026-04-30") == [
        "2026-04-03;2026-03-20;1910;100.00;;payments received",
        "2026-04-03;2026-03-20;1550;;100.00;payments received",
        "2026-04-06;2026-03-20;1910;;100.00;payments received",
        "2026-04-06;2026-03-20;1550;100.00;;payments received",
    ]
    # A rebuild books every change on the day it was recorded again, not on its value date.
    c.statistics.rebuild()
    assert journal("2026-03-01", "2026-03-31") == march
    assert len(journal("2026-04-01", "2026-04-30")) == 4


def test_r_book_1_a_payment_splits_into_principal_interest_penalty_and_overpayment():
    """One day's sums as the journal books them: 250.00 received = 180.00 principal + 12.00 interest
    + 3.00 penalty interest + 55.00 held as an overpayment."""
    from projections.journal import _lines

    day = {"granted": 0, "repaid": 18000, "exempted": 0, "lost": 0, "received": 25000, "interest": 1200,
           "penalty": 300, "refunded": 0}
    assert _lines(day) == [("bank", 25000, 0, "payments received"), ("loans_receivable", 0, 18000, "payments received"),
                           ("interest_income", 0, 1200, "payments received"),
                           ("penalty_interest_income", 0, 300, "payments received"),
                           ("overpayments", 0, 5500, "payments received")]
    refund = {**dict.fromkeys(day, 0), "refunded": 5500}
    assert _lines(refund) == [("overpayments", 5500, 0, "overpayments refunded"), ("bank", 0, 5500,
                                                                                  "overpayments refunded")]


def test_r_stat_2_national_view_for_the_administrator_only(api):
    client, issuer, c = api
    _history(c)
    assert client.get(f"/v1/statistics/national?{PERIOD}",
                      headers=issuer.headers("ek", ["finance"], subject="f")).status_code == 403
    got = client.get(f"/v1/statistics/national?{PERIOD}", headers=issuer.headers("ek", ["admin"], subject="a"))
    assert got.status_code == 200, got.text
    data = got.json()
    assert data["scope"] == "national" and data["organisers"] == 2
    # ek's 9,800.00 and kk's 600.00; kk's loan has no purpose class.
    assert (data["loans_granted"]["count"], data["loans_granted"]["euros"]) == (8, "10400.00")
    assert data["loans_granted"]["by_purpose"]["unknown"] == {"count": None, "euros": None, "suppressed": True}
    assert data["outstanding_principal_at_end"] == "8000.00"
    text = json.dumps(data)
    for personal in ("B-1", "C-L-1", "L-1", "A-1", "ek", "kk"):
        assert f'"{personal}"' not in text
    # The organiser's own view never includes another organiser.
    kk = client.get(f"/v1/statistics?{PERIOD}", headers=issuer.headers("kk", ["auditor"], subject="x")).json()
    assert (kk["loans_granted"]["count"], kk["outstanding_principal_at_end"]) == (1, "600.00")
    bad = client.get("/v1/statistics?from=2026-06-30&to=2026-03-01", headers=issuer.headers("kk", ["auditor"],
                                                                                               subject="x"))
    assert bad.status_code == 422 and bad.json()["field"] == "to" and bad.json()["rule"] == "R-STAT-1"


def test_r_stat_1_rebuilt_statistics_equal_the_live_ones(api):
    client, issuer, c = api
    _history(c)
    headers = issuer.headers("ek", ["auditor"], subject="x")
    live = client.get(f"/v1/statistics?{PERIOD}", headers=headers).json()
    c.statistics.rebuild()
    again = client.get(f"/v1/statistics?{PERIOD}", headers=headers).json()
    assert {k: v for k, v in again.items() if k != "position"} == {k: v for k, v in live.items() if k != "position"}


def test_r_stat_1_loans_granted_are_read_from_day_sums_and_a_grant_delivered_again_counts_once(api):
    """The report reads the loans granted from their sums per organiser, day and cell (not one row
    per loan: ~350 ms a report at 100,000 loans before), and those sums count each grant once even
    when the follower delivers its events again: the hand-counted 7 loans, 9,800.00, stay."""
    client, issuer, c = api
    _history(c)
    headers = issuer.headers("ek", ["auditor"], subject="x")
    live = client.get(f"/v1/statistics?{PERIOD}", headers=headers).json()["loans_granted"]
    assert (live["count"], live["euros"]) == (7, "9800.00")
    with c.statistics.store.transaction() as tx:  # every event delivered again from the start
        tx.execute("UPDATE luotto_tracking SET position = 0 WHERE projection = 'statistics'")
    c.statistics.catch_up()
    with c.statistics.store.transaction() as tx:  # the per-loan rows are not what the report counts
        tx.execute("DELETE FROM luotto_stat_loans")
        grant_days = tx.execute("SELECT day, SUM(n) AS n, SUM(principal) AS p FROM luotto_stat_grant_days WHERE "
                                "tenant = 'ek' GROUP BY day ORDER BY day").all()
    assert [(r["day"], int(r["n"]), int(r["p"])) for r in grant_days] == [
        ("2026-03-02", 6, 740000), ("2026-03-06", 1, 240000), ("2026-07-01", 1, 100000)]
    again = client.get(f"/v1/statistics?{PERIOD}", headers=headers).json()["loans_granted"]
    assert again == live


def test_projections_rebuild_rebuilds_the_statistics_and_the_journal_too(stack, tmp_path, monkeypatch, capsys):  # noqa: F811
    """`luotto projections rebuild` rebuilds every read model the follower feeds: after the statistics'
    and the portfolio's rows were lost, L-1's grant (2026-03-02, 1,000.00) counts again in both, and
    its journal entry is back on its booking day."""
    from api.cli import _projections
    from tests.integration.helpers import Clock

    clock = Clock()
    c = stack.container(clock, TENANTS)
    clock.set_day(D("2026-03-02"))
    c.service.grant(tenant="ek", loan_id="L-1", borrower_id="C-L-1", purpose="vuokra", principal=100000,
                    granted_on=D("2026-03-02"), first_due_date=D("2026-04-10"), instalment_amount=10000,
                    decision=Decision("dm-1", "päätös"), purpose_class="housing")
    c.read_model.catch_up()
    c.statistics.catch_up()
    with c.read_model.store.transaction() as tx:  # a damaged or stale model: rows lost, position kept
        for table in ("luotto_stat_loans", "luotto_stat_books", "luotto_portfolio_sums"):
            tx.execute(f"DELETE FROM {table}")
    stack.close_all()
    stack.cli_environment(monkeypatch, tmp_path, TENANTS)
    assert _projections("rebuild") == 0
    again = stack.container(clock, TENANTS)
    with again.read_model.store.transaction() as tx:
        loans = tx.execute("SELECT loan_id, granted_on, principal FROM luotto_stat_loans").all()
        books = tx.execute("SELECT booked, value_day, granted FROM luotto_stat_books").all()
        sums = tx.execute("SELECT COUNT(*) AS n FROM luotto_portfolio_sums").one()
    assert [(r["loan_id"], r["granted_on"], int(r["principal"])) for r in loans] == [("L-1", "2026-03-02", 100000)]
    assert [(r["booked"], r["value_day"], int(r["granted"])) for r in books] == [("2026-03-02", "2026-03-02", 100000)]
    assert sums["n"] > 0
    assert "statistics and journal rebuild" in capsys.readouterr().err


def test_r_cap_2_capital_sources_alone_equal_the_reports(api):
    """The console's capital page reads R-CAP-2 without the report's pass over the loans granted
    (projections.statistics_report.capital_sources): the same figures, for two periods."""
    from projections.statistics_report import capital_sources, report

    client, issuer, c = api
    _history(c)
    finance = issuer.headers("ek", ["finance"], subject="fin-1")
    for body in ({"source": "own_funds", "amount": "10000.00", "on": "2026-01-01"},
                 {"source": "state_grant", "amount": "5000.00", "on": "2026-02-01", "decision_number": "STM/1/2026"}):
        assert client.post("/v1/capital", headers=finance, json=body).status_code == 201
    c.statistics.catch_up()
    for start, end in ((D("2026-03-01"), D("2026-06-30")), (D("2026-01-01"), D("2026-01-31"))):
        alone = capital_sources(c.statistics.store, "ek", start, end)
        assert alone and alone == report(c.statistics.store, "ek", start, end)["capital_sources"]
