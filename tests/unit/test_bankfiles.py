"""Bank files of incoming payments (issue 7): the camt.054 and KTL parsers (adapters/bankfiles) and the
import (application/payment_files.py) on the in-memory store.

Rules: R-PAY-1 (a payment counted once, by the bank's archive id, across re-imports, overlapping files
and a crash followed by a re-run), R-PAY-2 (matched by national or RF reference, else queued as
unallocated), R-PAY-4 (a return reverses the original payment), R-MONEY-1 (amounts in cents, euro only),
R-DATE-1 (no value date in the future). Fixture files: tests/fixtures/bankfiles/README.md.
"""
from __future__ import annotations

import datetime as dt
import io
import time
import tracemalloc
from pathlib import Path

import pytest
from eventsourcing.persistence import RecordConflictError

from adapters.bankfiles import FileRejected, open_bank_file
from adapters.reference_numbers import reference_for_loan, rf_reference
from adapters.settings import Settings
from application import payment_files
from application.payment_files import import_payments, payment_instructions
from application.service import LoanService
from domain.errors import DomainError
from domain.loan import Decision, loan_uuid
from domain.policy import make_policy
from domain.register import payment_marker_id

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bankfiles"
D = dt.date.fromisoformat
ON = D("2025-03-31")
ACCOUNTS = ["FI2112345600000785"]  # the account of the fixtures (tests/fixtures/bankfiles)
TENANT = "t1"


# --------------------------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------------------------- #


def entries(source) -> list:
    with open_bank_file(source) as bank_file:
        bank_file.check()
        return list(bank_file.entries())


def rejected_reason(source) -> str:
    with pytest.raises(FileRejected) as caught:
        entries(source)
    return str(caught.value)


def fixture(name: str) -> Path:
    return FIXTURES / name


def camt(ntries: str, version: str = "02", summary: str = "", account: str = "FI2112345600000785") -> bytes:
    return (f'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.{version}">'
            f"<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>M</MsgId></GrpHdr><Ntfctn><Id>N</Id>"
            f"<Acct><Id><IBAN>{account}</IBAN></Id></Acct>{summary}{ntries}"
            "</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>").encode()


def ntry(archive_id: str, amount: str = "10.00", txs: str = "", *, ccy: str = "EUR", side: str = "CRDT",
         extra: str = "") -> str:
    details = f"<NtryDtls>{txs}</NtryDtls>" if txs else ""
    return (f'<Ntry><Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>{side}</CdtDbtInd>{extra}<Sts>BOOK</Sts>'
            f"<BookgDt><Dt>2025-03-03</Dt></BookgDt><ValDt><Dt>2025-03-01</Dt></ValDt>"
            f"<AcctSvcrRef>{archive_id}</AcctSvcrRef>{details}</Ntry>")


def tx(amount: str, reference: str = "10016", archive_id: str | None = None) -> str:
    refs = f"<Refs><AcctSvcrRef>{archive_id}</AcctSvcrRef></Refs>" if archive_id else ""
    return (f'<TxDtls>{refs}<AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>'
            f"<RmtInf><Strd><CdtrRefInf><Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls>")


def ktl_record(archive_id: str, reference: str, cents: int, *, kind: str = "3", flag: str = "0",
               currency: str = "1", name: str = "MAKSAJA", booked: str = "250303", paid: str = "250301") -> str:
    """A 90-character KTL type 3/5 record (layout: adapters/bankfiles/ktl.py)."""
    line = (f"{kind}12345600000785{booked}{paid}{archive_id:<16}{reference:0>20}{name:<12.12}{currency}A"
            f"{cents:010d}{flag}A ")
    assert len(line) == 90
    return line


def ktl(*records: str, totals: tuple[int, int, int, int] | None = None) -> bytes:
    """One KTL batch; the type-9 totals are computed from the records unless given."""
    if totals is None:
        normal = [int(r[77:87]) for r in records if r[87] == "0"]
        corrections = [int(r[77:87]) for r in records if r[87] == "1"]
        totals = (len(normal), sum(normal), len(corrections), sum(corrections))
    header = "0" + "2503030615" + "12" + "123456789" + "1" + " " * 67
    total = "9" + f"{totals[0]:06d}{totals[1]:011d}{totals[2]:06d}{totals[3]:011d}" + " " * 55
    return "".join(line + "\r\n" for line in (header, *records, total)).encode("latin-1")


class Clock:
    def __init__(self, at: dt.datetime):
        self.at, self.tick = at, 0

    def __call__(self) -> dt.datetime:
        self.tick += 1
        return self.at + dt.timedelta(microseconds=self.tick)


def service_with_loans(count: int = 3) -> LoanService:
    """In-memory service for organiser t1 with loans L1.. granted 2025-01-15 (1200.00, 100.00 a month
    from 2025-02-15); their references are 10016, 10029, 10032, ... (reference_for_loan)."""
    service = LoanService(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                          clock=Clock(dt.datetime(2025, 3, 31, 10, tzinfo=dt.timezone.utc)))
    service.configure_tenant(TENANT, make_policy("etela-karjala"))
    for i in range(1, count + 1):
        service.grant(tenant=TENANT, loan_id=f"L{i}", borrower_id=f"B{i}", purpose="rent arrears", principal=120000,
                      granted_on=D("2025-01-15"), first_due_date=D("2025-02-15"), instalment_amount=10000,
                      decision=Decision("sw-1", "test"))
    return service


