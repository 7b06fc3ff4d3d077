"""The statistics read model (R-STAT-1): what the organisers report to THL and for the §10a state
grant, kept from the event notifications so that a report is a few indexed queries, never a replay.

The tables below, each row derived from events only, plus two classifications looked up once when a loan
is granted (the borrower's age band from the identity code in the personal-data store, the
household type from the decided application's facts); only the band and the type are kept, never
the birth date or the household. Rows are written in the same transaction as the tracking position
(projections.follower), so the model can be dropped and rebuilt from zero at any time.

- luotto_stat_cases: one row per application (kind, received, decided, outcome, grounds, withdrawn).
- luotto_stat_loans: one row per loan granted (principal, purpose class, age band, household type),
  and luotto_stat_grant_days its sums per organiser, day and cell, which the report reads.
- luotto_stat_facts: one row per loan event that the report counts (repaid, accelerated, sent to
  collection, written off, free months, exemptions, refunds, appeals and their outcomes).
- luotto_stat_capital: per loan, the principal granted, repaid, exempted and lost on each day it
  changed, recomputed from the ledger (domain.books) whenever the loan records an event; the
  principal outstanding on a day is then one indexed SUM.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from zoneinfo import ZoneInfo

from domain import case_events as cev
from domain import events as ev
from domain.capital import LendingCapital, source_key
from domain.money import parse_amount
from domain.statistics import UNKNOWN, household_type, purpose_class
from projections.follower import AlreadyClaimed, Follower

HELSINKI = ZoneInfo("Europe/Helsinki")
NAME = "statistics"
# 2: capital by source (R-CAP-1); 3: money by day (R-BOOK-1); 4: day sums, processing days; 5: the journal by
# booking date (luotto_stat_books)
SCHEMA_VERSION = "6"
TABLES = ("luotto_stat_cases", "luotto_stat_loans", "luotto_stat_grant_days", "luotto_stat_facts", "luotto_stat_capital",
          "luotto_stat_sources", "luotto_stat_days", "luotto_stat_books")
MONEY = ("granted", "repaid", "exempted", "lost", "received", "interest", "penalty", "refunded")
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS luotto_stat_cases (
        case_uuid TEXT PRIMARY KEY, tenant TEXT NOT NULL, application_id TEXT NOT NULL, kind TEXT NOT NULL,
        received_on TEXT NOT NULL, decided_on TEXT, outcome TEXT, grounds TEXT NOT NULL, withdrawn_on TEXT,
        household TEXT NOT NULL, days INTEGER)""",
    "CREATE INDEX IF NOT EXISTS luotto_stat_cases_withdrawn ON luotto_stat_cases (tenant, withdrawn_on, kind)",
    # Covering indexes: a report reads each period's range from the index alone (R-STAT-1: under a second).
    "CREATE INDEX IF NOT EXISTS luotto_stat_cases_received ON luotto_stat_cases (tenant, received_on, kind)",
    "CREATE INDEX IF NOT EXISTS luotto_stat_cases_decided ON luotto_stat_cases "
    "(tenant, decided_on, kind, outcome, days)",
    "CREATE INDEX IF NOT EXISTS luotto_stat_cases_app ON luotto_stat_cases (tenant, application_id)",
    """CREATE TABLE IF NOT EXISTS luotto_stat_loans (
        loan_uuid TEXT PRIMARY KEY, tenant TEXT NOT NULL, loan_id TEXT NOT NULL, granted_on TEXT NOT NULL,
        principal BIGINT NOT NULL, purpose_class TEXT NOT NULL, age_band TEXT NOT NULL, household TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS luotto_stat_loans_granted ON luotto_stat_loans "
    "(tenant, granted_on, purpose_class, age_band, household, principal)",
    # The loans granted per organiser, day and cell, kept with each loan's row, so that a report reads
    # the period's days, not every loan granted in it (at 100,000 loans: ~350 ms a report before).
    """CREATE TABLE IF NOT EXISTS luotto_stat_grant_days (
        tenant TEXT NOT NULL, day TEXT NOT NULL, purpose_class TEXT NOT NULL, age_band TEXT NOT NULL,
        household TEXT NOT NULL, n BIGINT NOT NULL, principal BIGINT NOT NULL,
        PRIMARY KEY (tenant, day, purpose_class, age_band, household))""",
    """CREATE TABLE IF NOT EXISTS luotto_stat_facts (
        ref TEXT PRIMARY KEY, tenant TEXT NOT NULL, loan_uuid TEXT NOT NULL, kind TEXT NOT NULL, day TEXT NOT NULL,
        amount BIGINT NOT NULL, detail TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS luotto_stat_facts_day ON luotto_stat_facts (tenant, day, kind, detail, amount)",
    """CREATE TABLE IF NOT EXISTS luotto_stat_capital (
        tenant TEXT NOT NULL, loan_uuid TEXT NOT NULL, day TEXT NOT NULL, granted BIGINT NOT NULL,
        repaid BIGINT NOT NULL, exempted BIGINT NOT NULL, lost BIGINT NOT NULL, received BIGINT NOT NULL,
        interest BIGINT NOT NULL, penalty BIGINT NOT NULL, refunded BIGINT NOT NULL, PRIMARY KEY (loan_uuid, day))""",
    # Covering: the outstanding principal on a day is read from the index alone.
    "CREATE INDEX IF NOT EXISTS luotto_stat_capital_day ON luotto_stat_capital "
    "(tenant, day, granted, repaid, exempted, lost)",
    # The organiser's money per day, all its loans summed (kept with each loan's rows), so that a report
    # reads at most one row per day, not one per loan and day (R-STAT-1: under a second at 100,000 loans).
    """CREATE TABLE IF NOT EXISTS luotto_stat_days (
        tenant TEXT NOT NULL, day TEXT NOT NULL, granted BIGINT NOT NULL, repaid BIGINT NOT NULL,
        exempted BIGINT NOT NULL, lost BIGINT NOT NULL, received BIGINT NOT NULL, interest BIGINT NOT NULL,
        penalty BIGINT NOT NULL, refunded BIGINT NOT NULL, PRIMARY KEY (tenant, day))""",
    # R-BOOK-1: the journal, by booking date (the Helsinki day a change was recorded) and value date. Rows
    # are only ever added to for the day being recorded, so a day already exported never changes.
    """CREATE TABLE IF NOT EXISTS luotto_stat_books (
        tenant TEXT NOT NULL, booked TEXT NOT NULL, value_day TEXT NOT NULL, granted BIGINT NOT NULL,
        repaid BIGINT NOT NULL, exempted BIGINT NOT NULL, lost BIGINT NOT NULL, received BIGINT NOT NULL,
        interest BIGINT NOT NULL, penalty BIGINT NOT NULL, refunded BIGINT NOT NULL,
        PRIMARY KEY (tenant, booked, value_day))""",
    # R-CAP-1: the lending capital recorded by source (`own_funds`, `state_grant:<decision>`).
    """CREATE TABLE IF NOT EXISTS luotto_stat_sources (
        ref TEXT PRIMARY KEY, tenant TEXT NOT NULL, day TEXT NOT NULL, source TEXT NOT NULL, amount BIGINT NOT NULL)""",
]
_TOPIC = "{}:{}".format
LOAN_TOPICS = [_TOPIC(ev.__name__, c.__name__) for c in vars(ev).values()
               if isinstance(c, type) and (issubclass(c, ev.LoanEvent) and c is not ev.LoanEvent
                                           or c is ev.LoanGranted)]
