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
from application.container import Container
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
        for day, recorded in figures["balances"].items():
            now = books.balance(dt.date.fromisoformat(day))
            # Mapped explicitly: the balance has since gained the interest figures (issue 16); these
            # loans were interest-free, so each is zero.
            added = {k: now.pop(k) for k in ("interest_due", "interest_accrued", "interest_paid")}
            assert now == recorded, (key, day)
            assert set(added.values()) == {"0.00"}, (key, day)


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
    added_since = {"AccelerationLapseRevoked", "LoanDisbursed",  # issue 12, issue 16
                   "CollectionRecalled", "ClaimFiled", "JudgmentGiven", "EnforcementStarted"}  # issue 20
    assert set(EVENT_TYPES) - added_since <= stored_types


# --- Issue 12: the next servicing run corrects what the old §8 rules got wrong -----------------------

# Loans whose stored history holds a situation the corrected rules read differently, and the first
# correcting event the next run must record for each.
CORRECTED = {
    "kittila/L-HARD": ("AccelerationRevoked", "R-ACC-10"),    # hardship during the notice, then accelerated
    "kittila/L-CURE": ("AccelerationLapseRevoked", "R-ACC-7"),  # the cure's payment was reversed
    "kittila/L-TERMS": ("RepaymentTermsChanged", "R-TERMS-1"),  # a terms change reached back to instalment 3
    "ek/L-ROUND": ("AccelerationRevoked", "R-ACC-3"),        # 50.00 of 1000.08 is less than 5 %
    "ek/L-HOL": ("AccelerationRevoked", "R-ACC-6"),          # paid on the next banking day after Christmas
}
NEXT_DAY = dt.date(2026, 3, 1)  # the fixture's runs went up to 28 Feb 2026


def _new_events(container, key: str, figures: dict) -> list:
    tenant, loan_id = key.split("/")
    return list(container.service.events.get(loan_uuid(tenant, loan_id)))[figures["version"]:]


def test_the_next_run_records_a_correction_for_each_wrongly_treated_loan_and_nothing_else(stored):
    """A correction is a new event recorded by the next servicing run, never an edit; the chains
    still verify, a second run for the day records nothing, and the report lists every loan so
    corrected."""
    from application.rule_corrections import corrections
    from tests.integration.helpers import Clock

    container, expected = stored
    clock = Clock()
    clock.set_day(NEXT_DAY)
    container.service.clock = clock
    summaries = [container.servicing.run(tenant, NEXT_DAY) for tenant in TENANTS]
    for key, figures in expected.items():
        new = _new_events(container, key, figures)
        correcting = [e for e in new if type(e).__name__ in ("AccelerationRevoked", "AccelerationLapseRevoked",
                                                             "RepaymentTermsChanged")]
        if key not in CORRECTED:
            assert correcting == [], key
            continue
        event_type, rule = CORRECTED[key]
        assert type(correcting[0]).__name__ == event_type, key
        text = getattr(correcting[0], "reasons", None) or correcting[0].reason
        assert rule in text or event_type == "AccelerationLapseRevoked", (key, text)
        assert all(e.originator_version > figures["version"] for e in new)  # nothing stored was edited

    assert {f"{t}/{c['loan_id']}" for t, s in zip(TENANTS, summaries) for c in s["corrections"]} == set(CORRECTED)
    report = corrections(container.service)
    assert {f"{r['tenant']}/{r['loan_id']}" for r in report} == set(CORRECTED)
    assert verify_store(container.service)[1] == []
    again = [container.servicing.run(tenant, NEXT_DAY) for tenant in TENANTS]
    assert [s["events_recorded"] for s in again] == [0, 0]