def received(service: LoanService, loan_id: str) -> list[tuple[str, str]]:
    """(payment_id, amount) of every PaymentReceived stored on the loan."""
    return [(e.payment_id, e.amount) for e in service.events.get(loan_uuid(TENANT, loan_id))
            if type(e).__name__ == "PaymentReceived"]


def reversed_ids(service: LoanService, loan_id: str) -> list[str]:
    return [e.payment_id for e in service.events.get(loan_uuid(TENANT, loan_id))
            if type(e).__name__ == "PaymentReversed"]


def event_count(service: LoanService) -> int:
    return service.recorder.max_notification_id() or 0


def ids(rows: list[dict]) -> list[str]:
    return [r["payment_id"] for r in rows]


# --------------------------------------------------------------------------------------------- #
# camt.054 parser
# --------------------------------------------------------------------------------------------- #


def test_r_pay_2_camt054_001_02_every_transaction_is_an_entry_with_archive_id_reference_and_dates():
    """R-PAY-2: a single entry, a batch (NtryDtls/TxDtls) with own archive ids and one whose
    transactions share the entry's id (numbered /1, /2); RF and national references kept compact."""
    found = entries(fixture("camt054_001_02.xml"))
    assert [(e.payment_id, e.amount, e.reference, e.value_date, e.booking_date) for e in found[:6]] == [
        ("20250303-A001", 10000, "10016", D("2025-03-01"), D("2025-03-03")),
        ("20250303-B001", 5000, "RF4510029", D("2025-03-01"), D("2025-03-03")),
        ("20250303-B002", 2500, "10032", D("2025-03-01"), D("2025-03-03")),
        ("20250303-B003", 1000, "999991", D("2025-03-01"), D("2025-03-03")),
        ("20250303-C001/1", 3000, "10029", D("2025-03-02"), D("2025-03-03")),
        ("20250303-C001/2", 2000, "12345", D("2025-03-02"), D("2025-03-03")),
    ]
    assert [e.debtor for e in found[:4]] == ["Virtanen Matti", "Korhonen Liisa", "Mäkinen Pekka", "Tuntematon Maksaja"]
    assert all(e.kind == "payment" and e.problem is None for e in found[:6])


def test_r_money_1_camt054_bad_entries_carry_their_reason_and_do_not_stop_the_file():
    """R-MONEY-1: non-EUR, zero, negative, unreadable amounts and a pending entry are entry problems."""
    found = entries(fixture("camt054_001_02.xml"))
    assert [(e.payment_id, e.problem_code) for e in found[6:]] == [
        ("20250303-D001", "non_eur"), ("20250303-E001", "non_positive_amount"),
        ("20250303-F001", "non_positive_amount"), ("20250303-A001", None), ("20250303-G001", "malformed"),
        ("20250303-H001", "not_booked")]
    assert "USD" in found[6].problem and "-5.00" in found[8].problem and "12,50" in found[10].problem


def test_r_pay_2_camt054_001_08_party_name_transaction_amount_status_code_and_datetimes():
    """R-PAY-2: version 001.08 differs in Sts/Cd, TxDtls/Amt, Dbtr/Pty/Nm; DtTm dates are read as dates."""
    found = entries(fixture("camt054_001_08.xml"))
    assert [(e.payment_id, e.amount, e.reference, e.debtor, e.value_date, e.problem) for e in found] == [
        ("20250304-A001", 6000, "RF0810016", "Nieminen Aino", D("2025-03-04"), None),
        ("20250303-B001", 5000, "RF4510029", "Korhonen Liisa", D("2025-03-01"), None),
        ("20250304-B001", 1500, "10032", "Laine Kalle", D("2025-03-04"), None)]
    with open_bank_file(fixture("camt054_001_08.xml")) as bank_file:
        bank_file.check()
        assert bank_file.version == "camt.054.001.08"


def test_r_pay_4_camt054_reversal_debit_and_return_entries_are_returns():
    """R-PAY-4: RvslInd true (on a debit or a credit) and a plain debit are returns; the archive ids the
    bank gives are kept to find the original."""
    found = entries(fixture("camt054_returns.xml"))
    assert [(e.kind, e.payment_id, e.amount, e.reference, e.booking_date, e.original_ids) for e in found] == [
        ("return", "20250310-R001", 10000, "10016", D("2025-03-10"), ("20250310-R001",)),
        ("return", "20250310-R002", 5000, "RF4510029", D("2025-03-10"), ("20250310-R002",)),
        ("return", "20250303-B003", 1000, "999991", D("2025-03-10"), ("20250303-B003",)),
        ("return", "20250310-R004", 99900, "10032", D("2025-03-10"), ("20250310-R004",))]
    returned = entries(camt(ntry("E1", "5.00", "<TxDtls><RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>"
                                              '<AmtDtls><TxAmt><Amt Ccy="EUR">5.00</Amt></TxAmt></AmtDtls></TxDtls>')))
    assert returned[0].kind == "return"  # return information (RtrInf) marks a returned transaction too


