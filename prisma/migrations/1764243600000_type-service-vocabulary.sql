-- Up Migration
-- Which services each saga type involves: a list filtered by a type and a service that never
-- met answers at once instead of proving it over every saga (docs/dashboard-performance.md).
ALTER TABLE saga_vocabulary DROP CONSTRAINT saga_vocabulary_kind_check;
ALTER TABLE saga_vocabulary ADD CONSTRAINT saga_vocabulary_kind_check
  CHECK (kind IN ('saga_type', 'service', 'step', 'type_service'));
INSERT INTO saga_vocabulary (kind, value)
SELECT DISTINCT 'type_service', saga_type || '/' || service
FROM saga_summary, unnest(services) AS service
ON CONFLICT DO NOTHING;

-- Down Migration
DELETE FROM saga_vocabulary WHERE kind = 'type_service';
ALTER TABLE saga_vocabulary DROP CONSTRAINT saga_vocabulary_kind_check;
ALTER TABLE saga_vocabulary ADD CONSTRAINT saga_vocabulary_kind_check
  CHECK (kind IN ('saga_type', 'service', 'step'));
