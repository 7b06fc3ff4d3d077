"""When servicing runs: APScheduler used only as a daily trigger; each run first catches up every
business date since the last completed one, in order (R-ACC-4)."""
from __future__ import annotations

import datetime as dt
import threading

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from adapters.metrics import SERVICING_RUNS
from adapters.persistence import eventsourcing_env
from adapters.run_lock import servicing_lock
from domain.dates import days

log = structlog.get_logger("luotto.scheduler")


def dates_to_run(last_completed: dt.date | None, first_grant: dt.date | None, today: dt.date) -> list[dt.date]:
    """Every date after the last completed run up to today; a new organiser starts at its first grant.
    A run log already at or beyond today (a run recorded for a later date) leaves nothing to run."""
    if last_completed is not None and last_completed >= today:
        return []
    start = last_completed + days(1) if last_completed else (first_grant or today)
    start = min(start, today + days(1))
    return [start + days(i) for i in range((today - start).days + 1)]


class DailyServicing:
    def __init__(self, container, at: str = "06:00"):
        self.container = container
        self.hour, self.minute = (int(x) for x in at.split(":"))
        self._lock = threading.Lock()  # one run at a time in this process
        self._scheduler: BackgroundScheduler | None = None

    def catch_up(self, today: dt.date | None = None) -> list[dict]:
        """Run every date still due for every organiser, oldest first, unless another process is
        running them (then this one does nothing: the other catches up every date)."""
        service, today, done = self.container.service, today or self.container.today(), []
        with self._lock, servicing_lock(eventsourcing_env(self.container.settings)) as held:
            if not held:
                SERVICING_RUNS.labels("skipped").inc()
                log.info("servicing_skipped", reason="another process holds the servicing lock")
                return done
            for tenant in self.container.settings.tenants:
                done += self._catch_up_organiser(tenant, today)
        return done

    def _catch_up_organiser(self, tenant: str, today: dt.date) -> list[dict]:
        """One organiser's due dates. A failure sets the organiser aside (its run log stays where it
        was, so the next catch-up retries the same date) and the other organisers still run."""
        service, aside, done = self.container.service, self.container.read_model.set_aside, []
        ref = f"organiser:{tenant}"
        try:
            for day in dates_to_run(service.last_run_date(tenant), service.first_grant_date(tenant), today):
                summary = self.container.servicing.run(tenant, day)
                log.info("servicing_run", tenant=tenant, **{k: v for k, v in summary.items() if k != "failures"},
                         failures=len(summary["failures"]))
                done.append({"tenant": tenant, **summary})
            for row in aside.due("digest", tenant=tenant):  # a digest set aside by an earlier run
                self.container.servicing.sign_digest(tenant, dt.date.fromisoformat(row["ref"].rpartition("/")[2]))
        except Exception as e:  # noqa: BLE001 - one organiser must not stop the others or the scheduler
            aside.record("servicing", ref, tenant=tenant, item=f"servicing of organiser {tenant}", error=e)
            return done
        aside.clear("servicing", ref)
        return done

    def running(self) -> bool:
        """Whether the daily trigger is alive: the scheduler runs and still holds the daily job."""
        scheduler = self._scheduler
        return scheduler is not None and scheduler.running and scheduler.get_job("daily-servicing") is not None

    def start(self) -> None:
        self._scheduler = BackgroundScheduler(timezone="Europe/Helsinki")
        self._scheduler.add_job(self._catch_up_logged, CronTrigger(hour=self.hour, minute=self.minute,
                                                           timezone="Europe/Helsinki"),
                                coalesce=True, misfire_grace_time=None, max_instances=1, id="daily-servicing")
        self._scheduler.start()
        threading.Thread(target=self._catch_up_logged, name="servicing-catch-up", daemon=True).start()

    def _catch_up_logged(self) -> None:
        try:
            self.catch_up()
        except Exception:  # noqa: BLE001 - e.g. the database is away at start: the daily job tries again
            log.exception("servicing_catch_up_failed")

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
