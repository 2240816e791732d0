// Lag of any consumer group, measured from outside it: offsets from the group's committed
// offsets against each partition's log end (Kafka's admin API), seconds from the record
// timestamp of the oldest message it has not consumed (peeked, never committed). This is
// the lag exporters' convention, so a projector that reports nothing can still be watched.
import type { Admin } from "kafkajs";
import type { ProjectionCheckpoint } from "../events/index.ts";
import { partitionLag } from "./lag.ts";
import { type OldestUnappliedProbe, positionKey } from "./oldest-unapplied.ts";

/** The most partitions one projection's sample covers (the checkpoint's own bound). */
export const MAX_SAMPLED_PARTITIONS = 10_000;

export class GroupLagError extends Error {
  override name = "GroupLagError";
}

/** Which topics to measure: the declared ones, or every topic the group committed on. */
export async function topicsOf(admin: Admin, groupId: string, declared: string[]): Promise<string[]> {
  if (declared.length > 0) return declared;
  const committed = await admin.fetchOffsets({ groupId });
  const topics = committed
    .filter((t) => t.partitions.some((p) => Number(p.offset) >= 0))
    .map((t) => t.topic)
    .sort();
  if (topics.length === 0)
    throw new GroupLagError(
      `the group "${groupId}" has committed no offsets yet; name its topics to measure it before its first commit`,
    );
  return topics;
}

export async function measureGroupLag(
  admin: Admin,
  groupId: string,
  topics: string[],
  /** The peek consumer for these topics, asked for only when a partition lags. */
  probeFor: (() => Promise<OldestUnappliedProbe>) | undefined,
  now = Date.now(),
): Promise<ProjectionCheckpoint["partitions"]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0)
    throw new GroupLagError(
      `no such topic: ${missing.join(", ")} (the group's topics must exist to be measured)`,
    );
  const committed = await admin.fetchOffsets({ groupId, topics });
  const out: ProjectionCheckpoint["partitions"] = [];
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const offsets = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const end of ends) {
      const c = offsets.find((p) => p.partition === end.partition);
      const lag = partitionLag(
        { high: Number(end.high), low: Number(end.low), committed: Number(c?.offset ?? -1) },
        null,
        now,
      );
      out.push({
        topic,
        partition: end.partition,
        committedOffset: lag.committedOffset,
        logEndOffset: lag.logEndOffset,
        offsetLag: lag.offsetLag,
        newestAppliedAt: null,
        // Caught up: nothing waits, so it is 0 s behind; lagging: as old as the oldest waiting.
        timeLagMs: lag.offsetLag === 0 ? 0 : null,
        oldestUnappliedAgeMs: null,
      });
    }
  }
  if (out.length > MAX_SAMPLED_PARTITIONS)
    throw new GroupLagError(`${out.length} partitions: at most ${MAX_SAMPLED_PARTITIONS} are measured`);
  const lagging = out.filter((p) => p.offsetLag > 0);
  if (probeFor && lagging.length > 0) {
    const probe = await probeFor();
    const oldest = await probe.probe(
      lagging.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.committedOffset })),
    );
    for (const p of lagging) {
      const at = oldest.get(positionKey(p.topic, p.partition));
      if (!at) continue;
      p.oldestUnappliedAgeMs = Math.max(0, Date.now() - at.getTime());
      p.timeLagMs = p.oldestUnappliedAgeMs;
    }
  }
  return out;
}
