// How many partitions' batches the ingester stores at once: all six of a topic Sagascope makes
// by default, so that a fetch's batches go in one round (each waits for the rounds before its
// own, and Kafka is asked again only after the last); as many as told otherwise. Seen from
// Postgres: the summaries are locked away, and the transactions waiting on them are counted.
import { Kafka, logLevel, type Producer } from "kafkajs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migratedStore, testInfra, uniqueName, until } from "../../scripts/test/infra.ts";
import { encodeSagaEvent, ensureTopics, newTrace, sagaEvent } from "../events/index.ts";
import { createLogger } from "../log.ts";
import { createIngester } from "./ingester.ts";

const PARTITIONS = 6;
const store = migratedStore("ingest_at_once", PARTITIONS + 2);
const log = createLogger("partitions-at-once-test", "error");
let kafka: Kafka;
let producer: Producer;

beforeAll(async () => {
  kafka = new Kafka({
    clientId: "partitions-at-once-test",
    brokers: testInfra().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  producer = kafka.producer();
  await producer.connect();
});

afterAll(async () => {
  await producer.disconnect();
});

/** One saga start on each partition of a new topic of six. */
async function oneSagaPerPartition(): Promise<{ topic: string; sagaIds: string[] }> {
  const topic = uniqueName("at-once");
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic], PARTITIONS);
  await admin.disconnect();
  const sagaIds = Array.from({ length: PARTITIONS }, (_, n) => uniqueName(`at-once-${n}`));
  await producer.send({
    topic,
    messages: sagaIds.map((sagaId, partition) => ({
      ...encodeSagaEvent(
        sagaEvent(
          "io.sagascope.saga.started",
          { sagaId, sagaType: "at-once", mode: "orchestrated", steps: [{ name: "a", service: "s" }] },
          { source: "/test/at-once", trace: newTrace() },
        ),
      ),
      partition,
    })),
  });
  return { topic, sagaIds };
}

/** The store's transactions of this database waiting for a lock. */
async function waitingForLocks(client: pg.Client, database: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
    [database],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Holds saga_summary locked while one saga per partition arrives, and returns the most
 * transactions seen waiting on it at once (sampled until `settleMs` pass without a new
 * high); then lets them through and checks every saga is stored.
 */
async function mostAtOnce(partitionsAtOnce: number | undefined, settleMs: number): Promise<number> {
  const url = store.url();
  const database = new URL(url).pathname.slice(1);
  const blocker = new pg.Client({ connectionString: url });
  const watcher = new pg.Client({ connectionString: url });
  await blocker.connect();
  await watcher.connect();
  let locked = false;
  try {
    const { topic, sagaIds } = await oneSagaPerPartition();
    // A batch's transaction locks its sagas' summaries (FOR UPDATE): EXCLUSIVE holds every one back.
    await blocker.query("BEGIN; LOCK TABLE saga_summary IN EXCLUSIVE MODE");
    locked = true;
    const ingester = createIngester({
      kafka,
      pool: store.pool(),
      topics: [topic],
      groupId: uniqueName("at-once"),
      log,
      ...(partitionsAtOnce === undefined ? {} : { partitionsAtOnce }),
    });
    try {
      await ingester.start();
      let most = 0;
      let since = Date.now();
      await until(
        "the transactions waiting to settle",
        async () => {
          const n = await waitingForLocks(watcher, database);
          if (n > most) {
            most = n;
            since = Date.now();
          }
          return most > 0 && Date.now() - since >= settleMs;
        },
        60_000,
      );
      await blocker.query("COMMIT");
      locked = false;
      await until(
        "every saga stored",
        async () => {
          const { rows } = await watcher.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM saga_summary WHERE saga_id = ANY($1)",
            [sagaIds],
          );
          return rows[0]?.n === PARTITIONS;
        },
        60_000,
      );
      return most;
    } finally {
      await ingester.stop();
    }
  } finally {
    if (locked) await blocker.query("ROLLBACK");
    await blocker.end();
    await watcher.end();
  }
}

describe("the ingester's partitions at once", () => {
  it("stores the batches of a topic's six partitions at once by default", async () => {
    expect(await mostAtOnce(undefined, 5_000)).toBe(PARTITIONS);
  });

  it("stores no more partitions at once than it is told", async () => {
    expect(await mostAtOnce(2, 3_000)).toBe(2);
  });
});
