"""A client's request "who processed my data" (Act 703/2023; R-DATA-5), answered for one borrower
and a period from the access log: who (the user or system), in which role, when, what (the
route and what it does) and concerning which loan. Refused requests processed nothing and are
left out. `GET /v1/borrowers/{id}/access-log` and `luotto who-processed` give the same answer."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from api.access import BY_KEY
from application.erasure import loans_of
from domain.errors import invalid

HELSINKI = ZoneInfo("Europe/Helsinki")
BASIS = ("Laki sosiaalisesta luototuksesta 1133/2002 (social credit: granting and servicing the loan); "
         "laki sosiaali- ja terveydenhuollon asiakastietojen käsittelystä 703/2023 (client data)")
EARLIEST = dt.date(2000, 1, 1)


def _instant(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time(), tzinfo=HELSINKI).astimezone(dt.timezone.utc).isoformat()


def who_processed(container, tenant: str, borrower_id: str, since: dt.date | None, until: dt.date | None) -> dict:
    # The log is stamped with the wall clock (adapters.access_log), so "today" is the wall clock's too.
    start, end = since or EARLIEST, until or dt.datetime.now(HELSINKI).date()
    if end < start:
        raise invalid(f"to {end} is before from {start}", rule="R-DATA-5", field="to")
    loans = loans_of(container.service, tenant, borrower_id)
    rows = container.access_log.processed(tenant, borrower_id, loans, _instant(start),
                                          _instant(end + dt.timedelta(days=1)))
    items = []
    for row in rows:
        if row["status"] >= 400:
            continue
        route = BY_KEY.get((row["method"], row["endpoint"]))
        items.append({"at": row["at"], "who": row["subject"], "via": row["via"],
                      "roles": sorted(filter(None, (row.get("roles") or "").split(","))),
                      "action": f"{row['method']} {row['endpoint']}", "purpose": route.what if route else None,
                      "loan_id": row["loan_id"], "request_id": row["request_id"]})
    return {"borrower_id": borrower_id, "from": start.isoformat(), "to": end.isoformat(), "loans": loans,
            "legal_basis": BASIS, "items": items}
