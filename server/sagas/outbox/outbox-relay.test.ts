// The outbox relay against the real broker: a message the broker refuses for good is set
// aside with the reason and does not hold back the rows after it; published rows are pruned;
// a commit that adds messages wakes an idle relay (no poll needed), a rollback does not, and
// a cycle that sent less than a batch waits for the next commit without reading again.
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { scratchDatabase, testInfra, uniqueName } from "../../../scripts/test/infra.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { withTransaction } from "../../db/transaction.ts";
import { ensureTopics } from "../../events/index.ts";
import { createLogger } from "../../log.ts";
import { createOutboxRelay } from "./outbox-relay.ts";
import { outboxTable } from "./outbox-table.ts";

const kafka = new Kafka({
  clientId: "relay-test",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let producer: Producer;

beforeAll(async () => {
  db = await scratchDatabase("relay");
  pool = createPool(db.url);
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await pool?.end();
  await db?.drop();
});

/** A topic and an outbox (in schema `schema`) of the test's own. */
async function freshOutbox(schema: string) {
  const topic = uniqueName(schema);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic], 1);
  await admin.disconnect();
  await pool.query(`CREATE SCHEMA ${schema}`);
  const outbox = outboxTable(pool, schema);
  for (const sql of outbox.ddl) await pool.query(sql);
  return { topic, outbox };
}

/** The values published on `topic`, as they arrive. */
async function watch(topic: string) {
  const received: string[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName("relay-watch") });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void received.push(String(message.value)) });
  return { received, consumer };
}

describe("outbox relay", () => {
  it("sets aside a message the broker refuses, publishes the rest in order, and prunes", async () => {
    const { topic, outbox } = await freshOutbox("relay_test");
    // Above the broker's default limit of about 1 MB per message.
    const huge = "x".repeat(2 * 1024 * 1024);
    await withTransaction(pool, (tx) =>
      outbox.insert(
        tx,
        ["first", huge, "third"].map((value) => ({
          topic,
          message: { key: "k", value, headers: { h: "1" } },
        })),
      ),
    );
    const relay = createOutboxRelay({
      databaseUrl: db.url,
      outbox,
      producer,
      name: "relay_test",
      log: createLogger("relay", "error"),
    });
    const { received, consumer } = await watch(topic);
    relay.start();
    try {
      const deadline = Date.now() + 30_000;
      // The consumer may see the last message before the relay has marked it: both are awaited.
      const done = async () => received.length >= 2 && (await outbox.unpublished(10)).length === 0;
      while (!(await done()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(received).toEqual(["first", "third"]);
      expect(relay.refused()).toBe(1);
      const rows = await pool.query(
        "SELECT value = 'first' OR value = 'third' AS small, published_at IS NOT NULL AS published, refusal FROM relay_test.outbox ORDER BY id",
      );
      expect(rows.rows.map((r) => [r.small, r.published])).toEqual([
        [true, true],
        [false, false],
        [true, true],
      ]);
      expect(rows.rows[1].refusal).toMatch(/larger than the max message size/i);
      expect(await outbox.unpublished(10)).toEqual([]);
      expect(await outbox.prune(0)).toBe(2);
      expect((await pool.query("SELECT count(*)::int AS n FROM relay_test.outbox")).rows[0].n).toBe(1);
    } finally {
      await relay.stop();
      await consumer.disconnect();
    }
  });

  it("publishes what a commit adds at once, woken by its notification, not by a poll, and reads once a cycle", async () => {
    const { topic, outbox } = await freshOutbox("relay_wake");
    const { received, consumer } = await watch(topic);
    // An hour between polls: only a notification can make it publish within the test.
    const relay = createOutboxRelay({
      databaseUrl: db.url,
      outbox,
      producer,
      name: "relay_wake",
      log: createLogger("relay", "error"),
      pollMs: 3_600_000,
    });
    const add = (value: string) => (tx: Parameters<typeof outbox.insert>[0]) =>
      outbox.insert(tx, [{ topic, message: { key: "k", value, headers: {} } }]);
    const spy = vi.spyOn(outbox, "unpublished");
    relay.start();
    try {
      while (!relay.isLeader()) await new Promise((r) => setTimeout(r, 20));
      // Rolled back: no message, no wake-up that publishes anything.
      await withTransaction(pool, async (tx) => {
        await add("rolled back")(tx);
        throw new Error("roll back");
      }).catch(() => {});
      await withTransaction(pool, add("committed"));
      // The consumer may see the message before the relay has marked it published: both are awaited.
      const published = async () => received.length > 0 && (await outbox.unpublished(10)).length === 0;
      const deadline = Date.now() + 30_000;
      while (!(await published()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(received).toEqual(["committed"]);
      expect(await outbox.unpublished(10)).toEqual([]);
      // A cycle that sent less than a full batch waits for the next notification: it does not
      // read the outbox again to find it empty (a round trip a cycle).
      const reads = () => spy.mock.calls.filter(([limit]) => limit === 500).length;
      const before = reads();
      await withTransaction(pool, add("second"));
      while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // Time for a read that should not come.
      await new Promise((r) => setTimeout(r, 500));
      expect(received).toEqual(["committed", "second"]);
      expect(reads() - before).toBe(1);
    } finally {
      spy.mockRestore();
      // An idle relay's stop does not wait out its hour.
      await relay.stop();
      await consumer.disconnect();
    }
  });
});
