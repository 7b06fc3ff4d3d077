"""R-DATA-5 and R-DATA-8 on PostgreSQL as deploy/roles.sql sets it up (owner, application and
auditor roles, tests/integration/test_deploy.py's `deployment`):

- the access log and the signed digests cannot be edited, deleted or truncated by any of the three
  roles (the owner is stopped by triggers, the others also by missing privileges);
- the application role may insert rows into the snapshot table, but a snapshot it forges is not
  accepted (no valid MAC): the replay is unchanged, and `luotto verify` names it;
- the auditor role cannot read personal data or the sealing keys."""
from __future__ import annotations

import base64
import datetime as dt
import os
import subprocess

import psycopg
import pytest
from psycopg import sql

from adapters.eventsourcing_internals.snapshots import MAGIC
from application.container import Container
from application.evidence import verify_snapshots
from domain.loan import Decision, loan_uuid
from tests.integration.test_deploy import LUOTTO, SNAPSHOTS, Deployment, deployment  # noqa: F401 - fixture

RECORDS = ("luotto_access_log", "luotto_digests", "luotto_digest_log")
SIGNING_KEY = base64.b64encode(bytes(range(32))).decode()  # every process of the deployment shares it


def _app_container(d: Deployment) -> Container:
    return Container.build(d.settings(d.app).model_copy(update={"migrate": False, "snapshot_interval": 2,
                                                                "signing_key": SIGNING_KEY}))


def _seed(d: Deployment) -> None:
    """As the application role: a loan with snapshots, a digest, an access-log row."""
    c = _app_container(d)
    try:
        day = dt.date(2025, 1, 15)
        c.service.grant(tenant="t1", loan_id="L-1", borrower_id="B-1", purpose="vuokra", principal=120000,
                        granted_on=day, first_due_date=dt.date(2025, 2, 15), instalment_amount=10000,
                        decision=Decision("sw-1", "grant"))
        for n in range(3):
            c.service.post_payment(tenant="t1", payment_id=f"p-{n}", amount=1000, value_date=day, on=day,
                                   loan_id="L-1")
        c.servicing.run("t1", dt.date(2025, 2, 16))
        c.access_log.record(subject="cw-1", via="jwt", tenant="t1", loan_id="L-1", method="GET",
                            endpoint="/v1/loans/{loan_id}", status=200, request_id="r-1", borrower_id="B-1")
    finally:
        c.close()
    with d.connect(d.owner) as conn:  # a digest as an older version kept it (one per day)
        conn.execute("INSERT INTO luotto_digests SELECT tenant, business_date, position, count, root, signature, "
                     "public_key, signed_at, leaves FROM luotto_digest_log")


@pytest.mark.postgres
@pytest.mark.parametrize("statement", ["UPDATE {t} SET tenant = 'x'", "DELETE FROM {t}", "TRUNCATE {t}"])
def test_no_role_edits_deletes_or_truncates_the_access_log_or_the_digests(deployment: Deployment, statement: str):
    _seed(deployment)
    for role in (deployment.owner, deployment.app, deployment.auditor):
        with deployment.connect(role) as conn:
            for table in RECORDS:
                before = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
                with pytest.raises((psycopg.errors.RaiseException, psycopg.errors.InsufficientPrivilege,
                                    psycopg.errors.ReadOnlySqlTransaction)) as refused:
                    conn.execute(sql.SQL(statement.format(t="{}")).format(sql.Identifier(table)))
                if role == deployment.owner:  # the owner holds every privilege: the trigger refuses
                    assert isinstance(refused.value, psycopg.errors.RaiseException), (role, table)
                after = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
                assert after == before > 0, (role, table)
    for table in RECORDS:
        for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
            assert not deployment.privilege(deployment.app, table, privilege), (table, privilege)


@pytest.mark.postgres
def test_a_snapshot_forged_through_the_app_role_changes_no_replay_and_verify_names_it(deployment: Deployment):
    _seed(deployment)
    loan_id = loan_uuid("t1", "L-1")
    c = _app_container(deployment)
    try:
        honest = c.service.loan("t1", "L-1")
        assert verify_snapshots(c.service) == (verify_snapshots(c.service)[0], [])
        assert verify_snapshots(c.service)[0] >= 2
        with deployment.connect(deployment.app) as conn:
            row = conn.execute(sql.SQL("SELECT originator_version, topic, state FROM {} WHERE originator_id = %s "
                                       "ORDER BY originator_version DESC LIMIT 1").format(sql.Identifier(SNAPSHOTS)),
                               (loan_id,)).fetchone()
            forged_state = bytes(row[2]).replace(b'"principal":120000', b'"principal":1')
            assert forged_state != bytes(row[2])
            taken = {v for (v,) in conn.execute(sql.SQL("SELECT originator_version FROM {} WHERE originator_id = %s")
                                                 .format(sql.Identifier(SNAPSHOTS)), (loan_id,))}
            at = max(v for v in range(1, honest.version + 1) if v not in taken)
            # A later version than the latest real snapshot, so the repository would pick it; once
            # with the old tag (the state no longer matches it) and once with no tag at all.
            conn.execute(sql.SQL("INSERT INTO {} (originator_id, originator_version, topic, state) VALUES "
                                 "(%s, %s, %s, %s)").format(sql.Identifier(SNAPSHOTS)),
                         (loan_id, at, row[1], forged_state))
        replayed = c.service.repository.get(loan_id, version=honest.version)
        assert replayed.principal == 120000 and replayed.hash_head == honest.hash_head
        count, problems = verify_snapshots(c.service)
        assert any(f"version {at}" in p and "MAC does not verify" in p for p in problems), problems
        with deployment.connect(deployment.app) as conn:
            conn.execute(sql.SQL("INSERT INTO {} (originator_id, originator_version, topic, state) VALUES "
                                 "(%s, %s, %s, %s)").format(sql.Identifier(SNAPSHOTS)),
                         (loan_id, honest.version + 100, row[1], forged_state[len(MAGIC) + 32:]))
        assert c.service.loan("t1", "L-1", version=honest.version).principal == 120000
        assert any("no MAC" in p for p in verify_snapshots(c.service)[1])
    finally:
        c.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUOTTO_")}
    settings = deployment.settings(deployment.app)
    env.update(LUOTTO_DATABASE_URL=settings.database_url, LUOTTO_POSTGRES_SCHEMA=deployment.schema,
               LUOTTO_SIGNING_KEY=SIGNING_KEY, LUOTTO_MIGRATE="false", LUOTTO_TENANTS='{"t1": {}}')
    verified = subprocess.run([str(LUOTTO), "verify"], env=env, capture_output=True, text=True, timeout=120)
    assert verified.returncode == 1 and "snapshots do not match their events" in verified.stderr, verified.stderr


@pytest.mark.postgres
def test_the_auditor_role_reads_no_personal_data_or_keys(deployment: Deployment):
    c = _app_container(deployment)
    try:
        c.borrowers.put("t1", "B-1", name="Maija Meikäläinen", identity_code="131052-308T", address=["Katu 1"],
                        language="fi")
        c.borrowers.key("t1", "B-1", create=True)
    finally:
        c.close()
    with deployment.connect(deployment.auditor) as conn:
        for table in ("luotto_borrowers", "luotto_borrower_keys"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
        conn.execute("SELECT count(*) FROM luotto_notice_outbox")  # holds no personal data (R-DATA-1)
