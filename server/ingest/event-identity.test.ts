// What the ingester does with what producers really send, against the real broker and
// database, on a one-partition topic so that "the next message" is well defined:
// - identity is CloudEvents source + id: a redelivery is stored once whatever its time (even
//   in another month's partition of saga_event); the same identity with another body is
//   quarantined as "duplicate id with a different body", naming the event it collides with;
// - extension attributes (tracestate, a producer's own) are kept as sent;
// - a corpus of bad messages: each is quarantined with its reason, and the good message right
//   after it on the partition is stored.
import { Kafka, logLevel, type Message } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testInfra, uniqueName, until } from "../../scripts/test/infra.ts";
import { createPool } from "../db/pool.ts";
import {
  encodeSagaEvent,
  ensureTopics,
  formatTraceparent,
  MAX_EVENT_BYTES,
  MESSAGE_LIMITS,
  newTrace,
  type SagaEvent,
  sagaEvent,
} from "../events/index.ts";
import { createLogger } from "../log.ts";
import { createIngester, type Ingester } from "./ingester.ts";
import { REUSED_ID_REASON } from "./store-saga-events.ts";

const pool = createPool(testInfra().databaseUrl, 2);
const kafka = new Kafka({
  clientId: "identity-test",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
const producer = kafka.producer();
const topic = `${uniqueName("identity")}.sagascope.saga-events`;
let ingester: Ingester;

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic], 1);
  await admin.disconnect();
  await producer.connect();
  ingester = createIngester({
    kafka,
    pool,
    topics: [topic],
    groupId: uniqueName("identity-group"),
    log: createLogger("identity-test", "error"),
  });
  await ingester.start();
});

afterAll(async () => {
  await ingester.stop();
  await producer.disconnect();
  await pool.end();
});

function sagaOf(sagaId: string): SagaEvent[] {
  const o = { source: "/outside/orders", trace: newTrace() };
  const base = { sagaId, sagaType: "outside-order", mode: "orchestrated" as const };
  const step = { ...base, step: "reserve", stepIndex: 0, service: "stock" };
  return [
    sagaEvent("io.sagascope.saga.started", { ...base, steps: [{ name: "reserve", service: "stock" }] }, o),
    sagaEvent("io.sagascope.saga.step.started", step, o),
    sagaEvent("io.sagascope.saga.step.succeeded", { ...step, durationMs: 3 }, o),
    sagaEvent("io.sagascope.saga.completed", { ...base, durationMs: 5 }, o),
  ];
}

const send = (messages: Message[]) => producer.send({ topic, messages });

async function storedEvents(sagaId: string) {
  const { rows } = await pool.query<{ id: string; time: Date; extensions: Record<string, unknown> | null }>(
    "SELECT id, time, extensions FROM saga_event WHERE saga_id = $1 ORDER BY kafka_offset",
    [sagaId],
  );
  return rows;
}

const completed = (sagaId: string, events: number) =>
  until(`saga ${sagaId} completed with ${events} events`, async () => {
    const { rows } = await pool.query<{ status: string; event_count: number }>(
      "SELECT status, event_count FROM saga_summary WHERE saga_id = $1",
      [sagaId],
    );
    return rows[0]?.status === "completed" && rows[0].event_count === events ? rows[0] : undefined;
  });

async function deadLetterAt(offset: number) {
  return until(`a dead letter at offset ${offset}`, async () => {
    const { rows } = await pool.query<{
      reason: string;
      event_source: string | null;
      event_id: string | null;
    }>(
      "SELECT reason, event_source, event_id FROM dead_letter WHERE kafka_topic = $1 AND kafka_offset = $2",
      [topic, offset],
    );
    return rows[0];
  });
}

async function endOffset(): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return Number((await admin.fetchTopicOffsets(topic))[0]?.high);
  } finally {
    await admin.disconnect();
  }
}

