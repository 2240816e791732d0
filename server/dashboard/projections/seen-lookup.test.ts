// "Has the read model seen this?" against a real projector, Kafka and Postgres: changes of an
// order are applied and found by event id, aggregate id and position; while the projector is
// paused, a newer change and an unknown order are answered with where they wait and how far
// behind the projector is. The lag history reads the checkpoints stored the ingester's way.
import { randomUUID } from "node:crypto";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase, testInfra, uniqueName, until } from "../../../scripts/test/infra.ts";
import { migrate } from "../../db/migrate.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { withTransaction } from "../../db/transaction.ts";
import { ensureTopics, newTrace } from "../../events/index.ts";
import { insertProjectionEvents } from "../../ingest/store-projection-events.ts";
import { createLogger } from "../../log.ts";
import { changeMessage, changeTopic } from "../../projections/change-events.ts";
import { measureLag } from "../../projections/lag.ts";
import { createProjector, PROJECTOR_POOL_SIZE, type Projector } from "../../projections/projector.ts";
import { activate, PROJECTION } from "../../projections/read-model.ts";
import { readLagHistory } from "./lag-history.ts";
import { lookupSeen, partitionOfKey } from "./seen-lookup.ts";

const prefix = `${uniqueName("seen")}.`;
const topic = changeTopic(prefix, "order");
const groupId = `${prefix}projector`;
const kafka = new Kafka({
  clientId: "seen-test",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let producer: Producer;
let projector: Projector;
const orderId = `order-${randomUUID()}`;

async function publish(aggregateId: string, version: number): Promise<{ id: string; offset: number }> {
  const message = changeMessage(
    {
      aggregateType: "order",
      aggregateId,
      op: version === 1 ? "created" : "updated",
      version,
      state: { status: `v${version}` },
    },
    { source: "/fleet/order", trace: newTrace() },
  );
  const [sent] = await producer.send({ topic, messages: [message] });
  return { id: String(message.headers?.ce_id), offset: Number(sent?.baseOffset) };
}

/** A checkpoint as the projector measures it, stored as the ingester stores it. */
async function checkpoint() {
  const admin = kafka.admin();
  await admin.connect();
  const lags = await measureLag(admin, pool, { groupId, topics: [topic], generation: 1 }).finally(() =>
    admin.disconnect(),
  );
  await withTransaction(pool, (client) =>
    insertProjectionEvents(client, [
      {
        id: randomUUID(),
        source: "/test",
        type: "io.sagascope.projection.checkpoint",
        time: new Date(),
        data: {
          projection: PROJECTION,
          generation: 1,
          groupId,
          active: true,
          partitions: lags.map((l) => ({ ...l, newestAppliedAt: l.newestAppliedAt?.toISOString() ?? null })),
        },
      },
    ]),
  );
}

beforeAll(async () => {
  db = await scratchDatabase("seen");
  await migrate(db.url);
  pool = createPool(db.url, PROJECTOR_POOL_SIZE);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic], 3).finally(() => admin.disconnect());
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  projector = createProjector({
    kafka,
    pool,
    generation: 1,
    groupId,
    topics: [topic],
    log: createLogger("test", "error"),
  });
  await projector.start();
  await activate(pool, 1);
}, 60_000);

afterAll(async () => {
  await projector?.stop();
  await producer?.disconnect();
  await pool?.end();
  await db?.drop();
});

describe("has the read model seen this?", () => {
  it("answers by event id, aggregate id and position, and says how far behind it is when not yet", async () => {
    const first = await publish(orderId, 1);
    const second = await publish(orderId, 2);
    const partition = partitionOfKey(topic, orderId, 3);
    await until(
      "the order's second change is applied",
      async () => (await lookupSeen(pool, orderId)).answers.find((a) => a.detail.includes("version 2")),
      30_000,
      200,
    );
    const byId = await lookupSeen(pool, second.id);
    expect(byId.answers).toEqual([
      expect.objectContaining({
        seen: true,
        projection: "order view",
        topic,
        partition,
        offset: second.offset,
      }),
    ]);
    expect((await lookupSeen(pool, `${topic}:${partition}:${first.offset}`)).answers[0]?.seen).toBe(true);

    projector.pause();
    const third = await publish(orderId, 3);
    const other = `order-${randomUUID()}`;
    await publish(other, 1);
    await checkpoint();
    const position = await lookupSeen(pool, `${topic}:${partition}:${third.offset}`);
    expect(position.answers[0]).toMatchObject({ seen: false, waiting: expect.any(Number) });
    expect(position.answers[0]?.detail).toContain(`${third.offset - second.offset} changes further on`);

    const stale = await lookupSeen(pool, orderId);
    expect(stale.answers[0]).toMatchObject({ seen: true, partition });
    expect(stale.answers[0]?.detail).toContain("version 2");
    expect(stale.answers[0]?.waiting).toBeGreaterThanOrEqual(1);
    const unseen = await lookupSeen(pool, other);
    expect(unseen.answers[0]).toMatchObject({ seen: false, partition: partitionOfKey(topic, other, 3) });
    expect(unseen.answers[0]?.detail).toContain("waiting");
    expect((await lookupSeen(pool, "no-such-thing-at-all")).answers[0]?.seen).toBe(false);

    const history = await readLagHistory(pool, "15m");
    expect(history.topics).toEqual([topic]);
    expect(history.points.at(-1)?.totalOffsetLag).toBeGreaterThanOrEqual(2);

    projector.resume();
    await until(
      "the third change is applied",
      async () => (await lookupSeen(pool, third.id)).answers[0]?.seen,
      30_000,
      200,
    );
  }, 90_000);
});
