"""The one retry policy: a command that lost a race with another process is decided again on
freshly loaded aggregates, after a short random pause that grows with each attempt."""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from domain.errors import DomainError

T = TypeVar("T")
RETRIES = 20


def retrying(attempt: Callable[[], T | None], retries: int = RETRIES) -> T:
    """Call `attempt` until it returns something other than None (None: it lost a race)."""
    for n in range(retries):
        outcome = attempt()
        if outcome is not None:
            return outcome
        time.sleep(random.uniform(0, 0.002 * 2 ** min(n, 6)))
    raise DomainError("busy", f"the loan was changed concurrently {retries} times; try again", field=None)
