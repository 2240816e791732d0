// Projections Sagascope did not write, against the real broker and Postgres: a projector
// written here against the plain kafkajs API, declared by config, is measured from outside
// (offsets from its committed offsets, seconds from the oldest message it has not read);
// one that reports its own freshness with projection.checkpoint events, as docs/events.md
// shows it, is listed from those. Both answer "has the read model seen this?" by position.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type Consumer, Kafka, logLevel, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase, testInfra, uniqueName, until } from "../../scripts/test/infra.ts";
import { readLagHistory } from "../dashboard/projections/lag-history.ts";
import { latestLag, listProjections } from "../dashboard/projections/projection-list.ts";
import { lookupSeen } from "../dashboard/projections/seen-lookup.ts";
import { migrate } from "../db/migrate.ts";
import { createPool, type Pool } from "../db/pool.ts";
import { ensureTopics, topics as topicNames } from "../events/index.ts";
import { createLogger } from "../log.ts";
import {
  declareProjection,
  listDeclared,
  parseDeclarations,
  syncConfigDeclarations,
  undeclareProjection,
} from "../projections/declared-projections.ts";
import {
  createDeclaredProjectionSampler,
  type DeclaredProjectionSampler,
} from "./declared-projection-sampler.ts";
import { createIngester, type Ingester } from "./ingester.ts";

const prefix = `${uniqueName("theirs")}.`;
const ordersTopic = `${prefix}orders`;
const checkpointTopic = topicNames(prefix).projectionEvents;
const theirGroup = `${prefix}order-history-projector`;
const kafka = new Kafka({
  clientId: "their-fleet",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
const log = createLogger("declared-test", "error");
let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let producer: Producer;
const samplers: DeclaredProjectionSampler[] = [];
let ingester: Ingester;

function sampler(): DeclaredProjectionSampler {
  const s = createDeclaredProjectionSampler({
    kafka,
    pool,
    topicPrefix: prefix,
    everyMs: 60_000,
    source: "/test",
    log,
  });
  samplers.push(s);
  return s;
}

/** Their projector: a consumer group that folds orders into a map, committing as kafkajs does. */
async function theirProjector(groupId: string) {
  const view = new Map<string, string>();
  const consumer: Consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic: ordersTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      view.set(String(message.key), String(message.value));
    },
  });
  return { view, consumer };
}

async function publishOrders(from: number, count: number, ageMs = 0) {
  const sent = await producer.send({
    topic: ordersTopic,
    messages: Array.from({ length: count }, (_, i) => ({
      key: `order-${from + i}`,
      value: JSON.stringify({ status: "placed" }),
      partition: 0,
      timestamp: String(Date.now() - ageMs),
    })),
  });
  return Number(sent[0]?.baseOffset);
}

beforeAll(async () => {
  db = await scratchDatabase("declared");
  await migrate(db.url, () => {});
  pool = createPool(db.url, 4);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [ordersTopic, checkpointTopic], 2);
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
});

afterAll(async () => {
  for (const s of samplers) await s.stop();
  await ingester?.stop();
  await producer?.disconnect();
  await pool?.end();
  await db?.drop();
});

