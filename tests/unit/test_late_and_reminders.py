"""The daily servicing run: late instalments (R-LATE-1/2), reminders (R-REM-1), InstalmentFellDue,
LoanRepaid, and idempotency of the run per (loan, date).

Whole histories go through `application.simulation.simulate` (the production servicing, day by day);
idempotency is checked on the `domain.loan.Loan` aggregate directly.

Calendar used (2025): Mon 10 Feb, Mon 10 Mar, Thu 10 Apr, Sat 10 May (effective deadline Mon 12 May),
Tue 10 Jun. Wed 24 Dec is Christmas Eve, then Christmas Day, Boxing Day and a weekend: the effective
deadline of a 24 Dec due date is Mon 29 Dec.
"""
from __future__ import annotations

import functools
import datetime as dt
from zoneinfo import ZoneInfo

from domain.delinquency import episode_start
from domain.loan import Decision, Loan
from domain.policy import make_policy
from domain.rates import ReferenceRates
from application.simulation import simulate
from tests.support.scenarios import RATE_ROWS, kittila_scenario, of, payment

D = dt.date.fromisoformat

RATES = ReferenceRates.from_json(RATE_ROWS)


# --- helpers -------------------------------------------------------------------------------------


scenario = functools.partial(kittila_scenario, run_until="2025-04-30")


def of_type(out: dict, kind: str) -> list[dict]:
    return of(out, kind)


def lates(out: dict) -> list[tuple]:
    """(instalment, effective date, recorded on, amount) of every InstalmentLate."""
    return [(e["instalment"], e["effective_date"], e["recorded_on"], e["amount"])
            for e in of_type(out, "InstalmentLate")]


def reminders(out: dict) -> list[tuple]:
    """(effective date, recorded on, instalments) of every reminder."""
    return [(e["effective_date"], e["recorded_on"], e["instalments"]) for e in of_type(out, "NoticeSent")
            if e["kind"] == "reminder"]


# --- R-LATE-1 ------------------------------------------------------------------------------------


def test_r_late_1_effective_date_is_deadline_plus_one():
    """R-LATE-1: instalment 1 (due and deadline Mon 10 Feb) unpaid: InstalmentLate effective and
    recorded on 11 Feb, for the unpaid 100.00; nothing is late on the deadline itself."""
    assert lates(simulate(scenario(run_until="2025-02-10"))) == []
    out = simulate(scenario(run_until="2025-03-05"))
    assert lates(out) == [(1, "2025-02-11", "2025-02-11", "100.00")]


def test_r_late_1_due_on_a_saturday():
    """R-LATE-1/R-DATE-4: due Sat 10 May, effective deadline Mon 12 May: late effective Tue 13 May.
    Paid on Mon 12 May: never late."""
    loan = {"granted_on": "2025-04-15", "first_due_date": "2025-05-10"}
    assert lates(simulate(scenario(run_until="2025-05-12", **loan))) == []
    out = simulate(scenario(run_until="2025-05-31", **loan))
    assert lates(out) == [(1, "2025-05-13", "2025-05-13", "100.00")]
    paid = simulate(scenario([payment("2025-05-12", "p1", "100.00")], run_until="2025-05-31", **loan))
    assert lates(paid) == []


def test_r_late_1_due_on_a_holiday():
    """R-LATE-1/R-DATE-3: due Wed 24 Dec 2025 (Christmas Eve; 25, 26 Dec holidays, 27-28 weekend):
    effective deadline Mon 29 Dec, late effective Tue 30 Dec. Paid on 29 Dec: never late."""
    loan = {"granted_on": "2025-12-01", "first_due_date": "2025-12-24"}
    out = simulate(scenario(run_until="2026-01-05", preset="default", **loan))
    assert lates(out) == [(1, "2025-12-30", "2025-12-30", "100.00")]
    paid = simulate(scenario([payment("2025-12-29", "p1", "100.00")], run_until="2026-01-05",
                             preset="default", **loan))
    assert lates(paid) == []


