-- Up Migration
-- Circuit breakers' state changes and stats windows, from the breaker events topic.
CREATE TABLE breaker_transition (
  id text PRIMARY KEY,
  time timestamptz(3) NOT NULL,
  pair text NOT NULL,
  caller text NOT NULL,
  callee text NOT NULL,
  operation text,
  instance text NOT NULL,
  from_state text NOT NULL,
  to_state text NOT NULL,
  forced text,
  reason text NOT NULL,
  calls integer NOT NULL,
  failures integer NOT NULL,
  failure_rate_threshold double precision NOT NULL,
  minimum_calls integer NOT NULL,
  open_until timestamptz(3),
  kafka_partition integer NOT NULL,
  kafka_offset bigint NOT NULL,
  ingested_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX breaker_transition_pair_time_idx ON breaker_transition (pair, time DESC);
CREATE INDEX breaker_transition_time_idx ON breaker_transition (time DESC);

CREATE TABLE breaker_stats (
  id text PRIMARY KEY,
  pair text NOT NULL,
  caller text NOT NULL,
  callee text NOT NULL,
  instance text NOT NULL,
  window_start timestamptz(3) NOT NULL,
  window_end timestamptz(3) NOT NULL,
  state text NOT NULL,
  forced text,
  calls integer NOT NULL,
  successes integer NOT NULL,
  business integer NOT NULL,
  failures integer NOT NULL,
  rejections integer NOT NULL,
  trials integer NOT NULL,
  latency_p50 double precision NOT NULL,
  latency_p95 double precision NOT NULL,
  latency_p99 double precision NOT NULL,
  latency_max double precision NOT NULL,
  ingested_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX breaker_stats_pair_window_end_idx ON breaker_stats (pair, window_end DESC);

-- Down Migration
DROP TABLE breaker_stats;
DROP TABLE breaker_transition;
