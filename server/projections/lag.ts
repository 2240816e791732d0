// Projection lag per partition, measured for real: offset lag from Kafka's admin API (log-end
// offset minus the projector's committed offset) and time lag from the read model (now minus
// when the newest applied change occurred).
import type { Admin } from "kafkajs";
import type { Pool } from "../db/pool.ts";
import { type OldestUnappliedProbe, positionKey } from "./oldest-unapplied.ts";
import { schemaOf } from "./read-model.ts";

export interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: number;
  logEndOffset: number;
  offsetLag: number;
  newestAppliedAt: Date | null;
  /** Now minus the occurred-at time of the newest applied change; null before the first one. */
  timeLagMs: number | null;
  /** How old the oldest change not applied yet is; null when none is waiting (or not measured). */
  oldestUnappliedAgeMs: number | null;
}

/** The arithmetic alone: a group that never committed has applied nothing past the log start. */
export function partitionLag(
  offsets: { high: number; low: number; committed: number },
  newestAppliedAt: Date | null,
  now: number,
): Pick<PartitionLag, "committedOffset" | "logEndOffset" | "offsetLag" | "timeLagMs"> {
  const committed = offsets.committed >= 0 ? offsets.committed : offsets.low;
  return {
    committedOffset: committed,
    logEndOffset: offsets.high,
    offsetLag: Math.max(0, offsets.high - committed),
    timeLagMs: newestAppliedAt ? Math.max(0, now - newestAppliedAt.getTime()) : null,
  };
}

export async function measureLag(
  admin: Admin,
  pool: Pool,
  deps: { groupId: string; topics: string[]; generation: number; probe?: OldestUnappliedProbe },
  now = Date.now(),
): Promise<PartitionLag[]> {
  const committed = await admin.fetchOffsets({ groupId: deps.groupId, topics: deps.topics });
  const applied = await pool
    .query(`SELECT topic, partition, newest_occurred_at FROM ${schemaOf(deps.generation)}.applied_offset`)
    .catch(() => ({ rows: [] as { topic: string; partition: number; newest_occurred_at: Date | null }[] }));
  const newest = new Map(
    applied.rows.map((r) => [`${r.topic}/${r.partition}`, r.newest_occurred_at as Date | null]),
  );
  const out: PartitionLag[] = [];
  for (const topic of deps.topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const groupOffsets = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const end of ends) {
      const c = groupOffsets.find((p) => p.partition === end.partition);
      const at = newest.get(`${topic}/${end.partition}`) ?? null;
      out.push({
        topic,
        partition: end.partition,
        newestAppliedAt: at,
        oldestUnappliedAgeMs: null,
        ...partitionLag(
          { high: Number(end.high), low: Number(end.low), committed: Number(c?.offset ?? -1) },
          at,
          now,
        ),
      });
    }
  }
  if (deps.probe) {
    const lagging = out.filter((l) => l.offsetLag > 0);
    const oldest = await deps.probe.probe(
      lagging.map((l) => ({ topic: l.topic, partition: l.partition, offset: l.committedOffset })),
    );
    for (const l of lagging) {
      const at = oldest.get(positionKey(l.topic, l.partition));
      if (at) l.oldestUnappliedAgeMs = Math.max(0, Date.now() - at.getTime());
    }
  }
  return out;
}

export const totalOffsetLag = (lags: PartitionLag[]) => lags.reduce((n, l) => n + l.offsetLag, 0);
