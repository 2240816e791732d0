// The projector: a consumer group over the fleet's change topics that builds the read model
// of one generation. A batch is applied in one transaction together with the offsets it
// reached (applied_offset), and only then its Kafka offset is committed: a projector killed
// mid-batch re-reads the batch, and the versions make the re-read change nothing.
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { Pool } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";
import { ensureTopics } from "../events/index.ts";
import type { Logger } from "../log.ts";
import { applyChange } from "./apply-change.ts";
import { decodeChange } from "./change-events.ts";
import { createReadModel, schemaOf } from "./read-model.ts";

export interface ProjectorOptions {
  kafka: Kafka;
  pool: Pool;
  generation: number;
  groupId: string;
  topics: string[];
  log: Logger;
  /** Told of every change once its batch has committed (for measurements). */
  onApplied?: (change: { occurredAt: string }, appliedAt: number) => void;
}

export interface Projector {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops fetching (the lag grows) until resume(). */
  pause(): void;
  resume(): void;
  counters(): { applied: number; oldNews: number; rejected: number; batches: number };
}

export function createProjector(options: ProjectorOptions): Projector {
  const { pool, log } = options;
  const schema = schemaOf(options.generation);
  const counters = { applied: 0, oldNews: 0, rejected: 0, batches: 0 };
  let consumer: Consumer | undefined;

  async function handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const outcome = await withTransaction(pool, async (client) => {
      let applied = 0;
      let oldNews = 0;
      let rejected = 0;
      let newest: string | undefined;
      const appliedChanges: { occurredAt: string }[] = [];
      for (const message of batch.messages) {
        const decoded = decodeChange(message);
        if (!decoded.ok) {
          // Kept with the reason, never dropped, and the partition goes on.
          rejected += 1;
          await client.query(
            `INSERT INTO ${schema}.rejected_change (topic, partition, kafka_offset, key, value, reason)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
            [batch.topic, batch.partition, message.offset, message.key, message.value, decoded.reason],
          );
          continue;
        }
        const change = decoded.event.data;
        if (await applyChange(client, schema, change)) {
          applied += 1;
          appliedChanges.push(change);
        } else oldNews += 1;
        if (!newest || change.occurredAt > newest) newest = change.occurredAt;
      }
      await client.query(
        `INSERT INTO ${schema}.applied_offset (topic, partition, last_offset, newest_occurred_at, applied_at)
         VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (topic, partition) DO UPDATE SET last_offset = EXCLUDED.last_offset,
           newest_occurred_at = GREATEST(applied_offset.newest_occurred_at, EXCLUDED.newest_occurred_at), applied_at = now()`,
        [batch.topic, batch.partition, batch.lastOffset(), newest ?? null],
      );
      return { applied, oldNews, rejected, appliedChanges };
    });
    if (options.onApplied) {
      const at = Date.now();
      for (const change of outcome.appliedChanges) options.onApplied(change, at);
    }
    counters.applied += outcome.applied;
    counters.oldNews += outcome.oldNews;
    counters.rejected += outcome.rejected;
    counters.batches += 1;
    if (outcome.rejected > 0)
      log.warn("changes rejected and kept", { topic: batch.topic, count: outcome.rejected });
    const last = batch.lastOffset();
    resolveOffset(last);
    await consumer?.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: String(BigInt(last) + 1n) },
    ]);
    await heartbeat();
  }

  return {
    counters: () => ({ ...counters }),
    pause: () => consumer?.pause(options.topics.map((topic) => ({ topic }))),
    resume: () => consumer?.resume(options.topics.map((topic) => ({ topic }))),
    async start() {
      await createReadModel(pool, options.generation);
      const admin = options.kafka.admin();
      await admin.connect();
      await ensureTopics(admin, options.topics).finally(() => admin.disconnect());
      consumer = options.kafka.consumer({
        groupId: options.groupId,
        allowAutoTopicCreation: false,
        sessionTimeout: 10_000,
        heartbeatInterval: 1000,
      });
      await consumer.connect();
      await consumer.subscribe({ topics: options.topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 3,
        eachBatch: handleBatch,
      });
      log.info("projecting", { generation: options.generation, schema, groupId: options.groupId });
    },
    async stop() {
      await consumer?.disconnect();
      consumer = undefined;
    },
  };
}
