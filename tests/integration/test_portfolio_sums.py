"""The portfolio's running totals per organiser (projections/portfolio_sums.py, issue 21) on both
stores: written with each loan's row, they follow payments and a repayment, never mix organisers,
and come out the same after a rebuild from the events. The console's figures read only them."""
from __future__ import annotations

import datetime as dt

from projections import console_figures as figures
from tests.integration.helpers import TENANT, Clock, grant, noon, pay, stack  # noqa: F401 - `stack` is a fixture

D = dt.date.fromisoformat
TODAY = D("2025-05-20")


def _figures(store, tenant: str = TENANT) -> tuple:
    in_use, months = figures.capital_and_grants(store, tenant, D("2025-01-01"), months=4)
    return in_use, months, figures.overdue_by_age(store, tenant, TODAY)


def test_running_totals_follow_each_write_and_a_rebuild(stack):
    c = stack.container(Clock(noon(TODAY)), tenants={TENANT: {"preset": "etela-karjala"}, "t2": {"preset": "default"}})
    grant(c.service, "L1", "B1", "1200.00", granted_on=D("2025-01-15"), first_due_date=D("2025-02-15"),
          instalment_amount="100.00")
    grant(c.service, "L2", "B2", "600.00", granted_on=D("2025-03-01"), first_due_date=D("2025-03-31"),
          instalment_amount="50.00")
    grant(c.service, "L3", "B3", "500.00", granted_on=D("2025-03-10"), first_due_date=D("2025-06-10"),
          instalment_amount="100.00")
    grant(c.service, "L9", "B9", "900.00", granted_on=D("2025-04-03"), first_due_date=D("2025-06-03"),
          instalment_amount="100.00", tenant="t2")
    c.read_model.catch_up()
    store = c.read_model.store
    in_use, months, ages = _figures(store)
    assert in_use == 120000 + 60000 + 50000
    assert months == [("2025-01", 1, 120000), ("2025-02", 0, 0), ("2025-03", 2, 110000), ("2025-04", 0, 0)]
    # Overdue on 2025-05-20: L1's instalments of 15 Feb, Mar, Apr, May (4 x 100.00), L2's of 31 Mar
    # and 30 Apr (2 x 50.00); L3's first is in June.
    assert sum(ages.values()) == 40000 + 10000
    # The other organiser's loan is only its own.
    assert _figures(store, "t2") == (90000, [("2025-01", 0, 0), ("2025-02", 0, 0), ("2025-03", 0, 0),
                                             ("2025-04", 1, 90000)], dict.fromkeys(figures.AGES, 0))

    pay(c.service, "P1", "500.00", TODAY, loan_id="L3")  # L3 repaid in full before its first due date
    c.read_model.catch_up()
    in_use, months, after = _figures(store)
    assert in_use == 120000 + 60000  # the repaid loan no longer uses capital
    assert months == [("2025-01", 1, 120000), ("2025-02", 0, 0), ("2025-03", 2, 110000), ("2025-04", 0, 0)]
    assert after == ages

    before_rebuild = (_figures(store), _figures(store, "t2"))
    c.read_model.rebuild()
    assert (_figures(store), _figures(store, "t2")) == before_rebuild
    with store.transaction() as tx:  # nothing left counting zero
        assert tx.execute("SELECT COUNT(*) AS n FROM luotto_portfolio_sums WHERE n = 0 AND amount = 0").one()["n"] == 0


def test_the_replaced_rows_are_looked_up_by_a_plan_made_each_time_on_postgresql(pg_schema):
    """The lookup of the rows a batch replaces is never a server-side prepared statement: psycopg
    prepares a query after five runs, and PostgreSQL's generic plan, made while luotto_loans was
    small and never analysed, scanned the whole table once per batch (bench d: the read model's
    catch-up over 100,000 grants grew quadratically in PostgreSQL time)."""
    from projections import portfolio_sums
    from tests.integration.helpers import Stack, _postgres_url

    s = Stack("postgres", _postgres_url(pg_schema), pg_schema.schema)
    try:
        c = s.container(Clock(noon(TODAY)), tenants={TENANT: {"preset": "etela-karjala"}})
        c.read_model.catch_up()  # the schema
        with c.read_model.store.transaction() as tx:
            for i in range(8):  # more than psycopg's prepare threshold (5), in one session
                portfolio_sums.record(tx, [{"tenant": TENANT, "loan_id": f"L{i}", "version": 1, "status": "active",
                                            "principal": 10000, "principal_outstanding": 10000, "overdue_amount": 0,
                                            "overdue_items": "[]", "granted_on": "2025-01-15"}])
            prepared = [r["statement"] for r in tx.execute("SELECT statement FROM pg_prepared_statements").all()]
        assert prepared, "psycopg prepared nothing: the check below would prove nothing"
        assert not [p for p in prepared if "FROM luotto_loans" in p], prepared
    finally:
        s.close_all()
