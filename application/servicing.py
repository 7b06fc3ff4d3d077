"""The daily servicing run (R-LATE, R-REM, R-ACC): one loan, many loans, and an organiser's run
for a business date with its run log, set-aside failures and signed digest."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from adapters.metrics import EVENTS_APPENDED, SERVICING_DURATION, SERVICING_LOANS_FAILED, SERVICING_RUNS
from application import digest
from domain.corrections import is_correction
from domain.loan import loan_uuid
from domain.register import RunLog, run_log_id
from domain.servicing import next_action_date

log = structlog.get_logger("luotto.service")


class ServicingCommands:
    def service(self, tenant: str, loan_id: str, on: dt.date, *, letters: bool = True) -> int:
        """The daily servicing run for one loan and one business date (domain.servicing); `letters`
        False only when replaying a migrated history (R-MIG-2)."""
        summary = self.service_many(tenant, [loan_id], on, letters=letters)
        if summary["failures"]:  # one loan asked for by name: its failure is the caller's to see
            raise RuntimeError(f"servicing {loan_id} for {on} failed: {summary['failures'][0]['error']}")
        return summary["events_recorded"]

    def service_many(self, tenant: str, loan_ids: Iterable[str], on: dt.date, batch: int = 100, *,
                     letters: bool = True) -> dict:
        """Service many loans, saving a batch of them in one transaction. One failing loan does not
        stop the others: it is reported, and retried by the next run. `next_dates` gives each
        serviced loan's next agenda date."""
        examined, recorded, failures, next_dates, corrected = 0, 0, [], {}, []
        ids = list(loan_ids)
        for start in range(0, len(ids), batch):
            loans = []
            chunk = ids[start:start + batch]
            loaded = self.repository.get_many([loan_uuid(tenant, lid) for lid in chunk])  # one query
            for lid in chunk:
                examined += 1
                try:
                    loan = loaded.get(loan_uuid(tenant, lid)) or self.loan(tenant, lid)  # not found: raises
                    books = loan.books(self.rates, self.notice_hasher)  # its positions serve both below
                    if loan.service(on=on, recorded_at=self.clock(), rates=self.rates,
                                    notice_hasher=self.notice_hasher, letters=letters, books=books):
                        loans.append(loan)
                        corrected += [{"loan_id": lid, "event": type(e).__name__, "version": e.originator_version}
                                      for e in loan.pending_events if is_correction(e)]
                    next_dates[lid] = next_action_date(books.without_letters(), on)
                except Exception as e:  # noqa: BLE001 - one loan's failure must not stop the run
                    log.exception("loan_servicing_failed", tenant=tenant, loan_id=lid, business_date=on.isoformat())
                    failures.append({"loan_id": lid, "error": f"{type(e).__name__}: {e}"})
            pending = sum(len(loan.pending_events) for loan in loans)
            try:
                self.save(*loans)
                recorded += pending
                EVENTS_APPENDED.inc(pending)
            except RecordConflictError:
                # A concurrent command touched one of them: redo this batch loan by loan.
                for loan in loans:
                    recorded += self.write(lambda lid=loan.loan_id: self._serviced(tenant, lid, on)).result
        return {"business_date": on.isoformat(), "loans_examined": examined, "events_recorded": recorded,
                "failures": failures, "corrections": corrected, "next_dates": next_dates}

    def _serviced(self, tenant: str, loan_id: str, on: dt.date) -> list:
        loan = self.loan(tenant, loan_id)
        loan.service(on=on, recorded_at=self.clock(), rates=self.rates, notice_hasher=self.notice_hasher)
        return [loan]

    def run_servicing(self, tenant: str, business_date: dt.date) -> dict:
        """The daily run for one organiser and date over the loans its agenda names, recorded in its
        run log. Running a date again records nothing new on the loans (idempotent per loan and date)."""
        started = self.clock()
        if self.read_model is not None:
            self.read_model.catch_up()  # so that the agenda knows every loan granted so far
            due = self.read_model.due_loans(tenant, business_date)
        else:
            due = [(lid, None) for lid in self.loan_ids(tenant)]
        summary = self.service_many(tenant, [lid for lid, _ in due], business_date)
        next_dates = summary.pop("next_dates")
        if self.read_model is not None:
            self.read_model.reschedule(tenant, [(lid, was, next_dates[lid]) for lid, was in due
                                                if lid in next_dates])

        def record() -> list:
            try:
                run_log = self.repository.get(run_log_id(tenant))
            except AggregateNotFoundError:
                run_log = RunLog.start(tenant)
            run_log.record(business_date=business_date, started_at=started, finished_at=self.clock(),
                           loans_examined=summary["loans_examined"], events_recorded=summary["events_recorded"],
                           failures=summary["failures"])
            return [run_log]
        self.write(record)
        # R-APP-6: repayments may have freed capital, and offers may have run out of time.
        offers = self.process_waiting_list(tenant, business_date).result
        return {**summary, "started_at": started.isoformat(), **({"waiting_list": offers} if offers else {})}

    def first_grant_date(self, tenant: str) -> dt.date | None:
        """The grant date of the organiser's earliest loan: servicing has nothing to do before it."""
        return self.register(tenant).first_granted_on

    def last_run_date(self, tenant: str) -> dt.date | None:
        try:
            return self.repository.get(run_log_id(tenant)).last_date
        except AggregateNotFoundError:
            return None

    def runs(self, tenant: str, limit: int = 100) -> list[dict]:
        out = []
        if run_log_id(tenant) in self.repository:
            for event in self.events.get(run_log_id(tenant), desc=True, limit=limit):
                if isinstance(event, RunLog.RunRecorded):
                    out.append({"business_date": event.business_date.isoformat(), "started_at": event.started_at,
                                "finished_at": event.finished_at, "loans_examined": event.loans_examined,
                                "events_recorded": event.events_recorded, "failures": event.failures})
        return out


