// A consumer group's lag over time and when it will clear, from the samples the ingester takes
// of every group of the deployment (server/ingest/consumer-group-sampler.ts).
import type { Pool } from "../../db/pool.ts";
import { LAG_RANGES, type LagRange } from "../projections/lag-history.ts";
import {
  type CheckpointTotals,
  estimateTimeToClear,
  type TimeToClear,
} from "../projections/time-to-clear.ts";

/** The samples the rates are measured over: several sampling intervals (10 s by default). */
export const GROUP_CLEAR_WINDOW_MS = 60_000;
/** At most this many points per chart. */
const POINTS = 120;

export interface GroupLagPoint {
  at: Date;
  lag: number;
}

export interface GroupLagHistory {
  groupId: string;
  points: GroupLagPoint[];
  bucketSeconds: number;
}

/** Every sampled group's estimate, from its samples of the last minute. */
export async function readGroupsTimeToClear(
  db: Pick<Pool, "query">,
  scope: string,
): Promise<{ windowSeconds: number; groups: Record<string, TimeToClear> }> {
  const { rows } = await db.query<CheckpointTotals & { groupId: string }>(
    `SELECT group_id AS "groupId", time, committed::float8 AS committed, log_end::float8 AS "logEnd",
            lag::float8 AS lag
     FROM consumer_group_lag_sample
     WHERE scope = $1 AND time > now() - make_interval(secs => $2)
     ORDER BY group_id, time`,
    [scope, GROUP_CLEAR_WINDOW_MS / 1000],
  );
  const byGroup = new Map<string, CheckpointTotals[]>();
  for (const row of rows) byGroup.set(row.groupId, [...(byGroup.get(row.groupId) ?? []), row]);
  return {
    windowSeconds: GROUP_CLEAR_WINDOW_MS / 1000,
    groups: Object.fromEntries(
      [...byGroup].map(([groupId, samples]) => [
        groupId,
        estimateTimeToClear(samples, GROUP_CLEAR_WINDOW_MS),
      ]),
    ),
  };
}

/** One group's lag in buckets (the last sample of each stands for it), so a chart has at most 120 points. */
export async function readGroupLagHistory(
  db: Pick<Pool, "query">,
  scope: string,
  groupId: string,
  range: LagRange,
  now = Date.now(),
): Promise<GroupLagHistory> {
  const minutes = LAG_RANGES[range];
  const bucketSeconds = Math.max(5, Math.round((minutes * 60) / POINTS));
  const { rows } = await db.query<{ at: Date; lag: number }>(
    `SELECT DISTINCT ON (at) date_bin(make_interval(secs => $3), time, 'epoch'::timestamptz) AS at,
            lag::float8 AS lag
     FROM consumer_group_lag_sample
     WHERE scope = $1 AND group_id = $2 AND time >= $4
     ORDER BY at, time DESC`,
    [scope, groupId, bucketSeconds, new Date(now - minutes * 60_000)],
  );
  return { groupId, points: rows, bucketSeconds };
}
