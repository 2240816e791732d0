// A projection's lag over time, from its checkpoints (projection_lag_sample): per topic the
// offset lag summed over partitions, and the worst time lag and oldest waiting change, in
// buckets so a chart has a bounded number of points whatever the range.
import type { Pool } from "../../db/pool.ts";
import { PROJECTION } from "../../projections/read-model.ts";

export const LAG_RANGES = { "15m": 15, "1h": 60, "6h": 360, "24h": 1440 } as const;
export type LagRange = keyof typeof LAG_RANGES;

/** At most this many points per series. */
const POINTS = 120;

export interface LagPoint {
  at: Date;
  /** Offset lag per topic (summed over its partitions). */
  offsets: Record<string, number>;
  totalOffsetLag: number;
  /** Seconds behind: the worst partition's time lag. */
  timeLagS: number;
  /** Seconds the oldest unapplied change had waited (worst partition). */
  oldestWaitingS: number;
}

export interface LagHistory {
  topics: string[];
  points: LagPoint[];
  bucketSeconds: number;
}

export async function readLagHistory(
  db: Pick<Pool, "query">,
  range: LagRange,
  now = Date.now(),
  projection = PROJECTION,
): Promise<LagHistory> {
  const minutes = LAG_RANGES[range];
  const bucketSeconds = Math.max(5, Math.round((minutes * 60) / POINTS));
  // Within a bucket, the last checkpoint of each partition stands for it.
  const { rows } = await db
    .query<{
      bucket: Date;
      topic: string;
      offset_lag: number;
      time_lag_ms: number | null;
      oldest_ms: number | null;
    }>(
      `WITH last_in_bucket AS (
       SELECT DISTINCT ON (bucket, s.topic, s.partition)
              date_bin(make_interval(secs => $2), s.time, 'epoch'::timestamptz) AS bucket,
              s.topic, s.offset_lag, s.time_lag_ms, s.oldest_unapplied_age_ms
       FROM projection_lag_sample s
       WHERE s.projection = $1 AND s.time >= $3 AND ${
         // The built-in projection: its serving generation, also from before it was switched to.
         projection === PROJECTION
           ? "s.generation = coalesce((SELECT active FROM projection_control.generation WHERE projection = $1), s.generation)"
           : "s.active"
       }
       ORDER BY bucket, s.topic, s.partition, s.time DESC)
     SELECT bucket, topic, sum(offset_lag)::float8 AS offset_lag, max(time_lag_ms) AS time_lag_ms,
            max(oldest_unapplied_age_ms) AS oldest_ms
     FROM last_in_bucket GROUP BY bucket, topic ORDER BY bucket, topic`,
      [projection, bucketSeconds, new Date(now - minutes * 60_000)],
    )
    .catch((error: { code?: string }) => {
      // No projector has started yet: its control table does not exist.
      if (error.code === "42P01") return { rows: [] };
      throw error;
    });
  const topics = [...new Set(rows.map((r) => r.topic))].sort();
  const byBucket = new Map<number, LagPoint>();
  for (const r of rows) {
    const key = r.bucket.getTime();
    const point = byBucket.get(key) ?? {
      at: r.bucket,
      offsets: Object.fromEntries(topics.map((t) => [t, 0])),
      totalOffsetLag: 0,
      timeLagS: 0,
      oldestWaitingS: 0,
    };
    point.offsets[r.topic] = r.offset_lag;
    point.totalOffsetLag += r.offset_lag;
    point.timeLagS = Math.max(point.timeLagS, (r.time_lag_ms ?? 0) / 1000);
    point.oldestWaitingS = Math.max(point.oldestWaitingS, (r.oldest_ms ?? 0) / 1000);
    byBucket.set(key, point);
  }
  return { topics, points: [...byBucket.values()], bucketSeconds };
}