describe("a consumer group declared to be a projection", () => {
  it("is measured from outside: offsets from its commits, seconds from the oldest message it has not read", async () => {
    await syncConfigDeclarations(pool, parseDeclarations(`order-history=${theirGroup}`));
    const theirs = await theirProjector(theirGroup);
    try {
      await publishOrders(0, 20);
      const s = sampler();
      const caughtUp = await until("caught up, as sampled", async () => {
        await pool.query("UPDATE declared_projection SET sampled_at = NULL");
        await s.sampleDue();
        const lag = await latestLag(pool, "order-history");
        return lag.length === 2 && lag.every((p) => p.offsetLag === 0) && lag[0]?.committedOffset === 20
          ? lag
          : undefined;
      });
      expect(caughtUp.map((p) => [p.topic, p.partition, p.timeLagMs])).toEqual([
        [ordersTopic, 0, 0],
        [ordersTopic, 1, 0],
      ]);

      // Their projector stops reading; 15 orders published 30 s ago (by their timestamps) wait.
      theirs.consumer.pause([{ topic: ordersTopic }]);
      const first = await publishOrders(20, 15, 30_000);
      await pool.query("UPDATE declared_projection SET sampled_at = NULL");
      expect(await s.sampleDue()).toEqual(["order-history"]);
      const lag = await latestLag(pool, "order-history");
      expect(lag.find((p) => p.partition === 0)).toMatchObject({ offsetLag: 15, committedOffset: 20 });
      const waited = lag.find((p) => p.partition === 0)?.oldestUnappliedAgeMs ?? 0;
      expect(waited).toBeGreaterThanOrEqual(30_000);
      expect(waited).toBeLessThan(120_000);

      const listed = (await listProjections(pool)).find((p) => p.name === "order-history");
      expect(listed).toMatchObject({ kind: "declared", groupId: theirGroup, offsetLag: 15, partitions: 2 });
      expect(listed?.declaration).toMatchObject({ origin: "config", lastError: null });
      const history = await readLagHistory(pool, "15m", Date.now(), "order-history");
      expect(history.topics).toEqual([ordersTopic]);
      expect(history.points.at(-1)?.totalOffsetLag).toBe(15);

      const waiting = await lookupSeen(pool, `${ordersTopic}:0:${first + 3}`);
      expect(waiting.answers).toEqual([
        expect.objectContaining({ projection: "order-history", seen: false, waiting: 15 }),
      ]);
      const read = await lookupSeen(pool, `${ordersTopic}:0:${first - 1}`);
      expect(read.answers).toEqual([expect.objectContaining({ projection: "order-history", seen: true })]);

      theirs.consumer.resume([{ topic: ordersTopic }]);
      await until("their projector caught up again", async () => {
        await pool.query("UPDATE declared_projection SET sampled_at = NULL");
        await s.sampleDue();
        return (await latestLag(pool, "order-history")).every((p) => p.offsetLag === 0);
      });
      expect(theirs.view.size).toBe(35);
    } finally {
      await theirs.consumer.disconnect();
    }
  });

  it("is sampled once per round however many ingesters run", async () => {
    await syncConfigDeclarations(pool, parseDeclarations(`order-history=${theirGroup}@${ordersTopic}`));
    await pool.query("UPDATE declared_projection SET sampled_at = NULL");
    const [a, b] = await Promise.all([sampler().sampleDue(), sampler().sampleDue()]);
    expect([...a, ...b]).toEqual(["order-history"]);
  });

  it("says why it cannot be measured: a group with no commits, a topic that does not exist", async () => {
    const outcome = await declareProjection(
      pool,
      { name: "not-started", groupId: `${prefix}never-ran`, topics: [] },
      "admin@example.test",
    );
    expect(outcome.done).toBe(true);
    await declareProjection(
      pool,
      { name: "typo", groupId: theirGroup, topics: [`${prefix}ordres`] },
      "admin@example.test",
    );
    try {
      await pool.query("UPDATE declared_projection SET sampled_at = NULL");
      await sampler().sampleDue();
      const declared = await listDeclared(pool);
      expect(declared.find((d) => d.name === "not-started")?.lastError).toMatch(
        /has committed no offsets yet; name its topics/,
      );
      expect(declared.find((d) => d.name === "typo")?.lastError).toBe(
        `no such topic: ${prefix}ordres (the group's topics must exist to be measured)`,
      );
    } finally {
      expect((await undeclareProjection(pool, "typo")).done).toBe(true);
      expect((await undeclareProjection(pool, "not-started")).done).toBe(true);
    }
  });

  it("once no longer declared, is not listed (its samples go with it)", async () => {
    await declareProjection(
      pool,
      { name: "short-lived", groupId: theirGroup, topics: [ordersTopic] },
      "admin@example.test",
    );
    await pool.query("UPDATE declared_projection SET sampled_at = NULL");
    await sampler().sampleDue();
    expect((await listProjections(pool)).map((p) => p.name)).toContain("short-lived");
    expect((await undeclareProjection(pool, "short-lived")).done).toBe(true);
    expect((await listProjections(pool)).map((p) => p.name)).not.toContain("short-lived");
  });

  it("belongs to the config when the config declares it: an admin cannot change or remove it", async () => {
    await syncConfigDeclarations(pool, parseDeclarations(`order-history=${theirGroup}`));
    const changed = await declareProjection(
      pool,
      { name: "order-history", groupId: "elsewhere", topics: [] },
      "admin@example.test",
    );
    expect(changed).toEqual({
      done: false,
      message: `"order-history" is declared by the deployment's configuration (SAGASCOPE_PROJECTIONS); change it there`,
    });
    expect((await undeclareProjection(pool, "order-history")).done).toBe(false);
    // Dropped from the config, it is gone at the next start.
    await syncConfigDeclarations(pool, []);
    expect(await listDeclared(pool)).toEqual([]);
  });

  it.each([
    ["a=g;a=h", 'the projection "a" is declared twice'],
    ["orders view=g", '"orders view=g": name 1–100 letters'],
    ["fleet=g", '"fleet" is the built-in projection'],
    ["just-a-name", '"just-a-name" is not name=group or name=group@topic,topic'],
  ])("a config of %s is refused: %s", (spec, message) => {
    expect(() => parseDeclarations(spec)).toThrow(message);
  });
});

