"""The grant register keeps counts and sums, not the loans (class_version 2, R-MIG-4)."""
from __future__ import annotations

import datetime as dt
import uuid

from eventsourcing.domain import Snapshot

from adapters.eventsourcing_internals.repository import _current
from domain.policy import make_policy
from domain.register import Exposure, GrantRegister, register_id


def registered_before_books() -> GrantRegister:
    """A register as class_version 1 recorded it: opened without books_opened (the field's default,
    as an old stored Opened event loads), two grants."""
    register = GrantRegister._create(GrantRegister.Opened, id=register_id("t"), tenant="t",
                                     policy=make_policy("kittila").to_json())
    for n, (principal, on) in enumerate(((120000, dt.date(2024, 5, 2)), (330000, dt.date(2024, 3, 1))), start=1):
        register.register_grant(loan_id=f"L-{n}", borrower_id=f"B-{n}", principal=principal, granted_on=on,
                                exposure=Exposure(), checked=False)
    return register


def test_an_old_register_folds_to_counts_and_sums_and_opens_its_books_once():
    register = registered_before_books()
    assert (register.count, register.principal_total, register.first_granted_on, register.books_opened) == (
        2, 450000, dt.date(2024, 3, 1), False)
    assert register.granted_by_year == {"2024": 450000} and not hasattr(register, "loans")
    register.open_books(2)
    register.open_books(2)  # once
    assert [type(e).__name__ for e in register.collect_events()][-1:] == ["BooksOpened"] and register.books_opened
    # The next grant takes the next number, and the capital in use counts both loans in full.
    assert register.register_grant(loan_id="L-3", borrower_id="B-4", principal=10000, granted_on=dt.date(2025, 1, 2),
                                   exposure=Exposure.of(register, [], {}, 0)) == 3
    assert Exposure.of(register, [], {}, 120000).total == 340000  # L-1 repaid: 3,300.00 + 100.00 in use


def test_a_snapshot_of_the_old_shape_is_not_used():
    """A class_version 1 snapshot held every loan; the repository folds the events instead."""
    old = Snapshot(originator_id=uuid.uuid4(), originator_version=3, timestamp=Snapshot.create_timestamp(),
                   topic="domain.register:GrantRegister", state={"tenant": "t", "loans": {}})
    new = Snapshot.take(registered_before_books())
    assert (_current(old), _current(new), new.state["class_version"]) == (False, True, 2)


def test_a_register_opened_now_has_its_books_from_the_start():
    register = GrantRegister.open("t", make_policy("kittila"))
    assert register.books_opened and (register.count, register.principal_total) == (0, 0)
    register.open_books(0)
    assert [type(e).__name__ for e in register.collect_events()] == ["Opened"]
