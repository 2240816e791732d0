-- Up Migration
-- A bulk saga action as a background operation (server/actions/bulk-operations.ts): the sagas
-- a filter matched when it started, worked through at a set rate by one ingester at a time
-- (the lease), suspended, resumed or cancelled by an operator; it survives any restart.
CREATE TABLE bulk_operation (
  id               uuid        PRIMARY KEY,
  action           text        NOT NULL CHECK (action IN ('compensate', 'retry-step', 'mark-resolved')),
  -- The saga list's filter (its schema's shape) and the list's URL query that shows it.
  filter           jsonb       NOT NULL,
  filter_query     text        NOT NULL CHECK (length(filter_query) <= 2000),
  reason           text        NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
  -- Who started it, as the audit log names them; the runner checks their role again as it goes.
  started_by_id    text        NOT NULL,
  started_by       text        NOT NULL,
  started_by_via   text        NOT NULL CHECK (started_by_via IN ('session', 'demo')),
  start_action_id  uuid        NOT NULL,
  state            text        NOT NULL CHECK (state IN ('running', 'suspended', 'cancelled', 'done', 'failed')),
  state_message    text        NOT NULL DEFAULT '',
  state_changed_by text,
  total            integer     NOT NULL CHECK (total >= 0),
  sent             integer     NOT NULL DEFAULT 0,
  skipped          integer     NOT NULL DEFAULT 0,
  failed           integer     NOT NULL DEFAULT 0,
  -- Sagas a second at most: the fleet gets commands no faster than this.
  rate_per_second  integer     NOT NULL CHECK (rate_per_second BETWEEN 1 AND 10000),
  created_at       timestamptz(3) NOT NULL DEFAULT now(),
  state_changed_at timestamptz(3) NOT NULL DEFAULT now(),
  ended_at         timestamptz(3),
  lease_owner      text,
  lease_until      timestamptz(3)
);
CREATE INDEX bulk_operation_created ON bulk_operation (created_at DESC);
CREATE INDEX bulk_operation_running ON bulk_operation (created_at) WHERE state = 'running';

-- The sagas it works through, in the list's order; each ends sent, skipped (with the reason)
-- or failed.
CREATE TABLE bulk_operation_target (
  operation_id uuid        NOT NULL REFERENCES bulk_operation (id) ON DELETE CASCADE,
  position     integer     NOT NULL,
  saga_id      text        NOT NULL,
  state        text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'skipped', 'failed')),
  message      text,
  -- The audited action of this saga's command.
  action_id    uuid,
  handled_at   timestamptz(3),
  PRIMARY KEY (operation_id, position)
);
CREATE INDEX bulk_operation_target_pending ON bulk_operation_target (operation_id, position) WHERE state = 'pending';
-- The page's "rate over the last ten seconds" and "handled last", without reading every target.
CREATE INDEX bulk_operation_target_handled ON bulk_operation_target (operation_id, handled_at) WHERE state <> 'pending';

-- Down Migration
DROP TABLE bulk_operation_target;
DROP TABLE bulk_operation;
