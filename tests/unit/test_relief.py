"""Relief and closing decisions: R-FREE-1, R-EXT-1, R-TERMS-1, R-WAIVE-1, refunds, collection, write-off.

Driven through `application.simulation.simulate` with hand-built scenarios. Calendar facts (2025):
Fri 31 Jan, Fri 28 Feb, Mon 10 Feb, Mon 10 Mar, Thu 10 Apr, Sat 10 May. Penalty rate in 2025 H1 =
reference 3.50 + 7 = 10.50 %.
"""
from __future__ import annotations

import copy

import pytest

from application.simulation import simulate
from tests.support.scenarios import of, only

RATES = [{"from": "2025-01-01", "rate": "3.50"}, {"from": "2025-07-01", "rate": "2.50"},
         {"from": "2026-01-01", "rate": "2.50"}, {"from": "2026-07-01", "rate": "2.50"}]

# Base loan: 600.00 in six instalments of 100.00 due on the 10th, Feb .. Jul 2025.
BASE_LOAN = {"loan_id": "L-REL", "borrower_id": "B-REL", "purpose": "household", "granted_on": "2025-01-15",
             "principal": "600.00", "first_due_date": "2025-02-10", "instalment_amount": "100.00"}
# Month-end loan: due 31 Jan, 28 Feb, 31 Mar, 30 Apr, 31 May, 30 Jun 2025 (R-SCHED-1 with clamping).
MONTH_END = {"granted_on": "2025-01-02", "first_due_date": "2025-01-31"}

DECIDER = {"decided_by": "cw-7", "reasons": "caseworker assessment"}


def scenario(*, preset: str = "default", overrides: dict | None = None, actions: list | None = None,
             run_until: str = "2025-05-31", **loan) -> dict:
    return {"name": "test", "policy": {"preset": preset, "overrides": overrides or {}},
            "reference_rates": copy.deepcopy(RATES), "loan": dict(BASE_LOAN, **loan), "actions": actions or [],
            "run_until": run_until}


def act(on: str, type_: str, **fields) -> dict:
    return {"on": on, "type": type_, **fields}


def pay(on: str, amount: str, value_date: str | None = None) -> dict:
    return act(on, "payment", payment_id=f"p-{on}-{amount}", amount=amount, value_date=value_date or on)


def fell_due(out: dict) -> dict[int, str]:
    """Instalment number -> effective date of its (last) InstalmentFellDue."""
    return {e["instalment"]: e["effective_date"] for e in of(out, "InstalmentFellDue")}


def rejections(out: dict) -> list[tuple[int, str]]:
    return [(r["action_index"], r["code"]) for r in out["rejections"]]


# --- R-FREE-1: free months -------------------------------------------------------------------


def test_r_free_1_moves_instalments_k_on_by_n_months_counted_from_the_first_due_date():
    """R-FREE-1/R-SCHED-1: month-end loan, 2 free months from instalment 2 decided on 1 Feb.
    Instalment n moves to add_months(31 Jan, n - 1 + 2): 2 -> 30 Apr (chaining 28 Feb + 2 would give
    28 Apr), 3 -> 31 May, 4 -> 30 Jun, 5 -> 31 Jul, 6 -> 31 Aug. Instalment 1 keeps 31 Jan."""
    out = simulate(scenario(**MONTH_END, actions=[pay("2025-01-31", "100.00"),
                                                  act("2025-02-01", "free_months", months=2, from_instalment=2,
                                                      **DECIDER)], run_until="2025-05-31"))
    deferred = only(out, "RepaymentDeferred")
    assert deferred["kind"] == "free_months"
    assert deferred["moved"] == [{"instalment": 2, "due_date": "2025-04-30"},
                                 {"instalment": 3, "due_date": "2025-05-31"},
                                 {"instalment": 4, "due_date": "2025-06-30"},
                                 {"instalment": 5, "due_date": "2025-07-31"},
                                 {"instalment": 6, "due_date": "2025-08-31"}]
    assert fell_due(out) == {1: "2025-01-31", 2: "2025-04-30", 3: "2025-05-31"}
    # Maturity grows by two months: 30 Jun -> 31 Aug.
    assert out["balance"]["maturity_date"] == "2025-08-31"


