-- PostgreSQL roles for Luotto (R-EVID-2: events cannot be updated or deleted through the
-- application's database role).
--
-- Run as a superuser (or a role with CREATEROLE that is a member of the owner role), with psql:
--
--   psql -X -v ON_ERROR_STOP=1 -v schema=public -f deploy/roles.sql "postgresql://postgres@HOST/luotto"
--
-- Variables (all optional; defaults in brackets):
--   schema        [public]          the schema every Luotto table lives in (LUOTTO_POSTGRES_SCHEMA)
--   owner_role    [luotto_owner]    owns the schema objects; the only role that may run DDL
--   app_role      [luotto_app]      what `luotto serve`, `luotto scheduler` and the projection worker
--                                   connect as: SELECT + INSERT on the event and snapshot tables,
--                                   full DML (SELECT, INSERT, UPDATE, DELETE) on the read models;
--                                   never UPDATE or DELETE on the event table (TRUNCATE only for
--                                   its append lock on PostgreSQL <= 16, refused by a trigger)
--   auditor_role  [luotto_auditor]  read-only: SELECT on every Luotto table, read-only transactions
--
-- The script is idempotent: run it again at any time, and ALWAYS after the tables have been
-- created or a new release has added tables. The tables are created by the application itself
-- (CREATE TABLE IF NOT EXISTS at start-up), so the order on a new database is:
--
--   1. psql ... -f deploy/roles.sql                 (roles, schema privileges, default privileges)
--   2. run `luotto migrate` as the owner role        (creates the tables, types, functions and the
--      immutability triggers of adapters/immutability.py), e.g.
--        LUOTTO_DATABASE_URL=postgresql://luotto_owner:...@HOST/luotto luotto migrate
--   3. psql ... -f deploy/roles.sql                 (per-table grants on the tables that now exist)
--   4. run the services as the application role     (LUOTTO_DATABASE_URL=postgresql://luotto_app:...)
--
-- Tables (eventsourcing names the application's tables after the application, "Luotto"):
--   luotto_events      the events (append-only)           app: SELECT, INSERT          auditor: SELECT
--   luotto_snapshots   aggregate snapshots (MAC'd: a row   app: SELECT, INSERT          auditor: SELECT
--                      the app role inserts by hand is ignored, adapters/snapshots.py)
--   luotto_access_log  who read what (append-only)         app: SELECT, INSERT          auditor: SELECT
--   luotto_digests, luotto_digest_log  signed digests      app: SELECT, INSERT          auditor: SELECT
--   luotto_shred_statements  signed statements of `luotto shred-legacy` (run by the owner)
--                                                          app: SELECT, INSERT          auditor: SELECT
--   luotto_borrowers, luotto_borrower_keys  personal data and the keys of sealed text
--                                                          app: full DML (erasure)      auditor: none
--   every other luotto_* table: read models and records (luotto_loans, luotto_unallocated,
--   luotto_tracking, luotto_agenda, and any a later release adds, e.g. luotto_api_keys,
--   luotto_notice_outbox, luotto_notice_cursor, luotto_pending_returns)
--                                                          app: SELECT, INSERT, UPDATE, DELETE
--                                                                                      auditor: SELECT
-- Nobody but the owner gets REFERENCES or TRIGGER, or TRUNCATE (but see the event table lock).
-- Sequences (luotto_events_notification_id_seq): app USAGE (nextval on INSERT).
--
-- Privileges are one layer. The application also installs BEFORE UPDATE OR DELETE (row) and
-- BEFORE TRUNCATE (statement) triggers on luotto_events (adapters/immutability.py) that refuse
-- the change for every role, the owner included; only the owner can disable them, and the hash
-- chain (`luotto verify`) exposes anything changed while they were off.
--
-- Passwords are not set here (they are secrets): set them afterwards, e.g. in psql
--   \password luotto_app
--
-- THE EVENT TABLE LOCK: eventsourcing takes `LOCK TABLE luotto_events IN EXCLUSIVE MODE` before
-- every append, so that notification order equals commit order. PostgreSQL up to 16 allows that
-- lock to a non-owner only if it holds UPDATE, DELETE or TRUNCATE on the table. This script
-- grants TRUNCATE there (never UPDATE or DELETE): the BEFORE TRUNCATE trigger of
-- adapters/immutability.py refuses every actual truncation, and only the owner could disable it.
-- From PostgreSQL 17 it grants MAINTAIN instead, which allows the lock and no change at all.
-- Start the services with LUOTTO_MIGRATE=false: the owner creates tables with `luotto migrate`.

\set ON_ERROR_STOP on

\if :{?schema}
\else
\set schema public
\endif
\if :{?owner_role}
\else
\set owner_role luotto_owner
\endif
\if :{?app_role}
\else
\set app_role luotto_app
\endif
\if :{?auditor_role}
\else
\set auditor_role luotto_auditor
\endif

BEGIN;

-- psql variables are not expanded inside DO blocks: hand them over as transaction settings.
SET LOCAL luotto.schema = :'schema';
SET LOCAL luotto.owner_role = :'owner_role';
SET LOCAL luotto.app_role = :'app_role';
SET LOCAL luotto.auditor_role = :'auditor_role';

-- 1. The roles (cluster-wide), created only if missing. No passwords here.
DO $roles$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY[current_setting('luotto.owner_role'), current_setting('luotto.app_role'),
                                current_setting('luotto.auditor_role')]
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) THEN
            EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', name);
        END IF;
    END LOOP;
END
$roles$;

-- Neither the application nor the auditor may act as the owner.
DO $members$
BEGIN
    IF pg_has_role(current_setting('luotto.app_role'), current_setting('luotto.owner_role'), 'MEMBER')
       OR pg_has_role(current_setting('luotto.auditor_role'), current_setting('luotto.owner_role'), 'MEMBER') THEN
        RAISE EXCEPTION 'roles.sql: % or % is a member of the owner role %; revoke that membership first',
            current_setting('luotto.app_role'), current_setting('luotto.auditor_role'),
            current_setting('luotto.owner_role');
    END IF;
END
$members$;

ALTER ROLE :"app_role" NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
ALTER ROLE :"auditor_role" NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
ALTER ROLE :"auditor_role" SET default_transaction_read_only = on;

-- 2. The database and the schema: only the owner creates objects.
DO $database$
BEGIN
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I, %I, %I', current_database(),
                   current_setting('luotto.owner_role'), current_setting('luotto.app_role'),
                   current_setting('luotto.auditor_role'));
END
$database$;
CREATE SCHEMA IF NOT EXISTS :"schema";
REVOKE CREATE ON SCHEMA :"schema" FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA :"schema" TO :"owner_role";
GRANT USAGE ON SCHEMA :"schema" TO :"app_role", :"auditor_role";
REVOKE CREATE ON SCHEMA :"schema" FROM :"app_role", :"auditor_role";

-- 3. Tables the owner creates LATER (step 2 above) start with the narrowest useful privileges:
--    SELECT + INSERT for the application (right for the event table; the read models get
--    UPDATE/DELETE when this script is run again), SELECT for the auditor.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA :"schema"
    GRANT SELECT, INSERT ON TABLES TO :"app_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA :"schema"
    GRANT SELECT ON TABLES TO :"auditor_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA :"schema"
    GRANT USAGE ON SEQUENCES TO :"app_role";

-- 4. Tables that exist now.
DO $grants$
DECLARE
    s       text := current_setting('luotto.schema');
    app     text := current_setting('luotto.app_role');
    auditor text := current_setting('luotto.auditor_role');
    t       record;
BEGIN
    FOR t IN
        SELECT c.relname, c.relkind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = s AND c.relname LIKE 'luotto\_%' AND c.relkind IN ('r', 'p', 'S')
        ORDER BY c.relname
    LOOP
        IF t.relkind = 'S' THEN
            EXECUTE format('GRANT USAGE ON SEQUENCE %I.%I TO %I', s, t.relname, app);
            CONTINUE;
        END IF;
        -- Start from nothing, so a privilege granted by hand earlier does not survive.
        EXECUTE format('REVOKE ALL ON TABLE %I.%I FROM PUBLIC, %I, %I', s, t.relname, app, auditor);
        -- Records only ever added to (R-EVID-2, R-DATA-5, R-DATA-8): no UPDATE or DELETE for the app.
        IF t.relname IN ('luotto_events', 'luotto_snapshots', 'luotto_access_log', 'luotto_digests',
                         'luotto_digest_log', 'luotto_shred_statements') THEN
            EXECUTE format('GRANT SELECT, INSERT ON TABLE %I.%I TO %I', s, t.relname, app);
        ELSE
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE %I.%I TO %I', s, t.relname, app);
        END IF;
        -- Borrowers' names, identity codes and addresses, and the keys that open their sealed text,
        -- are not the auditor's to read (R-DATA-3: the API gives them to caseworkers and decision
        -- makers only).
        IF t.relname NOT IN ('luotto_borrowers', 'luotto_borrower_keys') THEN
            EXECUTE format('GRANT SELECT ON TABLE %I.%I TO %I', s, t.relname, auditor);
        END IF;
        -- The append lock on the event table (see the header): MAINTAIN on 17+, else TRUNCATE,
        -- which the immutability trigger turns into a refusal.
        IF t.relname = 'luotto_events' AND current_setting('server_version_num')::int >= 170000 THEN
            EXECUTE format('GRANT MAINTAIN ON TABLE %I.%I TO %I', s, t.relname, app);
        ELSIF t.relname = 'luotto_events' THEN
            EXECUTE format('GRANT TRUNCATE ON TABLE %I.%I TO %I', s, t.relname, app);
        END IF;
    END LOOP;
