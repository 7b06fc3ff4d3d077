"""`luotto import-loans` over the documented template (deploy/import-loans-template.csv), on
PostgreSQL and SQLite (R-MIG-1 … 4): each loan replayed through the rules from its grant date;
the file's balance compared with Luotto's on the import date (2025-06-02); a loan that differs is
refused until accepted with a reason; the replay invents no reminder (the Kittilä policy reminds
14 and 28 days after a deadline: only the file's one reminder exists, and the outbox never sends
it); --dry-run records nothing; a re-run records nothing twice; migrated events keep their
effective dates and say where they came from; XLSX reads as CSV does.

The template's loans, counted by hand (Kittilä: due day 10; no regular interest):
  V-1 1,200.00 from 2025-02-10, 100.00 a month; paid 02-07, 03-10, 04-10, 05-09: 800.00 left,
      nothing overdue, current: the file agrees.
  V-2 the same plan; paid only 02-07: instalments 2, 3, 4 (03-10, 04-10, 05-10 → deadline Mon 05-12)
      unpaid, 300.00 overdue, 1,100.00 left, late. Penalty interest (3.50 % + 7 = 10.50 %, Actual/365)
      from the day after each deadline through 06-02: 84 + 53 + 21 = 158 days on 100.00 =
      100.00 × 10.5 % × 158 / 365 = 4.5452… → 4.55; the file says 0.00: it differs.
  V-3 600.00, six months from 2025-04-10, two free months from instalment 1 decided 03-20:
      the first due date moves to 06-10, nothing is due by 06-02: 600.00, current; agrees.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook

from application.migration import LoanImport
from domain.loan import loan_uuid
from tests.integration.helpers import Clock, Stack, stack  # noqa: F401 - fixture

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "import-loans-template.csv"
TENANTS = {"kt": {"preset": "kittila"}}
AS_OF = dt.date(2025, 6, 2)


@pytest.fixture
def c(stack: Stack):  # noqa: F811 - the fixture
    clock = Clock()
    clock.set_day(AS_OF)
    return stack.container(clock, TENANTS)


def run(c, path, **kwargs) -> dict:
    job = LoanImport(c.service, "kt", str(path), as_of=AS_OF, instant=c.service.clock(), **kwargs)
    return {r.loan_id: r for r in job.run()}


def test_r_mig_1_dry_run_compares_each_loan_and_records_nothing(c, tmp_path):
    before = c.service.recorder.max_notification_id()
    reports = run(c, TEMPLATE, dry_run=True)
    assert {k: r.outcome for k, r in reports.items()} == {"V-1": "agrees", "V-2": "differs", "V-3": "agrees"}
    assert reports["V-1"].luotto == {"principal": "800.00", "overdue": "0.00", "interest": "0.00",
                                     "penalty_interest": "0.00", "status": "current"}
    assert reports["V-2"].luotto == {"principal": "1100.00", "overdue": "300.00", "interest": "0.00",
                                     "penalty_interest": "4.55", "status": "late"}
    assert reports["V-2"].spreadsheet["penalty_interest"] == "0.00"
    assert reports["V-2"].differences == ["penalty_interest"]
    assert reports["V-3"].luotto["principal"] == "600.00" and reports["V-3"].luotto["status"] == "current"
    assert c.service.recorder.max_notification_id() == before  # --dry-run: nothing at all


def test_r_mig_2_3_records_agreeing_loans_refuses_the_other_until_accepted_and_never_twice(c, tmp_path):
    first = run(c, TEMPLATE)
    assert {k: r.outcome for k, r in first.items()} == {"V-1": "recorded", "V-2": "differs", "V-3": "recorded"}
    assert c.service.existing_loan("kt", "V-2") is None
    v1 = list(c.service.events.get(loan_uuid("kt", "V-1")))
    assert [type(e).__name__ for e in v1][0] == "LoanGranted" and type(v1[-1]).__name__ == "LoanMigrated"
    assert v1[0].effective_date == dt.date(2025, 1, 15)  # historical effective dates
    payments = [e for e in v1 if type(e).__name__ == "PaymentReceived"]
    assert [(e.payment_id, e.value_date.isoformat(), e.source) for e in payments] == [
        ("ARCH-0001", "2025-02-07", "migration"), ("ARCH-0002", "2025-03-10", "migration"),
        ("ARCH-0003", "2025-04-10", "migration"), ("ARCH-0004", "2025-05-09", "migration")]
    migrated = v1[-1]
    assert migrated.source == "import-loans-template.csv" and len(migrated.file_sha256) == 64
    assert migrated.replayed == len(v1) - 1 and migrated.effective_date == AS_OF and migrated.differences == []
    assert v1[0].decision_reference == "migration:import-loans-template.csv"
    # Every migrated event was recorded at the import's instant (known-at), none at its history's.
    assert {e.timestamp.date() for e in v1} == {c.service.clock().date()}

    reason = "viivästyskorkoa ei seurattu taulukossa"
    second = run(c, TEMPLATE, accepted={"V-2": reason})
    assert {k: r.outcome for k, r in second.items()} == {"V-1": "already_recorded", "V-2": "recorded",
                                                         "V-3": "already_recorded"}
    v2 = list(c.service.events.get(loan_uuid("kt", "V-2")))
    notices = [e for e in v2 if type(e).__name__ == "NoticeSent"]
    # R-MIG-2: the file's one reminder and no other (Kittilä would have sent six by 06-02).
    assert [(n.kind, n.effective_date.isoformat(), list(n.instalments), n.channel) for n in notices] == [
        ("reminder", "2025-03-24", [2], "migrated")]
    assert v2[-1].differences == ["penalty_interest"] and v2[-1].accepted_reason != reason  # sealed (R-DATA-2)
    assert reason not in json.dumps([vars(e) for e in v2], default=str)
    while c.notices.enqueue_new():
        pass
    with c.read_model.store.transaction() as tx:  # the migrated reminder is never sent again
        assert tx.execute("SELECT COUNT(*) AS n FROM luotto_notice_outbox").one()["n"] == 0

    head = c.service.recorder.max_notification_id()
    again = run(c, TEMPLATE, accepted={"V-2": reason})
    assert {r.outcome for r in again.values()} == {"already_recorded"}
    assert c.service.recorder.max_notification_id() == head  # a re-run records nothing twice
    # The migrated loans are serviced from here like any other: the register and the books know them.
    assert c.service.loan_ids("kt") == ["V-1", "V-3", "V-2"]  # in grant order: V-2 once accepted
    assert [c.service.loans_of_borrower("kt", c.service.loan("kt", v).borrower_id) for v in ("V-1", "V-2")] == [
        ["V-1"], ["V-2"]]
    assert c.service.loan("kt", "V-1").books(c.service.rates).balance(AS_OF)["principal_outstanding"] == "800.00"


def test_r_mig_1_xlsx_reads_as_csv_and_a_bad_row_names_itself(c, tmp_path):
    book = Workbook()
    sheet = book.active
    with open(TEMPLATE, encoding="utf-8") as f:
        for row in csv.reader(f):
            sheet.append(row)
    sheet.append(["loan", "V-4", "B-400", "2025-03-03", "600.00", "2025-04-10", "", "6"])
    sheet.append(["payment", "V-4"] + [""] * 12 + ["2025-07-01", "50.00"])  # after the import date
    book.save(tmp_path / "loans.xlsx")
    reports = run(c, tmp_path / "loans.xlsx", dry_run=True)
    assert {k: r.outcome for k, r in reports.items()} == {"V-1": "agrees", "V-2": "differs", "V-3": "agrees",
                                                          "V-4": "invalid"}
    assert "row 13: date 2025-07-01 is after the import date 2025-06-02" in reports["V-4"].message
    shutil.copy(TEMPLATE, tmp_path / "copy.csv")
    with open(tmp_path / "copy.csv", "a", encoding="utf-8") as f:
        f.write("payment,V-1,,,,,,,,,,,,,2025-05-30,100.00,ARCH-0005,,,,,,,,,\n")  # V-1's rows apart
    assert "must be together" in run(c, tmp_path / "copy.csv", dry_run=True)["V-1"].message


def test_luotto_import_loans_command(stack, monkeypatch, tmp_path, capsys):  # noqa: F811 - the fixture
    """`luotto import-loans TENANT FILE [--dry-run] [--accept LOAN=REASON]`: a JSON line per loan on
    stdout, progress and a summary on stderr; exit 1 while a loan differs, 0 once all are in."""
    from application.migration import import_loans_command

    def main(argv: list[str]) -> int:  # as api.cli parses it (main() would configure logging onto capsys)
        accept = [argv[i + 1] for i, a in enumerate(argv) if a == "--accept"]
        return import_loans_command("kt", str(TEMPLATE), dry_run="--dry-run" in argv, accept=accept,
                                    as_of="2025-06-02")

    stack.cli_environment(monkeypatch, tmp_path, TENANTS)
    # R-MIG-4: two loans a process, so V-3 is replayed (and recorded) by a fresh process of its own
    monkeypatch.setenv("LUOTTO_IMPORT_CHUNK", "2")
    args = ["import-loans", "kt", str(TEMPLATE), "--as-of", "2025-06-02"]
    assert main(args + ["--dry-run"]) == 1
    out = capsys.readouterr()
    lines = [json.loads(line) for line in out.out.splitlines()]
    assert [(x["loan_id"], x["outcome"]) for x in lines] == [("V-1", "agrees"), ("V-2", "differs"), ("V-3", "agrees")]
    assert "import-loans: 3 loans" in out.err and "dry run: nothing recorded" in out.err
    assert "from loan 3, 2 loans in a fresh process" in out.err
    assert main(args + ["--accept", "V-2"]) == 2  # no reason given
    assert main(args + ["--accept", "V-2=korko puuttui taulukosta"]) == 0
    assert [json.loads(line)["outcome"] for line in capsys.readouterr().out.splitlines()] == ["recorded"] * 3
    assert main(args) == 0
    assert [json.loads(line)["outcome"] for line in capsys.readouterr().out.splitlines()] == ["already_recorded"] * 3
