-- Up Migration
-- Projection lag over time, per projection and partition, from projectors' checkpoints.
CREATE TABLE projection_lag_sample (
  checkpoint_id text NOT NULL,
  topic text NOT NULL,
  partition integer NOT NULL,
  time timestamptz(3) NOT NULL,
  projection text NOT NULL,
  generation integer NOT NULL,
  active boolean NOT NULL,
  committed_offset bigint NOT NULL,
  log_end_offset bigint NOT NULL,
  offset_lag bigint NOT NULL,
  newest_applied_at timestamptz(3),
  time_lag_ms double precision,
  oldest_unapplied_age_ms double precision,
  PRIMARY KEY (checkpoint_id, topic, partition)
);
CREATE INDEX projection_lag_sample_projection_time_idx ON projection_lag_sample (projection, time DESC);

-- Down Migration
DROP TABLE projection_lag_sample;
