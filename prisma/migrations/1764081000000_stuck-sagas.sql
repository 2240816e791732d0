-- Up Migration
-- Stuck detection: when a saga's next event is due at the latest, and what it should be.
ALTER TABLE saga_summary
  ADD COLUMN progress_expected_by timestamptz(3),
  ADD COLUMN progress_expectation text;
-- The sweeper's query: unfinished, not yet stuck sagas whose next event is overdue.
CREATE INDEX saga_summary_overdue_idx ON saga_summary (progress_expected_by)
  WHERE NOT stuck AND status IN ('running', 'compensating', 'timed_out');
CREATE INDEX saga_summary_stuck_idx ON saga_summary (started_at DESC) WHERE stuck;

-- Down Migration
DROP INDEX saga_summary_stuck_idx;
DROP INDEX saga_summary_overdue_idx;
ALTER TABLE saga_summary DROP COLUMN progress_expectation, DROP COLUMN progress_expected_by;
