"""The grant register keeps counts and sums, not the loans (class_version 2, R-MIG-4)."""
from __future__ import annotations

import datetime as dt

from eventsourcing.domain import Snapshot

from domain.policy import make_policy
from domain.register import Exposure, GrantRegister, register_id


def test_a_snapshot_of_class_version_1_loads_as_counts_and_sums_with_the_books_still_to_open():
    """A register snapshotted when it held every loan: the loans become the count, the principal
    total and the first grant date, and BooksOpened is still due (application.grant_books)."""
    state = {"tenant": "t", "policy": make_policy("kittila").to_json(), "granted_by_year": {"2024": 450000},
             "loans": {"L-1": {"borrower_id": "B-1", "principal": "1200.00", "sequence": 1,
                               "granted_on": dt.date(2024, 5, 2), "co_borrower_id": None},
                       "L-2": {"borrower_id": "B-2", "principal": "3300.00", "sequence": 2,
                               "granted_on": "2024-03-01", "co_borrower_id": "B-3"}}}
    snapshot = Snapshot(originator_id=register_id("t"), originator_version=3, timestamp=Snapshot.create_timestamp(),
                        topic="domain.register:GrantRegister", state=state)
    register = snapshot.mutate(None)
    assert (register.count, register.principal_total, register.first_granted_on, register.books_opened) == (
        2, 450000, dt.date(2024, 3, 1), False)
    assert not hasattr(register, "loans") and register.version == 3
    register.open_books(2)
    register.open_books(2)  # once
    assert [type(e).__name__ for e in register.collect_events()] == ["BooksOpened"] and register.books_opened
    # The next grant takes the next number, and the capital in use counts both loans in full.
    assert register.register_grant(loan_id="L-3", borrower_id="B-4", principal=10000, granted_on=dt.date(2025, 1, 2),
                                   exposure=Exposure.of(register, [], {}, 0)) == 3
    assert Exposure.of(register, [], {}, 120000).total == 340000  # L-1 repaid: 3,300.00 + 100.00 in use


def test_a_register_opened_now_has_its_books_from_the_start():
    register = GrantRegister.open("t", make_policy("kittila"))
    assert register.books_opened and (register.count, register.principal_total) == (0, 0)
    register.open_books(0)
    assert [type(e).__name__ for e in register.collect_events()] == ["Opened"]
