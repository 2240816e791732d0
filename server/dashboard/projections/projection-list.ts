// Every projection the dashboard knows: the built-in one, the consumer groups declared to be
// projections (sampled by the ingester), and any projector that publishes its own
// checkpoints. For each, where it stands at its latest checkpoint.
import type { Pool } from "../../db/pool.ts";
import { type DeclaredProjection, listDeclared } from "../../projections/declared-projections.ts";
import { PROJECTION } from "../../projections/read-model.ts";
import { type TimeToClear, timesToClear } from "./time-to-clear.ts";

/** A projection that has not checkpointed for this long is listed without figures. */
const RECENT_HOURS = 24;

export type ProjectionKind = "built-in" | "declared" | "reported";

export interface ProjectionSummary {
  name: string;
  /** built-in: Sagascope's projector; declared: a group measured from outside; reported: publishes checkpoints. */
  kind: ProjectionKind;
  groupId: string | null;
  declaration: Omit<DeclaredProjection, "name" | "groupId"> | null;
  lastCheckpointAt: Date | null;
  partitions: number;
  offsetLag: number;
  /** Seconds behind: the worst partition's time lag; null when not known. */
  timeLagMs: number | null;
  oldestWaitingMs: number | null;
  /** When its lag will clear at the rates of its last 30 s of checkpoints. */
  timeToClear: TimeToClear;
}

type Db = Pick<Pool, "query">;

interface Latest {
  projection: string;
  group_id: string | null;
  time: Date;
  partitions: number;
  offset_lag: number;
  time_lag_ms: number | null;
  oldest_ms: number | null;
}

export async function listProjections(db: Db): Promise<ProjectionSummary[]> {
  const [declared, latest] = await Promise.all([listDeclared(db), latestCheckpoints(db)]);
  const byName = new Map(latest.map((l) => [l.projection, l]));
  const names = new Set([...latest.map((l) => l.projection), ...declared.map((d) => d.name)]);
  const clearing = await timesToClear(db, [...names]);
  return [...names]
    .sort((a, b) => (a === PROJECTION ? -1 : b === PROJECTION ? 1 : a.localeCompare(b)))
    .map((name) => {
      const d = declared.find((x) => x.name === name);
      const l = byName.get(name);
      const { name: _, groupId, ...declaration } = d ?? { name, groupId: null };
      return {
        name,
        kind: name === PROJECTION ? "built-in" : d ? "declared" : "reported",
        groupId: groupId ?? l?.group_id ?? null,
        declaration: d ? (declaration as ProjectionSummary["declaration"]) : null,
        lastCheckpointAt: l?.time ?? null,
        partitions: l?.partitions ?? 0,
        offsetLag: l?.offset_lag ?? 0,
        timeLagMs: l?.time_lag_ms ?? null,
        oldestWaitingMs: l?.oldest_ms ?? null,
        timeToClear: clearing.get(name) as TimeToClear,
      };
    });
}

/** Each projection's newest active checkpoint, found by skipping along the (projection, time) index. */
async function latestCheckpoints(db: Db): Promise<Latest[]> {
  const { rows } = await db.query<Latest>(
    `WITH RECURSIVE names AS (
       (SELECT projection FROM projection_lag_sample ORDER BY projection LIMIT 1)
       UNION ALL
       SELECT (SELECT s.projection FROM projection_lag_sample s WHERE s.projection > n.projection
               ORDER BY s.projection LIMIT 1)
       FROM names n WHERE n.projection IS NOT NULL),
     newest AS (
       SELECT n.projection, c.checkpoint_id, c.time FROM names n
       CROSS JOIN LATERAL (
         SELECT checkpoint_id, time FROM projection_lag_sample s
         WHERE s.projection = n.projection AND s.active AND s.time > now() - make_interval(hours => $1)
         ORDER BY time DESC LIMIT 1) c
       WHERE n.projection IS NOT NULL)
     SELECT n.projection, n.time, count(*)::int AS partitions, sum(s.offset_lag)::float8 AS offset_lag,
            max(s.time_lag_ms) AS time_lag_ms, max(s.oldest_unapplied_age_ms) AS oldest_ms,
            coalesce((SELECT group_id FROM declared_projection WHERE name = n.projection), max(s.group_id)) AS group_id
     FROM newest n JOIN projection_lag_sample s ON s.checkpoint_id = n.checkpoint_id
     GROUP BY n.projection, n.time`,
    [RECENT_HOURS],
  );
  return rows;
}

export interface PartitionLagRow {
  topic: string;
  partition: number;
  committedOffset: number;
  logEndOffset: number;
  offsetLag: number;
  timeLagMs: number | null;
  oldestUnappliedAgeMs: number | null;
  newestAppliedAt: Date | null;
  sampledAt: Date;
}

/** One projection's latest checkpoint, partition by partition. */
export async function latestLag(db: Db, projection: string): Promise<PartitionLagRow[]> {
  const { rows } = await db.query<PartitionLagRow>(
    `SELECT topic, partition, committed_offset::float8 AS "committedOffset",
            log_end_offset::float8 AS "logEndOffset", offset_lag::float8 AS "offsetLag",
            time_lag_ms AS "timeLagMs", oldest_unapplied_age_ms AS "oldestUnappliedAgeMs",
            newest_applied_at AS "newestAppliedAt", time AS "sampledAt"
     FROM projection_lag_sample
     WHERE checkpoint_id = (SELECT checkpoint_id FROM projection_lag_sample
                            WHERE projection = $1 AND active ORDER BY time DESC LIMIT 1)
     ORDER BY topic, partition`,
    [projection],
  );
  return rows;
}