/**
 * The "Projections" example of docs/events.md (a projector reporting its own freshness),
 * written where Node resolves kafkajs from this checkout's node_modules.
 */
function documentedCheckpointExample(): string {
  const doc = readFileSync("docs/events.md", "utf8");
  const block = /<!-- example:projection-checkpoint -->\s*```js\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error("docs/events.md lost its projection-checkpoint example");
  mkdirSync("test-results", { recursive: true });
  const file = path.resolve("test-results/docs-projection-checkpoint.mjs");
  writeFileSync(file, block);
  return file;
}

describe("a projector that reports its own freshness (docs/events.md)", () => {
  it("publishes a checkpoint as documented; the dashboard lists it with its lag and answers by position", async () => {
    ingester = createIngester({
      kafka,
      pool,
      topics: [],
      projectionTopic: checkpointTopic,
      groupId: `${prefix}ingester`,
      log,
    });
    await ingester.start();
    const reporter = `${prefix}invoice-projector`;
    const theirs = await theirProjector(reporter);
    try {
      await until("their projector read what is there", () => theirs.view.size >= 35);
      theirs.consumer.pause([{ topic: ordersTopic }]);
      await publishOrders(100, 4);
      const run = spawnSync(process.execPath, [documentedCheckpointExample()], {
        encoding: "utf8",
        timeout: 60_000,
        env: {
          ...process.env,
          KAFKA_BROKERS: testInfra().kafkaBrokers.join(","),
          CHECKPOINT_TOPIC: checkpointTopic,
          PROJECTION: "invoices",
          GROUP_ID: reporter,
          TOPIC: ordersTopic,
        },
      });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain("invoices: 4 behind");
      const listed = await until("listed from its checkpoint", async () =>
        (await listProjections(pool)).find((p) => p.name === "invoices"),
      );
      expect(listed).toMatchObject({ kind: "reported", declaration: null, offsetLag: 4, partitions: 2 });
      const seen = await lookupSeen(pool, `${ordersTopic}:0:0`);
      expect(seen.answers).toContainEqual(expect.objectContaining({ projection: "invoices", seen: true }));
    } finally {
      await theirs.consumer.disconnect();
    }
  });
});