CAPITAL_TOPICS = [_TOPIC(LendingCapital.__module__, LendingCapital.CapitalRecorded.__qualname__)]
CASE_TOPICS = [_TOPIC(cev.__name__, c.__name__) for c in (cev.ApplicationReceived, cev.ApplicationFactsUpdated,
                                                            cev.ApplicationDecided, cev.ApplicationWithdrawn)]
# Loan events the report counts: kind, amount (cents) and detail of each.
COUNTED: dict[type, Callable] = {
    ev.LoanRepaid: lambda e: ("repaid", 0, ""),
    ev.LoanAccelerated: lambda e: ("accelerated", _cents(e.accelerated_amount), ""),
    ev.AccelerationRevoked: lambda e: ("acceleration_revoked", 0, ""),
    ev.LoanTransferredToCollection: lambda e: ("collection", 0, ""),
    ev.LoanWrittenOff: lambda e: ("written_off", _cents(e.amount), ""),
    ev.PaymentWaived: lambda e: ("exemption", _cents(e.amount), e.kind),
    ev.OverpaymentRefunded: lambda e: ("refund", _cents(e.amount), ""),
    ev.AppealFiled: lambda e: ("appeal_filed", 0, e.decision_type),
    ev.AppealDecided: lambda e: ("appeal_decided", 0, e.outcome),
}


