"""The aggregate cache's copies (adapters.eventsourcing_internals.repository.share_state_copy) share the cached
aggregate's attribute values, which is sound only while commands and events give attributes new
values instead of changing the old ones in place. The loan is checked over random histories in
test_properties.py; these are the organiser's register, the payment marker and the run log."""
from __future__ import annotations

import copy
import datetime as dt

from adapters.eventsourcing_internals.repository import share_state_copy
from domain.policy import make_policy
from domain.register import Exposure, GrantRegister, PaymentMarker, RunLog

AT = dt.datetime(2025, 3, 1, 10, tzinfo=dt.timezone.utc)


def _commanded_copy_leaves_original(aggregate, command) -> None:
    before = copy.deepcopy(vars(aggregate))
    twin = share_state_copy(aggregate)
    command(twin)
    assert twin.version > aggregate.version and twin.pending_events  # the command did record
    assert vars(aggregate) == before
    assert not aggregate.pending_events


def test_a_grant_on_a_copy_of_the_register_leaves_the_register_as_it_was():
    register = GrantRegister.open("t1", make_policy("default"))
    register.register_grant(loan_id="L1", borrower_id="B1", principal=100_000, granted_on=dt.date(2025, 1, 2),
                            exposure=Exposure())
    register.collect_events()
    _commanded_copy_leaves_original(register, lambda r: r.register_grant(
        loan_id="L2", borrower_id="B2", principal=50_000, granted_on=dt.date(2025, 1, 3), exposure=Exposure()))


def test_an_allocation_on_a_copy_of_a_payment_marker_leaves_the_marker_as_it_was():
    marker = PaymentMarker.register(tenant="t1", payment_id="p1", content={"amount": "10.00"}, loan_id=None)
    marker.collect_events()
    _commanded_copy_leaves_original(marker, lambda m: m.allocate("L1", "caseworker-1"))


def test_a_run_recorded_on_a_copy_of_the_run_log_leaves_the_log_as_it_was():
    log = RunLog.start("t1")
    log.collect_events()
    _commanded_copy_leaves_original(log, lambda r: r.record(
        business_date=dt.date(2025, 3, 1), started_at=AT, finished_at=AT, loans_examined=1, events_recorded=1,
        failures=[]))
