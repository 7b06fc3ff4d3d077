"""Read models built from the event notifications: loan balances, unallocated payments, portfolio
and work queue. Rows are written in the same transaction as the tracking position, so a read
model can be dropped and rebuilt from zero at any time and never counts an event twice.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import time
import uuid
from collections.abc import Callable
from zoneinfo import ZoneInfo

from domain.delinquency import conditions, hardship_active, pending_notice
from domain.events import LoanEvent, LoanGranted
from domain.books import LoanBooks
from domain.money import format_cents, parse_amount
from domain.rate_table import RateTable
from domain.register import PaymentMarker, payment_marker_id
from domain.servicing import next_action_date
from projections.set_aside import SetAside
from projections.follower import AlreadyClaimed, Batch, Follower
from adapters.sql_store import SqlStore
from projections import portfolio_sums, schema
from projections.console_figures import overdue_by_age
from projections.schema import TABLES

HELSINKI = ZoneInfo("Europe/Helsinki")
NAME = "read_model"
RULES = "rules"  # the tracking row holding the rules version the agenda was computed with
RULES_VERSION = 2  # 2: the §8 corrections of issue 12
WAKE = "2003-01-01"  # an agenda date before any business date: due at the next run
LOAN_COLUMNS = ("tenant", "loan_id", "borrower_id", "status", "principal", "principal_outstanding",
                "overdue_amount", "overdue_items", "penalty_outstanding", "overpayment", "principal_waived",
                "penalty_waived", "written_off", "next_due_date", "maturity_date", "notice_pending",
                "cure_deadline", "eligible_since", "hardship_active", "reference", "granted_on", "as_of",
                "version", "loan_uuid", "head", "interest_kind", "interest_due", "interest_accrued", "interest_paid",
                "legal_status")
UPSERT_LOAN = (f"INSERT INTO luotto_loans ({', '.join(LOAN_COLUMNS)}) VALUES "
               f"({', '.join(':' + c for c in LOAN_COLUMNS)}) ON CONFLICT (tenant, loan_id) DO UPDATE SET "
               + ", ".join(f"{c} = excluded.{c}" for c in LOAN_COLUMNS[2:])
               + " WHERE luotto_loans.version <= excluded.version")  # equal: figures again under a new rate
# The agenda only moves earlier on new events (a new fact can bring an action forward, never
# postpone one); the servicing run moves it later after it has serviced a loan.
UPSERT_AGENDA = ("INSERT INTO luotto_agenda (tenant, loan_id, next_date) VALUES (:tenant, :loan_id, :next_date) "
                 "ON CONFLICT (tenant, loan_id) DO UPDATE SET next_date = CASE "
                 "WHEN excluded.next_date IS NULL OR luotto_agenda.next_date IS NULL THEN excluded.next_date "
                 "WHEN excluded.next_date < luotto_agenda.next_date THEN excluded.next_date "
                 "ELSE luotto_agenda.next_date END")


def loan_row(books: LoanBooks) -> dict:
    """A loan's figures as of the later of its grant date and the day its last event was recorded."""
    loan = books.loan
    as_of = max(loan.granted_on, loan.modified_on.astimezone(HELSINKI).date())
    pos = books.position(as_of)
    notice = pending_notice(loan.notices)
    eligible = None
    if notice is None and loan.acm_dates and conditions(pos, loan.principal) is not None:
        eligible = loan.acm_dates[-1].isoformat()
    return {
        "tenant": loan.tenant, "loan_id": loan.loan_id, "borrower_id": loan.borrower_id,
        "status": books.status(as_of), "principal": loan.principal,
        "principal_outstanding": pos.principal_outstanding, "overdue_amount": pos.overdue_amount,
        "overdue_items": json.dumps([[r.deadline.isoformat(), r.unpaid] for r in pos.overdue()]),
        "penalty_outstanding": pos.penalty_outstanding, "overpayment": pos.overpayment,
        "principal_waived": pos.principal_waived, "penalty_waived": pos.penalty_waived,
        "written_off": pos.owed if loan.closed == "written_off" else 0,
        "next_due_date": _iso(pos.next_due_date()), "maturity_date": max(i.due_date for i in books.plan())
        .isoformat(), "notice_pending": int(notice is not None),
        "cure_deadline": _iso(notice.cure_deadline) if notice else None, "eligible_since": eligible,
        "hardship_active": int(hardship_active(loan.hardships, as_of)), "reference": loan.reference,
        "granted_on": loan.granted_on.isoformat(), "as_of": as_of.isoformat(), "version": loan.version,
        "loan_uuid": str(loan.id), "head": loan.hash_head, "interest_kind": books.interest.terms.kind,
        "interest_due": pos.interest_due, "interest_accrued": pos.interest_accrued, "interest_paid": pos.interest_paid,
        "legal_status": _legal_status(loan),
    }


