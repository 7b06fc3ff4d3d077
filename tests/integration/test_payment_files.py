"""Bank-file import (issue 7) on the real stores, PostgreSQL schema and SQLite file (helpers.stack), as
`luotto serve` and `luotto import-payments` wire it: the read models' unallocated queue (R-PAY-2),
exactly-once across re-imports, overlapping files imported concurrently by two processes and a
process that dies half-way (R-PAY-1), returns (R-PAY-4), the HTTP endpoint and the command line,
and the import rate, batched against one payment at a time.

Fixtures: tests/fixtures/bankfiles/README.md (loans L1-L3 have references 10016, 10029, 10032).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.reference_numbers import reference_for_loan
from adapters.settings import Settings
from api import payment_files as payment_files_api
from api.app import create_app
from application.payment_files import import_payments, import_payments_command
from tests.integration.helpers import (  # noqa: F401 - `stack` is a fixture
    DEFAULT_TENANTS,
    TENANT,
    Clock,
    D,
    events_of,
    grant,
    run_together,
    stack,
)
from tests.support.auth import TestIssuer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bankfiles"
ON = D("2025-03-31")
ACCOUNTS = ["FI2112345600000785"]  # the account of the fixtures (tests/fixtures/bankfiles)


def fixture(name: str) -> Path:
    return FIXTURES / name


def with_loans(stack, count: int = 3):
    """A process on the stack with loans L1..L<count> (references 10016, 10029, 10032, ...) and the
    clock at noon 2025-03-31."""
    clock = Clock()
    container = stack.container(clock)
    for i in range(1, count + 1):
        grant(container.service, f"L{i}", f"B{i}")
    clock.set_day(ON)
    return container, clock


def received(service, loan_id: str) -> list[tuple[str, str]]:
    return [(e.payment_id, e.amount) for e in events_of(service, loan_id, "PaymentReceived")]


def notifications(container) -> int:
    return container.service.recorder.max_notification_id() or 0


def ids(rows: list[dict]) -> list[str]:
    return [r["payment_id"] for r in rows]


def test_r_pay_2_import_matches_payments_and_the_read_model_queues_the_unmatched(stack):
    """R-PAY-2/R-PAY-1: camt054_001_02.xml on a real store: 4 payments on their loans, 2 in the read
    model's unallocated queue; importing it again writes nothing."""
    container, _ = with_loans(stack)
    report = import_payments(container.service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS)
    assert report.counts == {"entries": 12, "matched": 4, "unmatched": 2, "duplicates": 1, "reversed": 0,
                             "rejected": 5, "queued": 0}
    container.read_model.catch_up()
    assert container.read_model.position() >= report.position
    queue = container.read_model.unallocated(TENANT)
    assert [(r["payment_id"], r["amount"], r["reference"]) for r in queue] == [
        ("20250303-B003", 1000, "999991"), ("20250303-C001/2", 2000, "12345")]
    assert received(container.service, "L2") == [("20250303-B001", "50.00"), ("20250303-C001/1", "30.00")]
    # 1200.00 - 50.00 - 30.00 paid ahead = 1120.00 on L2, as the read model shows it
    rows = {r["loan_id"]: r for r in container.read_model.loans(TENANT)}
    assert rows["L2"]["principal_outstanding"] == 112000
    before = notifications(container)
    again = import_payments(container.service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS)
    assert notifications(container) == before and again.counts["duplicates"] == 7


