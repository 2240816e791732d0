-- Up Migration
-- Least privilege: the processes run as a login in the sagascope_runtime role, which reads and
-- writes rows but changes no schema. The role that runs migrations owns the tables (and with
-- them the audit log's append-only triggers); the runtime role cannot drop or disable those
-- triggers, and may only add to the audit log and read it. Roles are the cluster's: the role
-- is made once and granted in every database migrated.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sagascope_runtime') THEN
    BEGIN
      CREATE ROLE sagascope_runtime NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- another database's migration made it at the same moment
    END;
  END IF;
END $$;

GRANT USAGE ON SCHEMA public TO sagascope_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sagascope_runtime;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO sagascope_runtime;
-- The audit log: added to and read, never changed.
REVOKE UPDATE, DELETE ON audit_entry FROM sagascope_runtime;
-- Which migrations ran is the owner's business.
REVOKE INSERT, UPDATE, DELETE ON sagascope_migrations FROM sagascope_runtime;
-- Tables and sequences of later migrations get the same rights.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO sagascope_runtime;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO sagascope_runtime;
-- The ingester makes next month's saga_event partition: as the owner, through this function only.
ALTER FUNCTION sagascope_ensure_event_partitions(timestamptz, integer) SECURITY DEFINER;
ALTER FUNCTION sagascope_ensure_event_partitions(timestamptz, integer) SET search_path = public, pg_temp;

-- Down Migration
ALTER FUNCTION sagascope_ensure_event_partitions(timestamptz, integer) RESET search_path;
ALTER FUNCTION sagascope_ensure_event_partitions(timestamptz, integer) SECURITY INVOKER;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM sagascope_runtime;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM sagascope_runtime;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM sagascope_runtime;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM sagascope_runtime;
REVOKE USAGE ON SCHEMA public FROM sagascope_runtime;