describe("an event's identity is its source and id", () => {
  it("a redelivery is stored once whatever its time, in one batch or later, in another month's partition too", async () => {
    const sagaId = uniqueName("redelivered");
    const [started, ...rest] = sagaOf(sagaId) as [SagaEvent, ...SagaEvent[]];
    // The same event twice in one send (one batch), the second with a new time.
    await send([encodeSagaEvent(started), encodeSagaEvent({ ...started, time: new Date() })]);
    await until("the first copy stored", async () => (await storedEvents(sagaId)).length === 1);
    // Again later, stamped 40 days earlier: another monthly partition of saga_event.
    const monthAgo = new Date(started.time.getTime() - 40 * 86_400_000);
    await send([encodeSagaEvent({ ...started, time: monthAgo }), ...rest.map(encodeSagaEvent)]);
    await completed(sagaId, 4);
    const stored = await storedEvents(sagaId);
    expect(stored.map((e) => e.id)).toEqual([started, ...rest].map((e) => e.id));
    expect(stored[0]?.time).toEqual(started.time);
  });

  it("the same source and id with another body is quarantined, naming the event it collides with", async () => {
    const sagaId = uniqueName("reused");
    const [started, stepStarted, ...rest] = sagaOf(sagaId) as [SagaEvent, SagaEvent, ...SagaEvent[]];
    const from = await endOffset();
    const impostor: SagaEvent = { ...stepStarted, id: started.id };
    // In one batch with the event it collides with, and again in a later one.
    await send([encodeSagaEvent(started), encodeSagaEvent(impostor), encodeSagaEvent(stepStarted)]);
    await until("the first three messages handled", async () => (await storedEvents(sagaId)).length === 2);
    await send([encodeSagaEvent({ ...impostor, time: new Date() }), ...rest.map(encodeSagaEvent)]);
    await completed(sagaId, 4);
    for (const offset of [from + 1, from + 3]) {
      const letter = await deadLetterAt(offset);
      expect(letter.reason).toContain(REUSED_ID_REASON);
      expect(letter).toMatchObject({ event_source: started.source, event_id: started.id });
    }
    // The stored copy is the first one, with its own body.
    const { rows } = await pool.query("SELECT type FROM saga_event WHERE source = $1 AND id = $2", [
      started.source,
      started.id,
    ]);
    expect(rows).toEqual([{ type: "io.sagascope.saga.started" }]);
  });

  it("another source's event with the same id at the same instant is quarantined, never silently dropped", async () => {
    const sagaId = uniqueName("same-id");
    const [started, stepStarted, ...rest] = sagaOf(sagaId) as [SagaEvent, SagaEvent, ...SagaEvent[]];
    const from = await endOffset();
    // Its own identity (another source), but the very key saga_event stores rows by (id, time).
    const other: SagaEvent = { ...stepStarted, source: "/outside/other", id: started.id, time: started.time };
    await send([
      encodeSagaEvent(started),
      encodeSagaEvent(other),
      ...[stepStarted, ...rest].map(encodeSagaEvent),
    ]);
    await completed(sagaId, 4);
    const letter = await deadLetterAt(from + 1);
    expect(letter.reason).toMatch(/duplicate key value violates unique constraint "saga_event_\w*pkey"/);
    const { rows } = await pool.query("SELECT source FROM saga_event WHERE id = $1", [started.id]);
    expect(rows).toEqual([{ source: started.source }]);
  });
});

describe("attributes beyond the contract", () => {
  it("keeps tracestate and a producer's extensions, in binary and in structured mode", async () => {
    const sagaId = uniqueName("extended");
    const [started, ...rest] = sagaOf(sagaId) as [SagaEvent, ...SagaEvent[]];
    const binary = encodeSagaEvent(started);
    binary.headers = { ...binary.headers, tracestate: "vendor=abc", ce_tenant: "acme" };
    const [second, ...others] = rest as [SagaEvent, ...SagaEvent[]];
    const structured: Message = {
      key: sagaId,
      headers: { "content-type": "application/cloudevents+json; charset=UTF-8" },
      value: JSON.stringify({
        specversion: "1.0",
        id: second.id,
        source: second.source,
        type: second.type,
        time: second.time.toISOString(),
        traceparent: formatTraceparent(second.trace),
        tracestate: "vendor=def",
        tenant: "acme",
        priority: 2,
        data: second.data,
      }),
    };
    await send([binary, structured, ...others.map(encodeSagaEvent)]);
    await completed(sagaId, 4);
    const stored = await storedEvents(sagaId);
    expect(stored.map((e) => e.extensions)).toEqual([
      { tracestate: "vendor=abc", tenant: "acme" },
      { tracestate: "vendor=def", tenant: "acme", priority: 2 },
      null,
      null,
    ]);
  });
});

describe("a corpus of bad messages", () => {
  it("quarantines each with its reason, and stores the good message right after it", async () => {
    const good = (): Message[] => sagaOf(uniqueName("after-bad")).map(encodeSagaEvent);
    const base = encodeSagaEvent(sagaOf(uniqueName("bad"))[0] as SagaEvent);
    const headers = base.headers as Record<string, string>;
    const corpus: [string, Message, RegExp][] = [
      ["invalid JSON", { ...base, value: "{not json" }, /value is not JSON/],
      [
        "unknown type",
        { ...base, headers: { ...headers, ce_type: "io.sagascope.saga.unknown" } },
        /unknown event type/,
      ],
      [
        "missing headers",
        { ...base, headers: { "content-type": "application/json" } },
        /invalid CloudEvents headers/,
      ],
      ["malformed time", { ...base, headers: { ...headers, ce_time: "yesterday" } }, /ce_time/],
      [
        "bad traceparent",
        { ...base, headers: { ...headers, traceparent: "00-xyz-abc-01" } },
        /invalid traceparent/,
      ],
      ["oversized value", { ...base, value: "x".repeat(MAX_EVENT_BYTES + 1) }, /payload too large/],
      [
        "oversized header",
        { ...base, headers: { ...headers, ce_note: "n".repeat(MESSAGE_LIMITS.headerValueBytes + 1) } },
        /header ce_note too large/,
      ],
      [
        "too many headers",
        {
          ...base,
          headers: {
            ...headers,
            ...Object.fromEntries(Array.from({ length: MESSAGE_LIMITS.headers }, (_, i) => [`x-h${i}`, "v"])),
          },
        },
        /too many headers/,
      ],
      ["oversized key", { ...base, key: "k".repeat(MESSAGE_LIMITS.keyBytes + 1) }, /key too large/],
      ["non-object value", { ...base, value: "[1,2,3]" }, /data does not match/],
      [
        "invalid UTF-8",
        { ...base, value: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) },
        /value is not valid UTF-8/,
      ],
    ];
    for (const [what, bad, reason] of corpus) {
      const from = await endOffset();
      const next = good();
      const sagaId = String(next[0]?.key);
      await send([bad, ...next]);
      const letter = await deadLetterAt(from);
      expect(letter.reason, what).toMatch(reason);
      await completed(sagaId, 4);
    }
  });
});
