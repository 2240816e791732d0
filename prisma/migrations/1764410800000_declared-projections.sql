-- Up Migration
-- Consumer groups an admin (or the deployment's config) declared to be projections: the
-- ingester samples each one's lag from the group's committed offsets, like a checkpoint.
CREATE TABLE declared_projection (
  name         text           PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9._-]{1,100}$'),
  group_id     text           NOT NULL CHECK (length(group_id) BETWEEN 1 AND 255),
  -- Empty: every topic the group has committed offsets on.
  topics       text[]         NOT NULL DEFAULT '{}' CHECK (cardinality(topics) <= 50),
  origin       text           NOT NULL CHECK (origin IN ('config', 'dashboard')),
  declared_by  text           NOT NULL,
  declared_at  timestamptz(3) NOT NULL DEFAULT now(),
  -- Claimed by the ingester that samples it next, so several ingesters sample it once.
  sampled_at   timestamptz(3),
  last_error   text
);

-- Down Migration
DROP TABLE declared_projection;
