"""The statistics report over the read model of projections.statistics (R-STAT-1 … 3), for one
organiser or, with `tenant=None`, for all of them (the national view: counts and euros only).

A period is [start, end], both days included. Everything "in the period" is counted by its
effective date (the business date of the decision or the event), so a report for last year reads
the same whenever it is asked.
"""
from __future__ import annotations

import datetime as dt
import json

from domain.money import format_cents
from domain.statistics import median, percentile, share, suppressed


def _where(tenant: str | None, column: str = "tenant") -> str:
    return f"{column} = :tenant" if tenant is not None else "1 = 1"


def report(store, tenant: str | None, start: dt.date, end: dt.date) -> dict:
    params = {"tenant": tenant, "start": start.isoformat(), "end": end.isoformat()}
    w = _where(tenant)
    money = "SUM(granted) AS granted, SUM(repaid) AS repaid, SUM(exempted) AS exempted, SUM(lost) AS lost"
    with store.transaction() as tx:
        # Each a range of an index: an organiser's cases, loans, facts and day sums in the period.
        cases = {
            "received": tx.execute(f"SELECT kind, NULL AS outcome, COUNT(*) AS n FROM luotto_stat_cases WHERE {w} "
                                   "AND received_on >= :start AND received_on <= :end GROUP BY kind", params).all(),
            "decided": tx.execute(f"SELECT kind, outcome, COUNT(*) AS n FROM luotto_stat_cases WHERE {w} AND "
                                  "decided_on >= :start AND decided_on <= :end GROUP BY kind, outcome", params).all(),
            "withdrawn": tx.execute(f"SELECT kind, NULL AS outcome, COUNT(*) AS n FROM luotto_stat_cases WHERE {w} "
                                    "AND withdrawn_on >= :start AND withdrawn_on <= :end GROUP BY kind", params).all(),
        }
        grounds = tx.execute(f"SELECT grounds, COUNT(*) AS n FROM luotto_stat_cases WHERE {w} AND decided_on >= :start "
                             "AND decided_on <= :end AND kind = 'loan' AND outcome = 'rejected' GROUP BY grounds",
                             params).all()
        # Processing days as a histogram (a few hundred rows at most), not one row per application.
        days: list[int] = []
        for r in tx.execute(f"SELECT days, COUNT(*) AS n FROM luotto_stat_cases WHERE {w} AND decided_on >= :start "
                            "AND decided_on <= :end AND kind = 'loan' AND days IS NOT NULL GROUP BY days ORDER BY days",
                            params).all():
            days.extend([int(r["days"])] * int(r["n"]))
        cells = tx.execute(f"SELECT purpose_class, age_band, household, SUM(n) AS n, SUM(principal) AS euros FROM "
                           f"luotto_stat_grant_days WHERE {w} AND day >= :start AND day <= :end "
                           "GROUP BY purpose_class, age_band, household", params).all()
        facts = tx.execute(f"SELECT kind, detail, COUNT(*) AS n, SUM(amount) AS euros FROM luotto_stat_facts WHERE "
                           f"{w} AND day >= :start AND day <= :end GROUP BY kind, detail", params).all()
        capital = tx.execute(f"SELECT {money} FROM luotto_stat_days WHERE {w} AND day <= :end", params).one()
        in_period = tx.execute(f"SELECT {money} FROM luotto_stat_days WHERE {w} AND day >= :start AND day <= :end",
                               params).one()
        sources = tx.execute(f"SELECT source, SUM(amount) AS amount FROM luotto_stat_sources WHERE {w} "
                             f"AND day <= :end GROUP BY source ORDER BY source", params).all()
        # Only the national view names how many organisers it counts (those that granted a loan).
        organisers = (tx.execute("SELECT COUNT(DISTINCT tenant) AS n FROM luotto_stat_grant_days", params).one()
                      if tenant is None else None)
    # PostgreSQL sums BIGINT as NUMERIC: back to integer cents.
    total = {k: int(v or 0) for k, v in capital.items()}
    period = {k: int(v or 0) for k, v in in_period.items()}
    granted: dict[str, dict] = {"purpose_class": {}, "age_band": {}, "household": {}}
    for r in cells:
        for dim in granted:
            cell = granted[dim].setdefault(r[dim], {"cell": r[dim], "n": 0, "euros": 0})
            cell["n"] += r["n"]
            cell["euros"] += int(r["euros"] or 0)
    facts = [{**r, "euros": int(r["euros"] or 0)} for r in facts]
    kinds = sorted({r["kind"] for rows in cases.values() for r in rows})
    out = {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "scope": "organiser" if tenant is not None else "national",
        "applications": _applications(_counts(cases, "loan"), grounds, days),
        "relief_applications": {kind: _counts(cases, kind) for kind in kinds if kind != "loan"},
        "loans_granted": _granted({dim: list(c.values()) for dim, c in granted.items()}),
        "outstanding_principal_at_end": format_cents(total["granted"] - total["repaid"] - total["exempted"]
                                                     - total["lost"]),
        "principal_in_period": {k: format_cents(v) for k, v in period.items()},
        **_events(facts, period, total),
        "capital_sources": _sources({r["source"]: int(r["amount"] or 0) for r in sources}, total, period),
    }
    if tenant is None:
        out["organisers"] = organisers["n"]
    return out


