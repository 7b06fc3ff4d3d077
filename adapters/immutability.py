"""R-EVID-2: the event table refuses UPDATE and DELETE for everyone, through triggers.

The application's database role should also lack those privileges (deploy/roles.sql); the
triggers stop an owner or administrator too, unless they deliberately disable them, which the
hash chain then exposes.
"""
from __future__ import annotations

MESSAGE = "R-EVID-2: stored events are immutable; record a correcting event instead"


def install(service) -> None:
    recorder = service.recorder
    table = getattr(recorder, "events_table_name", None)
    datastore = getattr(recorder, "datastore", None)
    if table is None or datastore is None:
        return  # in memory: nothing outlives the process
    if hasattr(datastore, "schema"):  # PostgreSQL
        qualified = f'"{datastore.schema}"."{table}"'
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(f"""
                CREATE OR REPLACE FUNCTION "{datastore.schema}".luotto_refuse_change() RETURNS trigger
                LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$""")
            for when, level in (("UPDATE OR DELETE", "ROW"), ("TRUNCATE", "STATEMENT")):
                name = "luotto_events_immutable" if level == "ROW" else "luotto_events_no_truncate"
                cursor.execute(f"""CREATE OR REPLACE TRIGGER {name} BEFORE {when} ON {qualified}
                                   FOR EACH {level} EXECUTE FUNCTION "{datastore.schema}".luotto_refuse_change()""")
    else:  # SQLite
        with datastore.transaction(commit=True) as cursor:
            for action in ("UPDATE", "DELETE"):
                cursor.execute(f"CREATE TRIGGER IF NOT EXISTS luotto_events_no_{action.lower()} BEFORE {action} "
                               f"ON {table} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