def test_r_late_1_back_dated_payment_recorded_before_the_run_prevents_late():
    """R-LATE-1: a payment value-dated on the deadline (10 Feb) that arrives on 11 Feb, before that
    day's run, means instalment 1 was never late."""
    out = simulate(scenario([payment("2025-02-11", "p1", "100.00", "2025-02-10")], run_until="2025-03-05"))
    assert lates(out) == []
    assert out["balance"]["penalty_interest_accrued"] == "0.00"


def test_r_late_1_back_dated_payment_recorded_after_the_run_does_not_undo_it():
    """R-LATE-1 (run for 11 Feb did not know the payment) and events are immutable: the InstalmentLate
    of 11 Feb stays, once, although the payment value-dated 10 Feb arrived on 12 Feb; no penalty accrues."""
    out = simulate(scenario([payment("2025-02-12", "p1", "100.00", "2025-02-10")], run_until="2025-03-05"))
    assert lates(out) == [(1, "2025-02-11", "2025-02-11", "100.00")]
    assert out["balance"]["penalty_interest_accrued"] == "0.00"
    assert out["balance"]["overdue_amount"] == "0.00"


def test_r_late_1_paid_one_day_late_is_late():
    """R-LATE-1: paid on 11 Feb (the day after the deadline), recorded before the run: still late."""
    out = simulate(scenario([payment("2025-02-11", "p1", "100.00")], run_until="2025-03-05"))
    assert lates(out) == [(1, "2025-02-11", "2025-02-11", "100.00")]


def test_r_late_1_partly_paid_by_the_deadline_records_the_unpaid_part():
    """R-LATE-1: 40.00 paid on the deadline: InstalmentLate for the 60.00 unpaid at the deadline."""
    out = simulate(scenario([payment("2025-02-10", "p1", "40.00")], run_until="2025-03-05"))
    assert lates(out) == [(1, "2025-02-11", "2025-02-11", "60.00")]


def test_r_late_1_payment_on_a_deadline_goes_to_the_older_overdue_instalment_first():
    """R-LATE-1 with R-PAY-3: instalment 1 unpaid; 100.00 on 10 Mar (instalment 2's deadline) pays
    the overdue instalment 1, so instalment 2 is late on 11 Mar."""
    out = simulate(scenario([payment("2025-03-10", "p1", "100.00")], run_until="2025-03-31"))
    assert lates(out) == [(1, "2025-02-11", "2025-02-11", "100.00"), (2, "2025-03-11", "2025-03-11", "100.00")]


def test_r_late_1_exact_instalment_on_its_deadline_is_short_while_penalty_is_owed():
    """R-LATE-1 with R-PAY-3(2)/(3): instalment 1 paid 10 days late (penalty 28.77 c -> 0.29, unpaid).
    100.00 on 10 Mar (instalment 2's deadline, not yet overdue) pays the 0.29 penalty before paying
    ahead, so instalment 2 is 0.29 short at its deadline and InstalmentLate records 0.29."""
    acts = [payment("2025-02-20", "p1", "100.00"), payment("2025-03-10", "p2", "100.00")]
    out = simulate(scenario(acts, run_until="2025-03-20"))
    assert lates(out) == [(1, "2025-02-11", "2025-02-11", "100.00"), (2, "2025-03-11", "2025-03-11", "0.29")]


def test_r_late_1_recorded_once_per_instalment():
    """R-LATE-1: a loan left unpaid for months records exactly one InstalmentLate per instalment."""
    out = simulate(scenario(run_until="2025-09-30", overrides={"reminder_offsets_days": []}))
    assert [e["instalment"] for e in of_type(out, "InstalmentLate")] == [1, 2, 3]


# --- R-LATE-2: delinquency episodes ------------------------------------------------------------

# A loan of 1000.00 in ten instalments of 100.00 from 10 Feb 2025; one reminder 40 days after the
# effective deadline (instalment 1: 22 Mar; instalment 2: 19 Apr; instalment 3: 20 May).
EPISODE = {"principal": "1000.00", "instalment_amount": "100.00"}
EPISODE_POLICY = {"reminder_offsets_days": [40]}
NOTICE_12_MAY = {"on": "2025-05-12", "type": "acceleration_notice", "decided_by": "sw-1"}
# On 25 Mar instalments 1 and 2 are overdue; penalty: 43 + 15 = 58 days * 2.876712 c = 166.85 c -> 1.67.
CATCH_UP = payment("2025-03-25", "p1", "201.67")