def test_r_free_1_earlier_instalments_keep_their_dates():
    """R-FREE-1: 1 free month from instalment 3 of the base loan: 1 and 2 stay on 10 Feb and 10 Mar,
    3.. move to 10 May .. 10 Aug; nothing falls due on 10 Apr and the term grows by one month."""
    out = simulate(scenario(actions=[act("2025-01-20", "free_months", months=1, from_instalment=3, **DECIDER)],
                            run_until="2025-05-31"))
    assert only(out, "RepaymentDeferred")["moved"] == [
        {"instalment": n, "due_date": d} for n, d in
        [(3, "2025-05-10"), (4, "2025-06-10"), (5, "2025-07-10"), (6, "2025-08-10")]]
    assert fell_due(out) == {1: "2025-02-10", 2: "2025-03-10", 3: "2025-05-10"}
    assert out["balance"]["maturity_date"] == "2025-08-10"


def test_r_free_1_a_moved_instalment_is_not_late_on_its_old_date():
    """R-FREE-1 with R-LATE-1: after 1 free month from instalment 1 (decided before 10 Feb), nothing is
    late in February and the loan is current on 28 Feb with next due date 10 Mar."""
    out = simulate(scenario(actions=[act("2025-01-20", "free_months", months=1, from_instalment=1, **DECIDER)],
                            run_until="2025-02-28"))
    assert of(out, "InstalmentFellDue") == [] and of(out, "InstalmentLate") == []
    assert (out["balance"]["status"], out["balance"]["next_due_date"]) == ("current", "2025-03-10")


# Acceleration notice fixture: 1000.00 in 100.00 instalments; instalment 1 (deadline 10 Feb) is a
# month late from 11 Mar; the notice of 11 Mar lists [1] (default policy: 28 days, cure deadline 8 Apr).
NOTICE_LOAN = {"principal": "1000.00"}


def test_r_free_1_refused_for_instalments_in_a_pending_notice():
    """R-FREE-1: moving instalments 1.. while the notice lists instalment 1 is refused notice_pending."""
    out = simulate(scenario(**NOTICE_LOAN, actions=[act("2025-03-11", "acceleration_notice", **DECIDER),
                                                    act("2025-03-12", "free_months", months=2, from_instalment=1,
                                                        **DECIDER)], run_until="2025-03-12"))
    assert rejections(out) == [(1, "notice_pending")]
    assert of(out, "RepaymentDeferred") == []


def test_r_free_1_instalments_not_in_the_notice_can_be_moved():
    """R-FREE-1: the notice lists only [1]; free months from instalment 2 are allowed."""
    out = simulate(scenario(**NOTICE_LOAN, actions=[act("2025-03-11", "acceleration_notice", **DECIDER),
                                                    act("2025-03-12", "free_months", months=1, from_instalment=2,
                                                        **DECIDER)], run_until="2025-03-12"))
    assert rejections(out) == []
    assert [m["instalment"] for m in only(out, "RepaymentDeferred")["moved"]] == list(range(2, 11))


# --- R-EXT-1: due date extension ----------------------------------------------------------


def test_r_ext_1_exactly_one_month_is_allowed_and_others_do_not_move():
    """R-EXT-1: instalment 2 (10 Mar) moved to 10 Apr (exactly max_due_date_extension_months = 1).
    It falls due on 10 Apr together with instalment 3; no other instalment moves, maturity unchanged."""
    out = simulate(scenario(actions=[act("2025-03-01", "due_date_extension", instalment=2,
                                         new_due_date="2025-04-10", **DECIDER)], run_until="2025-05-31"))
    assert rejections(out) == []
    deferred = only(out, "RepaymentDeferred")
    assert (deferred["kind"], deferred["moved"]) == ("due_date_extension",
                                                     [{"instalment": 2, "due_date": "2025-04-10"}])
    assert fell_due(out) == {1: "2025-02-10", 2: "2025-04-10", 3: "2025-04-10", 4: "2025-05-10"}
    assert out["balance"]["maturity_date"] == "2025-07-10"


def test_r_ext_1_paid_on_the_new_due_date_is_not_late():
    """R-EXT-1 with R-LATE-1: instalment 2 extended to 10 Apr and paid on 10 Apr is never late."""
    out = simulate(scenario(actions=[pay("2025-02-10", "100.00"),
                                     act("2025-03-01", "due_date_extension", instalment=2,
                                         new_due_date="2025-04-10", **DECIDER),
                                     pay("2025-04-10", "200.00")], run_until="2025-04-30"))
    assert of(out, "InstalmentLate") == []
    assert out["balance"]["status"] == "current"


