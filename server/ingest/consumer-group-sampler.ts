// Samples every consumer group of the deployment (as the Kafka page lists them) every few
// seconds into consumer_group_lag_sample, so the page can chart a group's lag over time and
// say when it will clear. Several ingesters share the work: a round is claimed first, by the
// one whose update of the scope's claim row succeeds. Samples older than a day are deleted.
import { samplingScope } from "../dashboard/kafka/deployment-names.ts";
import { type GroupRow, type KafkaTarget, readKafka } from "../dashboard/kafka/read-kafka.ts";
import type { Pool } from "../db/pool.ts";
import type { Logger } from "../log.ts";
import { createPeriodic } from "../periodic.ts";

/** Samples are kept this long: the longest range the page charts. */
export const GROUP_LAG_KEEP_HOURS = 24;
/** At most this many groups are sampled a round (the ones furthest behind first). */
export const MAX_SAMPLED_GROUPS = 500;

export interface GroupLagSample {
  groupId: string;
  committed: number;
  logEnd: number;
  lag: number;
  partitions: number;
}

/** A group's totals over the partitions it committed on: what it consumed and what was written there. */
export function sampleOf(group: GroupRow): GroupLagSample {
  const committed = group.partitions.filter((p) => p.committedOffset !== null && p.logEndOffset !== null);
  return {
    groupId: group.groupId,
    committed: committed.reduce((n, p) => n + (p.committedOffset ?? 0), 0),
    logEnd: committed.reduce((n, p) => n + (p.logEndOffset ?? 0), 0),
    lag: group.totalLag,
    partitions: committed.length,
  };
}

export interface ConsumerGroupSampler {
  start(): void;
  stop(): Promise<void>;
  /** One round: the groups sampled, or null when another process has this round. */
  sampleDue(): Promise<GroupLagSample[] | null>;
}

export function createConsumerGroupSampler(deps: {
  pool: Pool;
  target: KafkaTarget;
  everyMs: number;
  /**
   * How long a round waits for Kafka's answer (default: the round's length, at most 8 s), so a
   * read never outlasts its round. A test with one-second rounds on a busy machine gives more.
   */
  readDeadlineMs?: number;
  log: Logger;
}): ConsumerGroupSampler {
  const scope = samplingScope(deps.target);

  /** This round is ours when no process sampled the scope in the last interval (less a margin for timers). */
  async function claim(): Promise<boolean> {
    const { rowCount } = await deps.pool.query(
      `INSERT INTO consumer_group_sampling AS s (scope, sampled_at) VALUES ($1, now())
       ON CONFLICT (scope) DO UPDATE SET sampled_at = now()
       WHERE s.sampled_at <= now() - make_interval(secs => $2)`,
      [scope, (deps.everyMs * 0.8) / 1000],
    );
    return rowCount === 1;
  }

  async function sampleDue(): Promise<GroupLagSample[] | null> {
    if (!(await claim())) return null;
    const { groups } = await readKafka(deps.target, {
      deadlineMs: deps.readDeadlineMs ?? Math.min(8000, deps.everyMs),
    });
    if (groups.length > MAX_SAMPLED_GROUPS)
      deps.log.warn("more consumer groups than are sampled; the least behind are left out", {
        groups: groups.length,
        sampled: MAX_SAMPLED_GROUPS,
      });
    // readKafka sorts the groups furthest behind first.
    const samples = groups.slice(0, MAX_SAMPLED_GROUPS).map(sampleOf);
    await deps.pool.query(
      `INSERT INTO consumer_group_lag_sample (scope, group_id, time, committed, log_end, lag, partitions)
       SELECT $1, g, now(), c, e, l, p
       FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::int[]) AS u(g, c, e, l, p)`,
      [
        scope,
        samples.map((s) => s.groupId),
        samples.map((s) => s.committed),
        samples.map((s) => s.logEnd),
        samples.map((s) => s.lag),
        samples.map((s) => s.partitions),
      ],
    );
    await deps.pool.query(
      "DELETE FROM consumer_group_lag_sample WHERE scope = $1 AND time < now() - make_interval(hours => $2)",
      [scope, GROUP_LAG_KEEP_HOURS],
    );
    return samples;
  }

  const rounds = createPeriodic(deps.everyMs, sampleDue, (error) =>
    deps.log.warn("consumer groups not sampled", {
      error: error instanceof Error ? error.message : String(error),
    }),
  );
  return { start: rounds.start, stop: rounds.stop, sampleDue };
}
