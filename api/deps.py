"""The composition root: settings, the application service and the read model, wired once."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from adapters import immutability
from adapters.access_log import AccessLog
from adapters.personal_data import Borrowers
from adapters.run_lock import exclusive
from adapters.auth import Authenticator, Principal, Unauthenticated
from api.access import BY_KEY
from adapters.persistence import eventsourcing_env
from adapters.settings import Settings
from adapters.signing import Signer
from adapters.snapshots import drop_unverifiable
from adapters.metrics import SERVICING_DURATION, SERVICING_LOANS_FAILED, SERVICING_RUNS
from adapters.notices.store import PdfStore
from application import digest
from application.evidence import all_snapshots
from application.notices import NoticeDispatcher, NoticeRenderer
from application.bank_returns import PendingReturns
from application.personal_text import TextSealer
from application.service import LoanService
from domain.errors import DomainError
from domain.policy import make_policy
from projections.read_model import ReadModel
from projections.store import store_for

HELSINKI = ZoneInfo("Europe/Helsinki")


@dataclass
class Container:
    settings: Settings
    service: LoanService
    read_model: ReadModel
    signer: Signer
    auth: Authenticator
    access_log: AccessLog
    borrowers: Borrowers
    notices: "NoticeDispatcher | None" = None
    pending_returns: "PendingReturns | None" = None
    _borrower_of: dict = field(default_factory=dict)  # (tenant, loan_id) -> borrower_id: never changes

    @classmethod
    def build(cls, settings: Settings) -> "Container":
        env = eventsourcing_env(settings)
        signer = Signer.from_settings(settings)
        env["SNAPSHOT_MAC_KEY"] = signer.derived_key("snapshot-mac").hex()
        service = LoanService(env)
        service.snapshotting_intervals = {cls_: settings.snapshot_interval
                                          for cls_ in LoanService.snapshotting_intervals}
        read_model = ReadModel(service, store_for(env))
        service.read_model = read_model
        container = cls(settings, service, read_model, signer,
                        Authenticator(settings, read_model.store), AccessLog(read_model.store),
                        Borrowers(read_model.store))
        pdfs = PdfStore(settings.notice_store)
        service.notice_hasher = NoticeRenderer(container, pdfs)
        service.sealer = TextSealer(container.borrowers)
        container.notices = NoticeDispatcher(container, pdfs, notice_adapter(settings))
        container.pending_returns = PendingReturns(read_model.store)
        if settings.migrate:
            container.migrate()
        for tenant, spec in settings.tenants.items():
            service.configure_tenant(tenant, make_policy(spec.get("preset", "default"), spec.get("overrides")))
        return container

    def migrate(self) -> None:
        """Create every missing table and trigger, one process at a time (replicas start together)."""
        with exclusive(eventsourcing_env(self.settings), "migrate", wait=True):
            for store in (self.service.events, self.service.snapshots):
                if store is not None and hasattr(store.recorder, "create_table"):  # in memory: nothing to make
                    store.recorder.create_table()
            immutability.install(self.service)
            drop_unverifiable(self.service.snapshots, all_snapshots(self.service))
            self.read_model.setup()
            for part in (self.auth.api_keys, self.access_log, self.borrowers, self.notices.outbox,
                         self.pending_returns):
                part.setup()
            self.notices.outbox.strip_addressees(lambda tenant, loan_id: self.borrowers_of(tenant, [loan_id])
                                                 .get(loan_id))

    def borrowers_known(self, tenant: str, loan_ids: list[str]) -> dict | None:
        """Each loan's borrower when all are remembered (no I/O), else None."""
        try:
            return {lid: self._borrower_of[(tenant, lid)] for lid in loan_ids}
        except KeyError:
            return None

    def borrowers_of(self, tenant: str, loan_ids: list[str]) -> dict:
        """Each loan's borrower, from the organiser's grant register (every loan ever granted)."""
        found = self.borrowers_known(tenant, loan_ids)
        if found is not None:
            return found
        try:
            loans = self.service.register(tenant).loans
        except DomainError:
            return {}
        if len(self._borrower_of) > 200_000:
            self._borrower_of.clear()
        for lid in loan_ids:
            if lid in loans:
                self._borrower_of[(tenant, lid)] = loans[lid]["borrower_id"]
        return {lid: self._borrower_of.get((tenant, lid)) for lid in loan_ids}

    def run_servicing(self, tenant: str, business_date: dt.date) -> dict:
        """A servicing run, then the day's signed digest over every loan's chain head.

        A loan the run could not service, and a digest that could not be signed, are set aside
        (projections/set_aside.py): listed by /readyz, counted and logged. A set-aside loan stays
        due, so every later run retries it; the digest is retried by the next run of the organiser."""
        aside = self.read_model.set_aside
        with SERVICING_DURATION.time():
            try:
                summary = self.service.run_servicing(tenant, business_date)
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
        aside = self.read_model.set_aside
        try:
            root = digest.take(self, tenant, business_date)["root"]
        except Exception as e:  # noqa: BLE001 - the run's events are recorded; the digest is retried
            aside.record("digest", f"digest:{tenant}/{business_date.isoformat()}", tenant=tenant,
                         item=f"digest of {business_date}", error=e)
            return None
        for row in aside.due("digest", tenant=tenant):  # this digest covers every earlier one's loans
            aside.clear("digest", row["ref"])
        return root

    def today(self) -> dt.date:
        return self.service.clock().astimezone(HELSINKI).date()

    def close(self) -> None:
        self.service.close()
        self.read_model.store.close()


