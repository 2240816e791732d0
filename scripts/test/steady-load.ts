// A steady load of contract events from a producer outside the ingester, for the fault
// tests: completed four-event sagas at a fixed rate, each send retried until Kafka takes it
// (as any producer that must not lose an event would), then a count of what the topic holds
// against what the store holds: lost, duplicated, and sagas whose summary is wrong.
import { type Kafka, Kafka as KafkaClient, logLevel } from "kafkajs";
import type { Pool } from "../../server/db/pool.ts";
import { encodeSagaEvent, newTrace, type SagaEvent, sagaEvent } from "../../server/events/index.ts";

/** A completed two-step saga: four events with one trace. */
export function completedSaga(sagaId: string, source: string): SagaEvent[] {
  const trace = newTrace();
  const o = { source, trace };
  const base = { sagaId, sagaType: "fault-load", mode: "orchestrated" as const };
  const step = { ...base, step: "debit", stepIndex: 0, service: "ledger" };
  return [
    sagaEvent("io.sagascope.saga.started", { ...base, steps: [{ name: "debit", service: "ledger" }] }, o),
    sagaEvent("io.sagascope.saga.step.started", step, o),
    sagaEvent("io.sagascope.saga.step.succeeded", { ...step, durationMs: 3 }, o),
    sagaEvent("io.sagascope.saga.completed", { ...base, durationMs: 5 }, o),
  ];
}
export const EVENTS_PER_SAGA = 4;

export interface SteadyLoad {
  /** Stops producing once the saga being sent is taken; resolves with what was produced. */
  stop(): Promise<{ sagas: string[]; acknowledged: number; failedSends: number }>;
  /** Sagas fully acknowledged so far. */
  acknowledged(): number;
}

/** Sends one saga's events every `1000 / sagasPerSecond` ms to `topic` until stopped. */
export function startSteadyLoad(options: {
  brokers: string[];
  topic: string;
  sagasPerSecond: number;
  prefix: string;
}): SteadyLoad {
  const kafka: Kafka = new KafkaClient({
    clientId: "steady-load",
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const sagas: string[] = [];
  let acknowledged = 0;
  let failedSends = 0;
  let stopping = false;
  const everyMs = 1000 / options.sagasPerSecond;
  const loop = (async () => {
    let connected = false;
    for (let n = 0; !stopping; n++) {
      const sagaId = `${options.prefix}-${n}`;
      const messages = completedSaga(sagaId, "/faults/steady-load").map(encodeSagaEvent);
      const due = Date.now() + everyMs;
      // Retried until taken: a send that failed may still have been written, so the log may
      // hold an event twice; the store must hold it once.
      for (;;) {
        try {
          if (!connected) {
            await producer.connect();
            connected = true;
          }
          await producer.send({ topic: options.topic, messages });
          break;
        } catch {
          failedSends += 1;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      sagas.push(sagaId);
      acknowledged += 1;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    acknowledged: () => acknowledged,
    async stop() {
      stopping = true;
      await loop;
      await producer.disconnect();
      return { sagas, acknowledged, failedSends };
    },
  };
}

export interface StoredCount {
  /** Distinct events the topic holds for these sagas (read back from Kafka). */
  inTopic: number;
  /** Messages in the topic, counting an event a retried send wrote twice. */
  messagesInTopic: number;
  stored: number;
  lost: number;
  /** Events stored more than once. */
  duplicated: number;
  /** Sagas whose summary is not "completed with 4 events". */
  wrongSummaries: number;
}

/** Reads `topic` back from the beginning: every message of the load, by CloudEvents source + id. */
export async function eventsInTopic(
  brokers: string[],
  topic: string,
): Promise<{ ids: Set<string>; messages: number }> {
  const kafka = new KafkaClient({ clientId: "steady-load-reader", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.map((e) => [e.partition, Number(e.high)]));
  const ids = new Set<string>();
  let messages = 0;
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const doneIfRead = () => {
      if ([...remaining.values()].every((left) => left <= 0)) resolve();
    };
    doneIfRead();
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          messages += 1;
          const id = message.headers?.ce_id?.toString();
          const source = message.headers?.ce_source?.toString();
          if (id && source) ids.add(`${source} ${id}`);
          remaining.set(
            partition,
            Number(ends.find((e) => e.partition === partition)?.high) - Number(message.offset) - 1,
          );
          doneIfRead();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return { ids, messages };
}

/** What the store holds of `sagas`, against what the topic holds. */
export async function countStored(
  pool: Pool,
  brokers: string[],
  topic: string,
  sagas: string[],
): Promise<StoredCount> {
  const { ids, messages } = await eventsInTopic(brokers, topic);
  const { rows } = await pool.query<{ stored: number; distinct_ids: number }>(
    "SELECT count(*)::int AS stored, count(DISTINCT id)::int AS distinct_ids FROM saga_event WHERE saga_id = ANY($1)",
    [sagas],
  );
  const stored = rows[0]?.stored ?? 0;
  const distinct = rows[0]?.distinct_ids ?? 0;
  const wrong = await pool.query<{ n: number }>(
    `SELECT ($2::int - count(*) FILTER (WHERE status = 'completed' AND event_count = $3))::int AS n
       FROM saga_summary WHERE saga_id = ANY($1)`,
    [sagas, sagas.length, EVENTS_PER_SAGA],
  );
  return {
    inTopic: ids.size,
    messagesInTopic: messages,
    stored,
    lost: ids.size - distinct,
    duplicated: stored - distinct,
    wrongSummaries: wrong.rows[0]?.n ?? sagas.length,
  };
}

/** Polls until the store holds every event of `sagas` (or `timeoutMs` passes); the time it took. */
export async function waitUntilStored(pool: Pool, sagas: string[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  const want = sagas.length * EVENTS_PER_SAGA;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      "SELECT count(DISTINCT id)::int AS n FROM saga_event WHERE saga_id = ANY($1)",
      [sagas],
    );
    if ((rows[0]?.n ?? 0) >= want) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(`only ${rows[0]?.n ?? 0} of ${want} events stored after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