def test_r_pay_4_returns_and_ktl_corrections_reverse_once_on_a_real_store(stack):
    """R-PAY-4: camt.054 returns (by reference, by RF reference, by archive id for an unallocated one)
    and KTL corrections (same file, later file) reverse their original once; re-imports write nothing."""
    container, _ = with_loans(stack)
    service = container.service
    import_payments(service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS)
    returns = import_payments(service, TENANT, fixture("camt054_returns.xml"), on=ON, accounts=ACCOUNTS)
    assert [r["original_payment_id"] for r in returns.reversed] == ["20250303-A001", "20250303-B001",
                                                                   "20250303-B003"]
    ktl = import_payments(service, TENANT, fixture("ktl_payments.txt"), on=ON, accounts=ACCOUNTS)
    later = import_payments(service, TENANT, fixture("ktl_correction.txt"), on=ON, accounts=ACCOUNTS)
    assert [r["original_payment_id"] for r in ktl.reversed + later.reversed] == ["250303KTL0000002",
                                                                                "250303KTL0000001"]
    container.read_model.catch_up()
    assert [r["payment_id"] for r in container.read_model.unallocated(TENANT)] == [
        "20250303-C001/2", "250303KTL0000004"]  # B003 went back to the payer
    before = notifications(container)
    for name in ("camt054_001_02.xml", "camt054_returns.xml", "ktl_payments.txt", "ktl_correction.txt"):
        again = import_payments(service, TENANT, fixture(name), on=ON, accounts=ACCOUNTS)
        assert again.counts["matched"] + again.counts["unmatched"] + again.counts["reversed"] == 0, name
    assert notifications(container) == before
    reversed_l1 = [e.payment_id for e in events_of(service, "L1", "PaymentReversed")]
    assert reversed_l1 == ["20250303-A001", "250303KTL0000001"]


class Died(Exception):
    pass


def test_r_pay_1_a_process_that_dies_half_way_and_a_rerun_by_another_count_every_payment_once(stack, monkeypatch):
    """R-PAY-1: the importing process dies after its first batch is committed (batch=2); another
    process imports the whole file again: every payment is recorded exactly once."""
    container, clock = with_loans(stack)
    real_save = container.service.save
    saves = []

    def save(*aggregates, **kwargs):
        saves.append(len(aggregates))
        if len(saves) > 1:
            raise Died("killed")
        return real_save(*aggregates, **kwargs)
    monkeypatch.setattr(container.service, "save", save)
    with pytest.raises(Died):
        import_payments(container.service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS, batch=2)
    assert received(container.service, "L1") == [("20250303-A001", "100.00")]
    assert received(container.service, "L2") == [("20250303-B001", "50.00")]  # committed with A001
    assert received(container.service, "L3") == []  # B002 was in the batch that died
    other = stack.container(clock)
    rerun = import_payments(other.service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS, batch=2)
    assert ids(rerun.duplicates) == ["20250303-A001", "20250303-B001", "20250303-A001"]
    assert ids(rerun.matched) == ["20250303-B002", "20250303-C001/1"]
    assert received(other.service, "L1") == [("20250303-A001", "100.00")]
    assert received(other.service, "L2") == [("20250303-B001", "50.00"), ("20250303-C001/1", "30.00")]
    assert received(other.service, "L3") == [("20250303-B002", "25.00")]


def test_r_pay_1_two_processes_importing_overlapping_files_at_once_record_each_payment_once(stack):
    """R-PAY-1: four processes import camt054_overlap_1.xml, camt054_overlap_2.xml (O3, O4 in both) and
    each of them again at the same moment: O1-O6 are recorded once each; every other sighting is a
    duplicate."""
    container, clock = with_loans(stack)
    workers = [stack.bare_service(clock) for _ in range(4)]
    files = ["camt054_overlap_1.xml", "camt054_overlap_2.xml"] * 2
    outcomes = run_together([lambda s=s, f=f: import_payments(s, TENANT, fixture(f), on=ON, accounts=ACCOUNTS, batch=2)
                             for s, f in zip(workers, files)])
    assert [o.error for o in outcomes] == [None] * 4
    reports = [o.value for o in outcomes]
    written = sorted(p for r in reports for p in ids(r.matched) + ids(r.unmatched))
    assert written == [f"20250305-O00{i}" for i in range(1, 7)]
    assert sum(len(r.duplicates) for r in reports) == 16 - 6  # 4 files of 4 entries, 6 payments
    everything = [p for lid in ("L1", "L2", "L3") for p, _ in received(container.service, lid)]
    assert sorted(everything) == [f"20250305-O00{i}" for i in range(1, 6)]  # O6 is unallocated


