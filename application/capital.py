"""Recording an organiser's lending capital by source (R-CAP-1): own funds, or a state grant for
lending capital (Act §10a) with its decision number. What each source lent out, got back and lost
is in the statistics report (projections/statistics_report.py, `capital_sources`)."""
from __future__ import annotations

import datetime as dt

from eventsourcing.application import AggregateNotFoundError

from domain.capital import LendingCapital, capital_id
from domain.money import Cents


def record_capital(service, tenant: str, *, source: str, amount: Cents, on: dt.date,
                   decision_number: str | None, by: str):
    service.policy(tenant)  # not_found for an organiser that is not configured

    def change() -> list:
        try:
            capital = service.repository.get(capital_id(tenant))
        except AggregateNotFoundError:
            capital = LendingCapital.open(tenant)
        capital.record(source=source, amount=amount, on=on, decision_number=decision_number, by=by,
                       recorded_at=service.clock())
        return [capital]
    return service.write(change)
