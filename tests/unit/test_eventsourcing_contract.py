"""What adapters/eventsourcing_internals relies on in the eventsourcing library, pinned.

The library is pinned exactly (pyproject.toml). These are the private names, signatures and
attributes our overrides call or override; when the pin moves, this test says at once which of
them the new version changed, before any behaviour test fails for a less obvious reason.
"""
from __future__ import annotations

import inspect

import pytest
from eventsourcing.application import Application, ProcessingEvent, Repository
from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.persistence import EventStore, Mapper
from eventsourcing.postgres import PostgresApplicationRecorder


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


@pytest.mark.parametrize("owner, name, expected", [
    # saving.save_quickly
    (Application, "_record", ["self", "processing_event"]),
    (Application, "_take_snapshots", ["self", "processing_event"]),
    (Application, "_notify", ["self", "recordings"]),
    (ProcessingEvent, "collect_events", ["self", "objs", "kwargs"]),
    # repository.CopyingRepository
    (Repository, "get", ["self", "aggregate_id", "version", "projector_func", "fastforward_skipping",
                         "deepcopy_from_cache"]),
    (Repository, "__init__", ["self", "event_store", "snapshot_store", "cache_maxsize", "fastforward",
                              "fastforward_skipping", "deepcopy_from_cache"]),
    # recorder.ArrayInsertRecorder
    (PostgresApplicationRecorder, "_insert_stored_events", ["self", "curs", "stored_events", "kwargs"]),
    (PostgresApplicationRecorder, "_lock_table", ["self", "curs"]),
    (PostgresApplicationRecorder, "_notify_channel", ["self", "curs"]),
    (PostgresApplicationRecorder, "insert_events", ["self", "stored_events", "kwargs"]),
    # snapshots
    (Mapper, "to_stored_event", ["self", "domain_event"]),
    (Mapper, "to_domain_event", ["self", "stored_event"]),
    (EventStore, "get", ["self", "originator_id", "gt", "lte", "desc", "limit"]),
    (Snapshot, "take", ["aggregate"]),
    (Snapshot, "mutate", ["self", "_"]),
    (Application, "construct_repository", ["self"]),
    (Application, "construct_snapshot_store", ["self"]),
])
def test_the_library_internals_we_override_keep_their_signatures(owner, name, expected):
    assert parameters(getattr(owner, name)) == expected, f"{owner.__name__}.{name} changed"


def test_the_library_attributes_we_read_are_there():
    """Repository.cache / deepcopy_from_cache / event_store (get_many), the recorder's datastore and
    table name (ArrayInsertRecorder's statements), an aggregate's _pending_events (copies), and the
    snapshot state's class_version key (old state shapes are skipped)."""
    from eventsourcing.popo import POPOAggregateRecorder

    store = EventStore(Mapper(None), POPOAggregateRecorder())  # type: ignore[arg-type]
    repository = Repository(store, cache_maxsize=2)
    assert {"cache", "deepcopy_from_cache", "event_store"} <= set(vars(repository))
    assert "events_table_name" in inspect.signature(PostgresApplicationRecorder.__init__).parameters
    aggregate = Aggregate()
    assert hasattr(aggregate, "_pending_events")
    source = inspect.getsource(Snapshot.take)
    assert '"class_version"' in source and "vars(aggregate)" in source
