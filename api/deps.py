"""The composition root: settings, the application service and the read model, wired once."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Header, Query, Request

from adapters import immutability
from adapters.persistence import eventsourcing_env
from adapters.settings import Settings
from adapters.signing import Signer
from application import digest
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

    @classmethod
    def build(cls, settings: Settings) -> "Container":
        env = eventsourcing_env(settings)
        service = LoanService(env)
        service.snapshotting_intervals = {cls_: settings.snapshot_interval
                                          for cls_ in LoanService.snapshotting_intervals}
        immutability.install(service)
        read_model = ReadModel(service, store_for(env))
        service.read_model = read_model
        for tenant, spec in settings.tenants.items():
            service.configure_tenant(tenant, make_policy(spec.get("preset", "default"), spec.get("overrides")))
        return cls(settings, service, read_model, Signer.from_settings(settings))

    def run_servicing(self, tenant: str, business_date: dt.date) -> dict:
        """A servicing run, then the day's signed digest over every loan's chain head."""
        summary = self.service.run_servicing(tenant, business_date)
        summary["digest_root"] = digest.take(self, tenant, business_date)["root"]
        return summary

    def today(self) -> dt.date:
        return self.service.clock().astimezone(HELSINKI).date()

    def close(self) -> None:
        self.service.close()
        self.read_model.store.close()


def container(request: Request) -> Container:
    return request.app.state.container


def tenant(request: Request, x_tenant: Annotated[str, Header(description="organiser (tenant) id")]) -> str:
    """The organiser every call is scoped to; an unknown one answers 404 like an unknown loan."""
    c: Container = request.app.state.container
    if x_tenant not in c.settings.tenants:
        raise DomainError("not_found", f"organiser {x_tenant!r} is not configured", field="X-Tenant")
    return x_tenant


def fresh_reads(request: Request, min_position: Annotated[int | None, Query(
        description="wait until the read models include this write position (read-your-writes)")] = None) -> None:
    c: Container = request.app.state.container
    c.read_model.wait_for(min_position, c.settings.read_wait_seconds)


ContainerDep = Annotated[Container, Depends(container)]
TenantDep = Annotated[str, Depends(tenant)]
FreshReads = Depends(fresh_reads)
