// The ingester against the real broker and database: storage, quarantine, idempotent
// replay, and offsets that are committed only after the database has the batch.
import { Kafka, logLevel, type Producer } from "kafkajs";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { testInfra, uniqueName } from "../../scripts/test/infra.ts";
import { createPool, type Pool } from "../db/pool.ts";
import { encodeSagaEvent, ensureTopics, newTrace, type SagaEvent, sagaEvent } from "../events/index.ts";
import { createLogger } from "../log.ts";
import { createIngestMetrics, type IngestMetrics } from "./ingest-metrics.ts";
import { createIngester, type Ingester } from "./ingester.ts";

const log = createLogger("ingester-test", "error");
let kafka: Kafka;
let producer: Producer;
let pool: Pool;
const running: Ingester[] = [];

beforeAll(async () => {
  kafka = new Kafka({
    clientId: "ingester-test",
    brokers: testInfra().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  producer = kafka.producer();
  await producer.connect();
  pool = createPool(testInfra().databaseUrl);
});

afterAll(async () => {
  await Promise.all(running.map((i) => i.stop()));
  await producer.disconnect();
  await pool.end();
});

async function newTopic(): Promise<string> {
  const topic = uniqueName("ingest");
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic], 3);
  await admin.disconnect();
  return topic;
}

async function startIngester(
  topic: string,
  groupId: string,
  storePool: Pool = pool,
  metrics?: IngestMetrics,
): Promise<Ingester> {
  const ingester = createIngester({
    kafka,
    pool: storePool,
    topics: [topic],
    groupId,
    log,
    ...(metrics ? { metrics } : {}),
  });
  running.push(ingester);
  await ingester.start();
  return ingester;
}

async function stopIngester(ingester: Ingester) {
  await ingester.stop();
  running.splice(running.indexOf(ingester), 1);
}

/** A two-step saga that completes: five events, all with one trace. */
function completedSaga(sagaId: string): SagaEvent[] {
  const trace = newTrace();
  const o = { source: "/test/ingester", trace };
  const base = { sagaId, sagaType: "interbank-transfer", mode: "orchestrated" as const };
  const debit = { ...base, step: "debit", stepIndex: 0, service: "bank-a" };
  return [
    sagaEvent("io.sagascope.saga.started", { ...base, steps: [{ name: "debit", service: "bank-a" }] }, o),
    sagaEvent("io.sagascope.saga.step.started", debit, o),
    sagaEvent("io.sagascope.saga.step.succeeded", { ...debit, durationMs: 4 }, o),
    sagaEvent("io.sagascope.saga.completed", { ...base, durationMs: 9 }, o),
  ];
}

async function publish(topic: string, events: SagaEvent[]) {
  await producer.send({ topic, messages: events.map(encodeSagaEvent) });
}

async function countEvents(sagaIds: string[]): Promise<number> {
  const r = await pool.query("SELECT count(*)::int AS n FROM saga_event WHERE saga_id = ANY($1)", [sagaIds]);
  return r.rows[0].n;
}

async function committedOffsets(groupId: string, topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  return (result?.partitions ?? []).sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
}

async function endOffsets(topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return offsets.sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
}

