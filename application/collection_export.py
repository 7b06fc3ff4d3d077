"""The file handed to the organiser's collection agency with each transfer (issue 20), as JSON or CSV.

One file per transfer (LoanTransferredToCollection with its `transfer_id`): who the debtor is (from the
erasable personal-data store: the file goes to the agency, the events keep only ids), what was handed
over on the transfer day, instalment by instalment (principal and interest unpaid, with the penalty
interest accrued on the loan to that day), and how the agency pays what it collects: to the organiser's
account with the loan's reference, each payment then recorded with the source `collection_agency:<transfer>`
(`POST /v1/loans/{id}/collection-transfer/{transfer}/payments`).

Act 1133/2002 §6 allows no credit costs beyond interest: the file says so, and Luotto records no fee.

CSV columns (one row per instalment; a transfer of the accelerated loan lists every unpaid instalment):
transfer_id, transferred_on, loan_id, reference, debtor_id, debtor_name, debtor_identity_code,
debtor_address, instalment, due_date, principal_unpaid, interest_unpaid, penalty_interest_on_loan,
amount, currency, pay_to_iban, no_costs
"""
from __future__ import annotations

import csv
import io

from adapters.reference_numbers import format_national
from application.notices import organiser
from domain.errors import DomainError
from domain.money import format_cents

NO_COSTS = {"fi": "Sosiaalisesta luotosta ei saa periä muita luottokustannuksia kuin korkoa (laki 1133/2002, 6 §): "
                  "velalliselta ei peritä perintäkuluja.",
            "en": "Act 1133/2002 §6: no credit costs beyond interest may be charged; no collection fee may be "
                  "charged to the debtor, and Luotto records none."}
COLUMNS = ("transfer_id", "transferred_on", "loan_id", "reference", "debtor_id", "debtor_name", "debtor_identity_code",
           "debtor_address", "instalment", "due_date", "principal_unpaid", "interest_unpaid",
           "penalty_interest_on_loan", "amount", "currency", "pay_to_iban", "no_costs")


def transfer_document(container, tenant: str, loan_id: str, transfer_id: str) -> dict:
    service = container.service
    loan = service.loan(tenant, loan_id)
    transfer = next((t for t in loan.collections if t.transfer_id == transfer_id), None)
    if transfer is None:
        raise DomainError("not_found", f"no transfer {transfer_id!r} on loan {loan_id}", rule="R-COL-1",
                          field="transfer_id")
    pos = loan.books(service.rates).position(transfer.on)
    numbers = transfer.instalments or tuple(r.number for r in pos.instalments if r.unpaid)
    rows = [pos.instalment(n) for n in numbers]
    try:
        person = container.borrowers.get(tenant, loan.borrower_id)
    except DomainError:
        person = {}
    who = organiser(container.settings, tenant)
    amount = sum(r.unpaid for r in rows) + (pos.penalty_outstanding if not transfer.instalments else 0)
    return {
        "transfer_id": transfer.transfer_id, "transferred_on": transfer.on.isoformat(), "version": transfer.version,
        "recalled_on": transfer.recalled_on.isoformat() if transfer.recalled_on else None,
        "creditor": {"name": who["name"], "iban": who["iban"]},
        "loan_id": loan.loan_id, "reference": format_national(loan.reference),
        "whole_loan": not transfer.instalments,
        "debtor": {"id": loan.borrower_id, "name": person.get("name"), "identity_code": person.get("identity_code"),
                   "address": person.get("address") or []},
        "instalments": [{"instalment": r.number, "due_date": r.due_date.isoformat(),
                         "principal_unpaid": format_cents(r.principal_unpaid),
                         "interest_unpaid": format_cents(r.interest_unpaid)} for r in rows],
        "penalty_interest_on_loan": format_cents(pos.penalty_outstanding),
        "amount": format_cents(amount), "currency": "EUR",
        "costs": "none", "no_costs": NO_COSTS,
        "payments": "to the creditor's IBAN with the reference; each recorded with source "
                    f"collection_agency:{transfer.transfer_id}",
    }


def transfer_csv(document: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    d = document
    for row in d["instalments"]:
        writer.writerow([d["transfer_id"], d["transferred_on"], d["loan_id"], d["reference"], d["debtor"]["id"],
                         d["debtor"]["name"] or "", d["debtor"]["identity_code"] or "", " / ".join(d["debtor"]["address"]),
                         row["instalment"], row["due_date"], row["principal_unpaid"], row["interest_unpaid"],
                         d["penalty_interest_on_loan"], d["amount"], d["currency"], d["creditor"]["iban"],
                         NO_COSTS["fi"]])
    return out.getvalue()


def post_agency_payment(container, tenant: str, loan_id: str, transfer_id: str, *, payment_id: str, amount: int,
                        value_date, on):
    """Money the agency collected on a transfer, recorded with the source `collection_agency:<transfer>`;
    idempotent by `payment_id` (R-PAY-1); no fee (Act §6). Shared by the API and the console."""
    loan = container.service.loan(tenant, loan_id)
    if not any(t.transfer_id == transfer_id for t in loan.collections):
        raise DomainError("not_found", f"no transfer {transfer_id!r} on loan {loan_id}", rule="R-COL-1",
                          field="transfer_id")
    return container.service.post_payment(tenant=tenant, payment_id=payment_id, amount=amount,
                                          value_date=value_date, on=on, loan_id=loan_id,
                                          source=f"collection_agency:{transfer_id}")