def _cents(value: str | None) -> int:
    return 0 if value is None else parse_amount(value, "amount", positive=False)


ZERO = {"granted": 0, "repaid": 0, "exempted": 0, "lost": 0, "received": 0, "interest": 0, "penalty": 0,
        "refunded": 0}


def capital_rows(loan, books) -> list[dict]:
    """Per day it changed: the principal granted, repaid, exempted and lost (written off), the money
    received and refunded, and the interest and penalty interest paid, as the loan's ledger now tells
    it (a back-dated payment moves the day it counts on; a reversal undoes it)."""
    tenant, ref = loan.tenant, str(loan.id)
    days: dict = {loan.granted_on: {**ZERO, "granted": loan.principal}}
    before = (0, 0, 0, 0)
    for on in sorted({m.on for m in loan.movements}):
        pos = books.position(on)
        row = days.setdefault(on, dict(ZERO))
        now = (pos.principal_paid, pos.principal_waived, pos.interest_paid, pos.penalty_paid)
        row["repaid"] += now[0] - before[0]
        row["exempted"] += now[1] - before[1]
        row["interest"] += now[2] - before[2]
        row["penalty"] += now[3] - before[3]
        before = now
    for m in loan.movements:
        if m.kind in ("payment", "refund"):
            days.setdefault(m.on, dict(ZERO))["received" if m.kind == "payment" else "refunded"] += m.amount
    if loan.closed == "written_off" and loan.closed_on is not None:
        pos = books.position(loan.closed_on)
        row = days.setdefault(loan.closed_on, dict(ZERO))
        row["lost"] += pos.principal_outstanding
    return [{"tenant": tenant, "loan_uuid": ref, "day": day.isoformat(), **row} for day, row in sorted(days.items())
            if any(row.values())]


UPSERT_GRANT_DAY = ("INSERT INTO luotto_stat_grant_days (tenant, day, purpose_class, age_band, household, n, principal) "
                    "VALUES (:tenant, :on, :purpose, :age, :household, 1, :principal) ON CONFLICT (tenant, day, "
                    "purpose_class, age_band, household) DO UPDATE SET n = luotto_stat_grant_days.n + 1, "
                    "principal = luotto_stat_grant_days.principal + excluded.principal")
UPSERT_DAY = ("INSERT INTO luotto_stat_days (tenant, day, " + ", ".join(MONEY) + ") VALUES (:tenant, :day, "
              + ", ".join(":" + m for m in MONEY) + ") ON CONFLICT (tenant, day) DO UPDATE SET "
              + ", ".join(f"{m} = luotto_stat_days.{m} + excluded.{m}" for m in MONEY))


UPSERT_BOOK = ("INSERT INTO luotto_stat_books (tenant, booked, value_day, " + ", ".join(MONEY) + ") VALUES (:tenant, "
               ":booked, :day, " + ", ".join(":" + m for m in MONEY) + ") ON CONFLICT (tenant, booked, value_day) DO "
               "UPDATE SET " + ", ".join(f"{m} = luotto_stat_books.{m} + excluded.{m}" for m in MONEY))