def _counts(cases: dict[str, list[dict]], kind: str) -> dict:
    def n(which: str, outcome: str | None = None) -> int:
        return sum(r["n"] for r in cases[which] if r["kind"] == kind and (outcome is None or r["outcome"] == outcome))
    return {"received": n("received"), "decided": n("decided"), "granted": n("decided", "granted"),
            "rejected": n("decided", "rejected"), "withdrawn": n("withdrawn")}


def _applications(out: dict, grounds: list[dict], days: list[int]) -> dict:
    by_ground: dict[str, dict] = {}
    for r in grounds:
        for ground in json.loads(r["grounds"]):
            by_ground.setdefault(ground, {"count": 0})["count"] += r["n"]
    out["rejected_by_ground"] = suppressed(by_ground)
    out["processing_days"] = {"median": median(days), "p90": percentile(days, 90)}
    return out


def _split(value: int, weights: dict[str, int]) -> dict[str, int]:
    """R-CAP-2: `value` shared in proportion to the weights, each part rounded half up, the last
    (in key order) taking what is left so that the parts add up to the whole."""
    whole, out, left = sum(weights.values()), {}, value
    keys = sorted(weights)
    for key in keys[:-1]:
        out[key] = (2 * value * weights[key] + whole) // (2 * whole)
        left -= out[key]
    out[keys[-1]] = left
    return out


def _sources(recorded: dict[str, int], total: dict, period: dict) -> dict:
    """R-CAP-2: what each source of lending capital lent out, got back and lost, to the period's end
    and in the period, in proportion to the capital recorded from it by the period's end."""
    if sum(recorded.values()) <= 0:
        return {}
    parts = {name: _split(value, recorded) for name, value in (
        ("lent_out", total["granted"]), ("returned", total["repaid"]), ("lost", total["exempted"] + total["lost"]),
        ("lent_out_in_period", period["granted"]), ("returned_in_period", period["repaid"]),
        ("lost_in_period", period["exempted"] + period["lost"]))}
    out = {}
    for key, amount in recorded.items():
        outstanding = parts["lent_out"][key] - parts["returned"][key] - parts["lost"][key]
        out[key] = {"recorded": format_cents(amount),
                    "share_percent": share(amount, sum(recorded.values())),
                    **{name: format_cents(p[key]) for name, p in parts.items()},
                    "outstanding": format_cents(outstanding),
                    "available": format_cents(amount - outstanding - parts["lost"][key])}
    return out


def _granted(by: dict[str, list[dict]]) -> dict:
    rows = by["purpose_class"]
    count, euros = sum(r["n"] for r in rows), sum(r["euros"] or 0 for r in rows)
    cells = lambda dim: suppressed({r["cell"]: {"count": r["n"], "euros": r["euros"] or 0}  # noqa: E731
                                    for r in by[dim]})
    return {"count": count, "euros": format_cents(euros),
            **{name: {k: {**v, "euros": None if v["euros"] is None else format_cents(v["euros"])}
                      for k, v in cells(dim).items()}
               for name, dim in (("by_purpose", "purpose_class"), ("by_age_band", "age_band"),
                                 ("by_household_type", "household"))}}