END
$grants$;

-- 5. Check the one promise this file exists for; fail loudly rather than leave it broken.
DO $check$
DECLARE
    s   text := current_setting('luotto.schema');
    app text := current_setting('luotto.app_role');
    events regclass := to_regclass(format('%I.%I', s, 'luotto_events'));
BEGIN
    IF events IS NULL THEN
        RAISE NOTICE 'roles.sql: %.luotto_events does not exist yet: start the application once as the owner '
                     'role, then run this script again', s;
    ELSIF has_table_privilege(app, events, 'UPDATE') OR has_table_privilege(app, events, 'DELETE') THEN
        RAISE EXCEPTION 'roles.sql: % may still UPDATE or DELETE %', app, events;
    ELSIF EXISTS (SELECT 1 FROM unnest(ARRAY['luotto_access_log', 'luotto_digests', 'luotto_digest_log']) AS r(name)
                  WHERE to_regclass(format('%I.%I', s, r.name)) IS NOT NULL
                  AND (has_table_privilege(app, format('%I.%I', s, r.name), 'UPDATE')
                       OR has_table_privilege(app, format('%I.%I', s, r.name), 'DELETE'))) THEN
        RAISE EXCEPTION 'roles.sql: % may still UPDATE or DELETE a record table', app;
    ELSIF has_table_privilege(app, events, 'TRUNCATE') AND NOT EXISTS (
            SELECT 1 FROM pg_trigger WHERE tgrelid = events AND tgname = 'luotto_events_no_truncate'
            AND tgenabled <> 'D') THEN
        RAISE EXCEPTION 'roles.sql: % holds TRUNCATE on % for the append lock, but the trigger that '
                        'refuses truncation is missing: run `luotto migrate` as the owner', app, events;
    END IF;
END
$check$;

COMMIT;
