"""Every place Luotto overrides or relies on the eventsourcing library's internals, in one package.

The library is pinned exactly (pyproject.toml); tests/unit/test_eventsourcing_contract.py pins
the private names and signatures these modules rely on, so that moving the pin shows at once what
an upgrade broke:

- `saving`: Application.save without runtime Protocol checks (_record, _take_snapshots, _notify,
  ProcessingEvent.collect_events).
- `repository`: cheaper copies out of the aggregate cache and one query for many aggregates
  (Repository.get's keyword arguments, Repository.cache, event_store.mapper); old snapshot shapes
  skipped.
- `recorder`: the PostgreSQL recorder inserting events as typed arrays (_insert_stored_events).
- `snapshots`: snapshots signed with a MAC (Mapper.to_stored_event / to_domain_event, EventStore).
"""
from adapters.eventsourcing_internals.repository import CopyingRepository, CurrentSnapshots, share_state_copy
from adapters.eventsourcing_internals.saving import save_quickly

__all__ = ["CopyingRepository", "CurrentSnapshots", "save_quickly", "share_state_copy"]
