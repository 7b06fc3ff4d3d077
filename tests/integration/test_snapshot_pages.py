"""Every process's migration checks the MAC of every stored snapshot (R-DATA-8), and `luotto verify`
checks each against its events. An aggregate that grows leaves snapshots that grow (one per 100
events, each as big as the aggregate then was), so all of them together grow with the square of its
size; they are read a page at a time (application.evidence.all_snapshots), and the migration's peak
does not follow their sum (R-MIG-4: until class_version 2 the grant register was such an aggregate,
and an import of 10,000 loans left about 77 MB of its snapshots)."""
from __future__ import annotations

import tracemalloc

from application import evidence
from application.evidence import all_snapshots, verify_snapshots
from tests.integration.helpers import Stack, stack  # noqa: F401 - fixture
from tests.integration.test_import_loans_parts import TENANTS


def grow_register(service, loans: int, start: int) -> None:
    """An aggregate that grows by about 150 bytes an entry, snapshotted every 100 entries, as the
    grant register of class_version 1 did: one person's book with `loans` more loans."""
    [book] = service.borrower_books("kt", ["B-many"])
    for first in range(start, start + loans, 100):
        for n in range(first, min(first + 100, start + loans)):
            book.add(f"R-{n:05d}-{'x' * 120}", 360000)
        service.save(book)
        service.take_snapshot(book.id, version=book.version)


def keys(service) -> list[tuple]:
    return [(s.originator_id, s.originator_version) for s in all_snapshots(service)]


def test_all_snapshots_in_pages_are_every_row_once_in_order(stack, monkeypatch):  # noqa: F811 - the fixture
    c = stack.container(tenants=TENANTS)
    grow_register(c.service, 1250, 0)  # 13 snapshots of the register, from 100 to 1,250 entries
    whole = keys(c.service)
    assert len(whole) == len(set(whole)) == 13
    assert whole == sorted(whole, key=lambda k: (str(k[0]) if stack.kind == "postgres" else k[0].hex, k[1]))
    monkeypatch.setattr(evidence, "SNAPSHOT_KEYS_PAGE", 4)  # four keys a query: the next page after the last
    monkeypatch.setattr(evidence, "SNAPSHOT_PAGE_BYTES", 50_000)  # a run of small rows, then the big ones alone
    assert keys(c.service) == whole
    assert verify_snapshots(c.service) == (13, [])


def migration_peak(c) -> int:
    tracemalloc.start()
    try:
        c.migrate()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_migrations_peak_does_not_follow_the_sum_of_the_snapshots(stack, monkeypatch):  # noqa: F811
    monkeypatch.setattr(evidence, "SNAPSHOT_PAGE_BYTES", 64 * 1024, raising=False)
    c = stack.container(tenants=TENANTS)
    grow_register(c.service, 20, 0)
    migration_peak(c)  # warm
    small = migration_peak(c)
    grow_register(c.service, 2000, 20)  # 20 snapshots, 3 MB in all, the biggest 300 KB
    big = migration_peak(c)
    assert big - small < 1536 * 1024, f"the migration took {(big - small) / 1024:.0f} KiB more at 2,020 loans"