@pytest.mark.parametrize("loan, instalment, new_due_date", [
    ({}, 2, "2025-04-11"),           # 10 Mar + 1 month = 10 Apr; one day more
    (MONTH_END, 2, "2025-03-29"),    # 28 Feb + 1 month = 28 Mar (R-DATE-2); one day more
    (MONTH_END, 1, "2025-03-01"),    # 31 Jan + 1 month = 28 Feb (clamped); one day more
])
def test_r_ext_1_one_day_more_than_the_maximum_is_refused(loan, instalment, new_due_date):
    """R-EXT-1: beyond max_due_date_extension_months the extension is refused invalid_request."""
    out = simulate(scenario(**loan, actions=[act("2025-01-20", "due_date_extension", instalment=instalment,
                                                 new_due_date=new_due_date, **DECIDER)], run_until="2025-01-20"))
    assert rejections(out) == [(0, "invalid_request")]
    assert of(out, "RepaymentDeferred") == []


@pytest.mark.parametrize("instalment, new_due_date", [(2, "2025-03-28"), (1, "2025-02-28")])
def test_r_ext_1_month_end_maximum_is_allowed(instalment, new_due_date):
    """R-EXT-1/R-DATE-2: on the month-end loan the clamped one-month maximum itself is allowed."""
    out = simulate(scenario(**MONTH_END, actions=[act("2025-01-20", "due_date_extension", instalment=instalment,
                                                      new_due_date=new_due_date, **DECIDER)],
                            run_until="2025-01-20"))
    assert rejections(out) == []
    assert only(out, "RepaymentDeferred")["moved"] == [{"instalment": instalment, "due_date": new_due_date}]


def test_r_ext_1_an_extension_never_moves_a_due_date_earlier():
    """R-EXT-1: the due date 'moves later'. Instalment 2 is extended 10 Mar -> 10 Apr on 1 Mar; a second
    'extension' on 2 Mar to 20 Mar would bring it forward by three weeks (making it overdue from 21 Mar),
    so it must be refused (invalid_request) and the due date must stay 10 Apr."""
    out = simulate(scenario(actions=[act("2025-03-01", "due_date_extension", instalment=2,
                                         new_due_date="2025-04-10", **DECIDER),
                                     act("2025-03-02", "due_date_extension", instalment=2,
                                         new_due_date="2025-03-20", **DECIDER)], run_until="2025-03-25"))
    assert rejections(out) == [(1, "invalid_request")]
    assert out["balance"]["overdue_amount"] == "100.00"  # instalment 1 only


def test_r_ext_1_larger_policy_maximum():
    """R-EXT-1: with max_due_date_extension_months 2, 10 Mar -> 10 May is allowed."""
    out = simulate(scenario(overrides={"max_due_date_extension_months": 2},
                            actions=[act("2025-01-20", "due_date_extension", instalment=2,
                                         new_due_date="2025-05-10", **DECIDER)], run_until="2025-01-20"))
    assert rejections(out) == []


# --- R-TERMS-1: new instalment amount ------------------------------------------------------


def test_r_terms_1_remaining_principal_replanned_last_instalment_the_remainder():
    """R-TERMS-1/R-SCHED-2: 1000.00 in 100.00 instalments, 1-2 paid; from instalment 3 on, 300.00:
    the remaining 800.00 becomes 300.00 (10 Apr), 300.00 (10 May), 200.00 (10 Jun)."""
    out = simulate(scenario(principal="1000.00",
                            actions=[pay("2025-02-10", "100.00"), pay("2025-03-10", "100.00"),
                                     act("2025-03-15", "terms_change", from_instalment=3,
                                         instalment_amount="300.00", **DECIDER)], run_until="2025-06-30"))
    changed = only(out, "RepaymentTermsChanged")
    assert (changed["from_instalment"], changed["instalment_amount"]) == (3, "300.00")
    assert changed["instalments"] == [{"instalment": 3, "due_date": "2025-04-10", "amount": "300.00"},
                                      {"instalment": 4, "due_date": "2025-05-10", "amount": "300.00"},
                                      {"instalment": 5, "due_date": "2025-06-10", "amount": "200.00"}]
    assert [(e["instalment"], e["amount"]) for e in of(out, "InstalmentFellDue")] == \
        [(1, "100.00"), (2, "100.00"), (3, "300.00"), (4, "300.00"), (5, "200.00")]
    balance = out["balance"]
    assert (balance["maturity_date"], balance["principal_outstanding"]) == ("2025-06-10", "800.00")


