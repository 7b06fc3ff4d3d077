"""Stored data keeps working: a database written by an earlier version loads, verifies and replays.

The fixture (tests/fixtures/stored/, made by generate.py there) was written by the code of commit
4e5f267, before the §8 corrections of issue 12: a SQLite file and a PostgreSQL dump holding every
event type, snapshots, read models, the outbox and the digests. Each later change keeps these
tests passing, or maps the old data explicitly and says so here.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import psycopg
import pytest

from adapters.settings import Settings
from api.deps import Container
from application.evidence import verify_store
from domain.loan import loan_uuid
from tests.integration.helpers import _postgres_url

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "stored"
TENANTS = {"kittila": {"preset": "kittila"}, "ek": {"preset": "etela-karjala"}}
EXPECTED = json.loads((FIXTURE / "expected.json").read_text())


def _settings(url: str, tmp_path: Path, schema: str | None = None) -> Settings:
    return Settings(database_url=url, postgres_schema=schema, tenants=TENANTS, postgres_pool_size=1,
                    notice_store=str(tmp_path / "notices"), notice_print_folder=str(tmp_path / "print"),
                    signing_key_file=str(tmp_path / "signing.key"))


@pytest.fixture(params=[pytest.param("sqlite", id="sqlite"),
                        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)])
def stored(request, tmp_path):
    """A container opened on a copy of the stored database, and the figures recorded beside it."""
    if request.param == "sqlite":
        copy = tmp_path / "stored.sqlite"
        shutil.copy(FIXTURE / "stored-v1.sqlite", copy)
        settings = _settings(f"sqlite:///{copy}", tmp_path)
    else:
        info = request.getfixturevalue("pg_schema")
        dump = (FIXTURE / "stored-v1.pg.sql").read_text()
        dump = dump.replace("CREATE SCHEMA luotto_stored_v1;", "").replace("luotto_stored_v1", info.schema)
        with psycopg.connect(info.dsn, autocommit=True) as conn:
            conn.execute(dump)
        settings = _settings(_postgres_url(info), tmp_path, info.schema)
    container = Container.build(settings)
    try:
        yield container, EXPECTED[request.param]
    finally:
        container.close()


def test_stored_chains_verify(stored):
    """R-EVID-2: every stored chain recomputes from the stored events alone."""
    container, expected = stored
    loans, broken = verify_store(container.service)
    assert broken == []
    assert loans == len(expected)


def test_stored_loans_replay_to_the_recorded_balances(stored):
    """Every loan loads (snapshots and events) at its stored version and head, with the balances
    recorded beside it by the version that wrote it."""
    container, expected = stored
    for key, figures in expected.items():
        tenant, loan_id = key.split("/")
        loan = container.service.loan(tenant, loan_id)
        assert (loan.version, loan.hash_head) == (figures["version"], figures["head"]), key
        stored_types = [type(e).__name__ for e in container.service.events.get(loan_uuid(tenant, loan_id))]
        assert stored_types == figures["types"], key
        books = loan.books(container.service.rates)
        for day, balance in figures["balances"].items():
            assert books.balance(dt.date.fromisoformat(day)) == balance, (key, day)


def test_stored_read_models_rebuild(stored):
    """The read models rebuild from the stored events and agree with the loans' heads."""
    container, expected = stored
    container.read_model.rebuild()
    with container.read_model.store.transaction() as tx:
        rows = tx.execute("SELECT tenant, loan_id, version, head FROM luotto_loans").all()
    assert {f"{r['tenant']}/{r['loan_id']}": (r["version"], r["head"]) for r in rows} == \
        {key: (f["version"], f["head"]) for key, f in expected.items()}


def test_fixture_covers_every_event_type():
    """The fixture is only worth keeping if it holds every event type the loan can record."""
    from domain.events import EVENT_TYPES

    stored_types = {t for figures in EXPECTED["sqlite"].values() for t in figures["types"]}
    before_issue_12 = set(EVENT_TYPES) - {"AccelerationLapseRevoked"}
    assert before_issue_12 <= stored_types