def _payments_file(path: Path, count: int, loans: int, prefix: str) -> Path:
    """A camt.054 batch of `count` payments of 1.00, spread over loans L1..L<loans>."""
    references = [reference_for_loan(i) for i in range(1, loans + 1)]
    with open(path, "w") as f:
        f.write('<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">'
                "<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>RATE</MsgId></GrpHdr><Ntfctn><Id>RATE</Id>"
                "<Acct><Id><IBAN>FI2112345600000785</IBAN></Id></Acct>"
                f'<Ntry><Amt Ccy="EUR">{count}.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
                "<BookgDt><Dt>2025-03-03</Dt></BookgDt><ValDt><Dt>2025-03-01</Dt></ValDt>"
                f"<AcctSvcrRef>{prefix}</AcctSvcrRef><NtryDtls>")
        for i in range(count):
            f.write(f"<TxDtls><Refs><AcctSvcrRef>{prefix}-{i:06d}</AcctSvcrRef></Refs>"
                    '<AmtDtls><TxAmt><Amt Ccy="EUR">1.00</Amt></TxAmt></AmtDtls><RmtInf><Strd><CdtrRefInf>'
                    f"<Ref>{references[i % loans]}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls>")
        f.write("</NtryDtls></Ntry></Ntfctn></BkToCstmrDbtCdtNtfctn></Document>")
    return path


def test_import_rate_batched_and_one_by_one(stack, tmp_path, capsys):
    """Measured rates (printed): 2 000 payments over 40 loans in batches of 500, then 300 payments one by
    one through post_payment. Every payment is recorded once; batching is the faster of the two."""
    container, _ = with_loans(stack, 40)
    rates = {}
    for mode, count, batch in (("batched", 2000, 500), ("one-by-one", 300, 1)):
        path = _payments_file(tmp_path / f"{mode}.xml", count, 40, mode)
        started = time.perf_counter()
        report = import_payments(container.service, TENANT, path, on=ON, accounts=ACCOUNTS, batch=batch)
        rates[mode] = count / (time.perf_counter() - started)
        assert report.counts["matched"] == count
        started = time.perf_counter()
        again = import_payments(container.service, TENANT, path, on=ON, accounts=ACCOUNTS, batch=batch)
        rates[f"{mode} re-import"] = count / (time.perf_counter() - started)
        assert again.counts["duplicates"] == count
    l1 = received(container.service, "L1")
    assert len(l1) == len(set(l1)) == 2000 // 40 + 300 // 40 + 1  # i % 40 == 0 for 50 + 8 payments
    with capsys.disabled():
        print(f"\n[{stack.kind}] payments/s: " + ", ".join(f"{k} {v:.0f}" for k, v in rates.items()))
    assert rates["batched"] > rates["one-by-one"]


def test_the_import_keeps_a_bounded_number_of_payments_in_memory(stack, tmp_path, monkeypatch):
    """Issue 19 (bench part e): between batches, the loans the import keeps *and* those the service's
    aggregate cache keeps hold at most PAYMENTS_CACHED payments, so a file of many payments per loan
    does not grow the import's memory with the file. 600 payments over 3 loans in batches of 100
    (200 payments per loan by the end): with a budget of 150 payments at most one loan is kept, in
    either cache, and every payment is still recorded once; a re-import loads no loan."""
    from application import payment_files
    from domain.loan import Loan

    monkeypatch.setattr(payment_files, "PAYMENTS_CACHED", 150)
    container, _ = with_loans(stack, 3)
    service = container.service
    cache = service.repository.cache

    def held_by_the_service() -> int:
        return sum(len(link[3].payments) for link in list(cache.cache.values()) if isinstance(link[3], Loan))

    held: list[tuple[int, int]] = []
    original = payment_files._Importer._post_batch

    def watched(self, pending):
        done = original(self, pending)
        held.append((sum(len(loan.payments) for loan in self.loans.values()), held_by_the_service()))
        return done

    monkeypatch.setattr(payment_files._Importer, "_post_batch", watched)
    path = _payments_file(tmp_path / "many.xml", 600, 3, "MANY")
    report = import_payments(service, TENANT, path, on=ON, accounts=ACCOUNTS, batch=100)
    assert report.counts["matched"] == 600
    assert len(held) == 6 and max(h for pair in held for h in pair) <= 150, held
    assert [len(received(service, f"L{i}")) for i in (1, 2, 3)] == [200, 200, 200]
    loads = []
    monkeypatch.setattr(service.repository, "get_many",
                        lambda ids, *a, _get=service.repository.get_many, **k: loads.append(list(ids)) or
                        _get(ids, *a, **k))
    asked = []
    monkeypatch.setattr(service, "reference_owner",
                        lambda *a, _owner=service.reference_owner, **k: asked.append(a) or _owner(*a, **k))
    again = import_payments(service, TENANT, path, on=ON, accounts=ACCOUNTS, batch=100)
    assert again.counts["duplicates"] == 600 and not any(loads), loads
    assert asked == []  # a payment recorded before needs no reference looked up either


