-- Up Migration
-- The locks and summaries a saga batch's fold needs, alone (server/ingest/store-batch.ts), so
-- that they ride in the message of the events' COPY and identity claim: a lock per saga id,
-- taken in one order so that two ingesters never wait on each other in a cycle (row locks
-- cannot cover a saga that has no summary yet), then the sagas' summaries read and locked.
-- The filters' words and the live views' notification, which only the fresh events decide,
-- ride in the transaction's last message instead. sagascope_lock_summaries stays for an
-- ingester of the version before, during an upgrade.
CREATE FUNCTION sagascope_lock_sagas(saga_ids text[]) RETURNS SETOF saga_summary LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7304, h)
     FROM (SELECT hashtext(id) AS h FROM unnest(saga_ids) AS id ORDER BY 1) AS ordered;
  -- Planned for these ids at each call, as a statement of its own would be: a plan made once
  -- for any array scanned the whole table, testing every row against every id.
  RETURN QUERY EXECUTE 'SELECT * FROM saga_summary WHERE saga_id = ANY($1) ORDER BY saga_id FOR UPDATE'
    USING saga_ids;
END $$;

-- Down Migration
DROP FUNCTION sagascope_lock_sagas(text[]);
