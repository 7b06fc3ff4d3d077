"""R-APP-6 in the grant register (domain.waiting_list): strict order of decision, offers that reserve
capital until signed or expired, and direct grants that may not pass the waiting list."""
from __future__ import annotations

import datetime as dt

import pytest

from domain.errors import DomainError
from domain.policy import make_policy
from domain.register import Exposure, GrantRegister

ON = dt.date(2026, 3, 2)
POLICY = make_policy("etela-karjala", {"capital_limit": "10000.00", "annual_grant_limit": "20000.00"})


def register_with(outstanding_loans: dict[str, int]) -> GrantRegister:
    register = GrantRegister.open("t", POLICY)
    for n, (loan_id, principal) in enumerate(outstanding_loans.items()):
        register.register_grant(loan_id=loan_id, borrower_id=f"E{n}", principal=principal, granted_on=ON,
                                exposure=Exposure())
    return register


def test_r_app_6_a_later_smaller_grant_waits_behind_the_first_and_positions_show_the_order():
    register = register_with({"L1": 900000})  # 9,000.00 of 10,000.00
    register.enqueue_grant(application_id="A", principal=200000, decided_on=ON, borrowers=["B1"])
    register.enqueue_grant(application_id="B", principal=50000, decided_on=ON, borrowers=["B2"])
    assert register.offer_waiting(on=ON, outstanding=900000, valid_days=30) == []  # B fits, but A is first
    assert [(p["position"], p["application_id"]) for p in register.positions()] == [(1, "A"), (2, "B")]
    # Repayments bring the outstanding to 8,000.00: A fits exactly (10,000.00); B behind it does not.
    assert register.offer_waiting(on=ON, outstanding=800000, valid_days=30) == [("offered", "A")]
    assert register.offers["A"]["valid_until"] == dt.date(2026, 4, 1)
    assert register.reserved() == 200000 and register.position_of("B") == 1


def test_r_app_6_an_offer_reserves_until_it_expires_then_the_next_is_offered():
    register = register_with({"L1": 800000})
    register.enqueue_grant(application_id="A", principal=200000, decided_on=ON, borrowers=["B1"])
    register.enqueue_grant(application_id="B", principal=150000, decided_on=ON, borrowers=["B2"])
    assert register.offer_waiting(on=ON, outstanding=800000, valid_days=14) == [("offered", "A")]
    # Valid up to and including 16 March; the run of the 16th changes nothing, the 17th expires it.
    assert register.offer_waiting(on=dt.date(2026, 3, 16), outstanding=800000, valid_days=14) == []
    assert register.offer_waiting(on=dt.date(2026, 3, 17), outstanding=800000, valid_days=14) == [
        ("expired", "A"), ("offered", "B")]
    with pytest.raises(DomainError) as refused:
        register.take_offer("A", dt.date(2026, 3, 17))
    assert (refused.value.code, refused.value.rule) == ("not_eligible", "R-APP-6")
    assert register.take_offer("B", dt.date(2026, 3, 31)) == 150000  # the last day of B's offer
    assert register.offers == {}


def test_r_app_6_a_signed_offer_is_not_checked_again_but_a_direct_grant_leaves_room_for_offers_and_waiting():
    register = register_with({"L1": 800000})
    register.enqueue_grant(application_id="A", principal=150000, decided_on=ON, borrowers=["B1"])
    register.enqueue_grant(application_id="B", principal=100000, decided_on=ON, borrowers=["B2"])
    register.offer_waiting(on=ON, outstanding=800000, valid_days=30)
    with pytest.raises(DomainError) as refused:  # 8,000 + 1,500 reserved + 1,000 waiting + 100 > 10,000
        # nothing repaid: L1 counts at its full principal (domain.register.Exposure)
        register.register_grant(loan_id="D", borrower_id="B9", principal=10000, granted_on=ON,
                                exposure=Exposure.of(register, [], {}, 0))
    assert refused.value.message == ("R-PORT-1: capital_limit 10000.00 would be exceeded: outstanding 8000.00 + reserved "
                                     "offers 1500.00 + waiting grants 1000.00 + requested 100.00")
    register.take_offer("A", ON)
    # The offer's reservation becomes the loan; a payment reversal since then cannot take it back.
    assert register.register_grant(loan_id="A", borrower_id="B1", principal=150000, granted_on=ON,
                                   exposure=Exposure(900000), offer="A") == 2


def test_r_app_6_the_annual_grant_limit_counts_reserved_offers_of_the_year():
    policy = make_policy("kittila")  # annual 30,000.00, capital 120,000.00
    register = GrantRegister.open("t", policy)
    register.register_grant(loan_id="L1", borrower_id="E1", principal=2600000, granted_on=ON, exposure=Exposure())
    register.enqueue_grant(application_id="A", principal=300000, decided_on=ON, borrowers=["B1"])
    register.enqueue_grant(application_id="B", principal=200000, decided_on=ON, borrowers=["B2"])
    assert register.offer_waiting(on=ON, outstanding=2600000, valid_days=30) == [("offered", "A")]
    assert register.capital_shortfall(200000, 2026, 2600000, waiting=False) == (
        "annual_grant_limit 30000.00 would be exceeded in 2026: granted, reserved and waiting 29000.00 + requested "
        "2000.00")
    # In the next calendar year the annual room is whole again.
    assert register.offer_waiting(on=dt.date(2027, 1, 4), outstanding=2600000, valid_days=30) == [
        ("expired", "A"), ("offered", "B")]


def test_r_app_6_a_decision_is_queued_once():
    register = register_with({})
    register.enqueue_grant(application_id="A", principal=100000, decided_on=ON, borrowers=["B1"])
    with pytest.raises(DomainError):
        register.enqueue_grant(application_id="A", principal=100000, decided_on=ON, borrowers=["B1"])


def test_r_app_6_a_contract_drawn_for_a_late_offer_moves_the_first_due_date_past_the_offer():
    from domain.waiting_list import contract_first_due_date

    # The decision's date stays when it is after the offer's last day.
    assert contract_first_due_date(dt.date(2026, 4, 10), dt.date(2026, 4, 1)) == dt.date(2026, 4, 10)
    # Otherwise the same day of the first later month after it, counted from the decision's date.
    assert contract_first_due_date(dt.date(2026, 4, 10), dt.date(2026, 4, 10)) == dt.date(2026, 5, 10)
    assert contract_first_due_date(dt.date(2026, 1, 31), dt.date(2026, 3, 5)) == dt.date(2026, 3, 31)
    assert contract_first_due_date(dt.date(2026, 1, 31), dt.date(2026, 2, 27)) == dt.date(2026, 2, 28)


def test_r_app_6_a_withdrawn_grant_leaves_the_list_or_frees_its_reservation():
    register = register_with({"L1": 800000})
    register.enqueue_grant(application_id="A", principal=200000, decided_on=ON, borrowers=["B1"])
    register.enqueue_grant(application_id="B", principal=150000, decided_on=ON, borrowers=["B2"])
    register.enqueue_grant(application_id="C", principal=100000, decided_on=ON, borrowers=["B3"])
    register.offer_waiting(on=ON, outstanding=800000, valid_days=30)
    assert register.withdraw_grant("B", ON) == "waiting" and [w["application_id"] for w in register.waiting] == ["C"]
    assert register.withdraw_grant("A", ON) == "offered" and register.reserved() == 0
    assert register.offer_waiting(on=ON, outstanding=800000, valid_days=30) == [("offered", "C")]
    with pytest.raises(DomainError):
        register.withdraw_grant("A", ON)