def _events(facts: list[dict], period: dict, total: dict) -> dict:
    def count(kind: str, detail: str | None = None) -> int:
        return sum(r["n"] for r in facts if r["kind"] == kind and (detail is None or r["detail"] == detail))

    def euros(kind: str) -> int:
        return sum(r["euros"] or 0 for r in facts if r["kind"] == kind)

    return {
        "repaid": count("repaid"),
        "accelerated": count("accelerated"),
        "acceleration_revoked": count("acceleration_revoked"),
        "sent_to_collection": count("collection"),
        "written_off": {
            "count": count("written_off"),
            "claims_written_off": format_cents(euros("written_off")),
            # R-STAT-1: the credit loss is the principal written off (the capital lost).
            "credit_loss": format_cents(period["lost"]),
            "credit_loss_share_of_granted_in_period_percent": share(period["lost"], period["granted"]),
            "credit_loss_to_date_share_of_granted_to_date_percent": share(total["lost"], total["granted"]),
        },
        "free_months": {"decisions": count("free_months"),
                        "months": sum(int(r["detail"]) * r["n"] for r in facts if r["kind"] == "free_months")},
        "exemptions": {"count": count("exemption"), "partial": count("exemption", "partial"),
                       "full": count("exemption", "full"), "euros": format_cents(euros("exemption"))},
        "refunds": {"count": count("refund"), "euros": format_cents(euros("refund"))},
        "appeals": {"filed": count("appeal_filed"),
                    "decided": {outcome: count("appeal_decided", outcome)
                                for outcome in ("upheld", "partly_upheld", "rejected")}},
    }


def rows_for_export(data: dict) -> list[tuple[str, str, object, object]]:
    """The report as (section, item, count, euros) rows for CSV and XLSX; a suppressed cell's
    figures are left empty (R-STAT-2)."""
    out: list[tuple[str, str, object, object]] = [("period", "from", data["period"]["from"], ""),
                                                  ("period", "to", data["period"]["to"], ""),
                                                  ("period", "scope", data["scope"], "")]

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict) and ("count" in value and "suppressed" in value):
            out.append((prefix.rsplit(".", 1)[0], prefix.rsplit(".", 1)[-1],
                        "" if value["count"] is None else value["count"],
                        "" if value.get("euros") is None else value["euros"]))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        else:
            section, _, item = prefix.rpartition(".")
            out.append((section or "totals", item, "" if value is None else value, ""))

    walk("", {k: v for k, v in data.items() if k != "period" and k != "scope"})
    return out


def capital_sources(store, tenant: str, start: dt.date, end: dt.date) -> dict:
    """R-CAP-2 alone (the report's `capital_sources`): the day sums and the capital recorded, a few
    hundred rows whatever the number of loans, without the report's pass over the loans granted."""
    params = {"tenant": tenant, "start": start.isoformat(), "end": end.isoformat()}
    money = "SUM(granted) AS granted, SUM(repaid) AS repaid, SUM(exempted) AS exempted, SUM(lost) AS lost"
    with store.transaction() as tx:
        capital = tx.execute(f"SELECT {money} FROM luotto_stat_days WHERE tenant = :tenant AND day <= :end",
                             params).one()
        in_period = tx.execute(f"SELECT {money} FROM luotto_stat_days WHERE tenant = :tenant AND day >= :start "
                               "AND day <= :end", params).one()
        sources = tx.execute("SELECT source, SUM(amount) AS amount FROM luotto_stat_sources WHERE tenant = :tenant "
                             "AND day <= :end GROUP BY source ORDER BY source", params).all()
    return _sources({r["source"]: int(r["amount"] or 0) for r in sources}, {k: int(v or 0) for k, v in capital.items()},
                    {k: int(v or 0) for k, v in in_period.items()})