def test_r_pay_1_camt054_entry_without_transactions_and_without_archive_id():
    found = entries(camt(ntry("E1", "12.34") + ntry("", "5.00")))
    assert (found[0].payment_id, found[0].amount, found[0].reference) == ("E1", 1234, None)
    assert found[1].problem_code == "malformed" and "AcctSvcrRef" in found[1].problem


@pytest.mark.parametrize("name, words", [
    ("camt054_xxe.xml", ["DTD", "external entities"]),
    ("camt054_billion_laughs.xml", ["DTD", "entity expansion"]),
    ("camt054_wrong_root.xml", ["not a camt.054 document", "camt.053"]),
    ("camt054_not_xml.xml", ["neither an XML"]),
    ("camt054_truncated.xml", ["not well-formed XML"]),
])
def test_malformed_camt054_files_are_refused_with_their_reason(name, words):
    reason = rejected_reason(fixture(name))
    assert all(w in reason for w in words), reason


def test_xxe_never_reads_the_external_file_and_external_dtds_and_parameter_entities_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    for doctype in (f'<!DOCTYPE Document [<!ENTITY x SYSTEM "{secret.as_uri()}">]>',
                    f'<!DOCTYPE Document SYSTEM "{secret.as_uri()}">',
                    f'<!DOCTYPE Document [<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]>'):
        body = camt(ntry("E1", "1.00", '<TxDtls><RltdPties><Dbtr><Nm>&x;</Nm></Dbtr></RltdPties></TxDtls>'))
        document = body.replace(b"<Document", doctype.encode() + b"<Document", 1)
        reason = rejected_reason(document)
        assert "DTD" in reason and "TOP-SECRET" not in reason


def test_billion_laughs_is_refused_at_once_without_expanding():
    tracemalloc.start()
    started = time.perf_counter()
    rejected_reason(fixture("camt054_billion_laughs.xml"))
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 1.0 and peak < 5_000_000  # 10^9 "lol"s would be gigabytes


@pytest.mark.parametrize("document, words", [
    (camt(ntry("E1")).replace(b"camt.054.001.02", b"camt.054.001.04"), ["unsupported camt.054 version", "001.04"]),
    (camt(ntry("E1")).replace(b"BkToCstmrDbtCdtNtfctn", b"BkToCstmrStmt"), ["not a debit/credit notification"]),
    (b"<Document><Ntry/></Document>", ["not a camt.054 document"]),
    (b"", ["empty"]),
    (b"   \n", ["empty"]),
    (camt(ntry("E1")).replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-99"?>'),
     ["unreadable XML"]),
    (camt("<Ntry>" * 60 + "</Ntry>" * 60), ["nested deeper"]),
    (camt(ntry("E1", "30.00", tx("10.00", archive_id="T1") + tx("10.00", archive_id="T2"))),
     ["Ntry 1", "add up to 20.00", "30.00"]),
    (camt(ntry("E1", "10.00"), summary="<TxsSummry><TtlCdtNtries><NbOfNtries>2</NbOfNtries><Sum>10.00</Sum>"
                                       "</TtlCdtNtries></TxsSummry>"), ["TxsSummry gives 2 CRDT"]),
    (camt(ntry("E1", "10.00"), summary="<TxsSummry><TtlCdtNtries><NbOfNtries>1</NbOfNtries><Sum>11.00</Sum>"
                                       "</TtlCdtNtries></TxsSummry>"), ["worth 11.00"]),
])
def test_camt054_file_level_faults_refuse_the_whole_file(document, words):
    reason = rejected_reason(document)
    assert all(w in reason for w in words), reason


def test_a_utf8_bom_and_iso_amount_with_more_decimals_are_read():
    found = entries(b"\xef\xbb\xbf" + camt(ntry("E1", "12.500")))
    assert found[0].amount == 1250
    assert entries(camt(ntry("E1", "12.505")))[0].problem_code == "malformed"  # a fraction of a cent


def _large_camt(path: Path, count: int, *, one_batch: bool) -> Path:
    """A camt.054 file of `count` payments: one Ntry with `count` TxDtls, or `count` Ntry."""
    with open(path, "w") as f:
        f.write(camt("@").decode().split("@")[0])
        if one_batch:
            f.write(f'<Ntry><Amt Ccy="EUR">{count}.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
                    "<BookgDt><Dt>2025-03-03</Dt></BookgDt><ValDt><Dt>2025-03-01</Dt></ValDt>"
                    "<AcctSvcrRef>BIG</AcctSvcrRef><NtryDtls>")
            for i in range(count):
                f.write(tx("1.00", "10016", f"BIG-{i:07d}"))
            f.write("</NtryDtls></Ntry>")
        else:
            for i in range(count):
                f.write(ntry(f"BIG-{i:07d}", "1.00", tx("1.00", "10016")))
        f.write(camt("@").decode().split("@")[1])
    return path


