-- Up Migration
-- Alert rules (from the alerts file or an admin), each rule's state per subject (a pair, a
-- saga type, a projection…), and every delivery attempt to a webhook, kept.
CREATE TABLE alert_rule (
  id            text           PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
  kind          text           NOT NULL CHECK (kind IN ('stuck_sagas', 'breaker_open', 'projection_lag', 'dead_letters', 'saga_failure_rate')),
  params        jsonb          NOT NULL DEFAULT '{}',
  severity      text           NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  -- How long the condition must hold before it fires, and be gone before it resolves.
  for_seconds   integer        NOT NULL DEFAULT 0 CHECK (for_seconds BETWEEN 0 AND 86400),
  hold_seconds  integer        NOT NULL DEFAULT 60 CHECK (hold_seconds BETWEEN 0 AND 86400),
  silenced_until timestamptz(3),
  origin        text           NOT NULL CHECK (origin IN ('file', 'dashboard')),
  updated_by    text           NOT NULL,
  updated_at    timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE alert_state (
  rule_id      text           NOT NULL REFERENCES alert_rule (id) ON DELETE CASCADE,
  subject      text           NOT NULL,
  state        text           NOT NULL CHECK (state IN ('pending', 'firing', 'resolving', 'resolved')),
  value        double precision,
  -- When the condition was first seen true (pending), when it fired, when it was last true.
  since        timestamptz(3) NOT NULL,
  fired_at     timestamptz(3),
  last_true_at timestamptz(3) NOT NULL,
  resolved_at  timestamptz(3),
  PRIMARY KEY (rule_id, subject)
);

CREATE TABLE alert_delivery (
  id             bigserial      PRIMARY KEY,
  rule_id        text           NOT NULL,
  subject        text           NOT NULL,
  event          text           NOT NULL CHECK (event IN ('firing', 'resolved')),
  receiver       text           NOT NULL,
  payload        jsonb          NOT NULL,
  status         text           NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  attempts       integer        NOT NULL DEFAULT 0,
  next_attempt_at timestamptz(3) NOT NULL DEFAULT now(),
  last_error     text,
  last_status    integer,
  created_at     timestamptz(3) NOT NULL DEFAULT now(),
  sent_at        timestamptz(3)
);
CREATE INDEX alert_delivery_due_idx ON alert_delivery (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_delivery_recent_idx ON alert_delivery (created_at DESC);

-- Down Migration
DROP TABLE alert_delivery;
DROP TABLE alert_state;
DROP TABLE alert_rule;