def test_r_late_2_catching_up_ends_the_episode():
    """R-LATE-2: after the 25 Mar payment nothing is overdue (and no penalty is owed)."""
    b = simulate(scenario([CATCH_UP], run_until="2025-04-10", overrides=EPISODE_POLICY, **EPISODE))["balance"]
    assert (b["status"], b["overdue_amount"], b["penalty_interest_outstanding"]) == ("current", "0.00", "0.00")


def test_r_late_2_a_reminder_of_an_earlier_episode_does_not_shorten_the_notice():
    """R-LATE-2 with R-ACC-6: the reminder of 22 Mar belongs to the episode that ended on 25 Mar. A new
    episode starts with instalment 3 late on 11 Apr; the notice of 12 May has no earlier notice in
    this episode, so its period is 28 days. Without the catch-up payment it is all one episode and
    the period is 14 days."""
    new_episode = simulate(scenario([CATCH_UP, NOTICE_12_MAY], run_until="2025-05-12",
                                    overrides=EPISODE_POLICY, **EPISODE))
    assert reminders(new_episode) == [("2025-03-22", "2025-03-22", [1])]
    notices = [e for e in of_type(new_episode, "NoticeSent") if e["kind"] == "acceleration"]
    assert [(n["instalments"], n["period_days"]) for n in notices] == [([3], 28)]

    one_episode = simulate(scenario([NOTICE_12_MAY], run_until="2025-05-12", overrides=EPISODE_POLICY,
                                    **EPISODE))
    notices = [e for e in of_type(one_episode, "NoticeSent") if e["kind"] == "acceleration"]
    assert [(n["instalments"], n["period_days"]) for n in notices] == [([1, 2, 3], 14)]


# --- R-REM-1 -------------------------------------------------------------------------------------


def test_r_rem_1_kittila_reminders_14_and_28_days_after_the_deadline():
    """R-REM-1 (kittila [14, 28]): instalment 1 paid, instalment 2 (deadline Mon 10 Mar) unpaid:
    reminders on 24 Mar and 7 Apr listing [2]; nothing else before instalment 3's."""
    out = simulate(scenario([payment("2025-02-10", "p1", "100.00")], run_until="2025-04-20"))
    assert reminders(out) == [("2025-03-24", "2025-03-24", [2]), ("2025-04-07", "2025-04-07", [2])]


def test_r_rem_1_offsets_count_from_the_effective_deadline_not_the_due_date():
    """R-REM-1: due Sat 10 May, deadline Mon 12 May: reminders on 26 May and 9 Jun (not 24 May, 7 Jun)."""
    out = simulate(scenario(run_until="2025-06-09", granted_on="2025-04-15", first_due_date="2025-05-10"))
    assert reminders(out) == [("2025-05-26", "2025-05-26", [1]), ("2025-06-09", "2025-06-09", [1])]


def test_r_rem_1_one_reminder_a_day_lists_every_instalment_due_one():
    """R-REM-1 with offsets [14, 45]: instalment 2 (deadline 10 Mar) + 45 = 24 Apr and instalment 3
    (deadline 10 Apr) + 14 = 24 Apr: one reminder on 24 Apr listing [2, 3]."""
    out = simulate(scenario([payment("2025-02-10", "p1", "100.00")], run_until="2025-04-30",
                            overrides={"reminder_offsets_days": [14, 45]}))
    assert reminders(out) == [("2025-03-24", "2025-03-24", [2]), ("2025-04-24", "2025-04-24", [2, 3])]


def test_r_rem_1_no_reminder_once_the_instalment_is_paid():
    """R-REM-1: instalment 1 paid late on 20 Feb, before its reminder days (24 Feb, 10 Mar): none."""
    out = simulate(scenario([payment("2025-02-20", "p1", "100.29")], run_until="2025-03-09"))
    assert len(of_type(out, "InstalmentLate")) == 1
    assert reminders(out) == []


