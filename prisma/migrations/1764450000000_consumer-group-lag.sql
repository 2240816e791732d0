-- Up Migration
-- Every consumer group's lag over time, sampled by one ingester of a deployment every few
-- seconds (server/ingest/consumer-group-sampler.ts) and kept a day: the Kafka page's lag
-- chart and its "when will this clear" estimate. `scope` is the deployment (its topic prefix
-- and ingest group), so deployments sharing a database keep apart.
CREATE TABLE consumer_group_lag_sample (
  scope       text        NOT NULL,
  group_id    text        NOT NULL,
  time        timestamptz(3) NOT NULL,
  -- Summed over the group's partitions on the deployment's topics: committed offsets where the
  -- group committed, log-end offsets of those partitions, and the lag between them.
  committed   bigint      NOT NULL,
  log_end     bigint      NOT NULL,
  lag         bigint      NOT NULL,
  partitions  integer     NOT NULL,
  PRIMARY KEY (scope, group_id, time)
);
CREATE INDEX consumer_group_lag_sample_time ON consumer_group_lag_sample (scope, time);

-- Which ingester samples a round: the one whose update of its scope's row succeeds.
CREATE TABLE consumer_group_sampling (
  scope      text        PRIMARY KEY,
  sampled_at timestamptz(3) NOT NULL
);

-- Down Migration
DROP TABLE consumer_group_sampling;
DROP TABLE consumer_group_lag_sample;
