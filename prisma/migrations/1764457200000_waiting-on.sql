-- Up Migration
-- What an unfinished saga waits on, from its latest event (server/ingest/fold-saga-summary.ts),
-- so that a stuck saga says why and the list filters by it; "operator" for a compensation given
-- up. Sagas folded before this migration show none until their next event.
ALTER TABLE saga_summary ADD COLUMN waiting_on text
  CHECK (waiting_on IN ('retrying', 'breaker', 'participant', 'silent', 'operator'));
UPDATE saga_summary SET waiting_on = 'operator' WHERE status = 'failed';
-- The overview's counts per kind and the list's filter by kind.
CREATE INDEX saga_summary_waiting_idx ON saga_summary (waiting_on, started_at DESC)
  WHERE stuck OR waiting_on = 'operator';

-- Down Migration
DROP INDEX saga_summary_waiting_idx;
ALTER TABLE saga_summary DROP COLUMN waiting_on;
