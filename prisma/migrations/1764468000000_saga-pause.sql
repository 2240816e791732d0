-- Up Migration
-- Pause and resume: who paused a saga and since when, from its owner's answer to a pause
-- command (server/ingest/fold-saga-summary.ts); "paused" joins the kinds of waiting, and a
-- paused saga is never marked stuck (nothing is due while it is paused).
ALTER TABLE saga_summary ADD COLUMN paused_by text, ADD COLUMN paused_at timestamptz(3);
ALTER TABLE saga_summary DROP CONSTRAINT saga_summary_waiting_on_check;
ALTER TABLE saga_summary ADD CONSTRAINT saga_summary_waiting_on_check
  CHECK (waiting_on IN ('retrying', 'breaker', 'participant', 'silent', 'operator', 'paused'));
-- The list's "Waiting on: paused" and the overview's count of paused sagas.
DROP INDEX saga_summary_waiting_idx;
CREATE INDEX saga_summary_waiting_idx ON saga_summary (waiting_on, started_at DESC)
  WHERE stuck OR waiting_on IN ('operator', 'paused');

-- Down Migration
DROP INDEX saga_summary_waiting_idx;
CREATE INDEX saga_summary_waiting_idx ON saga_summary (waiting_on, started_at DESC)
  WHERE stuck OR waiting_on = 'operator';
UPDATE saga_summary SET waiting_on = NULL WHERE waiting_on = 'paused';
ALTER TABLE saga_summary DROP CONSTRAINT saga_summary_waiting_on_check;
ALTER TABLE saga_summary ADD CONSTRAINT saga_summary_waiting_on_check
  CHECK (waiting_on IN ('retrying', 'breaker', 'participant', 'silent', 'operator'));
ALTER TABLE saga_summary DROP COLUMN paused_by, DROP COLUMN paused_at;