@pytest.mark.parametrize("one_batch", [True, False], ids=["one-entry-many-transactions", "many-entries"])
def test_camt054_is_streamed_memory_does_not_grow_with_the_file(tmp_path, one_batch):
    """Ten times the payments, not ten times the memory: elements are dropped once read."""
    peaks = {}
    for count in (500, 5_000):
        path = _large_camt(tmp_path / f"{count}.xml", count, one_batch=one_batch)
        tracemalloc.start()
        with open_bank_file(path) as bank_file:
            assert bank_file.check() == count
        peaks[count] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks[5_000] < 1.5 * peaks[500] + 200_000, peaks
    assert peaks[5_000] < 2_000_000, peaks  # the 5 000-payment files are 1-2 MB


# --------------------------------------------------------------------------------------------- #
# KTL parser
# --------------------------------------------------------------------------------------------- #


def test_r_pay_2_ktl_records_give_archive_id_cents_dates_reference_name_and_corrections():
    """R-PAY-2: the fixed-width fields of type 3 and 5 records; 7-bit Finnish letters in names."""
    found = entries(fixture("ktl_payments.txt"))
    assert [(e.location, e.kind, e.payment_id, e.amount, e.reference, e.value_date, e.booking_date)
            for e in found[:4]] == [
        ("line 2", "payment", "250303KTL0000001", 4000, "10016", D("2025-03-01"), D("2025-03-03")),
        ("line 3", "payment", "250303KTL0000002", 3500, "10029", D("2025-03-01"), D("2025-03-03")),
        ("line 4", "payment", "250303KTL0000003", 2000, "10032", D("2025-03-02"), D("2025-03-03")),
        ("line 5", "payment", "250303KTL0000004", 1200, "999991", D("2025-03-02"), D("2025-03-03"))]
    assert found[1].debtor == "HÄMÄLÄINEN A"
    assert [(e.payment_id, e.problem_code) for e in found[4:7]] == [
        ("250303KTL0000005", "non_eur"), ("250303KTL0000006", "non_positive_amount"),
        ("250303KTL0000007", "malformed")]
    correction = found[8]
    assert (correction.kind, correction.payment_id, correction.amount, correction.original_ids) == (
        "return", "250303KTL0000002", 3500, ("250303KTL0000002",))


def test_ktl_wrong_totals_refuse_the_file():
    reason = rejected_reason(fixture("ktl_wrong_totals.txt"))
    assert "type-9 totals" in reason and "40.00" in reason and "30.00" in reason


def test_ktl_totals_may_count_corrections_with_the_payments():
    records = (ktl_record("A1", "10016", 1000), ktl_record("A1", "10016", 1000, flag="1"))
    assert len(entries(ktl(*records))) == 2  # 1 payment 10.00 | 1 correction 10.00
    assert len(entries(ktl(*records, totals=(2, 2000, 1, 1000)))) == 2  # the first pair counting both
    assert "do not match" in rejected_reason(ktl(*records, totals=(1, 1000, 0, 0)))


@pytest.mark.parametrize("document, words", [
    (ktl(ktl_record("A1", "10016", 1000)).replace(b"9000001", b"9000002"), ["type-9 totals"]),
    (ktl(ktl_record("A1", "10016", 1000)).rsplit(b"9000001", 1)[0], ["ends without the type-9 total"]),
    (ktl_record("A1", "10016", 1000).encode(), ["neither an XML"]),  # no batch header: not a KTL file
    (b"0" + ktl(ktl_record("A1", "10016", 1000))[1:].replace(b"\r\n3", b"\r\n7", 1), ["unknown record type '7'"]),
    (ktl(ktl_record("A1", "10016", 1000)).replace(b"0000001000", b"00000010x0"), ["not numeric"]),
    (ktl(ktl_record("A1", "10016", 1000)).replace(b"0000001000", b"00000010\xb20"), ["not numeric"]),  # a superscript digit
    (ktl(ktl_record("A1", "10016", 1000)) + ktl(ktl_record("A2", "10016", 1000))[:92], ["ends without"]),
    (b"0250303" + b"1" * 5000, ["longer than"]),
])
def test_ktl_file_level_faults_refuse_the_whole_file(document, words):
    reason = rejected_reason(document)
    assert all(w in reason for w in words), reason


def test_ktl_several_batches_lf_line_ends_and_trimmed_trailing_blanks():
    first = ktl(ktl_record("A1", "10016", 1000)).replace(b"\r\n", b"\n")
    second = ktl(ktl_record("A2", "RF0810016", 2000, kind="5").rstrip())
    found = entries(first + second)
    assert [(e.payment_id, e.amount, e.reference) for e in found] == [("A1", 1000, "10016"),
                                                                     ("A2", 2000, "RF0810016")]


# --------------------------------------------------------------------------------------------- #
# Import on the in-memory store
# --------------------------------------------------------------------------------------------- #


