"""R-DATA-8 on SQLite: a snapshot is accepted only with this deployment's key; after the signing key
is rotated the old snapshots are ignored (replays stay right), reported by verify, and removed by
migrate, after which new snapshots are taken and verify is clean."""
from __future__ import annotations

import base64
import datetime as dt

from adapters.settings import Settings
from application.container import Container
from application.evidence import verify_snapshots
from domain.loan import Decision
from tests.support.clock import Clock


def _container(tmp_path, key: bytes) -> Container:
    return Container.build(Settings(database_url=f"sqlite:///{tmp_path}/luotto.sqlite", snapshot_interval=2,
                                    signing_key=base64.b64encode(key).decode(), notice_store=str(tmp_path / "n"),
                                    tenants={"k": {"preset": "kittila"}}))


def test_snapshots_under_a_rotated_key_are_ignored_reported_and_removed(tmp_path):
    old = _container(tmp_path, bytes(32))
    old.service.clock = Clock(dt.date(2025, 1, 15))
    old.service.grant(tenant="k", loan_id="L-1", borrower_id="B-1", purpose="vuokra", principal=60000,
                      granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 10), instalment_amount=10000,
                      decision=Decision("dm-1", "ok"))
    for n in range(3):
        old.service.post_payment(tenant="k", payment_id=f"p{n}", amount=100, value_date=dt.date(2025, 1, 15),
                                 on=dt.date(2025, 1, 15), loan_id="L-1")
    head = old.service.loan("k", "L-1").hash_head
    checked, problems = verify_snapshots(old.service)
    assert checked >= 2 and problems == []
    old.close()

    new = _container(tmp_path, bytes(range(32)))  # the key rotated; Container.build migrates
    try:
        assert new.service.loan("k", "L-1").hash_head == head
        assert verify_snapshots(new.service) == (0, [])  # migrate removed those it cannot verify
        new.service.clock = Clock(dt.date(2025, 1, 16))
        for n in (8, 9):  # versions 5 and 6: a new snapshot at 6
            new.service.post_payment(tenant="k", payment_id=f"p{n}", amount=100, value_date=dt.date(2025, 1, 16),
                                     on=dt.date(2025, 1, 16), loan_id="L-1")
        checked, problems = verify_snapshots(new.service)
        assert checked >= 1 and problems == []
    finally:
        new.close()
