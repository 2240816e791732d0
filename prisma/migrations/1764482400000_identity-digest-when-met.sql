-- Up Migration
-- A batch of identities all new is stored by plain COPYs (server/ingest/store-saga-events.ts):
-- the identities and the events, with no staging table and no digest. The digest of a body is
-- then computed only when its identity is met again, from the stored event; identities claimed
-- by the staging path keep theirs.
ALTER TABLE saga_event_identity ALTER COLUMN body_md5 DROP NOT NULL;

-- Down Migration
UPDATE saga_event_identity AS i SET body_md5 = (
  SELECT md5(e.type || ' ' || e.data::text) FROM saga_event e
  WHERE e.source = i.source AND e.id = i.id AND e.time = i.time
) WHERE i.body_md5 IS NULL;
DELETE FROM saga_event_identity WHERE body_md5 IS NULL;
ALTER TABLE saga_event_identity ALTER COLUMN body_md5 SET NOT NULL;
