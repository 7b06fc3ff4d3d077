"""The composition root: settings, the application service, the read models and the adapters,
wired once. Every entry point (the HTTP API, the CLI, the scheduler, the projection worker)
builds its Container here; nothing else constructs adapters."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from adapters import immutability
from adapters.application_facts import ApplicationFacts
from adapters.access_log import AccessLog
from adapters.auth import Authenticator
from adapters.eventsourcing_internals.snapshots import drop_unverifiable
from adapters.notices.store import PdfStore
from adapters.personal_data import Borrowers
from adapters.persistence import eventsourcing_env
from adapters.run_lock import exclusive
from adapters.settings import Settings
from adapters.signing import Signer
from application.bank_returns import PendingReturns
from application.decision_letters import DecisionLetters
from application.evidence import all_snapshots
from application.notices import NoticeDispatcher, NoticeRenderer
from application.personal_text import TextSealer
from application.service import LoanService
from application.servicing import DailyRuns
from domain.policy import make_policy
from domain.statistics import age_band, birth_date
from projections.read_model import ReadModel
from projections.statistics import StatisticsModel
from adapters.sql_store import store_for

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
    servicing: "DailyRuns | None" = None
    letters: "DecisionLetters | None" = None
    statistics: "StatisticsModel | None" = None
    _borrower_of: dict = field(default_factory=dict)  # (tenant, loan_id) -> borrower_id: never changes

    @classmethod
    def build(cls, settings: Settings, *, prepare: bool = True) -> "Container":
        """`prepare` False: neither migrate nor configure the organisers, for a process of a command
        whose own process did both (a part of `luotto import-loans`): the migration reads every
        snapshot row and configuring folds each organiser's grant register, both as big as the store
        (application.migration, R-MIG-4)."""
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
        service.facts = ApplicationFacts(read_model.store)
        service.settings_tenants = settings.tenants  # the organisers' accounts for pain.001 (R-APP-8)
        service.letters = container.letters = DecisionLetters(container, pdfs)
        container.pending_returns = PendingReturns(read_model.store)
        container.servicing = DailyRuns(container)
        container.statistics = StatisticsModel(service, read_model.store, age_band=container.age_band,
                                               facts=service.facts.get)
        if prepare and settings.migrate:
            container.migrate()
        for tenant, spec in (settings.tenants if prepare else {}).items():
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
                         self.pending_returns, self.service.facts, self.statistics):
                part.setup()
            self.notices.outbox.strip_addressees(lambda tenant, loan_id: self.borrowers_of(tenant, [loan_id])
                                                 .get(loan_id))

    def age_band(self, tenant: str, borrower_id: str, on: dt.date) -> str:
        """R-STAT-1: the borrower's age band on a day, from the identity code (only the band is kept)."""
        found = self.borrowers.find(tenant, borrower_id)
        return age_band(birth_date(found.get("identity_code") if found else None), on)

    def borrowers_known(self, tenant: str, loan_ids: list[str]) -> dict | None:
        """Each loan's borrower when all are remembered or held by the service (no I/O), else None.
        A payment's loan is held: the payment was just recorded on it."""
        found = {}
        for lid in loan_ids:
            borrower = self._borrower_of.get((tenant, lid)) or self.service.borrower_held(tenant, lid)
            if borrower is None:
                return None
            found[lid] = borrower
        return found

    def remember_borrower(self, tenant: str, loan_id: str, borrower_id: str) -> None:
        """A handler that read the loan tells the access log its borrower (R-DATA-5), so logging the
        request needs no lookup in the grant register: that lookup is a database round trip on a
        worker thread, a quarter of a loan read's server CPU (bench part c)."""
        if len(self._borrower_of) > 200_000:
            self._borrower_of.clear()
        self._borrower_of[(tenant, loan_id)] = borrower_id

    def borrowers_of(self, tenant: str, loan_ids: list[str]) -> dict:
        """Each loan's borrower, from the read model, or from the loan itself when the read model has
        not seen it yet (None: no such loan)."""
        found = self.borrowers_known(tenant, loan_ids)
        if found is not None:
            return found
        wanted = [lid for lid in dict.fromkeys(loan_ids) if (tenant, lid) not in self._borrower_of]
        for lid, borrower in self.read_model.borrowers_of(tenant, wanted).items():
            self.remember_borrower(tenant, lid, borrower)
        for lid in wanted:
            if (tenant, lid) not in self._borrower_of:
                loan = self.service.existing_loan(tenant, lid)
                if loan is not None:
                    self.remember_borrower(tenant, lid, loan.borrower_id)
        return {lid: self._borrower_of.get((tenant, lid)) for lid in loan_ids}

    def today(self) -> dt.date:
        return self.service.clock().astimezone(HELSINKI).date()

    def close(self) -> None:
        self.service.close()
        self.read_model.store.close()


def notice_adapter(settings: Settings):
    """The delivery channel of notices: the print folder by default, Suomi.fi Messages if chosen."""
    if settings.notice_channel == "suomifi":
        from adapters.notices.suomifi import PaperMail, SuomiFiMessagesAdapter
        from adapters.notices.suomifi_password import PasswordFile

        password, kept = settings.suomifi_password, None
        if settings.suomifi_password_file:  # issue 20: rotated through the API, kept in this file
            kept = PasswordFile(settings.suomifi_password_file)
            password = kept.read() if kept.path.exists() else password
        adapter = SuomiFiMessagesAdapter(settings.suomifi_base_url, settings.suomifi_username, password,
                                         settings.suomifi_service_id, visibility=settings.suomifi_visibility,
                                         paper_mail=PaperMail.from_json(settings.suomifi_paper_mail))
        if kept is not None and kept.pending.exists():  # a rotation was interrupted: finish or undo it
            adapter.password = kept.current(adapter)
        return adapter
    from adapters.notices.printfolder import PrintFolderAdapter

    return PrintFolderAdapter(settings.notice_print_folder)


