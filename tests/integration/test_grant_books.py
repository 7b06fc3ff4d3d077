"""A grant register written before its borrowers' books existed (class_version 1) opens them once,
whichever process reads it first, on both stores (application/grant_books.py, R-PORT-1, R-MIG-4)."""
from __future__ import annotations

import datetime as dt

from domain.policy import make_policy
from domain.register import Exposure, GrantRegister, register_id
from tests.integration.helpers import Stack, stack  # noqa: F401 - fixture

TENANTS = {"kt": {"preset": "kittila"}}


def old_register(service, grants: int) -> int:
    """`grants` grants recorded as class_version 1 did: the Opened event without books_opened."""
    register = GrantRegister._create(GrantRegister.Opened, id=register_id("kt"), tenant="kt",
                                     policy=make_policy("kittila").to_json())
    for n in range(1, grants + 1):
        register.register_grant(loan_id=f"L-{n}", borrower_id=f"B-{n % 7}", principal=100000,
                                granted_on=dt.date(2024, 1, 2) + dt.timedelta(days=n), exposure=Exposure(),
                                checked=False)
    service.save(register)
    return register.version


def test_books_open_once_also_when_their_event_falls_on_a_snapshot_version(stack: Stack):  # noqa: F811
    """BooksOpened at version 100: the save itself snapshots the register there (every 100th
    version), and the snapshot taken after opening the books must not fail on it."""
    first = stack.container(tenants={})  # the tables, and no organiser configured yet
    assert old_register(first.service, 98) == 99
    c = stack.container(tenants=TENANTS)  # configuring the organiser opens the books
    register = c.service.register("kt")
    assert (register.books_opened, register.version, register.count) == (True, 100, 98)
    assert [s.originator_version for s in c.service.snapshots.get(register_id("kt"))] == [100]
    assert c.service.loans_of_borrower("kt", "B-3") == [f"L-{n}" for n in sorted(range(3, 99, 7), key=str)]
    again = stack.container(tenants=TENANTS)  # another process: nothing more to record
    assert again.service.register("kt").version == 100