def test_corrected_loans_read_as_the_act_says(stored):
    """What each correction means for the borrower, on the day after the correction."""
    from tests.integration.helpers import Clock

    container, _ = stored
    clock = Clock()
    clock.set_day(NEXT_DAY)
    container.service.clock = clock
    for tenant in TENANTS:
        container.servicing.run(tenant, NEXT_DAY)

    def balance(key: str) -> dict:
        tenant, loan_id = key.split("/")
        return container.service.loan(tenant, loan_id).books(container.service.rates).balance(NEXT_DAY)

    # Not accelerated any more: the hardship (R-ACC-10), the holiday (R-ACC-6) and the threshold (R-ACC-3).
    for key in ("kittila/L-HARD", "ek/L-HOL", "ek/L-ROUND"):
        assert balance(key)["status"] != "accelerated", key
    # The cure's money never arrived: the notice is pending again and took effect as notified.
    cure = [e for e in container.service.events.get(loan_uuid("kittila", "L-CURE")) if type(e).__name__ ==
            "LoanAccelerated"]
    assert [e.effective_date for e in cure] == [dt.date(2025, 7, 1)]
    assert balance("kittila/L-CURE")["status"] == "accelerated"
    # Instalment 3 of L-TERMS keeps its 100.00, paid on time; the change applies from instalment 4.
    loan = container.service.loan("kittila", "L-TERMS")
    plan = {i.number: i for i in loan.instalments()}
    assert (plan[3].amount, plan[3].due_date, plan[4].amount) == (10000, dt.date(2025, 4, 10), 15000)
    assert sum(i.amount for i in plan.values()) == 120000
    pos = loan.books(container.service.rates).position(NEXT_DAY)
    assert pos.instalment(3).settled_on == dt.date(2025, 4, 10)


# --- Issue 19: the grant register of class_version 1 held every loan; its borrowers' books open ------

def test_an_old_grant_register_opens_its_borrowers_books_and_still_refuses_a_second_open_loan(stored):
    """R-PORT-1 / R-MIG-4: the stored registers were written when the register held every loan (class
    version 1). Opening the organiser records BooksOpened once, with each stored grant in its
    borrower's book, so one open loan per borrower still holds for the loans granted before."""
    from domain.errors import DomainError
    from domain.loan import Decision
    from domain.register import GrantRegister, register_id

    container, expected = stored
    service = container.service
    for tenant in TENANTS:
        register = service.register(tenant)
        keys = sorted(k.split("/")[1] for k in expected if k.startswith(f"{tenant}/"))
        opened = [e for e in service.events.get(register_id(tenant)) if isinstance(e, GrantRegister.BooksOpened)]
        assert (register.books_opened, [e.loans for e in opened]) == (True, [len(keys)]), tenant
        [snapshot] = service.snapshots.get(register_id(tenant), desc=True, limit=1)  # the next reader starts here
        assert (snapshot.originator_version, snapshot.state["class_version"]) == (register.version, 2)
        assert (register.count, sorted(service.loan_ids(tenant))) == (len(keys), keys)
        for loan_id in keys:
            assert loan_id in service.loans_of_borrower(tenant, service.loan(tenant, loan_id).borrower_id)
    service.configure_tenant("kittila", service.policy("kittila"))  # once only, however often it is opened
    assert len([e for e in service.events.get(register_id("kittila")) if type(e).__name__ == "BooksOpened"]) == 1
    today = service.clock().date()
    def outstanding(loan_id: str) -> int:
        return service.loan("kittila", loan_id).books(service.rates).position(today).principal_outstanding

    open_loan = next(k.split("/")[1] for k in expected if k.startswith("kittila/") and outstanding(k.split("/")[1]))
    borrower = service.loan("kittila", open_loan).borrower_id
    with pytest.raises(DomainError) as refused:
        service.grant(tenant="kittila", loan_id="L-NEW", borrower_id=borrower, principal=50000, purpose="rent",
                      decision=Decision("dm", "x"), granted_on=today, first_due_date=today + dt.timedelta(days=30),
                      instalment_amount=10000)
    assert (refused.value.code, refused.value.field) == ("limit_exceeded", "borrower_id")
    assert open_loan in refused.value.message
