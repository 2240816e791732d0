-- Up Migration
-- Retention: saga_event's monthly partitions older than the kept months are detached and
-- dropped (a whole month at once, no row-by-row delete), with the identities of their events
-- and the summaries of the sagas that ended in them. Run by the ingester on a schedule as the
-- runtime role: this function holds the owner's rights and does only that. One caller at a
-- time (an advisory lock); the others skip the round.
CREATE FUNCTION sagascope_drop_event_partitions(keep_months integer)
RETURNS text[] LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
  -- The first day (UTC) of the oldest month kept.
  cutoff timestamptz := (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => keep_months - 1)) AT TIME ZONE 'UTC';
  part record;
  dropped text[] := '{}';
BEGIN
  IF keep_months < 1 THEN
    RAISE EXCEPTION 'keep_months must be 1 or more, not %', keep_months;
  END IF;
  IF NOT pg_try_advisory_xact_lock(7307, 1) THEN
    RETURN dropped;
  END IF;
  FOR part IN
    SELECT c.relname AS name
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'saga_event'::regclass AND c.relname ~ '^saga_event_[0-9]{4}_[0-9]{2}$'
      AND make_timestamptz(substr(c.relname, 12, 4)::int, substr(c.relname, 17, 2)::int, 1, 0, 0, 0, 'UTC')
          + interval '1 month' <= cutoff
    ORDER BY c.relname
  LOOP
    EXECUTE format('ALTER TABLE saga_event DETACH PARTITION %I', part.name);
    EXECUTE format('DROP TABLE %I', part.name);
    dropped := dropped || part.name::text;
  END LOOP;
  DELETE FROM saga_event_identity WHERE time < cutoff;
  DELETE FROM saga_summary WHERE started_at < cutoff AND ended_at IS NOT NULL AND ended_at < cutoff;
  RETURN dropped;
END $$;

-- The identities of dropped months go with them, found by their time.
CREATE INDEX saga_event_identity_time_idx ON saga_event_identity (time);

-- The oldest month saga_event holds, for the dashboard's "data since".
CREATE FUNCTION sagascope_event_data_since()
RETURNS timestamptz LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp SET TimeZone = 'UTC' AS $$
  SELECT min(make_timestamptz(substr(c.relname, 12, 4)::int, substr(c.relname, 17, 2)::int, 1, 0, 0, 0, 'UTC'))
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'saga_event'::regclass AND c.relname ~ '^saga_event_[0-9]{4}_[0-9]{2}$'
$$;

-- Down Migration
DROP INDEX saga_event_identity_time_idx;
DROP FUNCTION sagascope_event_data_since();
DROP FUNCTION sagascope_drop_event_partitions(integer);
