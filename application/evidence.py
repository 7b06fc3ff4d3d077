"""Evidence over the whole store: verify every loan's hash chain (R-EVID-2)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.events import LoanEvent, LoanGranted
from domain.evidence import ChainCheck


@dataclass(frozen=True)
class BrokenLink:
    loan: str
    version: int
    reason: str
    notification_id: int | None = None

    def __str__(self) -> str:
        where = f" (notification {self.notification_id})" if self.notification_id else ""
        return f"loan {self.loan}: version {self.version}: {self.reason}{where}"


def verify_store(service, progress: Callable[[int, int], None] | None = None,
                 batch: int = 1000) -> tuple[int, list[BrokenLink]]:
    """Recompute every loan's chain from the stored events alone; returns (loans, broken links)."""
    checks: dict = {}
    undecodable: list[BrokenLink] = []
    total = service.recorder.max_notification_id() or 0
    start = 1
    while True:
        notifications = service.recorder.select_notifications(start=start, limit=batch)
        if not notifications:
            break
        for notification in notifications:
            is_loan = notification.topic.startswith("domain.events:")
            try:
                event = service.mapper.to_domain_event(notification)
            except Exception as e:  # noqa: BLE001 - an unreadable row is itself evidence of tampering
                if is_loan:
                    undecodable.append(BrokenLink(str(notification.originator_id), notification.originator_version,
                                                  f"stored event cannot be decoded: {type(e).__name__}",
                                                  notification.id))
                    checks.setdefault(notification.originator_id, ChainCheck()).broken = (
                        notification.originator_version, "cannot be decoded")
                continue
            if isinstance(event, (LoanEvent, LoanGranted)):
                checks.setdefault(event.originator_id, ChainCheck()).feed(event)
        start = notifications[-1].id + 1
        if progress:
            progress(notifications[-1].id, total)
    broken = [BrokenLink(str(loan), *check.broken) for loan, check in checks.items() if check.broken]
    reported = {(b.loan, b.version) for b in undecodable}
    return len(checks), undecodable + [b for b in broken if (b.loan, b.version) not in reported]