def test_a_file_of_interleaved_loans_loads_each_loan_once_per_window(stack, tmp_path, monkeypatch):
    """Bench part e: payments of 3 loans in turn (L1, L2, L3, L1, …), 600 in batches of 100, with a
    budget of 150 payments kept. Batched in file order, every batch held all three loans and the
    budget dropped them, so each was loaded again for nearly every batch; batched by loan within
    the window (WINDOW), each loan is loaded once, and every payment is recorded once, in order."""
    from application import payment_files

    monkeypatch.setattr(payment_files, "PAYMENTS_CACHED", 150)
    container, _ = with_loans(stack, 3)
    service = container.service
    loads: list[str] = []
    original = service.repository.get_many

    def counted(ids, *args, **kwargs):
        found = original(ids, *args, **kwargs)
        loads.extend(a.loan_id for a in found.values() if hasattr(a, "loan_id") and hasattr(a, "payments"))
        return found

    monkeypatch.setattr(service.repository, "get_many", counted)
    path = _payments_file(tmp_path / "interleaved.xml", 600, 3, "MIX")
    report = import_payments(service, TENANT, path, on=ON, accounts=ACCOUNTS, batch=100)
    assert report.counts["matched"] == 600
    assert sorted(loads) == ["L1", "L2", "L3"], loads
    for i in (1, 2, 3):
        ids = [payment_id for payment_id, _ in received(service, f"L{i}")]
        assert ids == [f"MIX-{n:06d}" for n in range(i - 1, 600, 3)]  # each loan's payments in file order


def test_batches_by_loan_keep_each_loans_order_and_the_files_order_when_an_id_repeats():
    """payment_files.by_loan: a loan's entries together and in file order; a payment id that repeats
    keeps the whole window in file order (which entry is recorded and which is its duplicate is the
    file's order, R-PAY-1)."""
    from types import SimpleNamespace

    from application.payment_files import by_loan

    entries = [SimpleNamespace(payment_id=f"P{i}", loan=loan) for i, loan in enumerate("ABCABCAAB")]
    parts = by_loan(entries, 3, lambda e: e.loan)
    # Loan A's entries 0, 3, 6, 7, then B's 1, 4, 8, then C's 2, 5; cut every 3, each batch in file order.
    assert [[e.payment_id for e in part] for part in parts] == [["P0", "P3", "P6"], ["P1", "P4", "P7"],
                                                                ["P2", "P5", "P8"]]
    assert [[e.loan for e in part] for part in by_loan(entries, 4, lambda e: e.loan)] == [
        ["A", "A", "A", "A"], ["B", "C", "B", "B"], ["C"]]
    repeated = entries + [SimpleNamespace(payment_id="P1", loan="C")]
    assert [[e.payment_id for e in part] for part in by_loan(repeated, 4, lambda e: e.loan)] == [
        ["P0", "P1", "P2", "P3"], ["P4", "P5", "P6", "P7"], ["P8", "P1"]]


# --------------------------------------------------------------------------------------------- #
# HTTP and the command line
# --------------------------------------------------------------------------------------------- #


@pytest.fixture
def client(tmp_path):
    issuer = TestIssuer(tmp_path / "oidc")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/luotto.sqlite", signing_key_file=str(tmp_path / "key"),
                        notice_store=str(tmp_path / "notices"), tenants=DEFAULT_TENANTS, **issuer.settings_kwargs())
    app = create_app(settings)
    app.include_router(payment_files_api.router)
    clock = Clock()
    app.state.container.service.clock = clock
    for i in (1, 2, 3):
        grant(app.state.container.service, f"L{i}", f"B{i}")
    clock.set_day(ON)
    with TestClient(app) as test_client:
        yield test_client, issuer


