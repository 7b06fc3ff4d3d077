"""Paying a loan out (R-APP-8): the payees of the decision, the pain.001 credit-transfer file for the
organiser's bank, each transfer recorded on the loan (LoanDisbursed), a returned one too.

Payees are decided with the grant or by a later decision (a new payee needs a new decision). Their
names, IBANs, BICs and references are personal data: they are kept in the personal-data store beside
the application's facts (adapters.application_facts, as version 0 rows, erased with the applicants),
and the events carry only payee ids, kinds, amounts and the details' salted hash.
"""
from __future__ import annotations

import datetime as dt

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban

from adapters.bankfiles.pain001 import Debtor, Transfer, credit_transfer_file, reference_kind
from domain.errors import DomainError, invalid
from domain.money import format_cents, parse_amount
from domain.values import text_problem

PAYEE_KINDS = ("creditor", "vendor", "borrower")
PAYEE_FIELDS = {"payee_id", "kind", "name", "iban", "bic", "reference", "message", "amount"}


def parse_payees(raw: object, where: str = "payees") -> list[dict]:
    """Each payee checked, naming the field: a valid IBAN and BIC (python-stdnum), a valid Finnish
    national or RF creditor reference, or a message; amounts as decimal strings (R-MONEY-1)."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= 20:
        raise invalid(f"{where} must list 1 to 20 payees", rule="R-APP-8", field=where)
    out = []
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise invalid(f"{at} must be an object", rule="R-APP-8", field=at)
        unknown = sorted(set(item) - PAYEE_FIELDS)
        if unknown:
            raise invalid(f"{at}.{unknown[0]}: unknown field", rule="R-APP-8", field=f"{at}.{unknown[0]}")
        if item.get("kind") not in PAYEE_KINDS:
            raise invalid(f"{at}.kind must be one of {', '.join(PAYEE_KINDS)}", rule="R-APP-8", field=f"{at}.kind")
        payee_id, name = item.get("payee_id"), item.get("name")
        if not isinstance(payee_id, str) or not payee_id.isascii() or not payee_id.isalnum() or len(payee_id) > 20:
            raise invalid(f"{at}.payee_id must be 1-20 letters or digits", rule="R-APP-8", field=f"{at}.payee_id")
        if not isinstance(name, str) or not name.strip() or len(name) > 70 or text_problem(name):
            raise invalid(f"{at}.name must be a printable name of at most 70 characters (pain.001 Nm)",
                          rule="R-APP-8", field=f"{at}.name")
        try:
            account = stdnum_iban.validate(item.get("iban") or "")
        except Exception:  # noqa: BLE001 - stdnum raises a family of ValidationErrors
            raise invalid(f"{at}.iban is not a valid IBAN", rule="R-APP-8", field=f"{at}.iban") from None
        bank = item.get("bic")
        if bank is not None:
            try:
                bank = stdnum_bic.validate(bank)
            except Exception:  # noqa: BLE001
                raise invalid(f"{at}.bic is not a valid BIC", rule="R-APP-8", field=f"{at}.bic") from None
        reference, message = item.get("reference"), item.get("message")
        if reference is not None:
            reference = str(reference).replace(" ", "").upper()
            if reference_kind(reference) is None:
                raise invalid(f"{at}.reference is neither a valid Finnish reference nor an RF creditor reference",
                              rule="R-APP-8", field=f"{at}.reference")
            if message is not None:
                raise invalid(f"{at}: give a reference or a message, not both", rule="R-APP-8", field=f"{at}.message")
        if message is not None and (not isinstance(message, str) or len(message) > 140 or text_problem(message)):
            raise invalid(f"{at}.message must be printable text of at most 140 characters", rule="R-APP-8",
                          field=f"{at}.message")
        out.append({"payee_id": payee_id, "kind": item["kind"], "name": name.strip(), "iban": account,
                    "bic": bank, "reference": reference, "message": message,
                    "amount": format_cents(parse_amount(item.get("amount"), f"{at}.amount"))})
    return out


class DisbursementCommands:
    settings_tenants: dict | None = None  # LUOTTO_TENANTS, set by the composition root (organiser accounts)
    # --- payees -------------------------------------------------------------------------------

    def payee_details(self, case) -> dict[str, dict]:
        if case.payees_hash is None:
            return {}
        stored = self.facts.get(case.tenant, case.application_id, case.payees_hash)
        if stored is None:
            raise DomainError("not_found", "the payees' details were erased", rule="R-DATA-2", field="payees")
        return {p["payee_id"]: p for p in stored["payees"]}

    def record_payees(self, case, payees: list[dict], *, decided_by: str, reasons: str, on: dt.date, by: str) -> None:
        """Store the details (personal data) and record the payee decision on the case (not saved here).
        A payee whose transfer stands keeps its details too: that money went to that account."""
        standing = self._standing(case)
        case.check_payees(payees, standing)  # before any personal data is stored
        if standing:
            before = self.payee_details(case)
            changed = [p["payee_id"] for p in payees if p["payee_id"] in standing and p != before.get(p["payee_id"])]
            if changed:
                raise DomainError("not_eligible", f"payees {changed} were paid and the transfer was not returned: "
                                  "their details stay as they are", rule="R-APP-8", field="payees")
        details_hash = self.facts.put(case.tenant, case.application_id, 0, applicant=case.applicant,
                                      co_applicant=case.co_applicant, facts={"payees": payees})
        case.decide_payees(payees=payees, details_hash=details_hash, standing=standing,
                           decided_by=decided_by, reasons=self._seal(case.tenant, case.applicant, reasons), on=on, by=by,
                           recorded_at=self.clock())

    def decide_payees(self, tenant: str, application_id: str, *, payees: list, decided_by: str, reasons: str,
                      on: dt.date, by: str):
        """R-APP-8: a decision naming the payees (e.g. another account after a returned transfer)."""
        parsed = parse_payees(payees)

        def change() -> list:
            case = self.case(tenant, application_id)
            self.record_payees(case, parsed, decided_by=decided_by, reasons=reasons, on=on, by=by)
            return [case]
        return self.write(change, lambda: self.case(tenant, application_id))

    def _transfers(self, tenant: str, loan_id: str) -> list:
        """The loan's LoanDisbursed events (which payee each transfer went to), latest state per transfer."""
        loan = self.loan(tenant, loan_id, read_only=True)
        latest: dict[str, object] = {}
        for event in self.events.get(loan.id):
            if type(event).__name__ == "LoanDisbursed":
                latest[event.transfer_id] = event
        return list(latest.values())

    def _standing(self, case) -> dict[str, str]:
        if case.contracted_loan is None:
            return {}
        return {e.payee: e.amount for e in self._transfers(case.tenant, case.contracted_loan) if not e.returned}

    # --- the transfers ----------------------------------------------------------------------------

    def application_of_loan(self, tenant: str, loan_id: str):
        found = [a for a, row in self.case_register(tenant).cases.items()
                 if row.get("loan_id") == loan_id and row["kind"] == "loan" and row["status"] == "granted"]
        case = self.case(tenant, found[0]) if found else None
        if case is None or case.contracted_loan != loan_id:
            raise DomainError("not_eligible", f"loan {loan_id} was not granted through an application with payees: "
                              "pay it out outside Luotto", rule="R-APP-8", field="loan_id")
        return case

    def disburse(self, tenant: str, loan_id: str, *, on: dt.date, by: str) -> dict:
        """One pain.001 file paying every payee of the decision who has no transfer standing; each
        transfer recorded on the loan (LoanDisbursed, effective `on`: interest runs from it, R-INT-2)."""
        out: dict = {}

        def change() -> list:
            case = self.application_of_loan(tenant, loan_id)
            details = self.payee_details(case)
            standing = self._standing(case)
            due = [p for p in case.payees if p.payee_id not in standing]
            if not due:
                raise DomainError("not_eligible", f"every payee of loan {loan_id} has a transfer standing: nothing to "
                                  "pay out (a returned transfer's payee needs a new decision or is paid again here)",
                                  rule="R-APP-8")
            loan = self.loan(tenant, loan_id)
            base = loan.reference or loan.loan_id[:20]
            count = len(loan.disbursements)
            at = self.clock()  # one instant for the batch: the file can be made again from the events
            for n, payee in enumerate(due, start=count + 1):
                loan.record_disbursement(transfer_id=f"{base}-{n}", payee=payee.payee_id,
                                         amount=parse_amount(payee.amount, "amount"), on=on, recorded_at=at)
            batch = [(f"{base}-{n}", p.payee_id, p.amount) for n, p in enumerate(due, start=count + 1)]
            message_id = f"LUOTTO-{base}-{count + 1}"
            out.update(message_id=message_id, transfers=[
                {"transfer_id": t, "payee_id": p.payee_id, "kind": p.kind, "amount": p.amount}
                for (t, _, _), p in zip(batch, due)],
                file=self._file(tenant, message_id, batch, details, at, on))
            return [loan]
        written = self.write(change, lambda: out)
        return {**written.result, "position": written.position}

    def _file(self, tenant: str, message_id: str, batch: list[tuple[str, str, str]], details: dict,
              at: dt.datetime, on: dt.date) -> bytes:
        transfers = []
        for transfer_id, payee_id, amount in batch:
            d = details[payee_id]
            transfers.append(Transfer(transfer_id, parse_amount(amount, "amount"), d["name"], d["iban"], d.get("bic"),
                                      d.get("reference"), d.get("message")))
        return credit_transfer_file(message_id=message_id, created_at=at, execution_date=on,
                                    debtor=self._organiser_account(tenant), transfers=transfers)

    def disbursement_file(self, tenant: str, loan_id: str, message_id: str) -> bytes:
        """The pain.001 file of an earlier disbursement, made again byte for byte from the loan's events
        and the payee details of that time (e.g. when the first answer was lost)."""
        loan = self.loan(tenant, loan_id, read_only=True)
        base = loan.reference or loan.loan_id[:20]
        prefix = f"LUOTTO-{base}-"
        first = message_id[len(prefix):] if message_id.startswith(prefix) else ""
        events = [e for e in self.events.get(loan.id)]
        start = next((i for i, e in enumerate(events) if type(e).__name__ == "LoanDisbursed" and not e.returned
                      and e.transfer_id == f"{base}-{first}"), None)
        if start is not None and start > 0 and _in_batch(events[start - 1], events[start].timestamp):
            start = None  # a transfer inside another file, not the first of one
        if not first.isdigit() or start is None:
            raise DomainError("not_found", f"loan {loan_id} has no disbursement file {message_id!r}", rule="R-APP-8",
                              field="message_id")
        head, batch = events[start], []
        for e in events[start:]:
            if not _in_batch(e, head.timestamp):
                break
            batch.append((e.transfer_id, e.payee, e.amount))
        case = self.application_of_loan(tenant, loan_id)
        decided = [e for e in self.events.get(case.id) if type(e).__name__ == "PayeesDecided"
                   and e.timestamp <= head.timestamp]
        stored = self.facts.get(tenant, case.application_id, decided[-1].details_hash) if decided else None
        if stored is None:
            raise DomainError("not_found", "the payees' details of that disbursement were erased", rule="R-DATA-2",
                              field="message_id")
        details = {p["payee_id"]: p for p in stored["payees"]}
        return self._file(tenant, message_id, batch, details, head.timestamp, head.effective_date)

    def return_transfer(self, tenant: str, loan_id: str, transfer_id: str, *, on: dt.date):
        """The bank returned a transfer (closed account, wrong name): recorded on the loan; its payee may
        then be paid again, or replaced by a new payee decision."""
        paid = next((e for e in self._transfers(tenant, loan_id) if e.transfer_id == transfer_id), None)
        if paid is None:
            raise DomainError("not_found", f"transfer {transfer_id!r} was not paid out on loan {loan_id}",
                              rule="R-APP-8", field="transfer_id")
        return self._decide(tenant, loan_id, None, lambda loan, decision, seal: loan.record_disbursement(
            transfer_id=transfer_id, payee=paid.payee, amount=parse_amount(paid.amount, "amount"), on=on,
            returned=True, recorded_at=self.clock()))

    def disbursement_status(self, tenant: str, loan_id: str, case=None) -> dict:
        """R-APP-8 as the console shows it: the decision's payees, each transfer (latest state) with the
        file that carried it, the files (message ids for `disbursement_file`) and the loan's status:
        `no_payees`, `to_pay` (nothing standing), `partly_paid` or `paid`. Ids, kinds and amounts only."""
        case = case or self.application_of_loan(tenant, loan_id)
        loan = self.loan(tenant, loan_id, read_only=True)
        base = loan.reference or loan.loan_id[:20]
        latest: dict[str, dict] = {}
        files: list[dict] = []
        head = None
        for event in self.events.get(loan.id):
            if type(event).__name__ != "LoanDisbursed":
                head = None
                continue
            if not event.returned:
                if head is None or not _in_batch(event, head.timestamp):
                    head = event
                    files.append({"message_id": f"LUOTTO-{base}-{event.transfer_id.rsplit('-', 1)[-1]}",
                                  "on": event.effective_date, "transfers": 0, "amount": 0})
                files[-1]["transfers"] += 1
                files[-1]["amount"] += parse_amount(event.amount, "amount")
                latest[event.transfer_id] = {"transfer_id": event.transfer_id, "payee_id": event.payee,
                                             "amount": event.amount, "on": event.effective_date, "returned": False,
                                             "returned_on": None, "message_id": files[-1]["message_id"]}
            else:
                head = None
                if event.transfer_id in latest:
                    latest[event.transfer_id].update(returned=True, returned_on=event.effective_date)
        standing = {t["payee_id"] for t in latest.values() if not t["returned"]}
        payees = [{"payee_id": p.payee_id, "kind": p.kind, "amount": p.amount, "paid": p.payee_id in standing}
                  for p in case.payees]
        due = [p for p in payees if not p["paid"]]
        status = ("no_payees" if not payees else "paid" if not due else
                  "partly_paid" if len(due) < len(payees) else "to_pay")
        return {"loan_id": loan_id, "application_id": case.application_id, "principal": format_cents(loan.principal),
                "status": status, "payees": payees, "due": format_cents(sum(parse_amount(p["amount"], "amount")
                                                                            for p in due)),
                "transfers": list(latest.values()),
                "files": [{**f, "amount": format_cents(f["amount"])} for f in files]}

    def disbursements_to_follow(self, tenant: str, limit: int = 100) -> list[dict]:
        """Each loan contracted through an application, newest decision first (at most `limit`), with
        its disbursement status; a decision whose contract is not concluded has no loan yet."""
        rows = sorted(((row.get("on"), a, row["loan_id"]) for a, row in self.case_register(tenant).cases.items()
                       if row["kind"] == "loan" and row["status"] == "granted" and row.get("loan_id")),
                      key=lambda r: (str(r[0]), r[1]), reverse=True)
        out = []
        for _, application_id, loan_id in rows:
            if len(out) == limit:
                break
            case = self.case(tenant, application_id)
            if case.contracted_loan == loan_id:  # else not contracted (yet): no loan to pay out
                out.append(self.disbursement_status(tenant, loan_id, case))
        return out

    def _organiser_account(self, tenant: str) -> Debtor:
        from application.notices import DEV_IBAN

        spec = (self.settings_tenants or {}).get(tenant, {}).get("organiser") or {}
        return Debtor(str(spec.get("name") or tenant)[:70], stdnum_iban.compact(spec.get("iban") or DEV_IBAN),
                      spec.get("bic"))


def _in_batch(event, at: dt.datetime) -> bool:
    """A transfer paid out at `at`: the transfers of one file share their recording instant."""
    return type(event).__name__ == "LoanDisbursed" and not event.returned and event.timestamp == at