def _change(old: list[dict], new: list[dict]) -> dict[str, dict]:
    """Per value day, what moved from a loan's old rows to its new ones (days that did not move left out)."""
    change: dict[str, dict] = {}
    for rows, sign in ((old, -1), (new, 1)):
        for row in rows:
            day = change.setdefault(row["day"], dict.fromkeys(MONEY, 0))
            for m in MONEY:
                day[m] += sign * int(row[m])
    return {day: sums for day, sums in sorted(change.items()) if any(sums.values())}


def _add_days(tx, tenant: str, old: list[dict], new: list[dict]) -> None:
    """The organiser's day sums (by value date), moved from a loan's old rows to its new ones."""
    tx.executemany(UPSERT_DAY, [{"tenant": tenant, "day": day, **sums} for day, sums in _change(old, new).items()])


def _book(tx, tenant: str, booked: str, old: list[dict], new: list[dict]) -> None:
    """R-BOOK-1: the change from a loan's old rows to its new ones, booked on the day it was recorded,
    each value day kept: a back-dated payment or a reversal adds to the day it is recorded on."""
    tx.executemany(UPSERT_BOOK, [{"tenant": tenant, "booked": booked, "day": day, **sums}
                                 for day, sums in _change(old, new).items()])


def booking_day(event) -> str:
    """The Helsinki day an event was recorded on: its booking date in the journal."""
    return event.timestamp.astimezone(HELSINKI).date().isoformat()


