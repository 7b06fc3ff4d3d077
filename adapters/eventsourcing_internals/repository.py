"""The library's repository, with cheaper copies out of its cache and a batched get.

- A command must never mutate the cached instance, so the repository hands out copies. The copy
  shares the attributes' values: every event of the domain replaces an attribute's value (a new
  list, a new dict) and never changes a value in place (domain/events.py, domain/register.py;
  tests/unit/test_properties.py checks the loan over random histories, test_aggregate_copies.py
  the other aggregates), so only the list of pending events, which `trigger_event` appends to,
  is the copy's own. O(attributes): ~1 µs, where a pickle round trip of a loan with 50 payments
  takes ~100 µs and grows with its history (it was a third of the payment writer's CPU in bench
  (a)); `copy.deepcopy` costs more still.
- `get_many` gives several current aggregates with one query for all of them (where the recorder
  has `select_events_after`, adapters.eventsourcing_internals.recorder): each cached one brought up to date with
  its newer events, each uncached one folded from all its events (the same state a snapshot plus
  the later events gives). Elsewhere it falls back to one get() per id.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.utils import resolve_topic


def share_state_copy(aggregate: Any) -> Any:
    """An aggregate that commands may change without changing `aggregate` (see the module doc)."""
    twin = object.__new__(type(aggregate))
    twin.__dict__.update(aggregate.__dict__)
    twin._pending_events = list(aggregate._pending_events)
    return twin


def _fold(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's project_aggregate without its per-event runtime Protocol assertion (~10 µs)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class CurrentSnapshots:
    """The snapshot store as the repository reads it: a snapshot taken of an older state shape
    (its `class_version` below the aggregate class's) is not used, so the aggregate is folded
    from its events instead, and a new snapshot is taken at the next interval. Snapshots are a
    cache; the events are the record (no upcasting can rebuild state an old shape never kept)."""

    def __init__(self, store: Any):
        self.store = store

    def get(self, *args: Any, **kwargs: Any) -> list:
        return [s for s in self.store.get(*args, **kwargs) if _current(s)]


def _current(snapshot: Any) -> bool:
    return snapshot.state.get("class_version", 1) >= getattr(resolve_topic(snapshot.topic), "class_version", 1)


class CopyingRepository(Repository):
    def get(self, aggregate_id: Any, *, version: int | None = None, deepcopy_from_cache: bool = True,
            **kwargs: Any) -> Any:
        aggregate = super().get(aggregate_id, version=version, deepcopy_from_cache=False, **kwargs)
        if self.cache is not None and version is None and deepcopy_from_cache and self.deepcopy_from_cache:
            return share_state_copy(aggregate)
        return aggregate

    def cached(self, aggregate_id: Any) -> Any | None:
        """The cached instance, without asking the store (None when not cached): it may lag the
        store, so only for what an aggregate never changes once it is created."""
        if self.cache is None:
            return None
        try:
            return self.cache.get(aggregate_id)
        except KeyError:
            return None

    def get_many(self, ids: Iterable[Any], uncached_ids: Iterable[Any] = (), *, copies: bool = True) -> dict[Any, Any]:
        """{id: aggregate} for those that exist. `uncached_ids` are loaded in the same query but
        neither looked up in nor added to the cache (short-lived aggregates such as payment markers
        would only push loans out of it). `copies=False` is for readers that never change what
        they get (the read models): they may be handed the cached instances themselves.

        A cached instance is never changed in place: one brought up to date is a new instance that
        replaces it in the cache, so a thread still reading the old one is not disturbed."""
        cacheable, uncached = list(dict.fromkeys(ids)), list(dict.fromkeys(uncached_ids))
        select = getattr(self.event_store.recorder, "select_events_after", None)
        if select is None:
            return self._one_by_one(cacheable, uncached)
        cached = {}
        if self.cache is not None:
            for i in cacheable:
                try:
                    cached[i] = self.cache.get(i)
                except KeyError:
                    pass
        events: dict[Any, list] = {}
        for stored in select([(i, cached[i].version if i in cached else 0) for i in cacheable + uncached]):
            events.setdefault(stored.originator_id, []).append(self.event_store.mapper.to_domain_event(stored))
        found = {}
        for i in cacheable + uncached:
            if i in cached:
                current = cached[i]
                if i in events:
                    current = _fold(share_state_copy(current), events[i])
                    self.cache.put(i, current)
            elif i in events:
                current = _fold(None, events[i])
                if self.cache is not None and i not in uncached:
                    self.cache.put(i, current)
                else:
                    found[i] = current  # nobody else holds it: no copy needed
                    continue
            else:
                continue
            found[i] = share_state_copy(current) if copies else current
        return found

    def _one_by_one(self, cacheable: list, uncached: list) -> dict[Any, Any]:
        found = {}
        for i in cacheable:
            try:
                found[i] = self.get(i)
            except AggregateNotFoundError:
                pass
        for i in uncached:
            events = list(self.event_store.get(i))
            if events:
                found[i] = _fold(None, events)
        return found
