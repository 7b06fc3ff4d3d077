"""The portfolio chart figures (projections/console_figures.py) on both stores: capital in use and
grants by month in one pass, overdue amounts by age summed in the database (issue 21); the ages
agree with the API's portfolio (ReadModel.portfolio)."""
from __future__ import annotations

import datetime as dt

from domain.money import format_cents
from projections import console_figures as figures
from tests.integration.helpers import TENANT, Clock, grant, noon, stack  # noqa: F401 - `stack` is a fixture

D = dt.date.fromisoformat


def test_capital_grants_by_month_and_delinquency_by_age(stack):
    clock = Clock(noon(D("2025-05-20")))
    c = stack.container(clock)
    grant(c.service, "L1", "B1", "1200.00", granted_on=D("2025-01-15"), first_due_date=D("2025-02-15"),
          instalment_amount="100.00")
    grant(c.service, "L2", "B2", "600.00", granted_on=D("2025-03-01"), first_due_date=D("2025-03-31"),
          instalment_amount="50.00")
    grant(c.service, "L3", "B3", "500.00", granted_on=D("2025-03-10"), first_due_date=D("2025-06-10"),
          instalment_amount="100.00")
    c.read_model.catch_up()
    store = c.read_model.store
    in_use, months = figures.capital_and_grants(store, TENANT, D("2025-01-01"), months=4)
    assert in_use == 120000 + 60000 + 50000  # nothing paid: every cent of the three loans
    assert months == [("2025-01", 1, 120000), ("2025-02", 0, 0), ("2025-03", 2, 110000), ("2025-04", 0, 0)]
    ages = figures.overdue_by_age(store, TENANT, D("2025-05-20"))
    api = c.read_model.portfolio(TENANT, D("2025-05-20"))["overdue_by_age_days"]
    assert {k: format_cents(v) for k, v in ages.items()} == api
    assert sum(ages.values()) > 0  # L1 and L2 have instalments past their deadlines on 2025-05-20
    assert figures.overdue_by_age(store, "nobody", D("2025-05-20")) == dict.fromkeys(figures.AGES, 0)
    # GET /v1/portfolio's figures, summed per status by the database; counted by hand (interest-free,
    # nothing paid):
    portfolio = c.read_model.portfolio(TENANT, D("2025-05-20"))
    assert portfolio["outstanding_principal"] == "2300.00"
    # as of 2025-05-20: L1 (instalments from 15 Feb) and L2 (from 31 Mar) late, L3 (from 10 Jun) current
    assert portfolio["by_status"] == {"current": {"count": 1, "principal_outstanding": "500.00"},
                                      "late": {"count": 2, "principal_outstanding": "1800.00"}}
    assert (portfolio["waived_total"], portfolio["written_off_total"], portfolio["interest_outstanding"],
            portfolio["interest_received"]) == ("0.00", "0.00", "0.00", "0.00")
    assert c.read_model.portfolio("nobody", D("2025-05-20"))["by_status"] == {}

