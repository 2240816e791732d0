// The projector: a consumer group over the fleet's change topics that builds the read model
// of one generation. A batch is applied in one transaction together with the offsets it
// reached (applied_offset), and only then its Kafka offset is committed: a projector killed
// mid-batch re-reads the batch, and the versions make the re-read change nothing. A batch
// costs a fixed number of statements, not one per change (apply-change.ts). Batches are
// decoded as they arrive and queued (apply-ahead.ts): Kafka fetches the next ones while
// Postgres applies these, several partitions at once.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import type { Pool, PoolClient } from "../db/pool.ts";
import { retryOnDeadlock } from "../db/retry-deadlock.ts";
import { withTransaction } from "../db/transaction.ts";
import { type ApplyAhead, applyAheadFor, queueBatch } from "../events/apply-ahead.ts";
import { ensureTopics } from "../events/index.ts";
import { createConsumer, runConsumer } from "../events/kafka-client.ts";
import type { Logger } from "../log.ts";
import { applyChanges } from "./apply-change.ts";
import { type Change, decodeChange } from "./change-events.ts";
import { createReadModel, schemaOf } from "./read-model.ts";

export interface ProjectorOptions {
  kafka: Kafka;
  pool: Pool;
  generation: number;
  groupId: string;
  topics: string[];
  log: Logger;
  /** The most bytes fetched from one partition at a time, so the largest batch (DEFAULT_BATCH_BYTES unless said). */
  maxBatchBytes?: number;
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

const PRUNE_EVERY_MS = 60_000;

/**
 * Batches (one partition's each) applied at once. Measured with `npm run bench:projection` on
 * 2 cores, runs of 3 and 6 alternated: 3 caught up at 0.46–0.49 of the consume-and-decode
 * baseline, 6 at 0.47–0.49 (0.40–0.54 over ten runs): no gain beyond the noise, so 3, which
 * needs fewer connections. The projector's pool holds this many and two more.
 */
export const BATCHES_AT_ONCE = 3;
export const PROJECTOR_POOL_SIZE = BATCHES_AT_ONCE + 2;
/**
 * Batches fetched and decoded ahead, across partitions, the ones being applied included: the
 * queue's memory is bounded by this many batches of at most `maxBatchBytes` each.
 */
export const BATCHES_HELD = 8;
/**
 * A partition's queued batches applied in one transaction at most: at a steady rate each
 * fetch brings a few changes, and a transaction for each would cost more than it carries.
 */
export const BATCHES_TOGETHER = 4;
/**
 * The largest batch fetched from a partition. A batch costs a fixed number of statements, so
 * larger batches catch up faster: with the queue, 4 MiB caught up at a median 0.48–0.52 of
 * the consume-and-decode baseline where Kafka's 1 MiB default gave 0.46 (docs/projections.md).
 */
export const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;

interface DecodedBatch {
  topic: string;
  partition: number;
  lastOffset: string;
  changes: { id: string; change: Change; offset: number }[];
  refused: { message: KafkaMessage; reason: string }[];
}

/** Consecutive batches of one partition as one, in Kafka's order. */
function joinBatches(batches: DecodedBatch[]): DecodedBatch {
  const [first, ...rest] = batches;
  if (!first) throw new Error("no batch to apply");
  if (rest.length === 0) return first;
  return {
    topic: first.topic,
    partition: first.partition,
    lastOffset: (batches.at(-1) as DecodedBatch).lastOffset,
    changes: batches.flatMap((b) => b.changes),
    refused: batches.flatMap((b) => b.refused),
  };
}

interface SeenChange {
  id: string;
  change: Change;
  offset: number;
  /** False for old news: a version not above the one held (seen, nothing to change). */
  fresh: boolean;
}

/** Records each change handled (applied or old news) by event id, for the "seen?" lookup. */
async function recordSeen(
  client: PoolClient,
  schema: string,
  topic: string,
  partition: number,
  seen: SeenChange[],
): Promise<void> {
  if (seen.length === 0) return;
  // An event sent twice may come twice in one batch: recorded once, as first handled.
  const firsts = new Map<string, SeenChange>();
  for (const s of seen) if (!firsts.has(s.id)) firsts.set(s.id, s);
  seen = [...firsts.values()];
  await client.query(
    `INSERT INTO ${schema}.applied_change
       (event_id, aggregate_type, aggregate_id, version, topic, partition, kafka_offset, occurred_at, outcome)
     SELECT id, t, a, v, $1, $2, o, at, outcome
     FROM unnest($3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::timestamptz[], $9::text[])
       AS r(id, t, a, v, o, at, outcome)
     WHERE NOT EXISTS (SELECT 1 FROM ${schema}.applied_change seen WHERE seen.event_id = r.id)`,
    [
      topic,
      partition,
      seen.map((s) => s.id),
      seen.map((s) => s.change.aggregateType),
      seen.map((s) => s.change.aggregateId),
      seen.map((s) => s.change.version),
      seen.map((s) => s.offset),
      seen.map((s) => s.change.occurredAt),
      seen.map((s) => (s.fresh ? "applied" : "old news")),
    ],
  );
}

export function createProjector(options: ProjectorOptions): Projector {
  const { pool, log } = options;
  const schema = schemaOf(options.generation);
  const counters = { applied: 0, oldNews: 0, rejected: 0, batches: 0 };
  let consumer: Consumer | undefined;
  let lastPrune = 0;

  let ahead: ApplyAhead<DecodedBatch> | undefined;

  /** A batch's messages decoded: the changes, and the messages refused with their reasons. */
  function decodeBatch(batch: EachBatchPayload["batch"]): DecodedBatch {
    const decoded: DecodedBatch = {
      topic: batch.topic,
      partition: batch.partition,
      lastOffset: batch.lastOffset(),
      changes: [],
      refused: [],
    };
    for (const message of batch.messages) {
      const result = decodeChange(message);
      if (result.ok)
        decoded.changes.push({
          id: result.event.id,
          change: result.event.data,
          offset: Number(message.offset),
        });
      else decoded.refused.push({ message, reason: result.reason });
    }
    return decoded;
  }

  /** One batch in the caller's transaction: rejected changes kept, the rest applied and recorded, the offset noted. */
  async function applyBatch(client: PoolClient, batch: DecodedBatch) {
    let applied = 0;
    let oldNews = 0;
    let newest: string | undefined;
    const appliedChanges: { occurredAt: string }[] = [];
    const decoded = batch.changes;
    for (const { message, reason } of batch.refused) {
      // Kept with the reason, never dropped, and the partition goes on.
      await client.query(
        `INSERT INTO ${schema}.rejected_change (topic, partition, kafka_offset, key, value, reason)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [batch.topic, batch.partition, message.offset, message.key, message.value, reason],
      );
    }
    const fresh = await applyChanges(
      client,
      schema,
      decoded.map((d) => d.change),
    );
    const seen: SeenChange[] = decoded.map((d, i) => ({ ...d, fresh: fresh[i] === true }));
    for (const { change, fresh } of seen) {
      if (fresh) {
        applied += 1;
        appliedChanges.push(change);
      } else oldNews += 1;
      if (!newest || change.occurredAt > newest) newest = change.occurredAt;
    }
    await recordSeen(client, schema, batch.topic, batch.partition, seen);
    if (Date.now() - lastPrune > PRUNE_EVERY_MS) {
      lastPrune = Date.now();
      await client.query(
        `DELETE FROM ${schema}.applied_change WHERE applied_at < now() - interval '24 hours'`,
      );
    }
    await client.query(
      `INSERT INTO ${schema}.applied_offset (topic, partition, last_offset, newest_occurred_at, applied_at)
       VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (topic, partition) DO UPDATE SET last_offset = EXCLUDED.last_offset,
         newest_occurred_at = GREATEST(applied_offset.newest_occurred_at, EXCLUDED.newest_occurred_at), applied_at = now()`,
      [batch.topic, batch.partition, batch.lastOffset, newest ?? null],
    );
    return { applied, oldNews, rejected: batch.refused.length, appliedChanges };
  }

  /**
   * Applies consecutive decoded batches of one partition in one transaction and counts them
   * (the last one's Kafka offset is committed by the queue).
   */
  async function applyAndCount(batches: DecodedBatch[]) {
    const batch = joinBatches(batches);
    // Batches of different topics lock rows of the same orders: two can deadlock (rarely), and
    // Postgres then aborts one whole, which runs again.
    const outcome = await retryOnDeadlock(
      () => withTransaction(pool, (client) => applyBatch(client, batch)),
      (attempt) =>
        log.warn("batch deadlocked with another and runs again", {
          topic: batch.topic,
          partition: batch.partition,
          attempt,
        }),
    );
    if (options.onApplied) {
      const at = Date.now();
      for (const change of outcome.appliedChanges) options.onApplied(change, at);
    }
    counters.applied += outcome.applied;
    counters.oldNews += outcome.oldNews;
    counters.rejected += outcome.rejected;
    counters.batches += batches.length;
    if (outcome.rejected > 0)
      log.warn("changes rejected and kept", { topic: batch.topic, count: outcome.rejected });
  }

  async function handleBatch(payload: EachBatchPayload) {
    const { batch, isRunning, isStale } = payload;
    if (!ahead || !isRunning() || isStale() || batch.messages.length === 0) return;
    // Decoded now, while other batches are being applied.
    const decoded = decodeBatch(batch);
    await queueBatch(ahead, payload, decoded);
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
      const c = createConsumer(options.kafka, {
        groupId: options.groupId,
        allowAutoTopicCreation: false,
        sessionTimeout: 10_000,
        heartbeatInterval: 1000,
        maxBytesPerPartition: options.maxBatchBytes ?? DEFAULT_BATCH_BYTES,
      });
      consumer = c;
      ahead = applyAheadFor<DecodedBatch>(c, {
        apply: applyAndCount,
        concurrency: BATCHES_AT_ONCE,
        maxHeld: BATCHES_HELD,
        maxTogether: BATCHES_TOGETHER,
        log,
      });
      await runConsumer(
        c,
        { topics: options.topics, fromBeginning: true },
        {
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: BATCHES_AT_ONCE,
          eachBatch: handleBatch,
        },
        log,
        () => consumer !== c,
      );
      log.info("projecting", { generation: options.generation, schema, groupId: options.groupId });
    },
    async stop() {
      // Fetching stops first: a closed queue takes no batch, and kafkajs would fetch the same ones again meanwhile.
      try {
        consumer?.pause(options.topics.map((topic) => ({ topic })));
      } catch {
        // Not running yet: nothing is fetched.
      }
      await ahead?.close();
      ahead = undefined;
      await consumer?.disconnect();
      consumer = undefined;
    },
  };
}