def _legal_status(loan) -> str | None:
    """Issue 20: the loan's latest court step (claim_filed, judgment, enforcement), else `collection` while a
    transfer to the collection agency stands."""
    steps = getattr(loan, "legal_steps", ())
    if steps:
        return steps[-1].kind
    return "collection" if any(t.recalled_on is None for t in getattr(loan, "collections", ())) else None


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


class ReadModel:
    """Keeps the read-model tables up to date with one application's notifications."""

    def __init__(self, service, store: SqlStore, batch: int = 500):
        self.service, self.store = service, store
        self.follower = Follower(service, store, NAME, batch=batch)
        self.set_aside = SetAside(store)
        self._aside: set[str] = set()  # refs of loans set aside, as last read (retry_set_aside)

    def setup(self) -> None:
        schema.setup(self.store)
        self.wake_all_after_rule_change()

    def wake_all_after_rule_change(self) -> None:
        """When the rules changed so that a stored agenda date may be later than a day the run
        would now act (RULES_VERSION), make every loan due once: the next run services each,
        records any rule correction (domain.corrections) and reschedules it."""
        with self.store.transaction() as tx:
            row = tx.execute("SELECT position FROM luotto_tracking WHERE projection = :name", {"name": RULES}).one()
            if row is not None and row["position"] >= RULES_VERSION:
                return
            tx.execute("UPDATE luotto_agenda SET next_date = :day", {"day": WAKE})
            tx.execute("DELETE FROM luotto_tracking WHERE projection = :name", {"name": RULES})
            tx.execute("INSERT INTO luotto_tracking (projection, position) VALUES (:name, :version)",
                       {"name": RULES, "version": RULES_VERSION})

    # --- writing -------------------------------------------------------------------------

    def position(self) -> int:
        return self.follower.position()

    def run_once(self) -> int:
        """Process the next batch of notifications; returns how many were processed. A loan or a
        payment whose row cannot be computed or written is set aside (projections/set_aside.py) and
        the batch goes on without it: one bad item never stops the read models of the others."""
        batch = self.follower.next()
        if batch is None:
            return 0
        notifications = batch.notifications
        loans, unallocated = self._changes(notifications)
        # Only each loan's latest state in the batch matters: load it once, at that version.
        rows, agenda = [], []
        latest = self.service.repository.get_many(list(loans), copies=False)  # one query; only read here
        for lid, (version, earliest) in loans.items():
            try:
                row, next_date = self._loan_row(latest.get(lid), lid, version, earliest)
            except Exception as e:  # noqa: BLE001 - set aside; the others go on
                known = latest.get(lid)
                self.set_aside.record("read_model", f"loan:{lid}", tenant=getattr(known, "tenant", None),
                                      item=f"loan {getattr(known, 'loan_id', lid)}", error=e)
                self._aside.add(f"loan:{lid}")
                continue
            rows.append(row)
            agenda.append(next_date)
        try:
            failures = self._write(batch, rows, agenda, unallocated, isolate=False)
        except AlreadyClaimed:
            return 0
        except Exception:  # noqa: BLE001 - a row the database refuses: write the batch row by row
            try:
                failures = self._write(batch, rows, agenda, unallocated, isolate=True)
            except AlreadyClaimed:
                return 0
        for ref, tenant, item, error in failures:
            self.set_aside.record("read_model", ref, tenant=tenant, item=item, error=error)
            self._aside.add(ref)
        if self._aside:  # items set aside before that have now been written
            for ref in self._aside & ({f"loan:{r['loan_uuid']}" for r in rows} - {f[0] for f in failures}):
                self.set_aside.clear("read_model", ref)
                self._aside.discard(ref)
        return len(notifications)

    def _changes(self, notifications) -> tuple[dict, dict]:
        """The loans (latest version, earliest effective date) and unallocated payments a batch touches."""
        loans: dict = {}
        unallocated: dict[tuple, dict | None] = {}
        for notification in notifications:
            try:
                event = self.service.mapper.to_domain_event(notification)
                if isinstance(event, (LoanEvent, LoanGranted)):
                    _, earliest = loans.get(event.originator_id, (0, None))
                    loans[event.originator_id] = (event.originator_version, event.effective_date if earliest is None
                                                  else min(earliest, event.effective_date))
                elif isinstance(event, PaymentMarker.Registered) and event.loan_id is None:
                    unallocated[(event.tenant, event.payment_id)] = _unallocated_row(event.tenant, event.payment_id,
                                                                                     event.content)
                elif isinstance(event, (PaymentMarker.Allocated, PaymentMarker.Returned)):
                    marker = self.service.repository.get(event.originator_id, version=event.originator_version)
                    unallocated[(marker.tenant, marker.payment_id)] = None
                elif isinstance(event, RateTable.RateRecorded):
                    self._rate_changed(loans)
            except Exception as e:  # noqa: BLE001 - an event that cannot be read is set aside, not retried
                self.set_aside.record("read_model", f"notification:{notification.id}", tenant=None,
                                      item=f"event {notification.id} ({notification.topic})", error=e)
        return loans, unallocated

    def _loan_row(self, loan, lid, version: int | None, earliest: dt.date | None) -> tuple[dict, dict]:
        """A loan's row and agenda date; `version` None: its latest (a new rate, no new event)."""
        if loan is None:
            loan = self.service.repository.get(lid)
        if version is not None and loan.version != version:
            loan = self.service.repository.get(lid, version=version)
        books = loan.books(self.service.rates)  # one for both: it remembers the positions it computed
        row = loan_row(books)
        # From the earliest effective date in the batch (a back-dated fact) and from the day it was
        # recorded (a back-dated payment can settle the loan only when the later one arrives);
        # usually one day (a payment value-dated the day it is posted).
        recorded = loan.modified_on.astimezone(HELSINKI).date()
        days = {recorded} if earliest is None else {earliest, recorded}  # None: no new event, a new rate
        found = [d for d in (next_action_date(books, day - dt.timedelta(days=1)) for day in days) if d is not None]
        next_date = min(found) if found else None
        return row, {"tenant": loan.tenant, "loan_id": loan.loan_id, "next_date": _iso(next_date)}

    def _write(self, batch: Batch, rows: list[dict], agenda: list[dict], unallocated: dict,
               isolate: bool) -> list[tuple]:
        """Claim the batch and write its rows in one transaction. `isolate`: each loan's and each
        payment's rows under a savepoint of their own, so a row the database refuses (a NUL byte in
        PostgreSQL text) is left out and returned as a failure, and the rest is written."""
        failures: list[tuple] = []
        with self.store.transaction() as tx:
            self.follower.claim(tx, batch)  # first: a second runner waits here, then finds it claimed
            if not isolate:
                portfolio_sums.record(tx, rows)  # before the rows it reads are replaced
                tx.executemany(UPSERT_LOAN, rows)
                tx.executemany(UPSERT_AGENDA, agenda)
                for (tenant, payment_id), row in unallocated.items():
                    _write_unallocated(tx, tenant, payment_id, row)
                return failures
            for row, next_date in zip(rows, agenda):
                error = _savepoint(tx, lambda: (portfolio_sums.record(tx, [row]), tx.execute(UPSERT_LOAN, row),
                                                tx.execute(UPSERT_AGENDA, next_date)))
                if error:
                    failures.append((f"loan:{row['loan_uuid']}", row["tenant"], f"loan {row['loan_id']}", error))
            for (tenant, payment_id), row in unallocated.items():
                error = _savepoint(tx, lambda: _write_unallocated(tx, tenant, payment_id, row))
                if error:
                    failures.append((f"payment:{tenant}/{payment_id}", tenant, f"payment {payment_id}", error))
        return failures

    def retry_set_aside(self, older_than_seconds: float = 0.0) -> int:
        """Try the loans and payments set aside again (LUOTTO_RETRY_SECONDS); returns how many recovered."""
        due = self.set_aside.due("read_model", older_than_seconds=older_than_seconds)
        self._aside = {r["ref"] for r in self.set_aside.due("read_model", limit=10_000)}
        recovered = 0
        for item in due:
            kind, _, key = item["ref"].partition(":")
            try:
                if kind == "loan":
                    loan = self.service.repository.get(uuid.UUID(key))
                    row, next_date = self._loan_row(loan, loan.id, loan.version, loan.granted_on)
                    with self.store.transaction() as tx:
                        portfolio_sums.lock(tx, NAME)  # no runner writes this loan's row meanwhile
                        portfolio_sums.record(tx, [row])
                        tx.execute(UPSERT_LOAN, row)
                        tx.execute(UPSERT_AGENDA, next_date)
                elif kind == "payment":
                    tenant, _, payment_id = key.partition("/")
                    marker = self.service.repository.get(payment_marker_id(tenant, payment_id))
                    row = None if marker.loan_id or marker.returned else _unallocated_row(tenant, payment_id,
                                                                                           marker.content)
                    with self.store.transaction() as tx:
                        _write_unallocated(tx, tenant, payment_id, row)
                else:  # an event that could not be read: nothing to retry
                    continue
            except Exception as e:  # noqa: BLE001 - still failing: it stays set aside
                self.set_aside.record("read_model", item["ref"], tenant=item["tenant"], item=item["item"], error=e)
                continue
            self.set_aside.clear("read_model", item["ref"])
            self._aside.discard(item["ref"])
            recovered += 1
        return recovered

    def _rate_changed(self, loans: dict) -> None:
        """A new reference rate changes the figures of the loans that charge interest and of those
        with overdue principal (penalty interest): only those are computed again (R-PEN-4)."""
        self.service.rate_source.refresh()
        with self.store.transaction() as tx:
            rows = tx.execute("SELECT loan_uuid FROM luotto_loans WHERE interest_kind <> 'none' OR "
                              "overdue_amount > 0 OR status = 'accelerated'").all()
        for row in rows:
            lid = uuid.UUID(row["loan_uuid"])
            if lid not in loans:
                loans[lid] = (None, None)

    def catch_up(self, progress: Callable[[int, int], None] | None = None) -> int:
        total, done = self.service.recorder.max_notification_id() or 0, 0
        while n := self.run_once():
            done += n
            if progress:
                progress(self.position(), total)
        return done

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        with self.store.transaction() as tx:
            for table in TABLES:
                tx.execute(f"DELETE FROM {table}")
        self.set_aside.clear_kind("read_model")  # a rebuild meets every item again
        self._aside = set()
        return self.catch_up(progress)

    def lag_seconds(self, position: int, newest: int) -> float:
        """How long the oldest event not yet in the read models has waited."""
        if position >= newest:
            return 0.0
        waiting = self.service.recorder.select_notifications(start=position + 1, limit=1)
        if not waiting:
            return 0.0
        recorded = self.service.mapper.to_domain_event(waiting[0]).timestamp
        return max(0.0, (dt.datetime.now(dt.timezone.utc) - recorded).total_seconds())

    def wait_for(self, position: int | None, timeout: float) -> bool:
        """Read-your-writes: block until the read model has reached `position` (or time out)."""
        deadline = time.monotonic() + timeout
        while position is not None and self.position() < position:
            if time.monotonic() > deadline:
                return False
            if not self.run_once():
                time.sleep(0.02)
        return True

    # --- reading -------------------------------------------------------------------------

    def _rows_of(self, columns: str, tenant: str, loan_ids: list[str]) -> list[dict]:
        rows = []
        for start in range(0, len(loan_ids), 500):  # under every SQLite's limit of parameters
            names = {f"loan{i}": lid for i, lid in enumerate(loan_ids[start:start + 500])}
            with self.store.transaction() as tx:
                rows += tx.execute(f"SELECT {columns} FROM luotto_loans WHERE tenant = :tenant AND loan_id IN "
                                   f"({', '.join(':' + n for n in names)})", {"tenant": tenant, **names}).all()
        return rows

    def outstanding_of(self, tenant: str, loan_ids: list[str]) -> dict[str, int]:
        """Principal outstanding of each given loan the read model knows (0 once closed)."""
        rows = self._rows_of("loan_id, principal_outstanding, status", tenant, loan_ids)
        return {r["loan_id"]: 0 if r["status"] in portfolio_sums.CLOSED else r["principal_outstanding"]
                for r in rows}

    def repaid_principal(self, tenant: str) -> int:
        """The principal no longer outstanding, summed over the organiser's loans the read model
        knows (a closed loan's in full): the grant register's principal total less this is the
        capital in use (domain.register.Exposure). From the running totals (projections.
        portfolio_sums: every loan's principal by month granted, less the open loans' principal
        outstanding), not from every loan's row."""
        granted = sum(int(r["amount"]) for r in portfolio_sums.items(self.store, tenant, "granted:", "granted:~"))
        return granted - sum(int(r["amount"]) for r in portfolio_sums.items(self.store, tenant, "in_use", "in_use"))

    def borrowers_of(self, tenant: str, loan_ids: list[str]) -> dict[str, str]:
        """Each known loan's borrower (the access log's, R-DATA-5)."""
        rows = self._rows_of("loan_id, borrower_id", tenant, loan_ids)
        return {r["loan_id"]: r["borrower_id"] for r in rows}

    def due_loans(self, tenant: str, on: dt.date) -> list[tuple[str, str]]:
        """Loans whose agenda date has come: the only ones a run for `on` needs to load."""
        with self.store.transaction() as tx:
            rows = tx.execute("SELECT loan_id, next_date FROM luotto_agenda WHERE tenant = :tenant AND "
                              "next_date <= :on ORDER BY loan_id", {"tenant": tenant, "on": on.isoformat()}).all()
        return [(r["loan_id"], r["next_date"]) for r in rows]

    def reschedule(self, tenant: str, moves: list[tuple[str, str, dt.date | None]]) -> None:
        """After a run: each (loan, date it was due, next date). A row changed meanwhile by a newer
        event is left as it is, so a concurrent fact is never postponed."""
        with self.store.transaction() as tx:
            tx.executemany("UPDATE luotto_agenda SET next_date = :next WHERE tenant = :tenant AND loan_id = :loan_id "
                           "AND next_date = :was", [{"tenant": tenant, "loan_id": lid, "was": was,
                                                     "next": _iso(nxt)} for lid, was, nxt in moves])

    def loans(self, tenant: str, *, status: str | None = None, limit: int = 50, offset: int = 0) -> list[dict]:
        where = "tenant = :tenant" + (" AND status = :status" if status else "")
        with self.store.transaction() as tx:
            return tx.execute(f"SELECT * FROM luotto_loans WHERE {where} ORDER BY loan_id LIMIT :limit "
                              f"OFFSET :offset", {"tenant": tenant, "status": status, "limit": limit,
                                                  "offset": offset}).all()

    def unallocated(self, tenant: str, *, limit: int | None = None, offset: int = 0, amount: int | None = None,
                    reference: str | None = None) -> list[dict]:
        """The unallocated queue, oldest first; `limit` rows after `offset`, or those of one amount and
        reference (the candidates a bank's return may name)."""
        where = "tenant = :tenant"
        if amount is not None:
            where += " AND amount = :amount AND " + ("reference = :reference" if reference else "reference IS NULL")
        page = " LIMIT :limit OFFSET :offset" if limit is not None else ""
        with self.store.transaction() as tx:
            return tx.execute(f"SELECT * FROM luotto_unallocated WHERE {where} ORDER BY value_date, payment_id{page}",
                              {"tenant": tenant, "amount": amount, "reference": reference, "limit": limit,
                               "offset": offset}).all()

    def portfolio(self, tenant: str, today: dt.date) -> dict:
        """Sums per status, added up by the database (one row per status, not one per loan), and the
        overdue amounts by age from the running totals (projections.console_figures)."""
        with self.store.transaction() as tx:
            rows = tx.execute("SELECT status, COUNT(*) AS n, SUM(principal_outstanding) AS principal_outstanding, "
                              "SUM(penalty_outstanding) AS penalty, SUM(principal_waived + penalty_waived) AS waived, "
                              "SUM(written_off) AS written_off, SUM(interest_due + interest_accrued) AS interest, "
                              "SUM(interest_paid) AS interest_paid FROM luotto_loans WHERE tenant = :tenant "
                              "GROUP BY status", {"tenant": tenant}).all()
        rows = sorted(({k: v if k == "status" else int(v) for k, v in r.items()} for r in rows),  # PostgreSQL: numeric
                      key=lambda r: r["status"])
        open_rows = [r for r in rows if r["status"] not in portfolio_sums.CLOSED]
        return {
            "outstanding_principal": format_cents(sum(r["principal_outstanding"] for r in open_rows)),
            "by_status": {r["status"]: {"count": r["n"],
                                        "principal_outstanding": format_cents(r["principal_outstanding"])}
                          for r in rows},
            "overdue_by_age_days": {k: format_cents(v) for k, v in overdue_by_age(self.store, tenant, today).items()},
            "penalty_interest_outstanding": format_cents(sum(r["penalty"] for r in rows)),
            # R-INT: interest owed (parts due and the current periods' accrual, as of each loan's last
            # event) and interest received.
            "interest_outstanding": format_cents(sum(r["interest"] for r in open_rows)),
            "interest_received": format_cents(sum(r["interest_paid"] for r in rows)),
            "waived_total": format_cents(sum(r["waived"] for r in rows)),
            "written_off_total": format_cents(sum(r["written_off"] for r in rows)),
        }

    def work_queue(self, tenant: str, today: dt.date, horizon_days: int = 7, limit: int = 100, offset: int = 0,
                   *, unallocated: bool = True) -> dict:
        """Each list holds `limit` items after `offset`; `counts` says how many there are in all.
        `unallocated`: include the unallocated payments (only for a caller who may list them)."""
        soon = (today + dt.timedelta(days=horizon_days)).isoformat()
        lists = {
            "acceleration_conditions_met": ("loan_id, borrower_id, eligible_since, overdue_amount",
                                            "eligible_since IS NOT NULL AND hardship_active = 0",
                                            "eligible_since, loan_id"),
            "notices_near_cure_deadline": ("loan_id, borrower_id, cure_deadline",
                                           "notice_pending = 1 AND cure_deadline <= :soon", "cure_deadline, loan_id"),
            "hardships_active": ("loan_id, borrower_id, status", "hardship_active = 1", "loan_id"),
            "legal_status": ("loan_id, borrower_id, status, legal_status", "legal_status IS NOT NULL", "loan_id"),
        }
        found, counts = {}, {}
        params = {"tenant": tenant, "soon": soon, "limit": limit, "offset": offset}
        with self.store.transaction() as tx:
            for name, (columns, where, order) in lists.items():
                found[name] = tx.execute(f"SELECT {columns} FROM luotto_loans WHERE tenant = :tenant AND {where} "
                                         f"ORDER BY {order} LIMIT :limit OFFSET :offset", params).all()
                counts[name] = tx.execute(f"SELECT COUNT(*) AS n FROM luotto_loans WHERE tenant = :tenant AND "
                                          f"{where}", params).one()["n"]
            if unallocated:
                counts["unallocated_payments"] = tx.execute("SELECT COUNT(*) AS n FROM luotto_unallocated WHERE "
                                                            "tenant = :tenant", params).one()["n"]
        queue = {
            "acceleration_conditions_met": [{"loan_id": r["loan_id"], "borrower_id": r["borrower_id"],
                                             "since": r["eligible_since"],
                                             "overdue_amount": format_cents(r["overdue_amount"])}
                                            for r in found["acceleration_conditions_met"]],
            "notices_near_cure_deadline": found["notices_near_cure_deadline"],
            "hardships_active": found["hardships_active"],
            "legal_status": found["legal_status"],
            "counts": counts,
        }
        if unallocated:
            queue["unallocated_payments"] = [_money(r) for r in self.unallocated(tenant, limit=limit, offset=offset)]
        return queue


