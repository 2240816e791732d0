// Projectors' checkpoints into lag samples, one row per partition, idempotent on the event id.
import type { PoolClient } from "../db/pool.ts";
import type { ProjectionEvent } from "../events/index.ts";

export async function insertProjectionEvents(
  client: Pick<PoolClient, "query">,
  events: ProjectionEvent[],
): Promise<number> {
  const rows = events.flatMap((e) =>
    e.data.partitions.map((p) => ({
      checkpoint_id: e.id,
      topic: p.topic,
      partition: p.partition,
      time: e.time.toISOString(),
      projection: e.data.projection,
      generation: e.data.generation,
      active: e.data.active,
      committed_offset: p.committedOffset,
      log_end_offset: p.logEndOffset,
      offset_lag: p.offsetLag,
      newest_applied_at: p.newestAppliedAt,
      time_lag_ms: p.timeLagMs,
      oldest_unapplied_age_ms: p.oldestUnappliedAgeMs ?? null,
      group_id: e.data.groupId,
    })),
  );
  if (rows.length === 0) return 0;
  const r = await client.query(
    `INSERT INTO projection_lag_sample (checkpoint_id, topic, partition, time, projection, generation, active,
       committed_offset, log_end_offset, offset_lag, newest_applied_at, time_lag_ms, oldest_unapplied_age_ms,
       group_id)
     SELECT * FROM json_to_recordset($1::json) AS r(checkpoint_id text, topic text, partition int, time timestamptz,
       projection text, generation int, active boolean, committed_offset bigint, log_end_offset bigint,
       offset_lag bigint, newest_applied_at timestamptz, time_lag_ms double precision,
       oldest_unapplied_age_ms double precision, group_id text)
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
  );
  return r.rowCount ?? 0;
}
