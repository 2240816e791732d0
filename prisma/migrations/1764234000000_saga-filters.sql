-- Up Migration
-- The saga list filters by the services a saga involved and by the step it is at (or
-- failed at); the filters' choices come from a small vocabulary table instead of a
-- DISTINCT over millions of rows.
ALTER TABLE saga_summary ADD COLUMN services text[] NOT NULL DEFAULT '{}';
UPDATE saga_summary AS s SET services = x.services
FROM (SELECT saga_id, array_agg(DISTINCT service ORDER BY service) AS services
      FROM saga_event WHERE service IS NOT NULL GROUP BY saga_id) AS x
WHERE x.saga_id = s.saga_id;
CREATE INDEX saga_summary_services_idx ON saga_summary USING gin (services);
-- "At step": where a running saga is, or where an ended one failed.
CREATE INDEX saga_summary_at_step_idx
  ON saga_summary ((coalesce(current_step, failed_step)), started_at DESC, saga_id DESC);
CREATE INDEX saga_summary_business_key_idx ON saga_summary (business_key) WHERE business_key IS NOT NULL;
CREATE INDEX saga_summary_type_started_at_idx ON saga_summary (saga_type, started_at DESC, saga_id DESC);

CREATE TABLE saga_vocabulary (
  kind text NOT NULL CHECK (kind IN ('saga_type', 'service', 'step')),
  value text NOT NULL,
  PRIMARY KEY (kind, value)
);
INSERT INTO saga_vocabulary (kind, value)
SELECT DISTINCT 'saga_type', saga_type FROM saga_summary
UNION SELECT DISTINCT 'service', service FROM saga_event WHERE service IS NOT NULL
UNION SELECT DISTINCT 'step', step FROM saga_event WHERE step IS NOT NULL
ON CONFLICT DO NOTHING;

-- Down Migration
DROP TABLE saga_vocabulary;
DROP INDEX saga_summary_type_started_at_idx;
DROP INDEX saga_summary_business_key_idx;
DROP INDEX saga_summary_at_step_idx;
DROP INDEX saga_summary_services_idx;
ALTER TABLE saga_summary DROP COLUMN services;
