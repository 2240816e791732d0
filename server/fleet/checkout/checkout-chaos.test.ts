// Chaos, checkout: the four services as separate processes over real Kafka and Postgres,
// with injected transient errors in every service, failures by design (declined cards,
// sold-out stock, unserviceable addresses), and payment, inventory and shipping killed
// (SIGKILL) and restarted mid-run. Afterwards every order has ended, no order is
// paid-but-unshipped or cancelled-with-stock, nothing is refunded twice, money and stock
// add up, and the dashboard's store, fed only by the contract events, agrees.
import { mkdirSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Child, startTsx, stopChild } from "../../../scripts/processes.ts";
import { scratchDatabase, testInfra, uniqueName } from "../../../scripts/test/infra.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { topics } from "../../events/index.ts";
import { createIngester } from "../../ingest/ingester.ts";
import { createLogger } from "../../log.ts";
import { auditCheckout } from "./checkout-invariants.ts";
import type { CheckoutService } from "./checkout-saga.ts";

const ORDERS = 240;
const children = new Map<CheckoutService, Child>();
let fleetDb: Awaited<ReturnType<typeof scratchDatabase>>;
let fleetPool: Pool;
let storePool: Pool;

beforeAll(async () => {
  fleetDb = await scratchDatabase("checkout_fleet");
  fleetPool = createPool(fleetDb.url);
  storePool = createPool(testInfra().databaseUrl);
});

afterAll(async () => {
  await Promise.all([...children.values()].map((c) => stopChild(c, 3000)));
  await fleetPool?.end();
  await storePool?.end();
  await fleetDb?.drop();
});

const placedOrders = async () => {
  const r = await fleetPool
    .query("SELECT count(*)::int AS n FROM checkout_order.customer_order")
    .catch(() => ({ rows: [{ n: 0 }] }));
  return r.rows[0].n as number;
};

describe("checkout chaos", () => {
  it("ends every order consistently while services fail and are killed", async () => {
    const prefix = `${uniqueName("checkout")}.`;
    const kafka = new Kafka({
      clientId: "checkout-chaos",
      brokers: testInfra().kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const env = {
      FLEET_DATABASE_URL: fleetDb.url,
      KAFKA_BROKERS: testInfra().kafkaBrokers.join(","),
      REDIS_URL: testInfra().redisUrl,
      SAGASCOPE_TOPIC_PREFIX: prefix,
      SAGASCOPE_LOG_LEVEL: "info",
      SAGASCOPE_DEMO_FAILURE_RATE: "0.3",
      FLEET_CHECKOUT_RATE: "30",
      FLEET_CHECKOUT_LIMIT: String(ORDERS),
    };
    mkdirSync("test-results", { recursive: true });
    const output = { file: `test-results/${prefix}log` };
    const start = (service: CheckoutService) => {
      const child = startTsx(
        service,
        "server/fleet/checkout/main.ts",
        {
          ...env,
          FLEET_CHECKOUT_SERVICE: service,
          FLEET_CHECKOUT_ERROR_RATE: service === "order" ? "0.05" : "0.15",
        },
        output,
      );
      children.set(service, child);
    };
    // The dashboard's store follows along from the contract events only.
    const ingester = createIngester({
      kafka,
      pool: storePool,
      topics: [topics(prefix).sagaEvents, topics(prefix).control],
      groupId: uniqueName("checkout-store"),
      log: createLogger("checkout-chaos", "error"),
    });
    await ingester.start();
    try {
      for (const service of ["payment", "inventory", "shipping", "order"] as const) start(service);
      const began = Date.now();

      // Kill one participant after another while orders flow, and bring each back.
      const killed: string[] = [];
      for (const [service, after] of [
        ["payment", 40],
        ["inventory", 100],
        ["shipping", 160],
      ] as const) {
        await vi.waitFor(async () => expect(await placedOrders()).toBeGreaterThanOrEqual(after), {
          timeout: 90_000,
          interval: 50,
        });
        const victim = children.get(service) as Child;
        process.kill(-(victim.process.pid as number), "SIGKILL");
        await victim.exited;
        killed.push(service);
        await new Promise((r) => setTimeout(r, 500));
        start(service);
      }

      await vi.waitFor(
        async () => {
          const audit = await auditCheckout(fleetPool);
          expect(audit.orders.confirmed + audit.orders.cancelled).toBe(ORDERS);
        },
        { timeout: 120_000, interval: 250 },
      );
      const seconds = (Date.now() - began) / 1000;
      const audit = await auditCheckout(fleetPool);
      expect(audit.violations).toEqual([]);
      expect(audit.orders.placed).toBe(0);

      // The store, fed by the events alone, tells the same story for every order.
      const orders = await fleetPool.query("SELECT order_id, status FROM checkout_order.customer_order");
      const expected = new Map(
        orders.rows.map((r) => [r.order_id, r.status === "confirmed" ? "completed" : "compensated"]),
      );
      await vi.waitFor(
        async () => {
          const r = await storePool.query(
            "SELECT saga_id, status, mode FROM saga_summary WHERE saga_id = ANY($1)",
            [[...expected.keys()]],
          );
          expect(r.rowCount).toBe(ORDERS);
          for (const row of r.rows) {
            expect(row.mode).toBe("choreographed");
            expect(row.status, row.saga_id).toBe(expected.get(row.saga_id));
          }
        },
        { timeout: 30_000, interval: 250 },
      );
      const failures = await storePool.query(
        `SELECT count(*) FILTER (WHERE data->'error'->>'message' LIKE '%injected fault%')::int AS injected,
                count(*) FILTER (WHERE data->'error'->>'category' = 'business')::int AS business
         FROM saga_event WHERE type = 'io.sagascope.saga.step.failed' AND saga_id = ANY($1)`,
        [[...expected.keys()]],
      );
      const { injected, business } = failures.rows[0];
      expect(injected).toBeGreaterThan(0);
      console.log(
        `checkout chaos: ${ORDERS} sagas in ${seconds.toFixed(1)} s (${audit.orders.confirmed} completed, ` +
          `${audit.orders.cancelled} compensated); ${injected} injected step failures, ${business} business refusals, ` +
          `${killed.length} participants killed and restarted (${killed.join(", ")}); 0 invariant violations`,
      );
    } finally {
      await ingester.stop();
    }
  }, 240_000);
});