def test_r_terms_1_smaller_amount_lengthens_the_plan_and_an_exact_split_has_no_zero_instalment():
    """R-TERMS-1: the base loan (600.00) from instalment 2 at 250.00: 500.00 -> 250.00, 250.00 (two
    instalments, no 0.00 remainder), maturity 10 Apr; at 40.00: 12 x 40.00 + 20.00 -> 13 instalments
    2..14, the last 20.00 due 10 Mar 2026."""
    out = simulate(scenario(actions=[act("2025-01-20", "terms_change", from_instalment=2,
                                         instalment_amount="250.00", **DECIDER)], run_until="2025-01-20"))
    assert [(r["instalment"], r["amount"]) for r in only(out, "RepaymentTermsChanged")["instalments"]] == \
        [(2, "250.00"), (3, "250.00")]
    assert out["balance"]["maturity_date"] == "2025-04-10"

    out = simulate(scenario(actions=[act("2025-01-20", "terms_change", from_instalment=2,
                                         instalment_amount="40.00", **DECIDER)], run_until="2025-01-20"))
    rows = only(out, "RepaymentTermsChanged")["instalments"]
    assert [r["instalment"] for r in rows] == list(range(2, 15))
    assert [r["amount"] for r in rows] == ["40.00"] * 12 + ["20.00"]
    assert rows[-1]["due_date"] == "2026-03-10"
    assert out["balance"]["maturity_date"] == "2026-03-10"


# --- R-WAIVE-1: payment exemption ----------------------------------------------------------


def test_r_waive_1_partial_takes_penalty_interest_first_then_the_last_instalment():
    """R-WAIVE-1 (§7b(2)): nothing paid; on 12 Mar penalty interest is 100.00 x 10.5 % x 30/365 (inst. 1)
    + 100.00 x 10.5 % x 2/365 (inst. 2) = 0.9205 -> 0.92. A partial exemption of 10.00 takes 0.92 of
    penalty interest and 9.08 of principal from instalment 6: overdue (instalments 1-2) stays 200.00."""
    out = simulate(scenario(actions=[act("2025-03-12", "waiver", kind="partial", amount="10.00", **DECIDER)],
                            run_until="2025-03-12"))
    waived = only(out, "PaymentWaived")
    assert (waived["kind"], waived["amount"]) == ("partial", "10.00")
    balance = out["balance"]
    assert (balance["penalty_interest_outstanding"], balance["principal_outstanding"], balance["overdue_amount"],
            balance["status"]) == ("0.00", "590.92", "200.00", "late")


def test_r_waive_1_partial_principal_from_the_last_instalment_backwards():
    """R-WAIVE-1: without penalty interest, 150.00 waived on 20 Jan clears instalment 6 and half of 5;
    the loan stays open (current) and the maturity date is still 10 Jul (instalment 5 is owed)."""
    out = simulate(scenario(overrides={"penalty_interest": None},
                            actions=[act("2025-01-20", "waiver", kind="partial", amount="150.00", **DECIDER),
                                     pay("2025-02-10", "100.00")], run_until="2025-02-20"))
    balance = out["balance"]
    assert (balance["principal_outstanding"], balance["status"], balance["next_due_date"]) == \
        ("350.00", "current", "2025-03-10")


def test_r_waive_1_partial_more_than_owed_is_refused():
    """R-WAIVE-1: a partial exemption above everything owed (600.00) is refused invalid_request."""
    out = simulate(scenario(actions=[act("2025-01-20", "waiver", kind="partial", amount="600.01", **DECIDER)],
                            run_until="2025-01-20"))
    assert rejections(out) == [(0, "invalid_request")]