def test_r_pay_2_camt054_import_matches_by_national_and_rf_reference_and_queues_the_rest():
    """R-PAY-2: 4 payments recorded on their loans (RF45 1002 9 is L2's), 2 wait unallocated (an unknown
    reference and one with a wrong check digit); the second copy of A001 is a duplicate (R-PAY-1)."""
    service = service_with_loans()
    report = import_payments(service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS)
    assert report.file_rejected is None and report.format == "camt.054.001.02"
    assert report.counts == {"entries": 12, "matched": 4, "unmatched": 2, "duplicates": 1, "reversed": 0,
                             "rejected": 5, "queued": 0}
    assert [(r["payment_id"], r["loan_id"], r["amount"]) for r in report.matched] == [
        ("20250303-A001", "L1", "100.00"), ("20250303-B001", "L2", "50.00"), ("20250303-B002", "L3", "25.00"),
        ("20250303-C001/1", "L2", "30.00")]
    assert [(r["payment_id"], r["reference"]) for r in report.unmatched] == [("20250303-B003", "999991"),
                                                                          ("20250303-C001/2", "12345")]
    assert ids(report.duplicates) == ["20250303-A001"]
    assert [(r["payment_id"], r["code"]) for r in report.rejected] == [
        ("20250303-D001", "non_eur"), ("20250303-E001", "non_positive_amount"),
        ("20250303-F001", "non_positive_amount"), ("20250303-G001", "malformed"), ("20250303-H001", "not_booked")]
    assert all(r["reason"] for r in report.rejected)
    assert received(service, "L1") == [("20250303-A001", "100.00")]
    assert received(service, "L2") == [("20250303-B001", "50.00"), ("20250303-C001/1", "30.00")]
    l2 = [e for e in service.events.get(loan_uuid(TENANT, "L2")) if type(e).__name__ == "PaymentReceived"]
    assert (l2[0].source, l2[0].reference, l2[0].value_date) == ("camt.054", "10029", D("2025-03-01"))
    assert service._payment_result(payment_marker_id(TENANT, "20250303-B003"))["status"] == "unallocated"


def test_r_pay_1_reimporting_a_file_records_nothing_new_and_reports_every_payment_as_duplicate():
    service = service_with_loans()
    import_payments(service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS)
    before = event_count(service)
    again = import_payments(service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS)
    assert event_count(service) == before
    assert again.counts == {"entries": 12, "matched": 0, "unmatched": 0, "duplicates": 7, "reversed": 0,
                            "rejected": 5, "queued": 0}
    assert {r["status"] for r in again.duplicates} == {"allocated", "unallocated"}


def test_r_pay_1_a_payment_in_two_files_and_overlapping_files_count_once():
    service = service_with_loans()
    import_payments(service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS)
    v08 = import_payments(service, TENANT, fixture("camt054_001_08.xml"), on=ON, accounts=ACCOUNTS)
    assert ids(v08.matched) == ["20250304-A001", "20250304-B001"] and ids(v08.duplicates) == ["20250303-B001"]
    assert received(service, "L2") == [("20250303-B001", "50.00"), ("20250303-C001/1", "30.00")]
    first = import_payments(service, TENANT, fixture("camt054_overlap_1.xml"), on=ON, accounts=ACCOUNTS)
    second = import_payments(service, TENANT, fixture("camt054_overlap_2.xml"), on=ON, accounts=ACCOUNTS)
    assert ids(first.matched) == ["20250305-O001", "20250305-O002", "20250305-O003", "20250305-O004"]
    assert ids(second.duplicates) == ["20250305-O003", "20250305-O004"]
    assert ids(second.matched) == ["20250305-O005"] and ids(second.unmatched) == ["20250305-O006"]
    assert received(service, "L3").count(("20250305-O003", "13.00")) == 1


def test_r_pay_4_camt054_returns_reverse_the_original_payment_once():
    """R-PAY-4: A001 (found by reference 10016 and 100.00) and B001 (RF reference) are reversed on their
    loans, the unallocated B003 (named by its archive id) goes back to the payer; importing the returns
    again changes nothing and reports them as duplicates."""
    service = service_with_loans()
    import_payments(service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS)
    report = import_payments(service, TENANT, fixture("camt054_returns.xml"), on=ON, accounts=ACCOUNTS)
    assert [(r["payment_id"], r["original_payment_id"], r["status"]) for r in report.reversed] == [
        ("20250310-R001", "20250303-A001", "reversed"), ("20250310-R002", "20250303-B001", "reversed"),
        ("20250303-B003", "20250303-B003", "returned")]
    assert [(r["payment_id"], r["code"]) for r in report.rejected] == [("20250310-R004", "original_not_found")]
    assert reversed_ids(service, "L1") == ["20250303-A001"] and reversed_ids(service, "L2") == ["20250303-B001"]
    reversal = [e for e in service.events.get(loan_uuid(TENANT, "L1")) if type(e).__name__ == "PaymentReversed"][0]
    assert reversal.effective_date == D("2025-03-10") and "20250310-R001" in reversal.reason
    assert service._payment_result(payment_marker_id(TENANT, "20250303-B003"))["status"] == "returned"
    # 1200.00 - 50.00 (B001 reversed) - 30.00 (C001/1 stays) = 1170.00 on L2
    assert service.loan(TENANT, "L2").books(service.rates).balance(ON)["principal_outstanding"] == "1170.00"
    before = event_count(service)
    again = import_payments(service, TENANT, fixture("camt054_returns.xml"), on=ON, accounts=ACCOUNTS)
    assert event_count(service) == before
    assert [(r["payment_id"], r["original_payment_id"]) for r in again.duplicates] == [
        ("20250310-R001", "20250303-A001"), ("20250310-R002", "20250303-B001"), ("20250303-B003", "20250303-B003")]