def test_r_rem_1_paid_between_the_two_reminders():
    """R-REM-1: instalment 1 unpaid on 24 Feb (reminder), paid on 1 Mar: no reminder on 10 Mar."""
    out = simulate(scenario([payment("2025-03-01", "p1", "150.00")], run_until="2025-03-09"))
    assert reminders(out) == [("2025-02-24", "2025-02-24", [1])]
    out = simulate(scenario([payment("2025-03-01", "p1", "150.00")], run_until="2025-03-20"))
    assert reminders(out) == [("2025-02-24", "2025-02-24", [1])]


def test_r_rem_1_partly_paid_instalment_still_gets_its_reminder():
    """R-REM-1: 60.00 of instalment 1 paid on 20 Feb: it is still unpaid in part, reminded on 24 Feb."""
    out = simulate(scenario([payment("2025-02-20", "p1", "60.00")], run_until="2025-02-28"))
    assert reminders(out) == [("2025-02-24", "2025-02-24", [1])]


def test_r_rem_1_no_reminders_with_the_etela_karjala_preset():
    """R-REM-1: etela-karjala has no reminder offsets: months of delay, InstalmentLate but no reminder."""
    out = simulate(scenario(run_until="2025-07-31", preset="etela-karjala", principal="600.00"))
    assert len(of_type(out, "InstalmentLate")) >= 3
    assert reminders(out) == []


# --- InstalmentFellDue -------------------------------------------------------------------------


def test_instalment_fell_due_effective_on_the_due_date_even_a_saturday():
    """InstalmentFellDue (section 4): effective and recorded on the due date Sat 10 May, not the deadline."""
    out = simulate(scenario(run_until="2025-05-31", granted_on="2025-04-15", first_due_date="2025-05-10"))
    assert [(e["instalment"], e["effective_date"], e["recorded_on"], e["amount"])
            for e in of_type(out, "InstalmentFellDue")] == [(1, "2025-05-10", "2025-05-10", "100.00")]


def test_instalment_fell_due_once_per_instalment():
    """InstalmentFellDue: once for each instalment, on its due date, however long the loan runs."""
    out = simulate(scenario([payment("2025-02-10", "p1", "100.00")], run_until="2025-09-30"))
    assert [(e["instalment"], e["effective_date"]) for e in of_type(out, "InstalmentFellDue")] == [
        (1, "2025-02-10"), (2, "2025-03-10"), (3, "2025-04-10")]


# --- LoanRepaid ----------------------------------------------------------------------------------


def test_loan_repaid_effective_on_the_value_date_of_the_last_payment():
    """LoanRepaid: the last instalment paid with value date 10 Apr, the payment arriving Mon 14 Apr:
    LoanRepaid effective 10 Apr, recorded 14 Apr, once."""
    acts = [payment("2025-02-10", "p1", "100.00"), payment("2025-03-10", "p2", "100.00"),
            payment("2025-04-14", "p3", "100.00", "2025-04-10")]
    out = simulate(scenario(acts, run_until="2025-05-31"))
    assert [(e["effective_date"], e["recorded_on"]) for e in of_type(out, "LoanRepaid")] == [
        ("2025-04-10", "2025-04-14")]
    assert out["balance"]["status"] == "repaid"


def test_loan_repaid_effective_on_the_value_date_that_cleared_the_debt_after_a_back_dated_payment():
    """LoanRepaid with R-PAY-4: 200.29 on 20 Mar, then 100.00 value-dated 10 Feb arrives 25 Mar.
    In value-date order: 10 Feb pays instalment 1 on time; 20 Mar pays instalment 2 (10 days late,
    penalty 28.77 c -> 0.29), the penalty 0.29 and instalment 3 ahead: nothing owed from 20 Mar.
    LoanRepaid is effective 20 Mar, recorded 25 Mar."""
    acts = [payment("2025-03-20", "p1", "200.29"), payment("2025-03-25", "p2", "100.00", "2025-02-10")]
    out = simulate(scenario(acts, run_until="2025-05-31"))
    assert [(e["effective_date"], e["recorded_on"]) for e in of_type(out, "LoanRepaid")] == [
        ("2025-03-20", "2025-03-25")]
    assert (out["balance"]["status"], out["balance"]["overpayment"]) == ("repaid", "0.00")


