"""The library's repository, copying aggregates out of its cache with pickle instead of deepcopy.

A command must never mutate the cached instance, so the repository hands out copies; for a loan
with a dozen events `copy.deepcopy` costs ~385 µs, a pickle round trip ~145 µs (same result:
every aggregate is plain data). Reads (GET /v1/loans/{id}) and payments each take one copy.
"""
from __future__ import annotations

import pickle
from typing import Any

from eventsourcing.application import Repository


class PickleCopyRepository(Repository):
    def get(self, aggregate_id: Any, *, version: int | None = None, deepcopy_from_cache: bool = True,
            **kwargs: Any) -> Any:
        aggregate = super().get(aggregate_id, version=version, deepcopy_from_cache=False, **kwargs)
        if self.cache is not None and version is None and deepcopy_from_cache and self.deepcopy_from_cache:
            return pickle.loads(pickle.dumps(aggregate, pickle.HIGHEST_PROTOCOL))
        return aggregate
