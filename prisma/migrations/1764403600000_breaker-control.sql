-- Up Migration
-- Operators' decisions for breaker pairs as published on the compacted control topic: the
-- newest per pair (by version), for the dashboard to compare with what each caller reports.
CREATE TABLE breaker_control (
  pair          text             PRIMARY KEY,
  forced        text             CHECK (forced IN ('open', 'closed', 'disabled')),
  forced_until  timestamptz(3),
  failure_rate  double precision,
  minimum_calls integer,
  open_ms       integer,
  version       bigint           NOT NULL,
  requested_by  text             NOT NULL,
  reason        text             NOT NULL,
  ingested_at   timestamptz(3)   NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE breaker_control;
