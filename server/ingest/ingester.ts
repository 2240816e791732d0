// The ingester: a Kafka consumer group that stores saga and control events in Postgres. Offsets are
// committed only after the batch's database transaction has committed, so a crash
// re-reads (never loses) a batch, and storeBatch makes the re-read harmless. While it is
// behind, Kafka fetches the next batches as these are stored (server/events/apply-ahead.ts).
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { Pool } from "../db/pool.ts";
import { type ApplyAhead, applyAheadFor, queueBatch } from "../events/apply-ahead.ts";
import { DEFAULT_PARTITIONS, ensureTopics } from "../events/index.ts";
import { createConsumer, runConsumer } from "../events/kafka-client.ts";
import type { Logger } from "../log.ts";
import type { Service } from "../process-edge.ts";
import type { SagaTraceExporter } from "../telemetry/saga-trace-exporter.ts";
import { ENDED_STATUSES, type IngestMetrics, type MessageKind } from "./ingest-metrics.ts";
import type { BatchOutcome } from "./store-batch.ts";
import { storeBreakerControls } from "./store-breaker-controls.ts";
import { type ConsumedBatch, storeKafkaBatch } from "./store-kafka-batch.ts";

export interface IngesterDeps {
  kafka: Kafka;
  pool: Pool;
  /** The saga events topic and the control topic (commands and results are part of a saga's history). */
  topics: string[];
  /** The topic participants report parked messages on; stored as dead letters where they came from. */
  deadLetterTopic?: string;
  /** The breakers' topic: state changes and stats windows. */
  breakerTopic?: string;
  /** The projectors' topic: checkpoints, stored as lag samples. */
  projectionTopic?: string;
  /** The breakers' control topic: operators' decisions, the newest per pair kept. */
  breakerControlTopic?: string;
  groupId: string;
  log: Logger;
  /** How often a progress line is logged; 0 for never. */
  reportEveryMs?: number;
  /** Where its Prometheus metrics go (server/ingest/ingest-metrics.ts); none when absent. */
  metrics?: IngestMetrics;
  /** Told the events each batch stored and the sagas it ended, to export them as traces (server/telemetry). */
  traces?: Pick<SagaTraceExporter, "observe" | "enqueue">;
  /** Partitions whose batches are stored at once (SAGASCOPE_INGEST_PARTITIONS_AT_ONCE); the pool needs as many connections. */
  partitionsAtOnce?: number;
}

/**
 * Partitions whose batches are stored at once, unless told otherwise: the partitions of the
 * topics Sagascope makes (DEFAULT_PARTITIONS), so that a fetch's batches are stored in one
 * round: at a steady rate kafkajs fetches again only once all of them are. At 5 000 events/s a
 * batch waited 211–456 ms on average to be handed over with six, 268–867 ms with three
 * (docs/database.md).
 */
export const PARTITIONS_AT_ONCE = DEFAULT_PARTITIONS;
/** Batches held at once, being stored or queued (Kafka's default: at most 1 MiB each), per partition stored at once. */
const BATCHES_HELD_PER_PARTITION = 2;
/** A partition's queued batches stored together in one transaction, at most. */
const BATCHES_TOGETHER = 4;
/** Messages waiting in Kafka beyond a batch from which the consumer counts as behind (and fetches ahead). */
const AHEAD_WHEN_BEHIND_BY = 1000;
/** The longest pause before a batch that failed is stored again. */
const RETRY_MAX_MS = 5000;

export interface IngestCounters {
  /** Batches Kafka handed over. */
  received: number;
  /** Batches stored. */
  batches: number;
  inserted: number;
  duplicates: number;
  deadLettered: number;
  /** Failed attempts to store a batch (each is stored again). */
  failedBatches: number;
  /** Batches handed back to kafkajs before they were stored, because the consumer was behind. */
  fetchedAhead: number;
}

export interface Ingester extends Service {
  counters(): IngestCounters;
}