def test_r_waive_1_full_waives_everything_owed_and_closes_the_loan():
    """R-WAIVE-1 (§7b(3)): on 12 Mar 600.00 principal + 0.92 penalty interest is owed; the full exemption
    records 600.92, the loan is closed (status waived) and the scheduler records nothing more."""
    out = simulate(scenario(actions=[act("2025-03-12", "waiver", kind="full", **DECIDER),
                                     act("2025-03-20", "waiver", kind="partial", amount="1.00", **DECIDER)],
                            run_until="2025-05-31"))
    waived = of(out, "PaymentWaived")
    assert [(w["kind"], w["amount"]) for w in waived] == [("full", "600.92")]
    assert rejections(out) == [(1, "loan_closed")]
    assert out["events"][-1]["type"] == "PaymentWaived"  # no InstalmentFellDue on 10 Apr, 10 May
    balance = out["balance"]
    assert (balance["status"], balance["principal_outstanding"], balance["penalty_interest_outstanding"]) == \
        ("waived", "0.00", "0.00")


# --- Overpayment refund (R-PAY-3 step 4) ---------------------------------------------------


def test_overpayment_refunded_and_refusal_of_more_than_the_overpayment():
    """R-PAY-3: 700.00 paid on a 600.00 loan leaves an overpayment of 100.00. A refund of 100.01 is
    refused invalid_request; 60.00 is refunded, then 40.01 is refused and 40.00 refunded."""
    out = simulate(scenario(actions=[pay("2025-01-20", "700.00"),
                                     act("2025-01-21", "refund", amount="100.01", **DECIDER),
                                     act("2025-01-21", "refund", amount="60.00", **DECIDER),
                                     act("2025-01-22", "refund", amount="40.01", **DECIDER),
                                     act("2025-01-22", "refund", amount="40.00", **DECIDER)],
                            run_until="2025-01-31"))
    assert rejections(out) == [(1, "invalid_request"), (3, "invalid_request")]
    assert [e["amount"] for e in of(out, "OverpaymentRefunded")] == ["60.00", "40.00"]
    assert (out["balance"]["overpayment"], out["balance"]["status"]) == ("0.00", "repaid")


def test_refund_refused_without_an_overpayment():
    """R-PAY-3: nothing was overpaid, so any refund is refused."""
    out = simulate(scenario(actions=[pay("2025-01-20", "600.00"),
                                     act("2025-01-21", "refund", amount="0.01", **DECIDER)], run_until="2025-01-21"))
    assert rejections(out) == [(1, "invalid_request")]
    assert of(out, "OverpaymentRefunded") == []


# --- Transfer to collection and write-off ------------------------------------------------

# 1000.00 loan, notice 11 Mar (28 days): cure deadline 8 Apr, takes effect Wed 9 Apr, LoanAccelerated
# recorded on Fri 11 Apr (2 banking days).
ACCELERATING = [act("2025-03-11", "acceleration_notice", **DECIDER)]


def test_transfer_to_collection_refused_before_acceleration():
    """R-ACC-8: on 20 Mar the notice is only pending: transfer_to_collection is not_eligible."""
    out = simulate(scenario(**NOTICE_LOAN, actions=ACCELERATING + [act("2025-03-20", "transfer_to_collection",
                                                                       **DECIDER)], run_until="2025-03-20"))
    assert rejections(out) == [(1, "not_eligible")]
    assert of(out, "LoanTransferredToCollection") == []


def test_transfer_to_collection_after_acceleration():
    """R-ACC-8: after LoanAccelerated (recorded 11 Apr) the transfer on 14 Apr is recorded."""
    out = simulate(scenario(**NOTICE_LOAN, actions=ACCELERATING + [act("2025-04-14", "transfer_to_collection",
                                                                       **DECIDER)], run_until="2025-04-14"))
    assert rejections(out) == []
    transfer = only(out, "LoanTransferredToCollection")
    assert transfer["version"] > only(out, "LoanAccelerated")["version"]
    assert transfer["effective_date"] == "2025-04-14"


