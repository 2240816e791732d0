-- Up Migration
-- Operators who sign in, with a role each, and the audit log of everything they did or
-- were refused. The log is append-only: an action's outcome is a new row, never an update.
CREATE TABLE app_user (
  id bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  password_hash text NOT NULL,
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE audit_entry (
  id bigserial PRIMARY KEY,
  action_id uuid NOT NULL,
  at timestamptz(3) NOT NULL DEFAULT now(),
  actor text NOT NULL,
  actor_role text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  params jsonb NOT NULL DEFAULT '{}',
  idempotency_key text,
  phase text NOT NULL CHECK (phase IN ('requested', 'pending', 'done', 'failed', 'refused', 'denied')),
  message text NOT NULL DEFAULT ''
);
-- One row per phase of an action; one request per idempotency key: a retry finds the first.
CREATE UNIQUE INDEX audit_entry_action_phase_idx ON audit_entry (action_id, phase);
CREATE UNIQUE INDEX audit_entry_idempotency_idx ON audit_entry (idempotency_key) WHERE phase IN ('requested', 'denied');
CREATE INDEX audit_entry_at_idx ON audit_entry (at DESC, id DESC);
CREATE INDEX audit_entry_target_idx ON audit_entry (target, at DESC);

CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER audit_entry_no_update BEFORE UPDATE OR DELETE ON audit_entry
  FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
  FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only();

-- Down Migration
DROP TABLE audit_entry;
DROP FUNCTION audit_entry_append_only();
DROP TABLE app_user;
