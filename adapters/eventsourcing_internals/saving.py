"""Application.save without the library's runtime Protocol checks."""
from __future__ import annotations

from typing import Any

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import Aggregate


class _AggregateEvents(ProcessingEvent):
    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        others = []
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            elif obj is not None:
                others.append(obj)
        super().collect_events(*others, **kwargs)


def save_quickly(application: Any, *objs: Any, **kwargs: Any) -> list:
    """The library's save(), collecting our aggregates' events without its Protocol checks
    (`isinstance` against a runtime-checkable Protocol costs ~30 µs a call on Python 3.11, a third
    of a bulk save's client time). Relies on Application._record, _take_snapshots and _notify."""
    processing_event = _AggregateEvents()
    processing_event.collect_events(*objs, **kwargs)
    recordings = application._record(processing_event)
    application._take_snapshots(processing_event)
    application._notify(recordings)
    return recordings
