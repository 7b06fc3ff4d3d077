"""R-DATA-2 for events recorded before sealing: `luotto shred-legacy` replaces the clear personal
text of an erasable borrower's events, recomputes the chain, and signs a statement of the old and
new chain heads; the chain verifies, the text is nowhere in the store, the triggers are back on."""
from __future__ import annotations

import datetime as dt

import pytest

from adapters.settings import Settings
from application.container import Container
from application.evidence import verify_store
from application.legacy_shred import MARKER, shred, statement_verifies
from domain.errors import DomainError
from domain.loan import Decision
from tests.integration.helpers import Clock, stack  # noqa: F401 - fixture
from tests.integration.test_erasure import _dump, pg_aware_stack  # noqa: F401 - fixture
from tests.support.pii_search import find

NAME, HETU = "Maija Meikäläinen", "131052-308T"


def test_legacy_clear_text_is_shredded_with_a_signed_statement(pg_aware_stack, tmp_path):
    stack = pg_aware_stack
    settings = Settings(database_url=stack.database_url, postgres_schema=stack.postgres_schema, postgres_pool_size=1,
                        signing_key_file=str(tmp_path / "key"), notice_store=str(tmp_path / "letters"),
                        tenants={"k": {"preset": "kittila", "retention_years": 0}}, snapshot_interval=2)
    c = Container.build(settings)
    clock = Clock()
    try:
        c.service.clock = clock
        c.service.sealer = None  # as the code before sealing recorded them
        c.service.grant(tenant="k", loan_id="L-1", borrower_id="B-1", purpose="vuokra", principal=60000,
                        granted_on=dt.date(2025, 1, 15), first_due_date=dt.date(2025, 2, 10), instalment_amount=10000,
                        decision=Decision("dm-1", f"{NAME} {HETU}"))
        c.service.file_appeal("k", "L-1", decision_version=1, on=dt.date(2025, 1, 20), appellant=f"{NAME}, {HETU}",
                              grounds="psykiatrinen osasto")
        c.service.decide_appeal("k", "L-1", appeal=2, outcome="rejected", on=dt.date(2025, 1, 21),
                         decision=Decision("dm-1", "hylätty"))
        with pytest.raises(DomainError, match="not closed"):  # only when the borrower may be erased
            shred(c, "k", "B-1")
        c.service.waive("k", "L-1", kind="full", on=dt.date(2025, 1, 22), decision=Decision("dm-1", "ok"))
        c.read_model.catch_up()
        before = c.service.loan("k", "L-1").hash_head
        assert {n for n, _ in find([NAME, HETU], _dump(stack, tmp_path))} == {NAME, HETU}
        clock.set_day(dt.date(2025, 2, 1))
        statement = shred(c, "k", "B-1", by="owner-1")
        assert statement_verifies(statement)
        [loan] = statement["loans"]
        assert loan["old_head"] == before != loan["new_head"] == c.service.loan("k", "L-1").hash_head
        assert loan["fields"] == {"1": ["reasons", "purpose"], "2": ["appellant", "grounds"], "3": ["reasons"],
                                  "4": ["reasons"]}
        assert verify_store(c.service) == (1, [])
        appeal = [e for e in c.service.events.get(c.service.loan("k", "L-1").id) if type(e).__name__ == "AppealFiled"]
        assert (appeal[0].appellant, appeal[0].grounds) == (MARKER, MARKER)
        assert not statement_verifies({**statement, "loans": [{**loan, "new_head": "0" * 64}]})
        c.service.post_payment(tenant="k", payment_id="late", amount=100, value_date=dt.date(2025, 2, 1),
                               on=dt.date(2025, 2, 1), loan_id="L-1")  # the loan goes on from the new head
        assert verify_store(c.service) == (1, [])
    finally:
        c.close()
    assert find([NAME, HETU], _dump(stack, tmp_path)) == []
    again = Container.build(settings)
    try:
        recorder = again.service.recorder
        table = recorder.events_table_name
        if hasattr(recorder.datastore, "schema"):
            table = f'"{recorder.datastore.schema}"."{table}"'
        with pytest.raises(Exception, match="R-EVID-2"):  # the immutability triggers are back
            with recorder.datastore.transaction(commit=True) as cursor:
                cursor.execute(f"DELETE FROM {table}")
    finally:
        again.close()