def _unallocated_row(tenant: str, payment_id: str, content: dict) -> dict:
    return {"tenant": tenant, "payment_id": payment_id, "amount": parse_amount(content["amount"], "amount"),
            "value_date": content["value_date"], "reference": content["reference"]}


def _write_unallocated(tx, tenant: str, payment_id: str, row: dict | None) -> None:
    tx.execute("DELETE FROM luotto_unallocated WHERE tenant = :tenant AND payment_id = :payment_id",
               {"tenant": tenant, "payment_id": payment_id})
    if row is not None:
        tx.execute("INSERT INTO luotto_unallocated (tenant, payment_id, amount, value_date, reference) VALUES "
                   "(:tenant, :payment_id, :amount, :value_date, :reference)", row)


def _savepoint(tx, write: Callable[[], object]) -> Exception | None:
    """Run `write` under a savepoint; the error that rolled it back, or None."""
    tx.execute("SAVEPOINT luotto_item")
    try:
        write()
    except Exception as e:  # noqa: BLE001 - returned to the caller, which sets the item aside
        tx.execute("ROLLBACK TO SAVEPOINT luotto_item")
        return e
    tx.execute("RELEASE SAVEPOINT luotto_item")
    return None


def _money(row: dict) -> dict:
    return {**row, "amount": format_cents(row["amount"])}


def print_progress(done: int, total: int) -> None:
    """A one-line progress bar on stderr for long rebuilds."""
    width = 30
    filled = width * done // total if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} events")
    sys.stderr.flush()
