-- Up Migration
-- CloudEvents makes source + id an event's identity. saga_event is partitioned by time, and a
-- unique index of a partitioned table must contain its partition key, so the identity lives
-- in a table of its own: one row per (source, id), with a digest of what the event says (its
-- type and data, jsonb's canonical text) to tell a redelivery (same body, stored once
-- whatever its time) from a reused id (another body: a dead letter).
CREATE TABLE saga_event_identity (
  source    text           NOT NULL,
  id        text           NOT NULL,
  body_md5  text           NOT NULL,
  -- The stored copy's time: where it lives in saga_event.
  time      timestamptz(3) NOT NULL,
  CONSTRAINT saga_event_identity_pkey PRIMARY KEY (source, id)
);
INSERT INTO saga_event_identity (source, id, body_md5, time)
SELECT DISTINCT ON (source, id) source, id, md5(type || ' ' || data::text), time
FROM saga_event
ORDER BY source, id, ingested_at, time;

-- A message refused as a reused id names the event it collides with, so that the
-- dead-letter page can show both bodies side by side.
ALTER TABLE dead_letter ADD COLUMN event_source text, ADD COLUMN event_id text;

-- Extension attributes of the CloudEvent (tracestate and any other), kept as sent.
ALTER TABLE saga_event ADD COLUMN extensions jsonb;

-- Down Migration
ALTER TABLE saga_event DROP COLUMN extensions;
ALTER TABLE dead_letter DROP COLUMN event_source, DROP COLUMN event_id;
DROP TABLE saga_event_identity;