def test_loan_repaid_waits_for_the_penalty_interest():
    """LoanRepaid: instalment 1 paid 10 days late; instalments paid 100.00 each after that leave 0.29
    owed (penalty taken first, R-PAY-3), so no LoanRepaid until the 0.29 paid on 15 Apr, effective 15 Apr."""
    acts = [payment("2025-02-20", "p1", "100.00"), payment("2025-03-10", "p2", "100.00"),
            payment("2025-04-10", "p3", "100.00"), payment("2025-04-15", "p4", "0.29")]
    short = simulate(scenario(acts[:3], run_until="2025-04-30"))
    assert of_type(short, "LoanRepaid") == []
    assert short["balance"]["payoff_amount"] == "0.29"
    out = simulate(scenario(acts, run_until="2025-05-31"))
    assert [(e["effective_date"], e["recorded_on"]) for e in of_type(out, "LoanRepaid")] == [
        ("2025-04-15", "2025-04-15")]
    assert out["balance"]["status"] == "repaid"


def test_loan_repaid_early_stops_instalment_events():
    """LoanRepaid after early payoff on 20 Feb: no InstalmentFellDue for instalments 2 and 3 afterwards,
    no InstalmentLate, no reminders."""
    acts = [payment("2025-02-10", "p1", "100.00"), payment("2025-02-20", "p2", "200.00")]
    out = simulate(scenario(acts, run_until="2025-06-30"))
    assert [e["effective_date"] for e in of_type(out, "LoanRepaid")] == ["2025-02-20"]
    assert [e["instalment"] for e in of_type(out, "InstalmentFellDue")] == [1]
    assert of_type(out, "InstalmentLate") == [] and reminders(out) == []
    assert out["balance"]["status"] == "repaid"


# --- idempotency of the daily run ----------------------------------------------------------------

HELSINKI = ZoneInfo("Europe/Helsinki")


def noon(day: dt.date, tick: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=HELSINKI) + dt.timedelta(microseconds=tick)


def granted(preset: str = "kittila") -> Loan:
    return Loan.grant(tenant="t-1", loan_id="L-1", borrower_id="B-1", purpose="rent arrears", principal=30000,
                      granted_on=D("2025-01-15"), first_due_date=D("2025-02-10"), policy=make_policy(preset),
                      decision=Decision("sw-1", "test grant"), recorded_at=noon(D("2025-01-15")),
                      instalment_amount=10000)


def days_between(first: str, last: str):
    day = D(first)
    while day <= D(last):
        yield day
        day += dt.timedelta(days=1)


def test_servicing_twice_for_the_same_date_records_nothing_new():
    """R-LATE-1/R-REM-1/InstalmentFellDue idempotency: for every day, a second run records nothing."""
    loan = granted()
    recorded_on_first_runs = []
    for day in days_between("2025-01-15", "2025-04-30"):
        first = loan.service(on=day, recorded_at=noon(day, 1), rates=RATES)
        version = loan.version
        assert loan.service(on=day, recorded_at=noon(day, 2), rates=RATES) == 0, day
        assert loan.version == version, day
        if first:
            recorded_on_first_runs.append((day.isoformat(), first))
    # Something was recorded on the interesting days (the check above is not vacuous):
    # 10 Feb fell due; 11 Feb late; 24 Feb reminder; 10 Mar fell due + reminder [1]; 11 Mar late + ACM ...
    days_with_events = dict(recorded_on_first_runs)
    assert {"2025-02-10", "2025-02-11", "2025-02-24", "2025-03-10", "2025-03-11"} <= set(days_with_events)


def test_servicing_rerun_after_a_later_day_records_nothing_new():
    """Idempotency: re-running an earlier date after later ones (a caught-up run) records nothing."""
    loan = granted()
    for day in days_between("2025-01-15", "2025-04-30"):
        loan.service(on=day, recorded_at=noon(day), rates=RATES)
    version = loan.version
    for day in days_between("2025-02-01", "2025-04-30"):
        assert loan.service(on=day, recorded_at=noon(D("2025-05-01")), rates=RATES) == 0, day
    assert loan.version == version


