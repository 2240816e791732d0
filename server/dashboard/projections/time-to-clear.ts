// When will the lag clear? From a projection's recent checkpoints: the rate it consumes
// (its committed offsets moving) against the rate its topics grow (their log-end offsets
// moving). Faster than the topics grow, the backlog clears in lag ÷ (consume − produce); not
// faster, it does not clear at this rate, unless what is behind is only what arrives between
// two checkpoints (keeping up).
import type { Pool } from "../../db/pool.ts";

/** The checkpoints the rates are measured over. */
export const CLEAR_WINDOW_MS = 30_000;
/** A lag no larger than this many seconds of arrivals is keeping up, not falling behind. */
const KEEPING_UP_SECONDS = 10;

export interface CheckpointTotals {
  time: Date;
  committed: number;
  logEnd: number;
  lag: number;
}

export type TimeToClear =
  | { kind: "unknown"; why: string }
  | { kind: "caught-up" }
  | ({ kind: "keeping-up" } & Rates)
  | ({ kind: "clearing"; inMs: number } & Rates)
  | ({ kind: "growing" } & Rates);

/** The rates an estimate was taken from, and the seconds between the checkpoints they span. */
export interface Rates {
  consumePerSecond: number;
  producePerSecond: number;
  overSeconds: number;
}

/** The estimate from one consumer group's checkpoints (or samples) of the last `windowMs`, oldest first. */
export function estimateTimeToClear(
  checkpoints: CheckpointTotals[],
  windowMs = CLEAR_WINDOW_MS,
): TimeToClear {
  const last = checkpoints.at(-1);
  if (!last) return { kind: "unknown", why: `no checkpoint in the last ${windowMs / 1000} s` };
  if (last.lag <= 0) return { kind: "caught-up" };
  const first = checkpoints[0] as CheckpointTotals;
  const seconds = (last.time.getTime() - first.time.getTime()) / 1000;
  if (checkpoints.length < 2 || seconds < 1)
    return { kind: "unknown", why: "one checkpoint so far: the rates need two" };
  const consumePerSecond = Math.max(0, (last.committed - first.committed) / seconds);
  const producePerSecond = Math.max(0, (last.logEnd - first.logEnd) / seconds);
  const rates = { consumePerSecond, producePerSecond, overSeconds: Math.round(seconds) };
  if (consumePerSecond > producePerSecond)
    return { kind: "clearing", inMs: (last.lag / (consumePerSecond - producePerSecond)) * 1000, ...rates };
  if (last.lag <= producePerSecond * KEEPING_UP_SECONDS) return { kind: "keeping-up", ...rates };
  return { kind: "growing", ...rates };
}

/**
 * Each named projection's estimate from its active checkpoints of the last 30 s (its newest
 * group's only); a projection with none is unknown. By name, so the (projection, time) index
 * bounds the read to those 30 s however many samples the table keeps.
 */
export async function timesToClear(
  db: Pick<Pool, "query">,
  projections: string[],
): Promise<Map<string, TimeToClear>> {
  const { rows } = await db.query<CheckpointTotals & { projection: string; groupId: string | null }>(
    `SELECT projection, group_id AS "groupId", time, sum(committed_offset)::float8 AS committed,
            sum(log_end_offset)::float8 AS "logEnd", sum(offset_lag)::float8 AS lag
     FROM projection_lag_sample
     WHERE projection = ANY($1::text[]) AND time > now() - make_interval(secs => $2) AND active
     GROUP BY projection, group_id, checkpoint_id, time ORDER BY projection, time`,
    [projections, CLEAR_WINDOW_MS / 1000],
  );
  const byProjection = new Map<string, typeof rows>();
  for (const row of rows)
    byProjection.set(row.projection, [...(byProjection.get(row.projection) ?? []), row]);
  return new Map(
    projections.map((projection) => {
      const checkpoints = byProjection.get(projection) ?? [];
      // A rebuild's new group starts from zero: its offsets are not comparable with the old one's.
      const group = checkpoints.at(-1)?.groupId ?? null;
      return [projection, estimateTimeToClear(checkpoints.filter((c) => c.groupId === group))];
    }),
  );
}
