-- Up Migration
-- Partition creation safe for several ingesters starting at once: serialised by an
-- advisory lock, and a partition another ingester just created is not an error.
CREATE OR REPLACE FUNCTION sagascope_ensure_event_partitions(from_time timestamptz, months integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  month_start date := date_trunc('month', from_time AT TIME ZONE 'UTC')::date;
  created integer := 0;
  part_name text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('sagascope_ensure_event_partitions'));
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
      EXCEPTION
        WHEN check_violation THEN
          RAISE NOTICE 'partition % skipped: its rows are in saga_event_default', part_name;
        WHEN duplicate_table THEN
          NULL;
      END;
    END IF;
  END LOOP;
  RETURN created;
END $$;

-- Down Migration
-- The first version stays correct for a single ingester; nothing to undo.
SELECT 1;
