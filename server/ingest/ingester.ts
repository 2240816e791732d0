// The ingester: a Kafka consumer group that stores saga events in Postgres. Offsets are
// committed only after the batch's database transaction has committed, so a crash
// re-reads (never loses) a batch, and storeBatch makes the re-read harmless.
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { Pool } from "../db/pool.ts";
import { decodeSagaEvent, ensureTopics, headersAsText } from "../events/index.ts";
import type { Logger } from "../log.ts";
import type { Service } from "../process-edge.ts";
import { type DeadLetter, type IncomingEvent, storeBatch } from "./store-batch.ts";

export interface IngesterDeps {
  kafka: Kafka;
  pool: Pool;
  topic: string;
  groupId: string;
  log: Logger;
  /** How often a progress line is logged; 0 for never. */
  reportEveryMs?: number;
}

export interface IngestCounters {
  batches: number;
  inserted: number;
  duplicates: number;
  deadLettered: number;
  failedBatches: number;
}

export interface Ingester extends Service {
  counters(): IngestCounters;
}

export function splitBatch(batch: EachBatchPayload["batch"]): {
  events: IncomingEvent[];
  deadLetters: DeadLetter[];
} {
  const events: IncomingEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const message of batch.messages) {
    const position = { topic: batch.topic, partition: batch.partition, offset: Number(message.offset) };
    const decoded = decodeSagaEvent(message);
    if (decoded.ok) events.push({ event: decoded.event, position });
    else
      deadLetters.push({
        position,
        key: message.key,
        value: message.value,
        headers: headersAsText(message.headers),
        reason: decoded.reason,
      });
  }
  return { events, deadLetters };
}

export function createIngester(deps: IngesterDeps): Ingester {
  const { kafka, pool, topic, groupId, log } = deps;
  const counters: IngestCounters = {
    batches: 0,
    inserted: 0,
    duplicates: 0,
    deadLettered: 0,
    failedBatches: 0,
  };
  let consumer: Consumer | undefined;
  let reporter: NodeJS.Timeout | undefined;
  let partitionKeeper: NodeJS.Timeout | undefined;

  async function handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const { events, deadLetters } = splitBatch(batch);
    try {
      const outcome = await storeBatch(pool, events, deadLetters);
      counters.batches += 1;
      counters.inserted += outcome.inserted;
      counters.duplicates += outcome.duplicates;
      counters.deadLettered += outcome.deadLettered;
      for (const letter of deadLetters) {
        log.warn("quarantined a message", { offset: letter.position.offset, reason: letter.reason });
      }
    } catch (error) {
      counters.failedBatches += 1;
      log.error("batch not stored; it will be re-read", { partition: batch.partition, error });
      throw error;
    }
    const last = batch.lastOffset();
    resolveOffset(last);
    await consumer?.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: String(BigInt(last) + 1n) },
    ]);
    await heartbeat();
  }

  async function ensureEventPartitions() {
    await pool.query("SELECT sagascope_ensure_event_partitions(now(), 2)");
  }

  return {
    counters: () => ({ ...counters }),
    async start() {
      await ensureEventPartitions();
      partitionKeeper = setInterval(() => {
        ensureEventPartitions().catch((error) =>
          log.warn("could not create next month's partition", { error }),
        );
      }, 6 * 3600_000);
      const admin = kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, [topic]);
      } finally {
        await admin.disconnect();
      }
      consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 3,
        eachBatch: handleBatch,
      });
      log.info("consuming", { topic, groupId });
      if (deps.reportEveryMs) {
        let last = { ...counters };
        reporter = setInterval(() => {
          if (counters.batches !== last.batches) log.info("progress", { ...counters });
          last = { ...counters };
        }, deps.reportEveryMs);
      }
    },
    async stop() {
      clearInterval(reporter);
      clearInterval(partitionKeeper);
      // Waits for the batch in hand to be stored and committed.
      await consumer?.disconnect();
      consumer = undefined;
    },
  };
}
