// The CQRS projection against real Kafka and Postgres: the checkout services and the banks
// write and publish their changes; the projector builds the order view and the account
// view. Paused, its lag grows in offsets and in time; resumed, it catches up to zero and the
// read model equals the write side row by row. Killed mid-batch (a separate process, SIGKILL),
// it applies nothing twice and skips nothing. Rebuilt from offset zero, the new generation
// is the same read model.
import { mkdirSync } from "node:fs";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Child, startTsx, stopChild } from "../../scripts/processes.ts";
import { scratchDatabase, testInfra, uniqueName, until as waitUntil } from "../../scripts/test/infra.ts";
import { createPool, type Pool } from "../db/pool.ts";
import { ensureTopics, topics } from "../events/index.ts";
import { noFaults } from "../fault-switches/faults.ts";
import { type BankStore, createBankStore } from "../fleet/bank/bank-store.ts";
import {
  type CheckoutParticipant,
  createCheckoutParticipant,
} from "../fleet/checkout/checkout-participant.ts";
import { CHECKOUT_SERVICES, checkoutTopic, randomOrder } from "../fleet/checkout/checkout-saga.ts";
import { createGuard } from "../fleet/checkout/guard.ts";
import { placeOrder } from "../fleet/checkout/order-service.ts";
import { DEMO_FLEET_MANIFEST_PATH, demoFleetManifest } from "../fleet/demo-manifest.ts";
import { openingAccounts } from "../fleet/transfer/transfer-world.ts";
import { createIngester } from "../ingest/ingester.ts";
import { createLogger } from "../log.ts";
import { createOutboxRelay, type OutboxRelay } from "../sagas/outbox/outbox-relay.ts";
import { changeTopic } from "./change-events.ts";
import { projectedTopics, projectorGroup } from "./fleet-topics.ts";
import { measureLag, type PartitionLag, totalOffsetLag } from "./lag.ts";
import { createOldestUnappliedProbe, type OldestUnappliedProbe } from "./oldest-unapplied.ts";
import { createProjector, PROJECTOR_POOL_SIZE, type Projector } from "./projector.ts";
import { activate, activeGeneration, schemaOf } from "./read-model.ts";
import { rebuildReadModel } from "./rebuild.ts";

