"""The application service: every command Luotto's entry points give, turned into saved events.

One object, composed of the concerns that each live in a module of their own: the event store
and the write that decides again after a lost race (application.store), loans and their
decisions (application.loans), applications and their decisions (application.applications), payments (application.payments) and servicing
(application.servicing). The clock is read here, never in the domain.
"""
from __future__ import annotations

from application.applications import ApplicationCommands
from application.contracts import ContractCommands
from application.disbursements import DisbursementCommands
from application.grant_books import GrantBooks
from application.loans import LoanCommands
from application.payments import PaymentCommands
from application.servicing import ServicingCommands
from application.store import ReadModelPort, Store, Written, utc_now

__all__ = ["LoanService", "ReadModelPort", "Written", "utc_now"]


class LoanService(LoanCommands, ApplicationCommands, ContractCommands, DisbursementCommands,
                  PaymentCommands, ServicingCommands, GrantBooks, Store):
    # The library names an application's tables after its class unless the class names itself:
    # every store has "luotto_events" and "luotto_snapshots", whatever the class is called.
    name = "Luotto"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._start_payments()
