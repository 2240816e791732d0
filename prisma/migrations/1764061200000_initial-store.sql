-- Up Migration
-- The first store: contract events, saga summaries, dead letters (prisma/schema.prisma).

CREATE TYPE saga_mode AS ENUM ('orchestrated', 'choreographed');
CREATE TYPE saga_status AS ENUM ('running', 'compensating', 'completed', 'compensated', 'failed', 'timed_out');

-- Append-only, partitioned by month on the event's own time so that retention is a
-- DROP of old partitions. Events outside every monthly partition land in the default one.
CREATE TABLE saga_event (
  id              text        NOT NULL,
  time            timestamptz(3) NOT NULL,
  source          text        NOT NULL,
  type            text        NOT NULL,
  saga_id         text        NOT NULL,
  saga_type       text        NOT NULL,
  trace_id        char(32)    NOT NULL,
  span_id         char(16),
  step            text,
  step_index      integer,
  service         text,
  data            jsonb       NOT NULL,
  kafka_topic     text        NOT NULL,
  kafka_partition integer     NOT NULL,
  kafka_offset    bigint      NOT NULL,
  ingested_at     timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT saga_event_pkey PRIMARY KEY (id, time)
) PARTITION BY RANGE (time);

CREATE TABLE saga_event_default PARTITION OF saga_event DEFAULT;
CREATE INDEX saga_event_saga_id_time_idx ON saga_event (saga_id, time);
CREATE INDEX saga_event_trace_id_time_idx ON saga_event (trace_id, time);

-- Creates the monthly partitions covering [from, from + months). Called by the ingester
-- at start and daily; a month whose rows already sit in the default partition is skipped
-- (they stay readable there) rather than failing ingestion.
CREATE FUNCTION sagascope_ensure_event_partitions(from_time timestamptz, months integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  month_start date := date_trunc('month', from_time AT TIME ZONE 'UTC')::date;
  created integer := 0;
  part_name text;
BEGIN
  FOR i IN 0 .. months - 1 LOOP
    part_name := format('saga_event_%s', to_char(month_start + make_interval(months => i), 'YYYY_MM'));
    IF to_regclass(part_name) IS NULL THEN
      BEGIN
        EXECUTE format(
          'CREATE TABLE %I PARTITION OF saga_event FOR VALUES FROM (%L) TO (%L)',
          part_name,
          (month_start + make_interval(months => i))::timestamp AT TIME ZONE 'UTC',
          (month_start + make_interval(months => i + 1))::timestamp AT TIME ZONE 'UTC');
        created := created + 1;
      EXCEPTION WHEN check_violation THEN
        RAISE NOTICE 'partition % skipped: its rows are in saga_event_default', part_name;
      END;
    END IF;
  END LOOP;
  RETURN created;
END $$;

SELECT sagascope_ensure_event_partitions(now() - interval '1 month', 3);

CREATE TABLE saga_summary (
  saga_id          text        PRIMARY KEY,
  saga_type        text        NOT NULL,
  mode             saga_mode   NOT NULL,
  status           saga_status NOT NULL,
  trace_id         char(32)    NOT NULL,
  business_key     text,
  current_step     text,
  failed_step      text,
  failure_reason   text,
  started_at       timestamptz(3) NOT NULL,
  last_progress_at timestamptz(3) NOT NULL,
  ended_at         timestamptz(3),
  event_count      integer     NOT NULL,
  stuck            boolean     NOT NULL DEFAULT false,
  stuck_reason     text,
  updated_at       timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX saga_summary_started_at_saga_id_idx ON saga_summary (started_at DESC, saga_id DESC);
CREATE INDEX saga_summary_status_started_at_idx ON saga_summary (status, started_at DESC);
CREATE INDEX saga_summary_trace_id_idx ON saga_summary (trace_id);

CREATE TABLE dead_letter (
  id              bigserial   PRIMARY KEY,
  kafka_topic     text        NOT NULL,
  kafka_partition integer     NOT NULL,
  kafka_offset    bigint      NOT NULL,
  key             bytea,
  value           bytea,
  headers         jsonb       NOT NULL,
  reason          text        NOT NULL,
  received_at     timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX dead_letter_kafka_topic_kafka_partition_kafka_offset_key
  ON dead_letter (kafka_topic, kafka_partition, kafka_offset);
CREATE INDEX dead_letter_received_at_idx ON dead_letter (received_at DESC);

-- Down Migration
DROP TABLE dead_letter;
DROP TABLE saga_summary;
DROP FUNCTION sagascope_ensure_event_partitions(timestamptz, integer);
DROP TABLE saga_event;
DROP TYPE saga_status;
DROP TYPE saga_mode;
