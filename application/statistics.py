"""The statistics use case (R-STAT-1): bring the read model up to date (a bounded number of batches,
so a request never replays a whole store) and report a period."""
from __future__ import annotations

import datetime as dt

from domain.errors import invalid
from projections.journal import ACCOUNTS, journal
from projections.statistics_report import report, rows_for_export

EXPORT_HEADER = ["section", "item", "count_or_value", "euros"]
CATCH_UP_BATCHES = 20  # at most 10,000 notifications per request; the background follower does the rest


def statistics(container, tenant: str | None, start: dt.date, end: dt.date) -> tuple[dict, list]:
    if end < start:
        raise invalid(f"to {end} is before from {start}", rule="R-STAT-1", field="to")
    model = container.statistics
    model.catch_up(max_batches=CATCH_UP_BATCHES)
    data = report(model.store, tenant, start, end)
    data["position"], data["behind"] = model.position(), model.behind()
    return data, rows_for_export(data)


def capital_report(container, tenant: str, start: dt.date, end: dt.date) -> tuple[dict, int]:
    """R-CAP-2 for [start, end] (the report's `capital_sources`, without its pass over the loans), and
    how many events the statistics model is behind."""
    from projections.statistics_report import capital_sources

    if end < start:
        raise invalid(f"to {end} is before from {start}", rule="R-STAT-1", field="to")
    model = container.statistics
    model.catch_up(max_batches=CATCH_UP_BATCHES)
    return capital_sources(model.store, tenant, start, end), model.behind()


JOURNAL_HEADER = ["date", "value_date", "account", "debit", "credit", "what"]


def books_journal(container, tenant: str, start: dt.date, end: dt.date) -> list[list[str]]:
    """R-BOOK-1: the journal for [start, end], accounts from LUOTTO_TENANTS `organiser.ledger_accounts`."""
    if end < start:
        raise invalid(f"to {end} is before from {start}", rule="R-BOOK-1", field="to")
    spec = (container.settings.tenants.get(tenant, {}).get("organiser") or {}).get("ledger_accounts") or {}
    container.statistics.catch_up(max_batches=CATCH_UP_BATCHES)
    return journal(container.statistics.store, tenant, start, end, {k: str(spec[k]) for k in ACCOUNTS if k in spec})
