"""One event the daily run (or a command) must record: what `domain.servicing` decides."""
from __future__ import annotations

from dataclasses import dataclass, field

from domain.dates import Date


@dataclass(frozen=True)
class Step:
    event_class: type
    effective_date: Date
    fields: dict = field(default_factory=dict)
