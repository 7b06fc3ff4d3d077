"""R-APP-6 under concurrency on PostgreSQL: decisions (queued or offered), repayments, waiting-list runs
and direct grants race in separate processes (each its own container, pool and read model). Replaying
the stored events in commit order proves that no offer and no direct grant ever broke capital_limit
with what had been committed before it, and that offers went out in strict order of decision."""
from __future__ import annotations

import datetime as dt

import pytest

from domain.money import parse_amount
from domain.register import register_id
from tests.integration.helpers import Clock, grant, pay, run_together
from tests.integration.test_applications import NORM, facts

pytestmark = pytest.mark.postgres
DAY = dt.date(2026, 3, 2)
LIMIT = 600000  # 6,000.00
TENANTS = {"t1": {"preset": "etela-karjala", "overrides": {"living_cost_norm": NORM, "capital_limit": "6000.00"}}}


@pytest.fixture
def pg_stack(pg_schema):
    from tests.integration.helpers import Stack, _postgres_url

    s = Stack("postgres", _postgres_url(pg_schema), pg_schema.schema)
    yield s
    s.close_all()


def test_r_app_6_concurrent_decisions_repayments_offers_and_grants_never_break_capital_limit(pg_stack):
    clock = Clock()
    clock.set_day(DAY)
    main = pg_stack.container(clock, TENANTS)
    for n in (1, 2, 3):  # 3 x 1,500.00 = 4,500.00 outstanding of 6,000.00
        grant(main.service, f"E{n}", f"BE{n}", "1500.00", granted_on=DAY, first_due_date=dt.date(2026, 4, 10),
              instalment_amount="150.00", tenant="t1")
    applications = [f"A{i}" for i in range(8)]  # 8 x 1,000.00 decided at once
    for i, application_id in enumerate(applications):
        main.service.receive_application("t1", application_id, kind="loan", on=DAY, by="cw-1",
                                         facts=facts(applicant=f"B{i}", requested_amount="1000.00"))
        main.service.assess_application("t1", application_id, on=DAY, by="cw-1")
        main.service.give_granting_criteria("t1", application_id, understood=True, on=DAY, by="cw-1")
        main.service.look_into_social_assistance("t1", application_id, finding="no_right", reasons="", on=DAY,
                                                 by="cw-1")
    calls = []
    for application_id in applications:
        calls.append(lambda a=application_id, c=pg_stack.container(clock, TENANTS): c.service.decide_application(
            "t1", a, outcome="granted", decided_by="Pekka", on=DAY, by="dm-1"))
    for n in range(6):  # 6 repayments of 250.00 free 1,500.00 in all
        calls.append(lambda n=n, c=pg_stack.container(clock, TENANTS): pay(
            c.service, f"P{n}", "250.00", DAY, loan_id=f"E{n % 3 + 1}", tenant="t1"))
    for _ in range(4):
        calls.append(lambda c=pg_stack.container(clock, TENANTS): c.service.process_waiting_list("t1", DAY))
    for n in range(2):  # direct grants must leave room for offers and waiting grants
        calls.append(lambda n=n, c=pg_stack.container(clock, TENANTS): grant(
            c.service, f"D{n}", f"BD{n}", "600.00", granted_on=DAY, first_due_date=dt.date(2026, 4, 10),
            instalment_amount="100.00", tenant="t1"))

    outcomes = run_together(calls, timeout=120)
    unexpected = [o.error for o in outcomes if o.error is not None and getattr(o.error, "code", "") != "limit_exceeded"]
    assert not unexpected, unexpected
    main.service.process_waiting_list("t1", DAY)  # everything committed: offer what now fits

    # Replay every stored event in commit order (notification id).
    service = main.service
    notifications = service.recorder.select_notifications(start=1, limit=100_000)
    principal: dict[str, int] = {}
    paid: dict[str, int] = {}
    loan_of = {}
    reserved: dict[str, int] = {}
    waiting_principal: dict[str, int] = {}
    queued_order: list[str] = []
    offered_order: list[str] = []
    checked = 0
    for notification in notifications:
        event = service.mapper.to_domain_event(notification)
        kind = type(event).__name__
        if notification.originator_id == register_id("t1"):
            if kind == "GrantQueued":
                queued_order.append(event.application_id)
            elif kind == "GrantOffered":
                amount = waiting_principal[event.application_id]
                used = sum(max(principal[lid] - paid.get(lid, 0), 0) for lid in principal) + sum(reserved.values())
                assert used + amount <= LIMIT, (event.application_id, used, amount)
                reserved[event.application_id] = amount
                offered_order.append(event.application_id)
                checked += 1
            elif kind == "OfferClosed":
                reserved.pop(event.application_id)
            elif kind == "GrantRegistered":
                amount = parse_amount(event.principal, "principal")
                used = sum(max(principal[lid] - paid.get(lid, 0), 0) for lid in principal) + sum(reserved.values())
                assert used + amount <= LIMIT, (event.loan_id, used, amount)
                principal[event.loan_id] = amount
                checked += 1
        elif kind == "LoanGranted":
            loan_of[notification.originator_id] = event.loan_id
        elif kind == "PaymentReceived":
            lid = loan_of[notification.originator_id]
            paid[lid] = paid.get(lid, 0) + parse_amount(event.amount, "amount")
        elif kind == "ApplicationDecided":
            waiting_principal[event.loan_id] = parse_amount(event.terms["principal"], "principal")
    assert offered_order == queued_order[:len(offered_order)], (offered_order, queued_order)  # strict order
    # 4,500.00 - 1,500.00 repaid = 3,000.00 outstanding: exactly 3 offers of 1,000.00 fit when no direct
    # grant got in first; every direct grant that did takes 600.00 of that room.
    direct = [lid for lid in principal if lid.startswith("D")]
    assert len(offered_order) == (LIMIT - 300000 - 60000 * len(direct)) // 100000, (offered_order, direct)
    register = service.register("t1")
    assert [w["application_id"] for w in register.waiting] == queued_order[len(offered_order):]
    assert checked == len(offered_order) + len(principal)
    for application_id in offered_order:
        assert service.case("t1", application_id).grant_status == "offered"