class DailyRuns:
    """An organiser's run for a business date as production makes it: the servicing, then the
    day's signed digest over every loan's chain head, with metrics. A loan the run could not
    service, and a digest that could not be signed, are set aside (projections/set_aside.py):
    listed by /readyz, counted and logged. A set-aside loan stays due, so every later run retries
    it; the digest is retried by the next run of the organiser."""

    def __init__(self, container):
        self.container = container

    def run(self, tenant: str, business_date: dt.date) -> dict:
        service, aside = self.container.service, self.container.read_model.set_aside
        with SERVICING_DURATION.time():
            try:
                summary = service.run_servicing(tenant, business_date)
            except Exception:
                SERVICING_RUNS.labels("failed").inc()
                raise
            failed = {f["loan_id"] for f in summary["failures"]}
            for failure in summary["failures"]:
                aside.record("servicing", f"loan:{tenant}/{failure['loan_id']}", tenant=tenant,
                             item=f"loan {failure['loan_id']} on {business_date}", error=failure["error"])
            for row in aside.due("servicing", tenant=tenant, limit=10_000):
                # Set aside by an earlier run and still due, so serviced by this one unless it failed again.
                if row["ref"].startswith("loan:") and row["ref"].partition("/")[2] not in failed:
                    aside.clear("servicing", row["ref"])
            summary["digest_root"] = self.sign_digest(tenant, business_date)
        SERVICING_RUNS.labels("completed").inc()
        SERVICING_LOANS_FAILED.inc(len(summary["failures"]))
        return summary

    def sign_digest(self, tenant: str, business_date: dt.date) -> str | None:
        """The day's digest root, or None when it could not be signed (then set aside until it is)."""
        aside = self.container.read_model.set_aside
        try:
            root = digest.take(self.container, tenant, business_date)["root"]
        except Exception as e:  # noqa: BLE001 - the run's events are recorded; the digest is retried
            aside.record("digest", f"digest:{tenant}/{business_date.isoformat()}", tenant=tenant,
                         item=f"digest of {business_date}", error=e)
            return None
        for row in aside.due("digest", tenant=tenant):  # this digest covers every earlier one's loans
            aside.clear("digest", row["ref"])
        return root
