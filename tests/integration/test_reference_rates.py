"""Reference rates as data (R-PEN-4, issue 16): an administrator records a half-year's rate with its
source; loans that follow the rate change at the half-year; replays use the rates known at the time;
the read models compute again only the loans whose figures change. PostgreSQL and SQLite.

The shipped table ends with 2.50 % from 1 Jan 2026, carried forward. A loan following the reference
rate (margin 0.00): 1000.00 granted 1 Jun 2026, 500.00 due 1 Jul and 1 Aug 2026. Instalment 2's
interest part: 31 days × 500.00 × rate / 365: 1.0616… → 1.06 at 2.50 %, 0.849… → 0.85 at 2.00 %.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from domain.errors import DomainError
from domain.interest import InterestTerms
from domain.loan import Decision, loan_uuid
from tests.integration.helpers import TENANT, Clock, stack  # noqa: F401 - stack is a fixture

D = dt.date.fromisoformat
SOURCE = "Suomen Pankki, viitekorko 1.7.2026 (test figure)"


def grant(service, loan_id: str, interest: dict | None) -> None:
    service.grant(tenant=TENANT, loan_id=loan_id, borrower_id=f"B-{loan_id}", purpose="rent arrears",
                  principal=100000, granted_on=D("2026-06-01"), first_due_date=D("2026-07-01"),
                  instalment_amount=50000, decision=Decision("dm", "grant"),
                  interest=InterestTerms.from_json(interest))


def second_interest_part(service, loan_id: str, rates=None) -> int:
    loan = service.loan(TENANT, loan_id)
    return loan.books(rates or service.rates).position(D("2026-08-01")).instalment(2).interest


def test_r_pen_4_a_recorded_rate_applies_from_its_half_year_and_replays_use_what_was_known(stack):
    clock = Clock()
    clock.set_day(D("2026-06-01"))
    main = stack.container(clock, tenants={TENANT: {"preset": "default"}})
    grant(main.service, "L-REF", {"kind": "reference", "margin": "0.00"})
    before = clock()
    assert second_interest_part(main.service, "L-REF") == 106

    clock.set_day(D("2026-07-02"))
    written = main.service.rate_source.record(starts=D("2026-07-01"), rate="2.00", source=SOURCE, recorded_by="admin")
    assert written.position is not None
    assert second_interest_part(main.service, "L-REF") == 85
    # Another process on the same database sees it (after its refresh interval, forced here).
    other = stack.container(Clock(), tenants={TENANT: {"preset": "default"}})
    other.service.rate_source.refresh()
    assert second_interest_part(other.service, "L-REF") == 85
    # As known before the rate was recorded, the old table (R-PEN-4: a calculation is never changed
    # afterwards by a rate not known when it was made).
    assert second_interest_part(main.service, "L-REF", main.service.rate_source.known_at(before)) == 106
    # Recording the same rate again changes nothing; a different one needs a correction reason.
    assert main.service.rate_source.record(starts=D("2026-07-01"), rate="2.00", source=SOURCE,
                                           recorded_by="admin").position is None
    with pytest.raises(DomainError) as refused:
        main.service.rate_source.record(starts=D("2026-07-01"), rate="2.10", source=SOURCE, recorded_by="admin")
    assert (refused.value.rule, refused.value.field) == ("R-PEN-4", "correction_reason")
    with pytest.raises(DomainError) as refused:
        main.service.rate_source.record(starts=D("2026-08-01"), rate="2.10", source=SOURCE, recorded_by="admin")
    assert refused.value.field == "from"


def test_r_pen_4_a_new_rate_recomputes_only_the_loans_whose_figures_change(stack):
    clock = Clock()
    clock.set_day(D("2026-06-01"))
    main = stack.container(clock, tenants={TENANT: {"preset": "default"}})
    grant(main.service, "L-REF", {"kind": "reference", "margin": "0.00"})
    grant(main.service, "L-FREE", None)
    clock.set_day(D("2026-07-10"))
    # Instalment 1 paid on its due date (posted 10 Jul), so the read model's row is as of 10 Jul.
    main.service.post_payment(tenant=TENANT, payment_id="p1", amount=50205, value_date=D("2026-07-01"),
                              on=D("2026-07-10"), loan_id="L-REF")
    main.read_model.catch_up()
    loans: dict = {}
    main.read_model._rate_changed(loans)
    assert set(loans) == {loan_uuid(TENANT, "L-REF")}  # interest-free and current: nothing changes
    main.service.rate_source.record(starts=D("2026-07-01"), rate="2.00", source=SOURCE, recorded_by="admin")
    main.read_model.catch_up()
    with main.read_model.store.transaction() as tx:
        row = tx.execute("SELECT interest_kind, interest_accrued FROM luotto_loans WHERE loan_id = 'L-REF'").one()
    # As of 10 Jul: 9 days on 500.00 (less a cent paid ahead) at 2.00 % (0.246…) → 0.25 (2.50 %: 0.31).
    assert (row["interest_kind"], row["interest_accrued"]) == ("reference", 25)


def test_reference_rates_through_the_api_and_the_cli(tmp_path):
    from fastapi.testclient import TestClient

    from adapters.settings import Settings
    from api.app import create_app
    from tests.support.auth import TestIssuer

    issuer = TestIssuer(tmp_path / "oidc")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/luotto.sqlite", signing_key_file=str(tmp_path / "key"),
                        tenants={"t1": {"preset": "default"}}, notice_store=str(tmp_path / "notices"),
                        notice_print_folder=str(tmp_path / "print"), **issuer.settings_kwargs())
    with TestClient(create_app(settings)) as client:
        admin = {"Authorization": f"Bearer {issuer.token('t1', ['admin'])}"}
        body = {"from": "2026-07-01", "rate": "2.00", "source": SOURCE, "recorded_by": "admin-1"}
        assert client.post("/v1/reference-rates", json=body, headers=admin).status_code == 201
        again = client.post("/v1/reference-rates", json=body, headers=admin)
        assert again.status_code == 201 and again.json()["position"] is None
        changed = client.post("/v1/reference-rates", json={**body, "rate": "2.25"}, headers=admin)
        assert (changed.status_code, changed.json()["field"]) == (422, "correction_reason")
        listed = client.get("/v1/reference-rates", headers=admin).json()["items"]
        assert {"from": "2026-07-01", "rate": "2.00", "source": SOURCE, "recorded": True} in listed
        reader = {"Authorization": f"Bearer {issuer.token('t1', ['caseworker'])}"}
        assert client.post("/v1/reference-rates", json=body, headers=reader).status_code == 403
    env = {**os.environ, "LUOTTO_DATABASE_URL": f"sqlite:///{tmp_path}/luotto.sqlite",
           "LUOTTO_TENANTS": json.dumps({"t1": {"preset": "default"}}),
           "LUOTTO_SIGNING_KEY_FILE": str(tmp_path / "key")}
    luotto = str(Path(sys.executable).parent / "luotto")
    done = subprocess.run([luotto, "reference-rate", "record", "2027-01-01", "1.75", "--source", SOURCE, "--by", "cli"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert {"from": "2027-01-01", "rate": "1.75", "source": SOURCE, "recorded": True} in rows
    bad = subprocess.run([luotto, "reference-rate", "record", "2027-02-01", "1.75", "--source", SOURCE, "--by", "cli"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "from" in bad.stderr
