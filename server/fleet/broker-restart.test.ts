// The whole pipeline through a Kafka broker restart: on a broker of its own (the suite's is
// shared), the ingester, the transfer orchestrator (with its banks), the four checkout
// participants and the projector run as their own processes while the broker is stopped
// and started again on its data. None is restarted by the test: each reconnects by itself.
// Afterwards every saga the fleet ran has ended, the store holds every event the fleet's
// outboxes published exactly once, the projector checkpoints again, and the dashboard's
// Kafka read said the broker was unreachable while it was.
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sagascopeHome } from "../../scripts/infra/infra.ts";
import {
  type BrokerProfile,
  brokerAddress,
  startBroker,
  stopBroker,
} from "../../scripts/infra/kafka-broker.ts";
import { type Child, startTsx, stopChild } from "../../scripts/processes.ts";
import { freePort, scratchDatabase, testInfra, uniqueName, until } from "../../scripts/test/infra.ts";
import { KafkaUnavailableError, readKafka } from "../dashboard/kafka/read-kafka.ts";
import { migrate } from "../db/migrate.ts";
import { createPool, type Pool } from "../db/pool.ts";
import { env } from "../env.ts";
import { topics } from "../events/index.ts";
import { DEMO_FLEET_MANIFEST_PATH } from "./demo-manifest.ts";

const TRANSFERS = 80;
const ORDERS = 40;
const CHECKOUT = ["order", "payment", "inventory", "shipping"] as const;
const OUTBOXES = [
  "transfer_orchestrator",
  "checkout_order",
  "checkout_payment",
  "checkout_inventory",
  "checkout_shipping",
];
/** Processes start, join their groups and settle on a loaded machine within this. */
const START_ALLOWANCE_MS = 60_000;

const children: Child[] = [];
let profile: BrokerProfile;
let store: Awaited<ReturnType<typeof scratchDatabase>>;
let fleet: Awaited<ReturnType<typeof scratchDatabase>>;
let storePool: Pool;
let fleetPool: Pool;

beforeAll(async () => {
  profile = {
    name: "restart",
    port: await freePort(),
    controllerPort: await freePort(),
    home: sagascopeHome(env()),
  };
  rmSync(path.join(profile.home, `kafka-${profile.name}`), { recursive: true, force: true });
  await startBroker(profile);
  store = await scratchDatabase("restart_store");
  fleet = await scratchDatabase("restart_fleet");
  await migrate(store.url);
  storePool = createPool(store.url, 2);
  fleetPool = createPool(fleet.url, 2);
}, 120_000);

afterAll(async () => {
  await Promise.all(children.map((c) => stopChild(c, 5000)));
  await stopBroker(profile);
  await storePool?.end();
  await fleetPool?.end();
  await store?.drop();
  await fleet?.drop();
}, 60_000);

const count = async (pool: Pool, sql: string, params: unknown[] = []) =>
  ((await pool.query(sql, params).catch(() => ({ rows: [{ n: 0 }] }))).rows[0]?.n ?? 0) as number;

