-- Up Migration
-- Which mode each saga type runs in: a list filtered by a mode and a service that only sagas of
-- the other mode involve (or by a type and the other mode) answers at once instead of proving
-- it over every saga (docs/dashboard-performance.md).
ALTER TABLE saga_vocabulary DROP CONSTRAINT saga_vocabulary_kind_check;
ALTER TABLE saga_vocabulary ADD CONSTRAINT saga_vocabulary_kind_check
  CHECK (kind IN ('saga_type', 'service', 'step', 'type_service', 'type_mode'));
INSERT INTO saga_vocabulary (kind, value)
SELECT DISTINCT 'type_mode', saga_type || '/' || mode FROM saga_summary
ON CONFLICT DO NOTHING;

-- Down Migration
DELETE FROM saga_vocabulary WHERE kind = 'type_mode';
ALTER TABLE saga_vocabulary DROP CONSTRAINT saga_vocabulary_kind_check;
ALTER TABLE saga_vocabulary ADD CONSTRAINT saga_vocabulary_kind_check
  CHECK (kind IN ('saga_type', 'service', 'step', 'type_service'));
