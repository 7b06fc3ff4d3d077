"""Free text of decisions, sealed with the borrower's key before it is recorded (R-DATA-2).

The domain records whatever string it is given; the application hands it ciphertext for the fields
below, so a decision's reasons, an override reason and an appeal's appellant and grounds (which
can tell of health and family matters, or name a person) exist in clear only in the
personal-data store's key and the caller's request. Readers with the personal-data permission see
the text opened; others, and everyone once the borrower is erased, see a marker instead.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.sealing import Unsealable, is_sealed, open_text, seal_text

# Event fields that may carry a person's free text (a PaymentReversed `reason` typed by finance too).
SEALED_FIELDS = ("reasons", "override_reason", "appellant", "grounds", "purpose", "reason")
HIDDEN = "[personal data]"  # shown to a role that may not read personal data
ERASED = "[erased]"  # the key is gone: nobody can read it any more


class TextSealer:
    def __init__(self, borrowers):
        self.borrowers = borrowers

    def seal(self, tenant: str, borrower_id: str, text: str | None) -> str | None:
        """Empty text stays empty (the domain tells "no override reason" by it)."""
        if not text or is_sealed(text):
            return text
        return seal_text(self.borrowers.key(tenant, borrower_id, create=True), text)

    def opener(self, tenant: str, borrower_id: str, *, may_read: bool) -> Callable[[Any], Any]:
        """A function that turns one stored value into what this reader may see."""
        key = self.borrowers.key(tenant, borrower_id) if may_read else None

        def show(value: Any) -> Any:
            if not is_sealed(value):
                return value
            if not may_read:
                return HIDDEN
            if key is None:
                return ERASED
            try:
                return open_text(key, value)
            except Unsealable:
                return ERASED
        return show


def show_fields(data: dict, show: Callable[[Any], Any]) -> dict:
    """`data` with every sealed field passed through `show`."""
    return {k: (show(v) if k in SEALED_FIELDS else v) for k, v in data.items()}
