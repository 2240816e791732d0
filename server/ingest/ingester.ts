// The ingester: a Kafka consumer group that stores saga and control events in Postgres. Offsets are
// committed only after the batch's database transaction has committed, so a crash
// re-reads (never loses) a batch, and storeBatch makes the re-read harmless.
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { Pool } from "../db/pool.ts";
import { ensureTopics } from "../events/index.ts";
import { runConsumer } from "../events/kafka-client.ts";
import type { Logger } from "../log.ts";
import type { Service } from "../process-edge.ts";
import type { SagaTraceExporter } from "../telemetry/saga-trace-exporter.ts";
import { ENDED_STATUSES, type IngestMetrics, type MessageKind } from "./ingest-metrics.ts";
import type { BatchOutcome } from "./store-batch.ts";
import { storeBreakerControls } from "./store-breaker-controls.ts";
import { storeKafkaBatch } from "./store-kafka-batch.ts";

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
}

/** Partitions whose batches are stored at once. */
const PARTITIONS_AT_ONCE = 3;

export interface IngestCounters {
  /** Batches Kafka handed over. */
  received: number;
  /** Batches stored. */
  batches: number;
  inserted: number;
  duplicates: number;
  deadLettered: number;
  failedBatches: number;
}

export interface Ingester extends Service {
  counters(): IngestCounters;
}

export function createIngester(deps: IngesterDeps): Ingester {
  const { kafka, pool, topics, groupId, log } = deps;
  const counters: IngestCounters = {
    received: 0,
    batches: 0,
    inserted: 0,
    duplicates: 0,
    deadLettered: 0,
    failedBatches: 0,
  };
  let consumer: Consumer | undefined;
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

  /** A batch's own figures (batches of several partitions are stored at once). */
  interface Tally {
    inserted: number;
    lettered: number;
  }

  function count(outcome: BatchOutcome, topic: string, tally: Tally) {
    tally.inserted += outcome.inserted;
    tally.lettered += outcome.deadLettered;
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

  async function handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const startedAt = performance.now();
    counters.received += 1;
    const kind = kindOf(batch.topic);
    if (batch.topic === deps.breakerControlTopic) {
      // A batch holds one topic-partition: the control topic's batches hold decisions only.
      const { deadLettered } = await storeBreakerControls(pool, batch.topic, batch.partition, batch.messages);
      counters.deadLettered += deadLettered;
      deps.metrics?.messages(kind, "stored", batch.messages.length - deadLettered);
      deps.metrics?.messages(kind, "dead_lettered", deadLettered);
      return commit(batch, resolveOffset, heartbeat, startedAt);
    }
    const tally: Tally = { inserted: 0, lettered: 0 };
    try {
      for (const outcome of await storeKafkaBatch(pool, batch, special, log))
        count(outcome, batch.topic, tally);
      counters.batches += 1;
      const m = deps.metrics;
      if (m) {
        // Stored: rows new to the store; a redelivered message (or letter) is a duplicate.
        const lettered = tally.lettered;
        const stored = kind === "saga" ? tally.inserted : batch.messages.length - lettered;
        m.messages(kind, "stored", stored);
        m.messages(kind, "dead_lettered", lettered);
        m.messages(kind, "duplicate", batch.messages.length - lettered - stored);
      }
    } catch (error) {
      counters.failedBatches += 1;
      deps.metrics?.failedBatch();
      log.error("batch not stored; it will be re-read", { partition: batch.partition, error });
      throw error;
    }
    await commit(batch, resolveOffset, heartbeat, startedAt);
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
      const c = kafka.consumer({ groupId, allowAutoTopicCreation: false });
      consumer = c;
      await runConsumer(
        c,
        { topics: allTopics, fromBeginning: true },
        {
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
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
      // Waits for the batch in hand to be stored and committed.
      await consumer?.disconnect();
      consumer = undefined;
    },
  };
}
