-- Up Migration
-- What a saga batch's fold asks of Postgres before it writes the summaries, in one round trip
-- instead of three (server/ingest/store-batch.ts), in the order it took as three statements:
-- a lock per saga id, taken in one order so that two ingesters never wait on each other in a
-- cycle (row locks cannot cover a saga that has no summary yet); the sagas' summaries read and
-- locked; then the words the list's filters offer (sorted by the caller, for the same reason);
-- and the notification telling live views which sagas changed, which Postgres delivers only
-- when the transaction commits. On a loaded machine a round trip costs far more than the work
-- of a statement like these (docs/database.md).
CREATE FUNCTION sagascope_lock_summaries(
  saga_ids text[], word_kinds text[], word_values text[], channel text, payload text
) RETURNS SETOF saga_summary LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7304, h)
     FROM (SELECT hashtext(id) AS h FROM unnest(saga_ids) AS id ORDER BY 1) AS ordered;
  -- Planned for these ids at each call, as a statement of its own would be: a plan made once
  -- for any array scanned the whole table, testing every row against every id.
  RETURN QUERY EXECUTE 'SELECT * FROM saga_summary WHERE saga_id = ANY($1) ORDER BY saga_id FOR UPDATE'
    USING saga_ids;
  INSERT INTO saga_vocabulary (kind, value)
  SELECT * FROM unnest(word_kinds, word_values) ON CONFLICT DO NOTHING;
  IF payload IS NOT NULL THEN
    PERFORM pg_notify(channel, payload);
  END IF;
END $$;

-- Down Migration
DROP FUNCTION sagascope_lock_summaries(text[], text[], text[], text, text);