const log = createLogger("projection-test", "error");
const prefix = `${uniqueName("proj")}.`;
/** The change topics the demo fleet's manifest has the projector read. */
const sources = projectedTopics(prefix, demoFleetManifest());
const kafka = new Kafka({
  clientId: "projection-test",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
let fleetDb: Awaited<ReturnType<typeof scratchDatabase>>;
let readDb: Awaited<ReturnType<typeof scratchDatabase>>;
let fleetPool: Pool;
let readPool: Pool;
let producer: Producer;
let services: CheckoutParticipant[];
let banks: BankStore[];
const relays: OutboxRelay[] = [];
const children: Child[] = [];
let projector: Projector;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Catching up a backlog after a kill takes a while on two cores.
const until = <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 60_000) =>
  waitUntil(what, probe, ms, 100);
beforeAll(async () => {
  fleetDb = await scratchDatabase("proj_fleet");
  readDb = await scratchDatabase("proj_read");
  fleetPool = createPool(fleetDb.url, 12);
  readPool = createPool(readDb.url, PROJECTOR_POOL_SIZE);
  const admin = kafka.admin();
  await admin.connect();
  const contract = topics(prefix);
  await ensureTopics(admin, [checkoutTopic(prefix), ...sources, ...Object.values(contract)], 3);
  await admin.disconnect();
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  services = CHECKOUT_SERVICES.map((service) =>
    createCheckoutParticipant(service, {
      pool: fleetPool,
      databaseUrl: fleetDb.url,
      kafka,
      producer,
      topicPrefix: prefix,
      guard: createGuard(service, noFaults),
      log,
    }),
  );
  for (const s of services) await s.init();
  for (const s of services) await s.participant.start();
  banks = [];
  for (const bank of ["bank-a", "bank-b"] as const) {
    const store = createBankStore(fleetPool, bank.replace("-", "_"), {
      topic: changeTopic(prefix, bank),
      source: `/test/${bank}`,
    });
    await store.init(openingAccounts(bank));
    const relay = createOutboxRelay({
      databaseUrl: fleetDb.url,
      outbox: store.outbox,
      producer,
      name: `${prefix}${bank}`,
      log,
    });
    relay.start();
    relays.push(relay);
    banks.push(store);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(children.map((c) => stopChild(c, 3000)));
  await projector?.stop();
  for (const s of services ?? []) await s.participant.stop();
  for (const r of relays) await r.stop();
  await producer?.disconnect();
  await fleetPool?.end();
  await readPool?.end();
  await fleetDb?.drop();
  await readDb?.drop();
});

/** Orders and bank transfers as the fleet makes them; waits until every order has ended. */
async function writeSomething(orders: number, transfers: number) {
  const [order] = services as [CheckoutParticipant];
  const [bankA, bankB] = banks as [BankStore, BankStore];
  await Promise.all([
    (async () => {
      for (let i = 0; i < orders; i++) await placeOrder(order.participant, randomOrder(0.3), order.changes);
    })(),
    (async () => {
      for (let i = 0; i < transfers; i++) {
        const op = uniqueName("tx");
        const amount = 1 + (i % 7);
        await bankA.debit(`${op}:debit`, `A-00${1 + (i % 9)}`, amount);
        await bankB.credit(`${op}:credit`, `B-00${1 + (i % 9)}`, amount);
      }
    })(),
  ]);
  await until(
    "every order to end",
    async () => {
      const r = await fleetPool.query(
        "SELECT count(*)::int AS n FROM checkout_order.customer_order WHERE status = 'placed'",
      );
      return r.rows[0].n === 0;
    },
    60_000,
  );
}

/** The write side as the read model should show it (an auditor's join, for the test only). */
async function writeSide() {
  const orders = await fleetPool.query(
    `SELECT o.order_id, o.customer_id, o.sku, o.quantity, o.amount_cents::bigint AS amount_cents, o.status AS order_status,
            p.status AS payment_status, r.status AS reservation_status, s.shipment_id,
            o.version + coalesce(p.version, 0) + coalesce(r.version, 0) + coalesce(s.version, 0) AS versions
     FROM checkout_order.customer_order o
     LEFT JOIN checkout_payment.payment p USING (order_id)
     LEFT JOIN checkout_inventory.reservation r USING (order_id)
     LEFT JOIN checkout_shipping.shipment s USING (order_id) ORDER BY o.order_id`,
  );
  const accounts = await fleetPool.query(
    `SELECT 'bank_a/' || id AS account_id, balance::bigint AS balance, closed, version FROM bank_a.accounts
     UNION ALL SELECT 'bank_b/' || id, balance::bigint, closed, version FROM bank_b.accounts ORDER BY 1`,
  );
  return { orders: orders.rows, accounts: accounts.rows };
}

async function readSide(generation: number) {
  const s = schemaOf(generation);
  const orders = await readPool.query(
    `SELECT order_id, customer_id, sku, quantity, amount_cents, order_status, payment_status, reservation_status,
            shipment_id, order_version + payment_version + reservation_version + shipment_version AS versions
     FROM ${s}.order_view ORDER BY order_id`,
  );
  const accounts = await readPool.query(
    `SELECT account_id, balance, closed, version FROM ${s}.account_view ORDER BY account_id`,
  );
  // Every applied change counted once: applied equals the versions unless one was applied twice or skipped.
  const miscounted = await readPool.query(
    `SELECT count(*)::int AS n FROM (
       SELECT applied_changes <> order_version + payment_version + reservation_version + shipment_version AS bad FROM ${s}.order_view
       UNION ALL SELECT applied_changes <> version FROM ${s}.account_view) x WHERE bad`,
  );
  return { orders: orders.rows, accounts: accounts.rows, miscounted: miscounted.rows[0].n as number };
}

async function lagOf(generation: number, probe?: OldestUnappliedProbe): Promise<PartitionLag[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await measureLag(admin, readPool, {
      groupId: projectorGroup(prefix, generation),
      topics: sources,
      generation,
      ...(probe ? { probe } : {}),
    });
  } finally {
    await admin.disconnect();
  }
}
const caughtUp = (generation: number) =>
  until(`generation ${generation} to catch up`, async () => totalOffsetLag(await lagOf(generation)) === 0);

async function expectEqual(generation: number) {
  const [write, read] = await Promise.all([writeSide(), readSide(generation)]);
  expect(read.orders).toEqual(write.orders);
  expect(read.accounts).toEqual(write.accounts);
  expect(read.miscounted).toBe(0);
  return write;
}

describe("the fleet's projection", () => {
  it("lags while paused, in offsets and in time, then catches up to the write side", async () => {
    projector = createProjector({
      kafka,
      pool: readPool,
      generation: 1,
      groupId: projectorGroup(prefix, 1),
      topics: sources,
      log,
    });
    await projector.start();
    await activate(readPool, 1);
    await writeSomething(40, 40);
    await caughtUp(1);
    await expectEqual(1);

    projector.pause();
    const probe = createOldestUnappliedProbe(kafka, uniqueName("peek"), sources, log);
    await probe.start();
    await writeSomething(40, 40);
    const first = await until("lag to show", async () => {
      const l = await lagOf(1, probe);
      return totalOffsetLag(l) > 0 ? l : undefined;
    });
    await sleep(1000);
    const second = await lagOf(1, probe);
    await probe.stop();
    const worst = (l: PartitionLag[]) => Math.max(...l.map((p) => p.timeLagMs ?? 0));
    const oldest = (l: PartitionLag[]) => Math.max(...l.map((p) => p.oldestUnappliedAgeMs ?? 0));
    expect(totalOffsetLag(second)).toBeGreaterThanOrEqual(totalOffsetLag(first));
    expect(worst(second)).toBeGreaterThan(worst(first));
    // The oldest waiting change gets older while nothing is applied, and is measured on every lagging partition.
    expect(oldest(second)).toBeGreaterThan(oldest(first));
    expect(second.filter((p) => p.offsetLag > 0).every((p) => p.oldestUnappliedAgeMs !== null)).toBe(true);

    projector.resume();
    await caughtUp(1);
    const write = await expectEqual(1);
    console.log(
      `projection: paused with ${totalOffsetLag(second)} changes and ${Math.round(worst(second))} ms behind ` +
        `(oldest waiting change ${Math.round(oldest(second))} ms old); ` +
        `caught up to 0; ${write.orders.length} orders and ${write.accounts.length} accounts equal row by row`,
    );
    await projector.stop();
  }, 180_000);

  it("killed mid-batch, applies nothing twice and skips nothing", async () => {
    await writeSomething(150, 150);
    mkdirSync("test-results", { recursive: true });
    const env = {
      DATABASE_URL: readDb.url,
      KAFKA_BROKERS: testInfra().kafkaBrokers.join(","),
      REDIS_URL: testInfra().redisUrl,
      SAGASCOPE_TOPIC_PREFIX: prefix,
      SAGASCOPE_FLEET_MANIFEST: DEMO_FLEET_MANIFEST_PATH,
      SAGASCOPE_LOG_LEVEL: "info",
      // Batches of a few changes each: the catch-up takes hundreds of transactions, so it is
      // still under way when this test looks (whole-partition batches finish between two looks).
      SAGASCOPE_PROJECTOR_BATCH_BYTES: "4096",
    };
    const output = { file: `test-results/${prefix}log` };
    const victim = startTsx("projector", "server/projections/main.ts", env, output);
    children.push(victim);
    const backlog = totalOffsetLag(await lagOf(1));
    // Killed while it is catching up: some batches applied, others not yet.
    await until(
      "the projector to be half way",
      async () => {
        const left = totalOffsetLag(await lagOf(1));
        return left < backlog && left > 0;
      },
      90_000,
    );
    process.kill(-(victim.process.pid as number), "SIGKILL");
    await victim.exited;
    const leftWhenKilled = totalOffsetLag(await lagOf(1));
    children.push(startTsx("projector-2", "server/projections/main.ts", env, output));
    await caughtUp(1);
    await expectEqual(1);

    // Its checkpoints reach the store as lag samples: the backlog while it caught up, then zero.
    const ingester = createIngester({
      kafka,
      pool: readPool,
      topics: [],
      projectionTopic: topics(prefix).projectionEvents,
      groupId: uniqueName("proj-ingest"),
      log,
    });
    await ingester.start();
    try {
      const samples = await until("lag samples down to zero", async () => {
        const r = await readPool.query(
          `SELECT time, sum(offset_lag)::int AS lag FROM projection_lag_sample WHERE projection = 'fleet' AND generation = 1
           GROUP BY checkpoint_id, time ORDER BY time`,
        );
        return r.rows.length > 1 && r.rows.at(-1)?.lag === 0 ? r.rows : undefined;
      });
      expect(Math.max(...samples.map((s) => s.lag))).toBeGreaterThan(0);
    } finally {
      await ingester.stop();
    }
    console.log(
      `projection: killed with ${leftWhenKilled} of ${backlog} changes left; restarted, caught up, equal, none applied twice`,
    );
  }, 180_000);

  it("a rebuild from offset zero yields the same read model, and the read side switches to it", async () => {
    const before = await activeGeneration(readPool);
    const result = await rebuildReadModel({
      kafka,
      pool: readPool,
      topicPrefix: prefix,
      topics: sources,
      log,
      keepGenerations: 2,
    });
    expect(result.retired).toEqual({ dropped: [], stillRead: [] });
    expect(result.generation).toBe((before ?? 0) + 1);
    expect(await activeGeneration(readPool)).toBe(result.generation);
    await caughtUp(1);
    const [rebuilt, old] = await Promise.all([readSide(result.generation), readSide(1)]);
    expect(rebuilt.orders).toEqual(old.orders);
    expect(rebuilt.accounts).toEqual(old.accounts);
    await expectEqual(result.generation);
    console.log(
      `projection: rebuilt generation ${result.generation} from offset zero in ${result.ms} ms (${result.applied} changes applied), equal to generation 1`,
    );

    // Once more, keeping one generation: the older ones go, schema and consumer group, once no projector reads them.
    const again = await rebuildReadModel({
      kafka,
      pool: readPool,
      topicPrefix: prefix,
      topics: sources,
      log,
      keepGenerations: 1,
    });
    expect(again.retired).toEqual({ dropped: [1, result.generation], stillRead: [] });
    await expectEqual(again.generation);
    const schemas = await readPool.query(
      `SELECT nspname FROM pg_namespace WHERE nspname ~ '^projection_g[0-9]+$' ORDER BY 1`,
    );
    expect(schemas.rows.map((r) => r.nspname)).toEqual([schemaOf(again.generation)]);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId);
      expect(groups).not.toContain(projectorGroup(prefix, 1));
      expect(groups).not.toContain(projectorGroup(prefix, result.generation));
      expect(groups).toContain(projectorGroup(prefix, again.generation));
    } finally {
      await admin.disconnect();
    }
  }, 180_000);

  it("batches whose connection is cut mid-transaction are applied again before the later ones; Kafka's offsets never pass the read model's", async () => {
    // A generation of its own, built from offset zero in batches of a few changes: hundreds of
    // transactions queued ahead, some cut by Postgres while they run.
    await writeSomething(100, 100);
    const generation = 10;
    const groupId = projectorGroup(prefix, generation);
    const tagged = new URL(readDb.url);
    tagged.searchParams.set("application_name", "projector-under-cuts");
    const projectorPool = createPool(tagged.toString(), PROJECTOR_POOL_SIZE);
    const cut = createProjector({
      kafka,
      pool: projectorPool,
      generation,
      groupId,
      topics: sources,
      log,
      maxBatchBytes: 1024,
    });
    const admin = kafka.admin();
    await admin.connect();
    let cuts = 0;
    let checks = 0;
    try {
      await cut.start();
      // Through this test's own admin client: the loop looks every 20 ms.
      const done = async () =>
        totalOffsetLag(await measureLag(admin, readPool, { groupId, topics: sources, generation })) === 0;
      while (!(await done())) {
        // Kafka's committed offsets first, then the read model's: a commit made only after its
        // batch's transaction can never be ahead of the offsets that transaction stored.
        const committed = await admin.fetchOffsets({ groupId, topics: sources });
        const applied = await readPool
          .query<{ topic: string; partition: number; last_offset: number }>(
            `SELECT topic, partition, last_offset FROM ${schemaOf(generation)}.applied_offset`,
          )
          .then((r) => new Map(r.rows.map((row) => [`${row.topic}:${row.partition}`, row.last_offset])));
        for (const { topic, partitions } of committed)
          for (const { partition, offset } of partitions) {
            if (Number(offset) < 0) continue;
            checks += 1;
            expect(Number(offset)).toBeLessThanOrEqual((applied.get(`${topic}:${partition}`) ?? -1) + 1);
          }
        // A dozen cuts, then the catch-up finishes undisturbed (each cut batch waits 0.5 s or more).
        if (cuts < 12) {
          const { rows } = await fleetPool.query<{ cut: boolean }>(
            `SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity
             WHERE application_name = 'projector-under-cuts' AND state IN ('active', 'idle in transaction')`,
          );
          cuts += rows.filter((r) => r.cut).length;
        }
        await sleep(cuts < 12 ? 20 : 250);
      }
      expect(cuts).toBeGreaterThan(0);
      expect(checks).toBeGreaterThan(0);
      await expectEqual(generation);
      console.log(
        `projection: ${cuts} of the projector's transactions cut while it caught up in ${cut.counters().batches} batches; ` +
          `applied again, equal, none applied twice; Kafka's offsets at or behind the read model's in ${checks} looks`,
      );
    } finally {
      await cut.stop();
      await admin.disconnect();
      await projectorPool.end();
    }
  }, 180_000);

  it("a second projector joining mid catch-up takes partitions over: the batches queued ahead are let go, and the model is equal", async () => {
    await writeSomething(60, 60);
    const generation = 11;
    const groupId = projectorGroup(prefix, generation);
    const options = { kafka, pool: readPool, generation, groupId, topics: sources, log, maxBatchBytes: 1024 };
    // The first projector's joins and rebalances, with how many queued batches each let go.
    const joins: unknown[] = [];
    const rebalances: unknown[] = [];
    const first = createProjector({
      ...options,
      log: {
        ...log,
        info: (message, fields) => {
          if (message.startsWith("joined the group")) joins.push(fields?.dropped);
          if (message.startsWith("the group is rebalancing")) rebalances.push(fields?.dropped);
        },
      },
    });
    const second = createProjector(options);
    try {
      await first.start();
      const backlog = await until("the first projector to be under way", async () => {
        const left = totalOffsetLag(await lagOf(generation));
        return first.counters().batches > 20 && left > 0 ? left : undefined;
      });
      // The group rebalances: partitions move to the second, the first's queue is let go.
      await second.start();
      await caughtUp(generation);
      await expectEqual(generation);
      const [a, b] = [first.counters(), second.counters()];
      expect(b.batches).toBeGreaterThan(0);
      // Its first join, then the rebalance.
      expect(joins.length).toBeGreaterThanOrEqual(2);
      console.log(
        `projection: a second projector joined with ${backlog} changes left (the first let go of ${[...rebalances, ...joins.slice(1)].join(" + ")} queued batches); ` +
          `batches ${a.batches} + ${b.batches}, ` +
          `old news ${a.oldNews + b.oldNews}; equal, none applied twice`,
      );
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  }, 180_000);
});
