-- Up Migration
-- A session version per user: every session cookie carries the version it was issued under,
-- and a request whose version is not the user's current one is signed out. Signing out,
-- disabling a user and resetting a password raise it, so copied cookies stop working at once.
ALTER TABLE app_user ADD COLUMN session_version integer NOT NULL DEFAULT 1;

-- Down Migration
ALTER TABLE app_user DROP COLUMN session_version;