describe("a Kafka broker restart under the running fleet", () => {
  it("every process reconnects by itself; nothing lost or doubled; the Kafka page said it was unreachable", async () => {
    const prefix = `${uniqueName("restart")}.`;
    const names = topics(prefix);
    const brokers = [brokerAddress(profile)];
    mkdirSync("test-results", { recursive: true });
    const output = { file: `test-results/${prefix}log` };
    const common = {
      DATABASE_URL: store.url,
      FLEET_DATABASE_URL: fleet.url,
      KAFKA_BROKERS: brokers.join(","),
      REDIS_URL: testInfra().redisUrl,
      SAGASCOPE_TOPIC_PREFIX: prefix,
      SAGASCOPE_INGEST_GROUP: `${prefix}ingester`,
      FLEET_BANK_A_ADDRESS: `127.0.0.1:${await freePort()}`,
      FLEET_BANK_B_ADDRESS: `127.0.0.1:${await freePort()}`,
      SAGASCOPE_DEMO_FAILURE_RATE: "0.2",
      SAGASCOPE_FLEET_MANIFEST: DEMO_FLEET_MANIFEST_PATH,
      SAGASCOPE_LOG_LEVEL: "info",
    };
    const start = (name: string, file: string, extra: Record<string, string> = {}) =>
      children.push(startTsx(name, file, { ...common, ...extra }, output));
    start("ingester", "server/ingest/main.ts");
    start("projector", "server/projections/main.ts");
    start("bank-a", "server/fleet/bank/main.ts", { FLEET_BANK: "bank-a" });
    start("bank-b", "server/fleet/bank/main.ts", { FLEET_BANK: "bank-b" });
    for (const service of CHECKOUT)
      start(service, "server/fleet/checkout/main.ts", {
        FLEET_CHECKOUT_SERVICE: service,
        FLEET_CHECKOUT_RATE: "2",
        FLEET_CHECKOUT_LIMIT: String(ORDERS),
      });
    start("transfers", "server/fleet/transfer/main.ts", {
      SAGASCOPE_DEMO_RATE: "4",
      FLEET_TRANSFER_LIMIT: String(TRANSFERS),
    });

    // Running: both kinds of saga reach the store, and the projector has checkpointed.
    const stored = (type: string) =>
      count(storePool, "SELECT count(*)::int AS n FROM saga_summary WHERE saga_type = $1", [type]);
    await until(
      "both kinds of saga in the store and a projection checkpoint",
      async () =>
        (await stored("interbank-transfer")) >= 5 &&
        (await stored("marketplace-checkout")) >= 3 &&
        (await count(storePool, "SELECT count(*)::int AS n FROM projection_lag_sample")) > 0,
      START_ALLOWANCE_MS,
      250,
    );

    await stopBroker(profile);
    const downAt = Date.now();
    const whileDown = await readKafka({ brokers, prefix, ingestGroup: common.SAGASCOPE_INGEST_GROUP }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(whileDown).toBeInstanceOf(KafkaUnavailableError);
    expect((whileDown as Error).message).toMatch(/^Kafka is unreachable at 127\.0\.0\.1:\d+: /);
    await new Promise((r) => setTimeout(r, 10_000 - (Date.now() - downAt)));
    await startBroker(profile);
    const backAt = new Date();
    // The page reads again by itself once the restarted broker answers (a loaded machine may
    // take longer than one read's deadline to have it serve metadata again).
    const afterwards = await until(
      "the Kafka page's read to succeed again",
      () => readKafka({ brokers, prefix, ingestGroup: common.SAGASCOPE_INGEST_GROUP }).catch(() => undefined),
      START_ALLOWANCE_MS,
      500,
    );
    expect(afterwards.topics.map((t) => t.name)).toContain(names.sagaEvents);

    // Every saga the fleet started ends, in its own stores and in the dashboard's.
    const unfinishedInStore = () =>
      count(
        storePool,
        "SELECT count(*)::int AS n FROM saga_summary WHERE ended_at IS NULL AND status <> 'resolved'",
      );
    await until(
      "every saga ended, in the fleet and in the store",
      async () =>
        (await count(fleetPool, "SELECT count(*)::int AS n FROM transfer_orchestrator.saga_instance")) ===
          TRANSFERS &&
        (await count(
          fleetPool,
          "SELECT count(*)::int AS n FROM transfer_orchestrator.saga_instance WHERE phase IN ('forward', 'compensating')",
        )) === 0 &&
        (await count(fleetPool, "SELECT count(*)::int AS n FROM checkout_order.customer_order")) === ORDERS &&
        (await count(
          fleetPool,
          "SELECT count(*)::int AS n FROM checkout_order.customer_order WHERE status = 'placed'",
        )) === 0 &&
        (await stored("interbank-transfer")) === TRANSFERS &&
        (await stored("marketplace-checkout")) === ORDERS &&
        (await unfinishedInStore()) === 0,
      START_ALLOWANCE_MS + 120_000,
      500,
    );
    const recoveredMs = Date.now() - backAt.getTime();

    // Lost and doubled: every contract event the fleet's outboxes published, against the store.
    const published = new Set<string>();
    for (const schema of OUTBOXES) {
      const { rows } = await fleetPool.query<{ id: string }>(
        `SELECT headers->>'ce_id' AS id FROM "${schema}".outbox WHERE topic = $1`,
        [names.sagaEvents],
      );
      for (const r of rows) published.add(r.id);
    }
    await until(
      "every published event stored",
      async () =>
        (await count(storePool, "SELECT count(DISTINCT id)::int AS n FROM saga_event WHERE id = ANY($1)", [
          [...published],
        ])) === published.size,
      60_000,
      500,
    );
    const storedRows = await count(storePool, "SELECT count(*)::int AS n FROM saga_event");
    const distinct = await count(storePool, "SELECT count(DISTINCT id)::int AS n FROM saga_event");
    // The projector checkpoints again after the broker came back.
    await until(
      "a projection checkpoint after the restart",
      async () =>
        (await count(storePool, "SELECT count(*)::int AS n FROM projection_lag_sample WHERE time > $1", [
          backAt,
        ])) > 0,
      START_ALLOWANCE_MS,
      500,
    );
    console.log(
      `[faults] Kafka broker restarted under the fleet: ${JSON.stringify({
        published: published.size,
        stored: storedRows,
        lost: published.size - distinct,
        duplicated: storedRows - distinct,
        transfers: TRANSFERS,
        orders: ORDERS,
        brokerDownMs: backAt.getTime() - downAt,
        msFromBrokerBackToAllEnded: recoveredMs,
      })}`,
    );
    expect(distinct).toBe(published.size);
    expect(storedRows).toBe(distinct);
    for (const child of children) expect(child.process.exitCode, `${child.name} exited`).toBeNull();
  }, 360_000);
});