def _steps(recorded: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """(the last version recorded on it, booking day) for each run of a loan's events on one day."""
    steps: list[tuple[int, str]] = []
    for version, day in recorded:
        if steps and steps[-1][1] == day:
            steps[-1] = (version, day)
        else:
            steps.append((version, day))
    return steps


class StatisticsModel:
    """Follows the log for the statistics. `age_band(tenant, borrower_id, on)` and
    `facts(tenant, application_id, facts_hash)` are the two look-ups into the personal-data stores."""

    def __init__(self, service, store, *, age_band: Callable[[str, str, object], str] | None = None,
                 facts: Callable[[str, str, str], dict | None] | None = None, batch: int = 500):
        self.service, self.store = service, store
        self.age_band = age_band or (lambda tenant, borrower_id, on: UNKNOWN)
        self.facts = facts or (lambda tenant, application_id, facts_hash: None)
        self.follower = Follower(service, store, NAME, topics=LOAN_TOPICS + CASE_TOPICS + CAPITAL_TOPICS, batch=batch)

    def setup(self) -> None:
        with self.store.transaction() as tx:
            tx.execute("CREATE TABLE IF NOT EXISTS luotto_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            tx.execute("CREATE TABLE IF NOT EXISTS luotto_tracking (projection TEXT PRIMARY KEY, "
                       "position BIGINT NOT NULL)")
            row = tx.execute("SELECT value FROM luotto_meta WHERE key = 'statistics_schema'").one()
            if row is None or row["value"] != SCHEMA_VERSION:
                self._drop(tx)
                tx.execute("INSERT INTO luotto_meta (key, value) VALUES ('statistics_schema', :v)",
                           {"v": SCHEMA_VERSION})
            for statement in SCHEMA:
                tx.execute(statement)

    def _drop(self, tx) -> None:
        for table in TABLES:
            tx.execute(f"DROP TABLE IF EXISTS {table}")
        tx.execute("DELETE FROM luotto_meta WHERE key = 'statistics_schema'")
        tx.execute("DELETE FROM luotto_tracking WHERE projection = :name", {"name": NAME})

    def rebuild(self) -> int:
        with self.store.transaction() as tx:
            self._drop(tx)
        self.setup()
        return self.catch_up()

    def position(self) -> int:
        return self.follower.position()

    def catch_up(self, max_batches: int | None = None) -> int:
        done = batches = 0
        while max_batches is None or batches < max_batches:
            n = self.run_once()
            if not n:
                break
            done, batches = done + n, batches + 1
        return done

    def behind(self) -> int:
        """How many notifications the model has not seen yet (of any topic)."""
        return max(0, (self.service.recorder.max_notification_id() or 0) - self.position())

    def run_once(self) -> int:
        batch = self.follower.next()
        if batch is None:
            return 0
        events = [self.service.mapper.to_domain_event(n) for n in batch.notifications]
        latest: dict = {}
        recorded: dict = {}  # loan -> [(version, booking day)] in the order recorded
        for event in events:
            if isinstance(event, (ev.LoanEvent, ev.LoanGranted)):
                latest[event.originator_id] = max(latest.get(event.originator_id, 0), event.originator_version)
                recorded.setdefault(event.originator_id, []).append((event.originator_version, booking_day(event)))
        loans = self.service.repository.get_many(list(latest), copies=False) if latest else {}
        # The look-ups into the personal-data stores, before the transaction (a pool of one connection).
        looked_up = {}
        for i, event in enumerate(events):
            if isinstance(event, ev.LoanGranted):
                looked_up[i] = self.age_band(event.tenant, event.borrower_id, event.effective_date)
            elif isinstance(event, LendingCapital.CapitalRecorded):  # the organiser, from the aggregate
                looked_up[i] = self.service.repository.get(event.originator_id, version=1).tenant
            elif isinstance(event, cev.ApplicationDecided) and event.outcome == "granted":
                case = self.service.repository.get(event.originator_id, version=event.originator_version)
                facts = self.facts(case.tenant, case.application_id, event.facts_hash)
                looked_up[i] = household_type((facts or {}).get("household"))
        try:
            with self.store.transaction() as tx:
                self.follower.claim(tx, batch)
                for i, event in enumerate(events):
                    self._apply(tx, event, looked_up.get(i, UNKNOWN))
                for lid, version in latest.items():
                    loan = loans.get(lid)
                    if loan is None or loan.version != version:
                        loan = self.service.repository.get(lid, version=version)
                    old = tx.execute("SELECT * FROM luotto_stat_capital WHERE loan_uuid = :ref", {"ref": str(lid)}).all()
                    tx.execute("DELETE FROM luotto_stat_capital WHERE loan_uuid = :ref", {"ref": str(lid)})
                    rows = self._book_steps(tx, lid, loan, old, _steps(recorded[lid]))
                    tx.executemany("INSERT INTO luotto_stat_capital (tenant, loan_uuid, day, granted, repaid, "
                                   "exempted, lost, received, interest, penalty, refunded) VALUES (:tenant, "
                                   ":loan_uuid, :day, :granted, :repaid, :exempted, :lost, :received, :interest, "
                                   ":penalty, :refunded)", rows)
                    _add_days(tx, loan.tenant, old, rows)
        except AlreadyClaimed:
            return 0
        return max(1, len(batch.notifications))

    def _book_steps(self, tx, lid, loan, old: list[dict], steps: list[tuple[int, str]]) -> list[dict]:
        """Book each day's change of the loan's rows on that day (R-BOOK-1) and return its rows now.
        Usually every event of a batch was recorded on one day; when not (a rebuild, a follower that
        was behind over midnight), the loan is folded once from its events and its rows taken at the
        last event of each day."""
        rates = self.service.rates
        if len(steps) == 1:
            rows = capital_rows(loan, loan.books(rates))
            _book(tx, loan.tenant, steps[0][1], old, rows)
            return rows
        at = dict(steps)
        state, before, rows = None, old, old
        for event in self.service.events.get(lid, lte=steps[-1][0]):
            state = event.mutate(state)
            if event.originator_version in at:
                rows = capital_rows(state, state.books(rates))
                _book(tx, state.tenant, at[event.originator_version], before, rows)
                before = rows
        return rows

    def _apply(self, tx, event, looked_up: str) -> None:
        """`looked_up`: a grant's age band, a granted application's household type."""
        if isinstance(event, cev.ApplicationReceived):
            tx.execute("INSERT INTO luotto_stat_cases (case_uuid, tenant, application_id, kind, received_on, grounds, "
                       "household) VALUES (:ref, :tenant, :app, :kind, :on, '[]', :household) "
                       "ON CONFLICT (case_uuid) DO NOTHING",
                       {"ref": str(event.originator_id), "tenant": event.tenant, "app": event.application_id,
                        "kind": event.kind, "on": event.effective_date.isoformat(), "household": UNKNOWN})
        elif isinstance(event, cev.ApplicationDecided):
            received = tx.execute("SELECT received_on FROM luotto_stat_cases WHERE case_uuid = :ref",
                                  {"ref": str(event.originator_id)}).one()
            days = (event.effective_date - dt.date.fromisoformat(received["received_on"])).days if received else None
            tx.execute("UPDATE luotto_stat_cases SET decided_on = :on, outcome = :outcome, grounds = :grounds, "
                       "household = :household, days = :days WHERE case_uuid = :ref",
                       {"ref": str(event.originator_id), "on": event.effective_date.isoformat(), "days": days,
                        "outcome": event.outcome, "grounds": json.dumps(sorted(set(event.grounds))),
                        "household": looked_up})
        elif isinstance(event, cev.ApplicationWithdrawn):
            tx.execute("UPDATE luotto_stat_cases SET withdrawn_on = :on WHERE case_uuid = :ref",
                       {"ref": str(event.originator_id), "on": event.effective_date.isoformat()})
        elif isinstance(event, ev.LoanGranted):
            household = UNKNOWN
            if event.decision_reference:  # granted on an application: its household, as decided
                case = tx.execute("SELECT household FROM luotto_stat_cases WHERE tenant = :tenant AND "
                                  "application_id = :app AND outcome = 'granted'",
                                  {"tenant": event.tenant, "app": event.decision_reference}).one()
                household = case["household"] if case else UNKNOWN
            row = {"ref": str(event.originator_id), "tenant": event.tenant, "loan_id": event.loan_id,
                   "on": event.effective_date.isoformat(), "principal": _cents(event.principal),
                   "purpose": purpose_class(event.purpose_class), "age": looked_up, "household": household}
            added = tx.execute("INSERT INTO luotto_stat_loans (loan_uuid, tenant, loan_id, granted_on, principal, "
                               "purpose_class, age_band, household) VALUES (:ref, :tenant, :loan_id, :on, :principal, "
                               ":purpose, :age, :household) ON CONFLICT (loan_uuid) DO NOTHING RETURNING loan_uuid",
                               row).all()
            if added:  # a grant delivered again is counted once
                tx.execute(UPSERT_GRANT_DAY, row)
        elif isinstance(event, LendingCapital.CapitalRecorded):
            tx.execute("INSERT INTO luotto_stat_sources (ref, tenant, day, source, amount) VALUES (:ref, :tenant, "
                       ":day, :source, :amount) ON CONFLICT (ref) DO NOTHING",
                       {"ref": f"{event.originator_id}:{event.originator_version}", "tenant": looked_up,
                        "day": event.effective_date.isoformat(), "amount": _cents(event.amount),
                        "source": source_key(event.source, event.decision_number)})
        elif isinstance(event, ev.RepaymentDeferred) and event.kind == "free_months":
            self._fact(tx, event, "free_months", 0, str(event.months or 0))
        elif type(event) in COUNTED:
            self._fact(tx, event, *COUNTED[type(event)](event))

    @staticmethod
    def _fact(tx, event, kind: str, amount: int, detail: str) -> None:
        loan = tx.execute("SELECT tenant FROM luotto_stat_loans WHERE loan_uuid = :ref",
                          {"ref": str(event.originator_id)}).one()
        tx.execute("INSERT INTO luotto_stat_facts (ref, tenant, loan_uuid, kind, day, amount, detail) VALUES "
                   "(:ref, :tenant, :loan, :kind, :day, :amount, :detail) ON CONFLICT (ref) DO NOTHING",
                   {"ref": f"{event.originator_id}:{event.originator_version}", "tenant": loan["tenant"],
                    "loan": str(event.originator_id), "kind": kind, "day": event.effective_date.isoformat(),
                    "amount": amount, "detail": detail})
