// The ingester: a Kafka consumer group that stores saga and control events in Postgres. Offsets are
// committed only after the batch's database transaction has committed, so a crash
// re-reads (never loses) a batch, and storeBatch makes the re-read harmless.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import type { Pool } from "../db/pool.ts";
import {
  decodeBreakerEvent,
  decodeProjectionEvent,
  decodeSagaEvent,
  ensureTopics,
  headersAsText,
  type ProjectionEvent,
} from "../events/index.ts";
import { runConsumer } from "../events/kafka-client.ts";
import type { Logger } from "../log.ts";
import type { Service } from "../process-edge.ts";
import type { SagaTraceExporter } from "../telemetry/saga-trace-exporter.ts";
import { ENDED_STATUSES, type IngestMetrics, type MessageKind } from "./ingest-metrics.ts";
import {
  type BatchOutcome,
  type DeadLetter,
  deadLetterOf,
  type IncomingBatch,
  type IncomingEvent,
  type RawMessage,
  storeBatch,
} from "./store-batch.ts";
import { storeBreakerControls } from "./store-breaker-controls.ts";
import type { IncomingBreakerEvent } from "./store-breaker-events.ts";

/**
 * The data was refused, not the connection: SQLSTATE class 22 (bad encoding, out of range…),
 * or a unique violation (23505). Every insert of a batch's store takes ON CONFLICT but
 * saga_event's, whose key (id, time) an event of another source can share with a stored one;
 * and since the batch is then stored message by message, only a message whose own store is
 * refused again is quarantined.
 */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "23505" || (typeof code === "string" && code.startsWith("22"));
}

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

/** A participant's report of a message it parked: the original bytes, where they came from, and why. */
export function reportedDeadLetter(message: KafkaMessage, own: DeadLetter["position"]): DeadLetter {
  const headers = headersAsText(message.headers);
  const origin = /^([A-Za-z0-9._-]+)\/(\d+)\/(\d+)$/.exec(headers["sagascope-origin"] ?? "");
  const base64 = headers["sagascope-encoding"] === "base64";
  const bytes = (b: Buffer | null) => (b && base64 ? Buffer.from(b.toString("utf8"), "base64") : b);
  const {
    "sagascope-origin": _o,
    "sagascope-encoding": _e,
    "sagascope-reason": reason,
    ...original
  } = headers;
  return {
    position: origin
      ? { topic: origin[1] as string, partition: Number(origin[2]), offset: Number(origin[3]) }
      : own,
    key: bytes(message.key),
    value: bytes(message.value),
    headers: original,
    reason: reason ?? "reported as a dead letter without a reason",
  };
}

/** The message's bytes for a dead letter; its headers as text only when a letter needs them (rarely). */
function keptForQuarantine(message: KafkaMessage): RawMessage {
  return {
    key: message.key,
    value: message.value,
    get headers() {
      return headersAsText(message.headers);
    },
  };
}

export function splitBatch(
  batch: EachBatchPayload["batch"],
  special: {
    deadLetterTopic?: string | undefined;
    breakerTopic?: string | undefined;
    projectionTopic?: string | undefined;
  } = {},
): IncomingBatch {
  const projectionEvents: ProjectionEvent[] = [];
  const events: IncomingEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  const breakerEvents: IncomingBreakerEvent[] = [];
  for (const message of batch.messages) {
    const position = { topic: batch.topic, partition: batch.partition, offset: Number(message.offset) };
    if (batch.topic === special.deadLetterTopic) {
      deadLetters.push(reportedDeadLetter(message, position));
    } else if (batch.topic === special.projectionTopic) {
      const checkpoint = decodeProjectionEvent(message);
      if (checkpoint.ok) projectionEvents.push(checkpoint.event);
      else deadLetters.push(deadLetterOf(message, position, checkpoint.reason));
    } else if (batch.topic === special.breakerTopic) {
      const decoded = decodeBreakerEvent(message);
      if (decoded.ok) breakerEvents.push({ event: decoded.event, position });
      else deadLetters.push(deadLetterOf(message, position, decoded.reason));
    } else {
      const decoded = decodeSagaEvent(message);
      if (decoded.ok) events.push({ event: decoded.event, position, raw: keptForQuarantine(message) });
      else deadLetters.push(deadLetterOf(message, position, decoded.reason));
    }
  }
  return { events, deadLetters, breakerEvents, projectionEvents };
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

  /**
   * When the database refuses a batch's data (not its connection), one message is to blame:
   * store the batch message by message and quarantine the ones it refuses, so that a
   * single bad message never stalls its partition.
   */
  async function storeOneByOne(incoming: IncomingBatch, topic: string, tally: Tally) {
    const { events, ...others } = incoming;
    count(await storeBatch(pool, others), topic, tally);
    for (const item of events) {
      try {
        count(await storeBatch(pool, { events: [item] }), topic, tally);
      } catch (error) {
        if (!isDataError(error)) throw error;
        const letter: DeadLetter = {
          position: item.position,
          key: item.raw?.key ?? null,
          value: item.raw?.value ?? null,
          headers: item.raw?.headers ?? {},
          reason: `the database refused it: ${(error as Error).message}`,
        };
        log.warn("quarantined a message", { offset: item.position.offset, reason: letter.reason });
        count(await storeBatch(pool, { deadLetters: [letter] }), topic, tally);
      }
    }
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
    const incoming = splitBatch(batch, deps);
    const tally: Tally = { inserted: 0, lettered: 0 };
    try {
      try {
        count(await storeBatch(pool, incoming), batch.topic, tally);
      } catch (error) {
        if (!isDataError(error)) throw error;
        log.warn("the database refused a batch; storing it message by message", { error });
        await storeOneByOne(incoming, batch.topic, tally);
      }
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
          partitionsConsumedConcurrently: 3,
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
