"""The migration replay's cost (issue 19: "10,000 loans with three years of monthly payments import in
minutes"; bench part g): a loan's replay services it only on the days its agenda names and folds its
ledger about twice per such day, and the importing process keeps nothing per loan but its id (R-MIG-4).

The loan, counted by hand: 1,200.00 granted 2024-01-15, 100.00 a month from 2024-02-10 (12
instalments, the last 2025-01-10), each paid on its due date, imported 2025-06-02. The run has
something to do on the grant day (the loan is new) and on each of the 12 due dates (InstalmentFellDue;
on the last one also LoanRepaid): 13 runs. No deadline passes unpaid, so no other day is due.
"""
from __future__ import annotations

import datetime as dt

import domain.books
from application.migration import LoanImport
from application.service import LoanService
from domain.loan import loan_uuid
from domain.register import GrantRegister, register_id
from domain.policy import make_policy

COLUMNS = ("record,loan_id,borrower_id,granted_on,principal,first_due_date,instalment_amount,interest_kind,date,"
           "amount,payment_id,balance_principal,balance_overdue,balance_interest,balance_penalty_interest,"
           "balance_status")


def write(path, loans: int) -> None:
    lines = [COLUMNS]
    for n in range(loans):
        lines.append(f"loan,L-{n},B-{n},2024-01-15,1200.00,2024-02-10,100.00,none,,,,0.00,0.00,0.00,0.00,repaid")
        for month in range(12):
            day = dt.date(2024 + (month + 1) // 12, (month + 1) % 12 + 1, 10)
            lines.append(f"payment,L-{n},,,,,,,{day},100.00,A-{n}-{month},,,,,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def service() -> LoanService:
    svc = LoanService(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                      clock=lambda: dt.datetime(2025, 6, 2, 9, tzinfo=dt.timezone.utc))
    svc.configure_tenant("t", make_policy("default"))
    return svc


def test_the_replay_services_only_agenda_days_and_folds_the_ledger_about_twice_a_day(tmp_path, monkeypatch):
    write(tmp_path / "one.csv", 1)
    runs, folds = [], []
    real_many, real_position = LoanService.service_many, domain.books.position

    def service_many(self, tenant, loan_ids, on, *args, **kwargs):
        runs.append(on)
        return real_many(self, tenant, loan_ids, on, *args, **kwargs)

    def position(*args, **kwargs):
        folds.append(kwargs["as_of"])
        return real_position(*args, **kwargs)

    monkeypatch.setattr(LoanService, "service_many", service_many)
    monkeypatch.setattr(domain.books, "position", position)
    svc = service()
    job = LoanImport(svc, "t", str(tmp_path / "one.csv"), as_of=dt.date(2025, 6, 2), instant=svc.clock())
    reports = list(job.run())
    assert [(r.loan_id, r.outcome) for r in reports] == [("L-0", "recorded")], reports[0].to_json()
    assert runs == [dt.date(2024, 1, 15)] + [dt.date(2024 + (m + 1) // 12, (m + 1) % 12 + 1, 10) for m in range(12)]
    # Each run folds the ledger for its day and for the next (its next agenda date), and the import
    # once more for the balance on the import date: 2 x 13 + 1 = 27. Before the replay took the next
    # agenda date from the run itself it was 52 (the agenda asked again after each run and after
    # each payment).
    assert len(folds) <= 2 * len(runs) + 1, (len(folds), sorted(folds))


def test_migrated_loans_are_entered_in_the_register_as_a_grant_would_enter_them(tmp_path):
    """The importer records each loan's entry through the register it holds (R-MIG-1, R-MIG-4); the
    entries, their sequence numbers (the reference numbers) and the register's snapshots are those of
    any grant, and a later grant continues the sequence."""
    write(tmp_path / "three.csv", 3)
    svc = service()
    svc.snapshotting_intervals = {GrantRegister: 2}
    job = LoanImport(svc, "t", str(tmp_path / "three.csv"), as_of=dt.date(2025, 6, 2), instant=svc.clock())
    assert [r.outcome for r in job.run()] == ["recorded"] * 3
    register = svc.register("t")
    entries = [e for e in svc.events.get(register_id("t")) if isinstance(e, GrantRegister.GrantRegistered)]
    assert [(e.loan_id, e.sequence, e.principal, e.borrower_id) for e in entries] == [
        ("L-0", 1, "1200.00", "B-0"), ("L-1", 2, "1200.00", "B-1"), ("L-2", 3, "1200.00", "B-2")]
    assert (register.count, register.principal_total, register.granted_by_year) == (3, 360000, {"2024": 360000})
    assert svc.loans_of_borrower("t", "B-1") == ["L-1"] and svc.loan_ids("t") == ["L-0", "L-1", "L-2"]
    assert [svc.loan("t", f"L-{n}").reference for n in range(3)] == _references(3)
    snapshots = list(svc.snapshots.get(register_id("t")))
    assert [s.originator_version for s in snapshots] == [2, 4]  # opened (1) + three grants: versions 2 and 4
    svc.grant(tenant="t", loan_id="N-1", borrower_id="B-N", principal=50000, purpose="rent",
              decision=_decision(), granted_on=dt.date(2025, 6, 2), first_due_date=dt.date(2025, 7, 10),
              instalment_amount=10000)
    assert svc.register("t").count == 4 and svc.loan("t", "N-1").reference == _references(4)[3]
    assert list(svc.events.get(loan_uuid("t", "L-2")))[-1].replayed > 0


def _references(n: int) -> list[str]:
    from adapters.reference_numbers import reference_for_loan

    return [reference_for_loan(k) for k in range(1, n + 1)]


def _decision():
    from domain.loan import Decision

    return Decision("sw-1", "test grant")