def test_r_pay_4_ktl_import_with_a_correction_in_the_same_file_and_a_later_one():
    """R-PAY-4: record 10 corrects record 3 (same archive id) in the same file; ktl_correction.txt
    corrects record 2 under a new archive id (found by reference and amount)."""
    service = service_with_loans()
    report = import_payments(service, TENANT, fixture("ktl_payments.txt"), on=ON, accounts=ACCOUNTS, batch=3)
    assert report.format == "ktl"
    assert report.counts == {"entries": 9, "matched": 3, "unmatched": 1, "duplicates": 1, "reversed": 1,
                             "rejected": 3, "queued": 0}
    assert [(r["payment_id"], r["loan_id"]) for r in report.matched] == [
        ("250303KTL0000001", "L1"), ("250303KTL0000002", "L2"), ("250303KTL0000003", "L3")]
    assert [(r["payment_id"], r["original_payment_id"]) for r in report.reversed] == [
        ("250303KTL0000002", "250303KTL0000002")]
    assert reversed_ids(service, "L2") == ["250303KTL0000002"]
    assert received(service, "L1") == [("250303KTL0000001", "40.00")]
    later = import_payments(service, TENANT, fixture("ktl_correction.txt"), on=ON, accounts=ACCOUNTS)
    assert ids(later.matched) == ["250312KTL0000100"]
    assert [(r["payment_id"], r["original_payment_id"]) for r in later.reversed] == [
        ("250312KTL0000099", "250303KTL0000001")]
    again = import_payments(service, TENANT, fixture("ktl_payments.txt"), on=ON, accounts=ACCOUNTS)
    assert again.counts["duplicates"] == 6 and again.counts["reversed"] == 0
    assert reversed_ids(service, "L2") == ["250303KTL0000002"]


@pytest.mark.parametrize("name", ["camt054_truncated.xml", "camt054_xxe.xml", "camt054_billion_laughs.xml",
                                  "camt054_wrong_root.xml", "camt054_not_xml.xml", "ktl_wrong_totals.txt"])
def test_r_pay_1_a_malformed_file_imports_nothing(name):
    """camt054_truncated.xml holds two complete payments before the break: neither is imported."""
    service = service_with_loans()
    before = event_count(service)
    report = import_payments(service, TENANT, fixture(name), on=ON, accounts=ACCOUNTS)
    assert report.file_rejected and event_count(service) == before
    assert report.counts == {"entries": 0, "matched": 0, "unmatched": 0, "duplicates": 0, "reversed": 0,
                             "rejected": 0, "queued": 0}


def test_r_date_1_future_value_date_and_value_date_before_the_grant_are_rejected_entries():
    service = service_with_loans()
    file = camt(ntry("E1", "10.00", tx("10.00", "10016")).replace("2025-03-01", "2025-04-02")
                + ntry("E2", "10.00", tx("10.00", "10016")).replace("2025-03-01", "2025-01-10")
                + ntry("E3", "10.00", tx("10.00", "10016")))
    report = import_payments(service, TENANT, file, on=ON, accounts=ACCOUNTS)
    assert [(r["payment_id"], r["code"]) for r in report.rejected] == [("E1", "future_value_date"),
                                                                      ("E2", "invalid_request")]
    assert "before the grant date" in report.rejected[1]["reason"]
    assert ids(report.matched) == ["E3"] and received(service, "L1") == [("E3", "10.00")]


def test_r_pay_1_an_archive_id_already_posted_with_other_content_is_refused():
    service = service_with_loans()
    service.post_payment(tenant=TENANT, payment_id="E1", amount=999, value_date=D("2025-03-01"), on=ON,
                         reference="10016")
    file = camt(ntry("E1", "10.00", tx("10.00", "10016")) + ntry("E2", "20.00", tx("10.00", "10016", "X")
                                                                 + tx("10.00", "10029", "X")))
    for batch in (500, 1):
        report = import_payments(service, TENANT, file, on=ON, accounts=ACCOUNTS, batch=batch)
        assert [(r["payment_id"], r["code"]) for r in report.rejected] == [("E1", "payment_conflict"),
                                                                          ("X", "payment_conflict")]
    assert received(service, "L1") == [("E1", "9.99"), ("X", "10.00")]


def test_r_pay_1_batched_and_one_by_one_imports_record_the_same():
    reports, histories = [], []
    for batch in (500, 2, 1):
        service = service_with_loans()
        reports.append(import_payments(service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS, batch=batch))
        import_payments(service, TENANT, fixture("camt054_returns.xml"), on=ON, accounts=ACCOUNTS, batch=batch)
        histories.append([(type(e).__name__, getattr(e, "payment_id", None), getattr(e, "amount", None))
                          for lid in ("L1", "L2", "L3") for e in service.events.get(loan_uuid(TENANT, lid))])
    assert [r.as_dict() | {"position": None} for r in reports[1:]] == [reports[0].as_dict() | {"position": None}] * 2
    assert histories[1:] == [histories[0]] * 2


