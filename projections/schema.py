"""The read models' tables (and the digests' records, which live beside them), and their setup:
when the derived tables' shape changes (READ_MODEL_SCHEMA), they are dropped and rebuilt from the
events."""
from __future__ import annotations

from adapters.sql_store import SqlStore, append_only
from projections.portfolio_sums import TABLE as PORTFOLIO_SUMS

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS luotto_loans (
        tenant TEXT NOT NULL, loan_id TEXT NOT NULL, borrower_id TEXT NOT NULL, status TEXT NOT NULL,
        principal BIGINT NOT NULL, principal_outstanding BIGINT NOT NULL, overdue_amount BIGINT NOT NULL,
        overdue_items TEXT NOT NULL, penalty_outstanding BIGINT NOT NULL, overpayment BIGINT NOT NULL,
        principal_waived BIGINT NOT NULL, penalty_waived BIGINT NOT NULL, written_off BIGINT NOT NULL,
        next_due_date TEXT, maturity_date TEXT NOT NULL, notice_pending INTEGER NOT NULL, cure_deadline TEXT,
        eligible_since TEXT, hardship_active INTEGER NOT NULL, reference TEXT, granted_on TEXT NOT NULL,
        as_of TEXT NOT NULL, version INTEGER NOT NULL, loan_uuid TEXT NOT NULL, head TEXT NOT NULL,
        interest_kind TEXT NOT NULL, interest_due BIGINT NOT NULL, interest_accrued BIGINT NOT NULL,
        interest_paid BIGINT NOT NULL, legal_status TEXT, PRIMARY KEY (tenant, loan_id))""",
    "CREATE INDEX IF NOT EXISTS luotto_loans_status ON luotto_loans (tenant, status)",
    # The work queue's lists and the portfolio's delinquency read only their own few rows, not every
    # loan of the organiser (issue 21: the console's pages with 100,000 loans).
    "CREATE INDEX IF NOT EXISTS luotto_loans_eligible ON luotto_loans (tenant, eligible_since) "
    "WHERE eligible_since IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS luotto_loans_notice ON luotto_loans (tenant, cure_deadline) WHERE notice_pending = 1",
    "CREATE INDEX IF NOT EXISTS luotto_loans_hardship ON luotto_loans (tenant, loan_id) WHERE hardship_active = 1",
    "CREATE INDEX IF NOT EXISTS luotto_loans_overdue ON luotto_loans (tenant) WHERE overdue_amount > 0",
    "CREATE INDEX IF NOT EXISTS luotto_loans_legal ON luotto_loans (tenant, loan_id) WHERE legal_status IS NOT NULL",
    PORTFOLIO_SUMS,  # the portfolio's running totals per organiser (issue 21)
    """CREATE TABLE IF NOT EXISTS luotto_unallocated (
        tenant TEXT NOT NULL, payment_id TEXT NOT NULL, amount BIGINT NOT NULL, value_date TEXT NOT NULL,
        reference TEXT, PRIMARY KEY (tenant, payment_id))""",
    "CREATE TABLE IF NOT EXISTS luotto_tracking (projection TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS luotto_agenda (
        tenant TEXT NOT NULL, loan_id TEXT NOT NULL, next_date TEXT, PRIMARY KEY (tenant, loan_id))""",
    "CREATE INDEX IF NOT EXISTS luotto_agenda_due ON luotto_agenda (tenant, next_date)",
    # Items set aside after a failure (projections/set_aside.py).
    "CREATE TABLE IF NOT EXISTS luotto_set_aside (kind TEXT NOT NULL, ref TEXT NOT NULL, tenant TEXT NOT NULL, "
    "item TEXT NOT NULL, error TEXT NOT NULL, first_failed TEXT NOT NULL, last_failed TEXT NOT NULL, "
    "attempts INTEGER NOT NULL, PRIMARY KEY (kind, ref))",
    # Signed digests are records, not derived data: a rebuild leaves them alone. luotto_digests held
    # one per day (replaced on a re-run); digests are now only ever added, to luotto_digest_log.
    """CREATE TABLE IF NOT EXISTS luotto_digests (
        tenant TEXT NOT NULL, business_date TEXT NOT NULL, position BIGINT NOT NULL, count INTEGER NOT NULL,
        root TEXT NOT NULL, signature TEXT NOT NULL, public_key TEXT NOT NULL, signed_at TEXT NOT NULL,
        leaves TEXT NOT NULL, PRIMARY KEY (tenant, business_date))""",
]
DIGEST_LOG = {
    "sqlite": "id INTEGER PRIMARY KEY AUTOINCREMENT",
    "postgres": "id BIGSERIAL PRIMARY KEY",
}
DIGEST_LOG_TABLE = """CREATE TABLE IF NOT EXISTS luotto_digest_log ({id},
    tenant TEXT NOT NULL, business_date TEXT NOT NULL, position BIGINT NOT NULL, count INTEGER NOT NULL,
    root TEXT NOT NULL, signature TEXT NOT NULL, public_key TEXT NOT NULL, signed_at TEXT NOT NULL,
    leaves TEXT NOT NULL)"""
APPEND_ONLY = ("luotto_digests", "luotto_digest_log")  # R-DATA-8: nobody deletes a signed digest


TABLES = ("luotto_loans", "luotto_unallocated", "luotto_tracking", "luotto_agenda", "luotto_portfolio_sums")
# The shape of the derived tables above; when it changes they are dropped and rebuilt from the events.
# 2: interest figures (issue 16).
# 3: luotto_loans.legal_status (issue 20).
READ_MODEL_SCHEMA = "4"  # 4: luotto_portfolio_sums (issue 21)
META = "CREATE TABLE IF NOT EXISTS luotto_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


def setup(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.execute(META)
        row = tx.execute("SELECT value FROM luotto_meta WHERE key = 'read_model_schema'").one()
        if row is None or row["value"] != READ_MODEL_SCHEMA:
            # Read models are derived: an older shape is dropped and rebuilt from the events.
            for table in TABLES:
                tx.execute(f"DROP TABLE IF EXISTS {table}")
            tx.execute("DELETE FROM luotto_meta WHERE key = 'read_model_schema'")
            tx.execute("INSERT INTO luotto_meta (key, value) VALUES ('read_model_schema', :v)",
                       {"v": READ_MODEL_SCHEMA})
        for statement in SCHEMA + [DIGEST_LOG_TABLE.format(id=DIGEST_LOG[store.dialect])]:
            tx.execute(statement)
        for table in APPEND_ONLY:
            append_only(tx, table)