def test_r_pay_1_post_a_bank_file_over_http_answers_the_report(client):
    """R-PAY-1/2: POST /v1/payments/files with the raw camt.054 (application/xml) or KTL (text/plain)."""
    http, issuer = client
    headers = {**issuer.headers(TENANT, ["payment_system"]), "Content-Type": "application/xml"}
    body = fixture("camt054_001_02.xml").read_bytes()
    answer = http.post("/v1/payments/files", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["format"] == "camt.054.001.02" and report["counts"]["matched"] == 4
    assert {r["code"] for r in report["rejected"]} == {"non_eur", "non_positive_amount", "malformed", "not_booked"}
    assert report["position"] > 0
    again = http.post("/v1/payments/files", content=body, headers=headers).json()
    assert again["counts"]["duplicates"] == 7 and again["position"] is None
    ktl = http.post("/v1/payments/files", content=fixture("ktl_payments.txt").read_bytes(),
                    headers={**issuer.headers(TENANT, ["finance"]), "Content-Type": "text/plain"})
    assert ktl.status_code == 200 and ktl.json()["counts"]["matched"] == 3


@pytest.mark.parametrize("name, words", [("camt054_xxe.xml", ["DTD"]), ("camt054_billion_laughs.xml", ["DTD"]),
                                         ("camt054_truncated.xml", ["not well-formed"]),
                                         ("ktl_wrong_totals.txt", ["type-9 totals"])])
def test_a_malformed_file_over_http_is_422_and_imports_nothing(client, name, words):
    http, issuer = client
    headers = {**issuer.headers(TENANT, ["payment_system"]), "Content-Type": "application/octet-stream"}
    answer = http.post("/v1/payments/files", content=fixture(name).read_bytes(), headers=headers)
    assert answer.status_code == 422
    error = answer.json()
    assert error["code"] == "invalid_request" and error["field"] == "file"
    assert "nothing imported" in error["message"] and all(w in error["message"] for w in words)


def test_bank_file_endpoint_needs_the_payment_permission_and_a_raw_body(client):
    http, issuer = client
    body = fixture("camt054_001_02.xml").read_bytes()
    denied = http.post("/v1/payments/files", content=body,
                       headers={**issuer.headers(TENANT, ["auditor"]), "Content-Type": "application/xml"})
    assert (denied.status_code, denied.json()["code"]) == (403, "forbidden")
    assert http.post("/v1/payments/files", content=body, headers={"Content-Type": "application/xml"}).status_code == 401
    as_json = http.post("/v1/payments/files", json={}, headers=issuer.headers(TENANT, ["payment_system"]))
    assert as_json.status_code == 415 and as_json.json()["code"] == "invalid_request"


def test_luotto_import_payments_command(stack, monkeypatch, tmp_path, capsys):
    """`luotto import-payments TENANT FILE`: the report on stdout, a progress bar on stderr; exit 0 when
    all imported, 1 with rejected entries, 2 for a refused file or an unknown organiser."""
    container, _ = with_loans(stack)
    stack.close_all()
    stack.cli_environment(monkeypatch, tmp_path, DEFAULT_TENANTS)
    assert import_payments_command(TENANT, str(fixture("camt054_001_08.xml"))) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["counts"]["matched"] == 3 and report["counts"]["rejected"] == 0
    assert out.err.count("[##############################] 3/3 entries") == 1 and "3 matched" in out.err
    assert import_payments_command(TENANT, str(fixture("camt054_001_02.xml"))) == 1
    assert json.loads(capsys.readouterr().out)["counts"] == {"entries": 12, "matched": 3, "unmatched": 2,
                                                             "duplicates": 2, "reversed": 0, "rejected": 5, "queued": 0}
    assert import_payments_command(TENANT, str(fixture("camt054_xxe.xml"))) == 2
    assert "refused, nothing imported" in capsys.readouterr().err
    assert import_payments_command("nobody", str(fixture("ktl_correction.txt"))) == 2
    assert import_payments_command(TENANT, str(tmp_path / "missing.xml")) == 2
    assert "cannot read" in capsys.readouterr().err
