-- Up Migration
-- The ingester sends each batch by COPY into temporary tables of its connection
-- (server/db/staging-table.ts). Postgres lets every role make temporary tables by default;
-- granted here by name, so that a database where that default was revoked still ingests.
-- A migrating role without the grant option on the database only gets a warning.
DO $$
BEGIN
  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO sagascope_runtime', current_database());
END $$;

-- Down Migration
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM sagascope_runtime', current_database());
END $$;