def notice_adapter(settings: Settings):
    """The delivery channel of notices: the print folder by default, Suomi.fi Messages if chosen."""
    if settings.notice_channel == "suomifi":
        from adapters.notices.suomifi import SuomiFiMessagesAdapter

        return SuomiFiMessagesAdapter(settings.suomifi_base_url, settings.suomifi_username,
                                      settings.suomifi_password, settings.suomifi_service_id)
    from adapters.notices.printfolder import PrintFolderAdapter

    return PrintFolderAdapter(settings.notice_print_folder)


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency on a worker
# thread, and each such hop costs more than the dependency itself.
async def container(request: Request) -> Container:
    return request.app.state.container


async def principal(request: Request, authorization: Annotated[str | None, Header(
        description="Bearer <OIDC access token> for people, Bearer <API key lk_…> for systems")] = None) -> Principal:
    """Who is calling. The organiser comes from the credential, never from the request."""
    c: Container = request.app.state.container
    try:
        found = c.auth.authenticate_cached(authorization)
        if found is None:  # needs a query or a key fetch: not on the event loop
            found = await run_in_threadpool(c.auth.authenticate, authorization)
    except Unauthenticated as e:
        raise DomainError("unauthenticated", str(e), field="Authorization") from None
    if found.tenant not in c.settings.tenants:
        raise DomainError("forbidden", f"the credential's organiser {found.tenant!r} is not served here")
    request.state.principal = found
    return found


async def tenant(who: Annotated[Principal, Depends(principal)]) -> str:
    return who.tenant


# What each permission lets a caller do, as a 403 says it ("roles [...] may not export evidence").
ACTIONS = {"read": "read loans", "hardship": "record hardships", "acceleration_notice": "send acceleration notices",
           "decision": "make decisions", "appeal": "file appeals", "payment": "post payments",
           "payment_admin": "allocate, reverse or refund payments", "evidence": "export evidence bundles",
           "audit": "read the audit records", "operations": "start servicing runs",
           "operations_read": "read servicing runs", "personal_data": "read or change personal data",
           "admin": "administer the service", "assess": "assess applications", "erasure": "erase personal data",
           "metrics": "read the metrics", "docs": "read the API description"}


async def authorise(request: Request, who: Annotated[Principal, Depends(principal)]) -> None:
    """Every /v1 router's dependency: the caller's roles must grant the permission api/access.py
    gives the route (R-DATA-6); a route missing from that table is refused to everyone."""
    route = BY_KEY.get((request.method, getattr(request.scope.get("route"), "path", "")))
    if route is None or route.permission == "public" or not who.may(route.permission):
        action = ACTIONS.get(route.permission, route.what) if route else "call a route missing from the access table"
        raise DomainError("forbidden", f"roles {sorted(who.roles) or '(none)'} may not {action}")


Authorised = Depends(authorise)


MAX_POSITION = 2**63 - 1  # a notification id is a BIGINT


async def fresh_reads(request: Request, min_position: Annotated[int | None, Query(
        ge=0, le=MAX_POSITION, description="wait (up to LUOTTO_READ_WAIT_SECONDS) until the read models include "
                                           "this write position (read-your-writes); the answer's `stale` says "
                                           "whether they did")] = None) -> None:
    """Awaited on the event loop (api/fresh.py): a waiting read holds no worker thread."""
    if min_position is None:
        return
    c: Container = request.app.state.container
    reached = await request.app.state.position_watch.wait(min_position, c.settings.read_wait_seconds)
    request.state.stale_read = not reached


def read_position(c: Container, request: Request) -> dict:
    """`position` of the read models an answer comes from, and `stale`: true when the read asked for a
    `min_position` they had not reached when its wait ended."""
    return {"position": c.read_model.position(), "stale": getattr(request.state, "stale_read", False)}


ContainerDep = Annotated[Container, Depends(container)]
WhoDep = Annotated[Principal, Depends(principal)]
TenantDep = Annotated[str, Depends(tenant)]
FreshReads = Depends(fresh_reads)
