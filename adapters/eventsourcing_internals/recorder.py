"""The eventsourcing PostgreSQL application recorder, with a cheaper insert for bulk saves.

The library inserts `unnest(%s::stored_event[])`, an array of a composite type that psycopg
dumps field by field in Python (about half of `save()`'s client time for a batch of 100 events).
This recorder sends the same rows as four typed arrays in binary instead. Everything else is the
library's: the EXCLUSIVE table lock and NOTIFY in the same transaction (insert order equals commit
order, architecture.md), RETURNING notification_id, conflicts raised as IntegrityError; it only
leaves out psycopg's pipeline mode (see insert_events).
`select_events_after` loads several aggregates' events in one query (Repository.get_many).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import Cursor, InterfaceError, OperationalError
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

TOPIC = "adapters.eventsourcing_internals.recorder:ArrayInsertRecorder"


class ArrayInsertRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.insert_arrays_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) RETURNING notification_id"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        # One index lookup per aggregate, whatever the planner believes: as a plain join of the
        # prepared statement's generic plan, a batch of 16 without fresh statistics (a bulk load
        # before autovacuum's ANALYZE, or autovacuum off) hash-joined a scan of the whole table.
        # OFFSET 0 keeps the LATERAL subquery from being merged into such a join.
        self.select_after_statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            "FROM unnest(%b::uuid[], %b::bigint[]) WITH ORDINALITY AS a(id, after, n) "
            "CROSS JOIN LATERAL (SELECT * FROM {schema}.{table} x WHERE x.originator_id = a.id "
            "AND x.originator_version > a.after OFFSET 0) e "
            "ORDER BY a.n, e.originator_version"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's insert
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """The library's statements in one transaction, without psycopg's pipeline mode: for the
        few statements of a save its Python bookkeeping costs more than the round trips it saves."""
        if not stored_events:
            return []
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_stored_events(curs, stored_events, **kwargs)
            return [row["notification_id"] for row in curs.fetchall()]

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent],
                              **kwargs: Any) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(self.insert_arrays_statement,
                     ([e.originator_id for e in stored_events], [e.originator_version for e in stored_events],
                      [e.topic for e in stored_events], [e.state for e in stored_events]), prepare=True)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's selects
    def select_events_after(self, after: Sequence[tuple[UUID, int]]) -> list[StoredEvent]:
        """The events of several aggregates, each after the version given for it (0: all), in one
        query; each aggregate's in version order."""
        if not after:
            return []
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_after_statement, ([i for i, _ in after], [v for _, v in after]), prepare=True)
            return [StoredEvent(originator_id=row["originator_id"], originator_version=row["originator_version"],
                                topic=row["topic"], state=bytes(row["state"])) for row in curs.fetchall()]
