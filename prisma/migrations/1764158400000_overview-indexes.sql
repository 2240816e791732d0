-- Up Migration
-- The overview counts sagas that ended and events ingested in the last minutes.
CREATE INDEX IF NOT EXISTS saga_summary_ended_at_idx ON saga_summary (ended_at DESC) WHERE ended_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS saga_event_ingested_at_idx ON saga_event (ingested_at);

-- Down Migration
DROP INDEX IF EXISTS saga_event_ingested_at_idx;
DROP INDEX IF EXISTS saga_summary_ended_at_idx;
