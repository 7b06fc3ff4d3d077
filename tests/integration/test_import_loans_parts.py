"""R-MIG-4: a part of a long `luotto import-loans` file starts in a fresh process whose memory does
not depend on how many loans the organiser already has. Before, the part's process read every
snapshot row at its start (the migration's check of their MACs, among them one snapshot of the grant
register per 100 loans, each as big as the register then was) and folded the grant register three
times (configuring the organiser, its policy, the register's cursor), so the last part of a 3,000-loan
file peaked 20 MiB above a part of a 1,000-loan one (bench g). Measured here as Python allocations
(tracemalloc's peak), not time."""
from __future__ import annotations

import datetime as dt
import tracemalloc

from application.migration import open_part
from domain.policy import Policy
from domain.register import Exposure, register_id
from tests.integration.helpers import Stack, stack  # noqa: F401 - fixture

TEMPLATE = "deploy/import-loans-template.csv"
TENANTS = {"kt": {"preset": "kittila"}}


def grow_register(service, loans: int, start: int) -> None:
    """`loans` entries in the organiser's grant register as the import records them (no loans behind
    them: only the register's size matters here), a snapshot after each 100."""
    register = service.register("kt")
    for first in range(start, start + loans, 100):
        for n in range(first, min(first + 100, start + loans)):
            register.register_grant(loan_id=f"R-{n:05d}", borrower_id=f"B-{n:05d}", principal=360000,
                                    granted_on=dt.date(2022, 1, 10), exposure=Exposure(), checked=False)
        service.save(register)
        service.take_snapshot(register_id("kt"), version=register.version)


def part_start_peak(stack: Stack, policy: Policy) -> int:
    """Python bytes allocated at the peak while a part's process starts: its container, its import
    and the register's cursor (everything before its first loan)."""
    options = {"as_of": dt.date(2025, 6, 2), "instant": dt.datetime(2025, 6, 2, 9, tzinfo=dt.timezone.utc),
               "policy": policy.to_json()}
    tracemalloc.start()
    try:
        job, container = open_part(stack.settings(TENANTS), "kt", TEMPLATE, options)
        try:
            job.register()
            return tracemalloc.get_traced_memory()[1]
        finally:
            container.close()
    finally:
        tracemalloc.stop()


def test_r_mig_4_a_parts_start_does_not_grow_with_the_organisers_register(stack):  # noqa: F811 - the fixture
    c = stack.container(tenants=TENANTS)
    policy = c.service.policy("kt")
    grow_register(c.service, 20, 0)
    part_start_peak(stack, policy)  # warm: the first build imports and caches what every later one reuses
    small = part_start_peak(stack, policy)
    grow_register(c.service, 2000, 20)  # 2,020 loans, 20 snapshots of the register (about 3 MB in all)
    big = part_start_peak(stack, policy)
    assert big - small < 512 * 1024, f"a part's start took {(big - small) / 1024:.0f} KiB more at 2,020 loans"


def test_r_mig_4_the_grant_registers_snapshot_does_not_grow_with_its_loans(stack):  # noqa: F811 - the fixture
    """The register keeps counts and sums (class_version 2), each borrower's loans are in their own
    book: its snapshot, taken every 100 loans by the import and read by every grant, is as big at
    2,130 loans as at 130. Class_version 1 held every loan: 150 bytes more per loan."""
    c = stack.container(tenants=TENANTS)
    grow_register(c.service, 130, 0)
    register = c.service.register("kt")
    assert (register.version, register.count, register.principal_total) == (131, 130, 130 * 360000)
    small = newest_snapshot_bytes(c)
    grow_register(c.service, 2000, 130)
    assert c.service.register("kt").count == 2130
    assert newest_snapshot_bytes(c) - small < 64, (small, newest_snapshot_bytes(c))


def newest_snapshot_bytes(c) -> int:
    [stored] = c.service.snapshots.recorder.select_events(register_id("kt"), desc=True, limit=1)
    return len(stored.state)