def test_write_off_closes_the_loan_and_later_decisions_are_refused():
    """Write-off: status written_off; later decisions (waiver, free months, terms change, extension,
    acceleration notice, transfer) are refused loan_closed; the scheduler records nothing more."""
    later = [act("2025-04-15", "waiver", kind="partial", amount="1.00", **DECIDER),
             act("2025-04-15", "free_months", months=1, from_instalment=5, **DECIDER),
             act("2025-04-15", "terms_change", from_instalment=5, instalment_amount="50.00", **DECIDER),
             act("2025-04-15", "due_date_extension", instalment=5, new_due_date="2025-07-10", **DECIDER),
             act("2025-04-15", "acceleration_notice", **DECIDER),
             act("2025-04-15", "transfer_to_collection", **DECIDER)]
    out = simulate(scenario(**NOTICE_LOAN, actions=ACCELERATING + [act("2025-04-14", "write_off", **DECIDER)] + later,
                            run_until="2025-06-30"))
    assert rejections(out) == [(i, "loan_closed") for i in range(2, 2 + len(later))]
    written = only(out, "LoanWrittenOff")
    assert written["effective_date"] == "2025-04-14"
    assert out["events"][-1]["type"] == "LoanWrittenOff"  # nothing falls due on 10 May, 10 Jun
    assert out["balance"]["status"] == "written_off"


def test_write_off_of_a_loan_that_was_never_accelerated():
    """Write-off does not need an acceleration: a current loan can be written off and is closed."""
    out = simulate(scenario(actions=[act("2025-01-20", "write_off", **DECIDER),
                                     act("2025-01-21", "waiver", kind="full", **DECIDER)], run_until="2025-03-31"))
    assert rejections(out) == [(1, "loan_closed")]
    assert out["balance"]["status"] == "written_off"
    assert of(out, "InstalmentFellDue") == []


# --- Section 4: every decision event records decided_by, reasons and legal_basis ----------

DECISIONS = [
    ("RepaymentDeferred", {}, [act("2025-01-20", "free_months", months=1, from_instalment=1, **DECIDER)], "7a"),
    ("RepaymentDeferred", {}, [act("2025-01-20", "due_date_extension", instalment=1, new_due_date="2025-03-10",
                                   **DECIDER)], None),
    ("RepaymentTermsChanged", {}, [act("2025-01-20", "terms_change", from_instalment=1, instalment_amount="50.00",
                                       **DECIDER)], None),
    ("PaymentWaived", {}, [act("2025-01-20", "waiver", kind="partial", amount="10.00", **DECIDER)], "7b"),
    ("PaymentWaived", {}, [act("2025-01-20", "waiver", kind="full", **DECIDER)], "7b"),
    ("HardshipRecorded", {}, [act("2025-01-20", "hardship", cause="illness", **DECIDER)], "8"),
    ("NoticeSent", NOTICE_LOAN, ACCELERATING, "8"),
    ("LoanTransferredToCollection", NOTICE_LOAN,
     ACCELERATING + [act("2025-04-14", "transfer_to_collection", **DECIDER)], None),
    ("LoanWrittenOff", {}, [act("2025-01-20", "write_off", **DECIDER)], None),
    ("OverpaymentRefunded", {}, [pay("2025-01-20", "700.00"), act("2025-01-21", "refund", amount="100.00",
                                                                  **DECIDER)], None),
]


@pytest.mark.parametrize("event_type, loan, actions, section", DECISIONS,
                         ids=[f"{d[0]}-{i}" for i, d in enumerate(DECISIONS)])
def test_section_4_decision_events_record_decided_by_reasons_and_legal_basis(event_type, loan, actions, section):
    """Rule book section 4: every decision event records decided_by, reasons and a legal_basis
    (defaulting to the Act's section, e.g. Act 1133/2002 §7a for free months, §7b for exemptions)."""
    out = simulate(scenario(**loan, actions=actions, run_until="2025-04-14"))
    assert out["rejections"] == []
    event = [e for e in of(out, event_type) if e.get("kind") != "reminder"][-1]
    assert (event["decided_by"], event["reasons"]) == ("cw-7", "caseworker assessment")
    assert isinstance(event["legal_basis"], str) and event["legal_basis"].strip()
    if section is not None:
        assert "1133/2002" in event["legal_basis"] and f"§{section}" in event["legal_basis"]


def test_section_4_a_given_legal_basis_is_recorded():
    """Rule book section 4: a caseworker's own legal_basis is kept as given."""
    out = simulate(scenario(actions=[act("2025-01-20", "free_months", months=1, from_instalment=1,
                                         legal_basis="Act 1133/2002 §7a; municipal guideline 4.2", **DECIDER)],
                            run_until="2025-01-20"))
    assert only(out, "RepaymentDeferred")["legal_basis"] == "Act 1133/2002 §7a; municipal guideline 4.2"
