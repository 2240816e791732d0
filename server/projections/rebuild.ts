// Rebuilds the read model without downtime: a new generation is filled from offset zero by
// a projector of its own (a fresh consumer group) while the active generation keeps
// serving; once the new one has caught up with every partition, it becomes the active one,
// and generations older than the newest `keepGenerations` are dropped.
import type { Kafka } from "kafkajs";
import type { Pool } from "../db/pool.ts";
import type { Logger } from "../log.ts";
import { projectorGroup } from "./fleet-topics.ts";
import { measureLag, totalOffsetLag } from "./lag.ts";
import { createProjector } from "./projector.ts";
import { activate, activeGeneration, createReadModel } from "./read-model.ts";
import { type RetiredGenerations, retireGenerations } from "./retire-generations.ts";

export async function rebuildReadModel(deps: {
  kafka: Kafka;
  pool: Pool;
  topicPrefix: string;
  /** The change topics to read (projectedTopics). */
  topics: string[];
  log: Logger;
  /** Reports progress while catching up. */
  onProgress?: (lag: number) => void;
  timeoutMs?: number;
  /** Generations kept after the switch, the new one included (at least 1). */
  keepGenerations: number;
  /** The largest batch the rebuilding projector fetches per partition (see the projector). */
  maxBatchBytes?: number;
}): Promise<{
  generation: number;
  previous: number | undefined;
  ms: number;
  applied: number;
  retired: RetiredGenerations;
}> {
  const began = Date.now();
  const previous = await activeGeneration(deps.pool);
  const generation = (previous ?? 0) + 1;
  await createReadModel(deps.pool, generation);
  const { topics } = deps;
  const groupId = projectorGroup(deps.topicPrefix, generation);
  const projector = createProjector({
    kafka: deps.kafka,
    pool: deps.pool,
    generation,
    groupId,
    topics,
    log: deps.log,
    ...(deps.maxBatchBytes ? { maxBatchBytes: deps.maxBatchBytes } : {}),
  });
  await projector.start();
  const admin = deps.kafka.admin();
  await admin.connect();
  try {
    const deadline = began + (deps.timeoutMs ?? 600_000);
    for (;;) {
      const lag = totalOffsetLag(await measureLag(admin, deps.pool, { groupId, topics, generation }));
      deps.onProgress?.(lag);
      if (lag === 0) break;
      if (Date.now() > deadline)
        throw new Error(`rebuild of generation ${generation} still ${lag} changes behind`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await activate(deps.pool, generation);
    const ms = Date.now() - began;
    const retired = await retireGenerations({
      pool: deps.pool,
      admin,
      topicPrefix: deps.topicPrefix,
      active: generation,
      keep: deps.keepGenerations,
      log: deps.log,
    });
    return { generation, previous, ms, applied: projector.counters().applied, retired };
  } finally {
    await admin.disconnect();
    await projector.stop();
  }
}