def test_servicing_twice_after_a_payment_records_repaid_once():
    """Idempotency: LoanRepaid recorded by the first run after the payoff, not by the second."""
    loan = granted()
    for day in days_between("2025-01-15", "2025-01-31"):
        loan.service(on=day, recorded_at=noon(day), rates=RATES)
    loan.receive_payment(payment_id="p1", amount=30000, value_date=D("2025-02-01"), on=D("2025-02-01"),
                         recorded_at=noon(D("2025-02-01")), rates=RATES)
    assert loan.service(on=D("2025-02-01"), recorded_at=noon(D("2025-02-01"), 1), rates=RATES) == 1
    assert loan.repaid_on == D("2025-02-01")
    version = loan.version
    assert loan.service(on=D("2025-02-01"), recorded_at=noon(D("2025-02-01"), 2), rates=RATES) == 0
    assert loan.version == version
    for day in days_between("2025-02-02", "2025-05-31"):  # paid off early: no InstalmentFellDue afterwards
        assert loan.service(on=day, recorded_at=noon(day), rates=RATES) == 0, day
    assert loan.fell_due == ()


def test_service_twice_for_one_date_through_the_application_service():
    """Idempotency through LoanService (events saved and reloaded from the store between runs):
    for every day, a second service() call records nothing and leaves the version unchanged."""
    from application.service import LoanService

    clock_day = {"day": D("2025-01-15"), "tick": 0}

    def clock() -> dt.datetime:
        clock_day["tick"] += 1
        return noon(clock_day["day"], clock_day["tick"]).astimezone(dt.timezone.utc)

    service = LoanService(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock, rates=RATES)
    service.configure_tenant("t-1", make_policy("kittila"))
    service.grant(tenant="t-1", loan_id="L-1", borrower_id="B-1", principal=30000, purpose="rent arrears",
                  decision=Decision("sw-1", "test grant"), granted_on=D("2025-01-15"),
                  first_due_date=D("2025-02-10"), instalment_amount=10000)
    busy_days = 0
    for day in days_between("2025-01-15", "2025-04-30"):
        clock_day["day"] = day
        busy_days += service.service("t-1", "L-1", day) > 0
        version = service.loan("t-1", "L-1").version
        assert service.service("t-1", "L-1", day) == 0, day
        assert service.loan("t-1", "L-1").version == version, day
    assert busy_days >= 5  # fell due x3, late x3, reminders: the second runs had something to repeat
    kinds = [(type(e).__name__, e.effective_date) for e in service.events.get(service.loan("t-1", "L-1").id)]
    assert len(kinds) == len(set(kinds))  # no event recorded twice for the same effective date


def test_r_late_2_episode_start_on_the_aggregate():
    """R-LATE-2: the episode starts with the first InstalmentLate while none is open (11 Feb) and
    ends when nothing is overdue; the next late instalment (11 Apr) opens a new one."""
    loan = granted()
    for day in days_between("2025-01-15", "2025-03-24"):
        loan.service(on=day, recorded_at=noon(day), rates=RATES)
    books = loan.books(RATES)
    assert episode_start(books, D("2025-02-10")) is None  # nothing overdue yet
    assert episode_start(books, D("2025-03-20")) == D("2025-02-11")  # instalment 2 late 11 Mar: same episode
    # 25 Mar: 200.00 overdue + penalty (43 + 15 days = 58 * 2.876712 c = 1.67): nothing overdue any more.
    loan.receive_payment(payment_id="p1", amount=20167, value_date=D("2025-03-25"), on=D("2025-03-25"),
                         recorded_at=noon(D("2025-03-25")), rates=RATES)
    for day in days_between("2025-03-25", "2025-04-20"):
        loan.service(on=day, recorded_at=noon(day), rates=RATES)
    books = loan.books(RATES)
    assert episode_start(books, D("2025-04-01")) is None
    assert episode_start(books, D("2025-04-15")) == D("2025-04-11")