class Crash(Exception):
    pass


@pytest.mark.parametrize("batch", [1, 2])
def test_r_pay_1_a_crash_in_the_middle_then_a_rerun_records_every_payment_exactly_once(monkeypatch, batch):
    """R-PAY-1: the service dies after 3 payments (post_payment, batch=1) or after the second batch save
    (batch=2); the whole file is imported again: every payment is on its loan exactly once."""
    service = service_with_loans()
    calls = {"n": 0}
    if batch == 1:
        real = service.post_payment

        def post_payment(**kwargs):
            calls["n"] += 1
            if calls["n"] > 3:
                raise Crash("the process died")
            return real(**kwargs)
        monkeypatch.setattr(service, "post_payment", post_payment)
    else:
        real_save = service.save

        def save(*aggregates, **kwargs):
            calls["n"] += 1
            if calls["n"] > 2:
                raise Crash("the process died")
            return real_save(*aggregates, **kwargs)
        monkeypatch.setattr(service, "save", save)
    with pytest.raises(Crash):
        import_payments(service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS, batch=batch)
    assert 0 < len(received(service, "L1") + received(service, "L2") + received(service, "L3")) < 4
    monkeypatch.undo()
    rerun = import_payments(service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS, batch=batch)
    assert received(service, "L1") == [("20250303-A001", "100.00")]
    assert received(service, "L2") == [("20250303-B001", "50.00"), ("20250303-C001/1", "30.00")]
    assert received(service, "L3") == [("20250303-B002", "25.00")]
    assert len(rerun.matched) + len(rerun.unmatched) + len(rerun.duplicates) == 7
    assert rerun.counts["duplicates"] >= 2  # what the first run saved, plus the copy of A001


def test_r_pay_1_a_batch_that_loses_a_race_is_posted_again_one_by_one(monkeypatch):
    service = service_with_loans()
    real_save = service.save
    raised = []

    def save(*aggregates, **kwargs):
        if not raised and len(aggregates) > 1:
            raised.append(True)
            raise RecordConflictError("another process wrote to the loan")
        return real_save(*aggregates, **kwargs)
    monkeypatch.setattr(service, "save", save)
    report = import_payments(service, TENANT, fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS)
    assert raised and report.counts["matched"] == 4 and report.counts["duplicates"] == 1
    assert received(service, "L2") == [("20250303-B001", "50.00"), ("20250303-C001/1", "30.00")]