export function createIngester(deps: IngesterDeps): Ingester {
  const { kafka, pool, topics, groupId, log, partitionsAtOnce = PARTITIONS_AT_ONCE } = deps;
  const counters: IngestCounters = {
    received: 0,
    batches: 0,
    inserted: 0,
    duplicates: 0,
    deadLettered: 0,
    failedBatches: 0,
    fetchedAhead: 0,
  };
  let consumer: Consumer | undefined;
  let ahead: ApplyAhead<HandedBatch> | undefined;
  const allTopics = [
    ...topics,
    ...[deps.deadLetterTopic, deps.breakerTopic, deps.projectionTopic, deps.breakerControlTopic].filter(
      (t): t is string => !!t,
    ),
  ];
  const special = {
    deadLetterTopic: deps.deadLetterTopic,
    breakerTopic: deps.breakerTopic,
    projectionTopic: deps.projectionTopic,
  };
  let reporter: NodeJS.Timeout | undefined;
  let partitionKeeper: NodeJS.Timeout | undefined;

  /** What a batch's topic carries, as the metrics name it. */
  function kindOf(topic: string): MessageKind {
    if (topic === deps.breakerTopic) return "breaker";
    if (topic === deps.projectionTopic) return "projection";
    if (topic === deps.deadLetterTopic) return "reported_dead_letter";
    if (topic === deps.breakerControlTopic) return "breaker_control";
    return "saga";
  }

  function count(outcome: BatchOutcome, topic: string) {
    counters.inserted += outcome.inserted;
    counters.duplicates += outcome.duplicates;
    counters.deadLettered += outcome.deadLettered;
    const ended = outcome.sagaTransitions.filter(
      (t) => ENDED_STATUSES.has(t.to) && !(t.from !== null && ENDED_STATUSES.has(t.from)),
    );
    deps.traces?.observe(outcome.storedSagaEvents);
    if (ended.length > 0) deps.traces?.enqueue(ended);
    const m = deps.metrics;
    if (!m) return;
    m.deadLetters(outcome.deadLetterReasons, topic === deps.deadLetterTopic);
    m.sagas(outcome.sagaTransitions);
    m.breakerWindows(outcome.newBreakerWindows);
  }

  /** A batch handed over, waiting in the queue to be decoded and stored. */
  interface HandedBatch {
    batch: ConsumedBatch;
    handedAt: number;
    /** Messages left in Kafka after it, and its newest message's time, for the lag metrics. */
    offsetLag: number;
    newestAt: number;
  }

  /**
   * Stores consecutive batches of one partition in one transaction (the queue hands over those
   * that queued up meanwhile), then counts them. A failure is counted and thrown: the queue
   * stores them again, before any later batch of their partition.
   */
  async function storeHanded(items: HandedBatch[]) {
    const first = items[0] as HandedBatch;
    const { topic, partition } = first.batch;
    const messages = items.flatMap((i) => i.batch.messages);
    const kind = kindOf(topic);
    let outcomes: BatchOutcome[];
    try {
      outcomes = await storeKafkaBatch(pool, { topic, partition, messages }, special, log);
    } catch (error) {
      // The queue logs it and stores the batches again, before any later one of their partition.
      counters.failedBatches += 1;
      deps.metrics?.failedBatch();
      throw error;
    }
    for (const outcome of outcomes) count(outcome, topic);
    counters.batches += items.length;
    const m = deps.metrics;
    if (!m) return;
    // Stored: rows new to the store; a redelivered message (or letter) is a duplicate.
    const inserted = outcomes.reduce((n, o) => n + o.inserted, 0);
    const lettered = outcomes.reduce((n, o) => n + o.deadLettered, 0);
    const stored = kind === "saga" ? inserted : messages.length - lettered;
    m.messages(kind, "stored", stored);
    m.messages(kind, "dead_lettered", lettered);
    m.messages(kind, "duplicate", messages.length - lettered - stored);
    const last = items.at(-1) as HandedBatch;
    m.batch((performance.now() - first.handedAt) / 1000);
    m.lag(topic, partition, last.offsetLag, last.newestAt);
  }

  async function handleBatch(payload: EachBatchPayload) {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const handedAt = performance.now();
    counters.received += 1;
    deps.metrics?.delivered(Number(batch.messages[0]?.timestamp));
    if (batch.topic === deps.breakerControlTopic) {
      // A batch holds one topic-partition: the control topic's batches hold decisions only.
      const kind = kindOf(batch.topic);
      const { deadLettered } = await storeBreakerControls(pool, batch.topic, batch.partition, batch.messages);
      counters.deadLettered += deadLettered;
      deps.metrics?.messages(kind, "stored", batch.messages.length - deadLettered);
      deps.metrics?.messages(kind, "dead_lettered", deadLettered);
      return commit(batch, resolveOffset, heartbeat, handedAt);
    }
    if (!ahead) return;
    const offsetLag = Number(batch.offsetLag());
    // Behind: more waits in Kafka than this batch brings. Fetch on while it is stored; at a
    // steady rate, store it first, or each fetch would bring a few messages at a time.
    const behind = offsetLag >= Math.max(AHEAD_WHEN_BEHIND_BY, batch.messages.length);
    if (behind) counters.fetchedAhead += 1;
    const newestAt = Number(batch.messages.at(-1)?.timestamp ?? Date.now());
    await queueBatch(ahead, payload, { batch, handedAt, offsetLag, newestAt }, !behind);
  }

  /** Commits the batch's offsets; only ever called once its rows are in the database. */
  async function commit(
    batch: EachBatchPayload["batch"],
    resolveOffset: EachBatchPayload["resolveOffset"],
    heartbeat: EachBatchPayload["heartbeat"],
    startedAt: number,
  ) {
    const last = batch.lastOffset();
    resolveOffset(last);
    await consumer?.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: String(BigInt(last) + 1n) },
    ]);
    await heartbeat();
    const m = deps.metrics;
    if (m) {
      m.batch((performance.now() - startedAt) / 1000);
      const newest = batch.messages.at(-1);
      m.lag(batch.topic, batch.partition, Number(batch.offsetLag()), Number(newest?.timestamp ?? Date.now()));
    }
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
        await ensureTopics(admin, allTopics);
      } finally {
        await admin.disconnect();
      }
      const c = createConsumer(kafka, { groupId, allowAutoTopicCreation: false });
      consumer = c;
      ahead = applyAheadFor<HandedBatch>(c, {
        apply: storeHanded,
        concurrency: partitionsAtOnce,
        maxHeld: BATCHES_HELD_PER_PARTITION * partitionsAtOnce,
        maxTogether: BATCHES_TOGETHER,
        log,
        retryMaxMs: RETRY_MAX_MS,
      });
      await runConsumer(
        c,
        { topics: allTopics, fromBeginning: true },
        {
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: partitionsAtOnce,
          eachBatch: handleBatch,
        },
        log,
        () => consumer !== c,
      );
      log.info("consuming", { topics: allTopics, groupId });
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
      // Fetching stops first: a closed queue takes no batch, and kafkajs would fetch the same
      // ones again meanwhile. The batches being stored are stored and committed; the ones
      // queued behind them are let go (not committed: read again by whoever takes the partition).
      try {
        consumer?.pause(allTopics.map((topic) => ({ topic })));
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