describe("ingester", () => {
  it("stores events and folds summaries, quarantines bad messages and goes on", async () => {
    const topic = await newTopic();
    const sagaIds = [uniqueName("saga"), uniqueName("saga"), uniqueName("saga")];
    await publish(topic, sagaIds.flatMap(completedSaga));
    await producer.send({
      topic,
      messages: [
        { key: "junk", value: "not json at all", headers: { ce_specversion: "1.0" } },
        {
          key: sagaIds[0] ?? "",
          value: "{}",
          headers: {
            ...encodeSagaEvent(completedSaga("x")[0] as SagaEvent).headers,
            ce_type: "io.sagascope.saga.unknown",
          },
        },
      ],
    });
    const late = uniqueName("saga");
    await publish(topic, completedSaga(late));

    const ingester = await startIngester(topic, uniqueName("group"));
    await vi.waitFor(async () => expect(await countEvents([...sagaIds, late])).toBe(16), {
      timeout: 30_000,
      interval: 200,
    });
    await vi.waitFor(() => expect(ingester.counters().deadLettered).toBe(2), { timeout: 10_000 });

    const summaries = await pool.query(
      "SELECT saga_id, status, event_count, current_step FROM saga_summary WHERE saga_id = ANY($1) ORDER BY saga_id",
      [[...sagaIds, late]],
    );
    expect(summaries.rows).toHaveLength(4);
    for (const row of summaries.rows)
      expect(row).toMatchObject({ status: "completed", event_count: 4, current_step: null });

    const letters = await pool.query(
      "SELECT key, value, headers, reason FROM dead_letter WHERE kafka_topic = $1 ORDER BY kafka_offset",
      [topic],
    );
    expect(letters.rows.map((r) => r.reason).sort()).toEqual(
      [
        expect.stringContaining("invalid CloudEvents headers"),
        'unknown event type "io.sagascope.saga.unknown"',
      ].sort(),
    );
    const junk = letters.rows.find((r) => String(r.key) === "junk");
    expect(Buffer.from(junk.value).toString()).toBe("not json at all");
    expect(junk.headers).toEqual({ ce_specversion: "1.0" });
    await stopIngester(ingester);
  });

  it("quarantines a message the database refuses and stores the rest of its batch", async () => {
    const topic = await newTopic();
    const before = uniqueName("saga");
    const after = uniqueName("saga");
    // Year 0 passes the contract's RFC 3339 check but no Postgres timestamp can hold it.
    const [yearZero] = completedSaga(uniqueName("saga"));
    const refused = encodeSagaEvent({ ...(yearZero as SagaEvent), time: new Date("0000-06-01T00:00:00Z") });
    await producer.send({
      topic,
      messages: [
        ...completedSaga(before).map(encodeSagaEvent),
        { ...refused, partition: 0 },
        ...completedSaga(after).map(encodeSagaEvent),
      ].map((m) => ({ ...m, partition: 0 })),
    });
    const ingester = await startIngester(topic, uniqueName("group"));
    await vi.waitFor(async () => expect(await countEvents([before, after])).toBe(8), { timeout: 30_000 });
    const letters = await pool.query("SELECT reason FROM dead_letter WHERE kafka_topic = $1", [topic]);
    expect(letters.rows).toEqual([
      { reason: expect.stringMatching(/^the database refused it: .*out of range/) },
    ]);
    expect(ingester.counters()).toMatchObject({ inserted: 8, deadLettered: 1, failedBatches: 0 });
    await stopIngester(ingester);
  });

  it("replaying a topic from offset zero writes nothing twice", async () => {
    const topic = await newTopic();
    const sagaIds = [uniqueName("saga"), uniqueName("saga")];
    const events = sagaIds.flatMap(completedSaga);
    // The same events published twice, as a producer retry would.
    await publish(topic, events);
    await publish(topic, events);
    const first = await startIngester(topic, uniqueName("group"));
    await vi.waitFor(() => expect(first.counters().inserted + first.counters().duplicates).toBe(16), {
      timeout: 30_000,
    });
    expect(first.counters()).toMatchObject({ inserted: 8, duplicates: 8 });
    await stopIngester(first);

    const replay = await startIngester(topic, uniqueName("group"));
    await vi.waitFor(() => expect(replay.counters().duplicates).toBe(16), { timeout: 30_000 });
    expect(replay.counters().inserted).toBe(0);
    await stopIngester(replay);

    expect(await countEvents(sagaIds)).toBe(8);
    const summaries = await pool.query("SELECT event_count FROM saga_summary WHERE saga_id = ANY($1)", [
      sagaIds,
    ]);
    expect(summaries.rows.map((r) => r.event_count)).toEqual([4, 4]);
  });

  it("commits no offset while the database refuses a batch, and loses nothing", async () => {
    const topic = await newTopic();
    const groupId = uniqueName("group");
    const sagaIds = [uniqueName("saga"), uniqueName("saga"), uniqueName("saga")];
    await publish(topic, sagaIds.flatMap(completedSaga));

    // The database goes down after start-up: every batch fails before it is stored.
    const downPool = {
      query: pool.query.bind(pool),
      connect: () => Promise.reject(new Error("connection refused")),
    } as unknown as Pool;
    const failing = await startIngester(topic, groupId, downPool);
    await vi.waitFor(() => expect(failing.counters().failedBatches).toBeGreaterThan(0), { timeout: 30_000 });
    await stopIngester(failing);
    expect(await countEvents(sagaIds)).toBe(0);
    expect((await committedOffsets(groupId, topic)).every((o) => o === -1)).toBe(true);

    // The same group with the database back: everything is stored, then committed.
    const healthy = await startIngester(topic, groupId);
    await vi.waitFor(async () => expect(await countEvents(sagaIds)).toBe(12), { timeout: 30_000 });
    // A partition that received nothing has nothing to commit (-1); every other is committed to its end.
    await vi.waitFor(
      async () => {
        const committed = (await committedOffsets(groupId, topic)).map((o) => Math.max(o, 0));
        expect(committed).toEqual(await endOffsets(topic));
      },
      { timeout: 10_000 },
    );
    await stopIngester(healthy);
  });

  it("says how long a batch waited to be handed over, from its oldest message's Kafka timestamp", async () => {
    const topic = await newTopic();
    const registry = new Registry();
    const ingester = await startIngester(topic, uniqueName("group"), pool, createIngestMetrics(registry));
    const sagaId = uniqueName("saga");
    // Stamped a minute ago by its producer, as a message that waited in Kafka that long would be.
    const stamped = String(Date.now() - 60_000);
    await producer.send({
      topic,
      messages: completedSaga(sagaId).map((e) => ({ ...encodeSagaEvent(e), timestamp: stamped })),
    });
    await vi.waitFor(async () => expect(await countEvents([sagaId])).toBe(4), { timeout: 30_000 });
    // A histogram's values name their series (_bucket, _sum, _count).
    type Series = { metricName?: string; labels: Record<string, string | number>; value: number };
    const delivery = ((await registry.getSingleMetric("sagascope_ingest_delivery_seconds")?.get())?.values ??
      []) as Series[];
    const sample = (name: string, le?: number) =>
      delivery.find((v) => v.metricName === name && (le === undefined || v.labels.le === le))?.value;
    expect(sample("sagascope_ingest_delivery_seconds_count")).toBeGreaterThanOrEqual(1);
    // Every batch held the minute-old messages: none waited less than a minute.
    expect(sample("sagascope_ingest_delivery_seconds_bucket", 30)).toBe(0);
    expect(sample("sagascope_ingest_delivery_seconds_sum")).toBeGreaterThanOrEqual(60);
    await stopIngester(ingester);
  });

  it("fetches ahead while behind and stores a backlog whole; at a steady rate stores each batch before it fetches again", async () => {
    const topic = await newTopic();
    const groupId = uniqueName("group");
    // A steady trickle: each saga stored before the next is sent, so the consumer is never behind.
    const steady = await startIngester(topic, groupId);
    for (let i = 0; i < 3; i++) {
      const sagaId = uniqueName("saga");
      await publish(topic, completedSaga(sagaId));
      await vi.waitFor(async () => expect(await countEvents([sagaId])).toBe(4), { timeout: 30_000 });
    }
    expect(steady.counters().fetchedAhead).toBe(0);
    await stopIngester(steady);

    // A backlog published while no ingester runs: 24 000 events, several fetches per partition.
    // Numbered under one unique name: 6 000 random names made in a few milliseconds can collide.
    const backlog = uniqueName("backlog");
    const sagaIds = Array.from({ length: 6000 }, (_, i) => `${backlog}_${i}`);
    for (let i = 0; i < sagaIds.length; i += 500)
      await publish(topic, sagaIds.slice(i, i + 500).flatMap(completedSaga));
    const catchingUp = await startIngester(topic, groupId);
    await vi.waitFor(async () => expect(await countEvents(sagaIds)).toBe(24_000), {
      timeout: 90_000,
      interval: 500,
    });
    expect(catchingUp.counters().fetchedAhead).toBeGreaterThan(0);
    expect(catchingUp.counters()).toMatchObject({ inserted: 24_000, duplicates: 0, failedBatches: 0 });
    const summaries = await pool.query(
      "SELECT count(*)::int AS n FROM saga_summary WHERE saga_id = ANY($1) AND status = 'completed' AND event_count = 4",
      [sagaIds],
    );
    expect(summaries.rows[0].n).toBe(6000);
    await vi.waitFor(
      async () => expect(await committedOffsets(groupId, topic)).toEqual(await endOffsets(topic)),
      { timeout: 10_000 },
    );
    await stopIngester(catchingUp);
  }, 180_000);
});