def test_import_reports_progress_and_refuses_an_unknown_organiser():
    service = service_with_loans()
    seen = []
    import_payments(service, TENANT, fixture("camt054_001_02.xml").read_bytes(), on=ON, accounts=ACCOUNTS, batch=4,
                    progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (12, 12) and all(total == 12 for _, total in seen) and len(seen) > 2
    with pytest.raises(DomainError) as caught:
        import_payments(service, "nobody", fixture("camt054_001_02.xml"), on=ON, accounts=ACCOUNTS)
    assert caught.value.code == "not_found"
    with io.BytesIO(fixture("ktl_payments.txt").read_bytes()) as stream:  # a binary file object works too
        assert import_payments(service, TENANT, stream, on=ON, accounts=ACCOUNTS).format == "ktl"


def test_print_import_progress_draws_a_bar_on_stderr(capsys):
    payment_files.print_import_progress(5, 10)
    assert capsys.readouterr().err == "\r[###############...............] 5/10 entries"


# --------------------------------------------------------------------------------------------- #
# Payment instructions
# --------------------------------------------------------------------------------------------- #


def test_payment_instructions_give_references_and_virtual_barcodes_for_unpaid_instalments():
    """Version 4 barcode with the national reference, version 5 with RF (Pankkiviivakoodi-opas 5.3):
    account FI79 4405 2020 0360 82 from the organiser's settings, the unpaid amount, the due date."""
    service = service_with_loans(1)
    service.post_payment(tenant=TENANT, payment_id="P1", amount=12500, value_date=D("2025-02-10"), on=ON,
                         loan_id="L1")  # 100.00 pays instalment 1, 25.00 part of instalment 2
    loan = service.loan(TENANT, "L1")
    settings = Settings(tenants={TENANT: {"preset": "default", "organiser": {
        "name": "Kittilän kunta", "iban": "FI7944052020036082"}}})
    rows = payment_instructions(loan, loan.books(service.rates).position(ON), settings, TENANT)
    assert [r["instalment"] for r in rows] == list(range(2, 13))
    second = rows[0]
    assert (second["due_date"], second["amount"], second["payee"], second["iban"]) == (
        "2025-03-15", "75.00", "Kittilän kunta", "FI79 4405 2020 0360 82")
    assert (second["reference"], second["reference_rf"]) == ("10016", "RF08 1001 6")
    # 4 | 79 440520200360 82 -> IBAN digits | 00007500 | 000 | 00000000000000010016 | 250315
    assert second["barcode"] == "4" + "7944052020036082" + "00007500" + "000" + "10016".zfill(20) + "250315"
    assert second["barcode_rf"] == "5" + "7944052020036082" + "00007500" + "08" + "10016".zfill(21) + "250315"
    assert rows[-1]["amount"] == "100.00" and rows[-1]["due_date"] == "2026-01-15"
    # LoanBooks instead of a Position: every recorded payment counts; the dev IBAN when none is configured
    same = payment_instructions(loan, loan.books(service.rates), Settings(tenants={TENANT: {}}), TENANT)
    assert [r["amount"] for r in same] == [r["amount"] for r in rows]
    assert same[0]["iban"] == "FI21 1234 5600 0007 85" and same[0]["payee"] == TENANT
    assert rf_reference(reference_for_loan(1)) == "RF0810016"


def test_an_import_report_keeps_counts_whole_but_at_most_rows_kept_rows():
    """Issue "Bank integration" item 5: the memory an import needs must not grow with the file, so a
    report lists at most ROWS_KEPT rows of a kind while its counts stay exact."""
    from application.payment_files import ImportReport

    report = ImportReport("t")
    for n in range(ImportReport.ROWS_KEPT + 5):
        report.add("matched", {"payment_id": f"p{n}"})
    report.add("rejected", {"payment_id": "bad"})
    assert report.counts["matched"] == ImportReport.ROWS_KEPT + 5 and len(report.matched) == ImportReport.ROWS_KEPT
    assert report.as_dict()["rows_truncated"] == ["matched"] and report.counts["rejected"] == 1


# --------------------------------------------------------------------------------------------- #
# Issue 13: the file's account, KTL direct debits, fields that cannot be stored
# --------------------------------------------------------------------------------------------- #


def test_a_camt054_file_for_another_account_is_refused_whole():
    """Issue 13: a bank file for another organiser's account was imported (its account was never
    compared). The file names its account (Ntfctn/Acct); one not configured refuses the whole file."""
    service = service_with_loans()
    before = event_count(service)
    other = camt(ntry("X1", "10.00", tx("10.00", "10016", "X1-1")), account="FI4950009420028730")
    report = import_payments(service, TENANT, other, on=ON, accounts=ACCOUNTS)
    assert report.file_rejected and "FI4950009420028730" in report.file_rejected
    assert "not one of organiser t1's accounts" in report.file_rejected
    assert event_count(service) == before and report.counts["matched"] == 0
    mine = import_payments(service, TENANT, other, on=ON, accounts=["FI49 5000 9420 0287 30"])
    assert mine.file_rejected is None and mine.counts["matched"] == 1


def test_a_camt054_notification_naming_no_account_is_refused_whole():
    nameless = camt(ntry("X2", "10.00")).replace(b"<Acct><Id><IBAN>FI2112345600000785</IBAN></Id></Acct>", b"")
    report = import_payments(service_with_loans(), TENANT, nameless, on=ON, accounts=ACCOUNTS)
    assert report.file_rejected and "(none)" in report.file_rejected


def test_a_ktl_file_for_another_account_is_refused_whole():
    """KTL names the account in every record (positions 2-15, the IBAN's 14-digit BBAN)."""
    service = service_with_loans()
    record = ktl_record("K1", "10016", 1000).replace("12345600000785", "50009420028730", 1)
    report = import_payments(service, TENANT, ktl(record), on=ON, accounts=ACCOUNTS)
    assert report.file_rejected and "50009420028730" in report.file_rejected
    assert received(service, "L1") == []


@pytest.mark.parametrize(("code", "booked"), [("1", False), ("9", False), ("0", True), (" ", True)])
def test_ktl_direct_debit_feedback_code_is_honoured(code, booked):
    """Issue 13: KTL record type 5 is a direct debit; position 90 = 1-9 means the debit failed, so no
    money arrived. It was booked as a payment; it is now rejected with the reason (debit_failed)."""
    service = service_with_loans()
    record = ktl_record("D1", "10016", 5000, kind="5")[:89] + code
    report = import_payments(service, TENANT, ktl(record), on=ON, accounts=ACCOUNTS)
    if booked:
        assert received(service, "L1") == [("D1", "50.00")]
    else:
        assert received(service, "L1") == []
        assert [(r["payment_id"], r["code"]) for r in report.rejected] == [("D1", "debit_failed")]
        assert f"feedback code '{code}'" in report.rejected[0]["reason"]


def test_an_entry_whose_archive_id_or_reference_cannot_be_stored_is_rejected_alone():
    """Issue 13 item 1: a NUL in a KTL reference field reached the read models. Such an entry is
    rejected with its reason; the rest of the file imports."""
    service = service_with_loans()
    bad_id = ktl_record("A\x00B", "10016", 1000)
    good = ktl_record("G1", "10016", 2000)
    report = import_payments(service, TENANT, ktl(bad_id, good), on=ON, accounts=ACCOUNTS)
    assert [(r["location"], r["code"]) for r in report.rejected] == [("line 2", "malformed")]
    assert "archive id 'A\\\\x00B'" in report.rejected[0]["reason"]
    assert received(service, "L1") == [("G1", "20.00")]
    with_nul = camt(ntry("N1", "10.00", tx("10.00", "100\x0016", "N1-1")))  # XML cannot hold a NUL at all
    assert "not well-formed" in import_payments(service, TENANT, with_nul, on=ON, accounts=ACCOUNTS).file_rejected
