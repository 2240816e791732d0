// The breakers router called directly, over real Redis and the store: live state, forced
// states, the current window, the last transitions, one pair's history (its input checked),
// plain words when Redis or Postgres cannot be reached, and a tick when a breaker changes.
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, testInfra, uniqueName } from "../../../scripts/test/infra.ts";
import { createBreakerStore } from "../../breakers/index.ts";
import { createPool } from "../../db/pool.ts";
import { createPrisma } from "../../db/prisma.ts";
import { breakerEvent } from "../../events/index.ts";
import { storeBatch } from "../../ingest/store-batch.ts";
import { createBreakerChangeFeed } from "../../live/breaker-change-feed.ts";
import { createSagaChangeFeed } from "../../live/saga-change-feed.ts";
import { createLogger } from "../../log.ts";
import { createCaller } from "../root.ts";

const log = createLogger("test", "error");
const redis = new Redis(testInfra().redisUrl);
const pool = createPool(testInfra().databaseUrl);
const prisma = createPrisma(testInfra().databaseUrl);
const breakerStore = createBreakerStore(redis, `${uniqueName("router-bk")}:`);
const breakerChanges = createBreakerChangeFeed(testInfra().redisUrl, breakerStore.channel, log, {
  tickMs: 60_000,
});
const sagaChanges = createSagaChangeFeed(testInfra().databaseUrl, log);
const context = { prisma, pool, sagaChanges, breakerStore, breakerChanges };

afterAll(async () => {
  await breakerChanges.close();
  await sagaChanges.close();
  await prisma.$disconnect();
  await pool.end();
  redis.disconnect();
});

describe("breakers router", () => {
  it("lists every pair with its live state, window, config and last transitions", async () => {
    const callee = uniqueName("svc");
    const pair = `orders→${callee}`;
    await breakerStore.setConfig(pair, { failureRate: 0.4, minimumCalls: 5 });
    const config = await breakerStore.readConfig(pair);
    const step = await breakerStore.record(pair, config, {
      calls: 6,
      failures: 3,
      rejections: 2,
      now: Date.now(),
    });
    expect(step.snapshot.state).toBe("open");
    // Opening starts a fresh window; what is refused from then on is counted in it.
    await breakerStore.record(pair, config, { calls: 0, failures: 0, rejections: 2, now: Date.now() });
    await breakerStore.force(`orders→${callee}-2`, "closed", Date.now());
    const event = breakerEvent(
      "io.sagascope.breaker.state_changed",
      {
        pair,
        caller: "orders",
        callee,
        instance: "orders-1",
        from: "closed",
        to: "open",
        forced: null,
        reason: step.snapshot.reason,
        calls: 6,
        failures: 3,
        failureRateThreshold: 0.4,
        minimumCalls: 5,
      },
      { source: "/test" },
    );
    await storeBatch(pool, { breakerEvents: [{ event, position: { topic: "t", partition: 0, offset: 1 } }] });

    const rows = await createCaller(context).breakers.list();
    const row = rows.find((r) => r.pair === pair);
    expect(row).toMatchObject({
      caller: "orders",
      callee,
      state: "open",
      forced: null,
      window: { calls: 0, failures: 0, rejections: 2, failureRate: 0 },
      lastEvaluation: { calls: 6, failures: 3, failureRate: 0.5 },
      config: { failureRate: 0.4, minimumCalls: 5 },
    });
    expect(row?.transitions).toEqual([
      expect.objectContaining({ from: "closed", to: "open", instance: "orders-1" }),
    ]);
    expect(rows.find((r) => r.pair === `orders→${callee}-2`)).toMatchObject({
      state: "closed",
      forced: "closed",
    });
  });

  it("gives one pair's history, and refuses what is not a pair id", async () => {
    const callee = uniqueName("svc");
    const history = await createCaller(context).breakers.history({ pair: `orders→${callee}`, range: "15m" });
    expect(history.points).toHaveLength(91);
    expect(history.segments).toMatchObject([{ state: "closed", changes: 0 }]);
    await expect(
      createCaller(context).breakers.history({ pair: "orders-to-payments" }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(
      // @ts-expect-error: not one of the ranges
      createCaller(context).breakers.history({ pair: `orders→${callee}`, range: "2d" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("says plainly that Redis is unreachable", async () => {
    const down = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    try {
      const unreachable = { ...context, breakerStore: createBreakerStore(down, "down:") };
      await expect(createCaller(unreachable).breakers.list()).rejects.toMatchObject({
        code: "SERVICE_UNAVAILABLE",
        message: expect.stringMatching(/^Redis is unreachable, so the breakers' live state cannot be read/),
      });
    } finally {
      down.disconnect();
    }
  });

  it("says plainly that Postgres is unreachable for a pair's history", async () => {
    const down = createPool(`postgresql://postgres@127.0.0.1:${await freePort()}/nothing`);
    try {
      await expect(
        createCaller({ ...context, pool: down }).breakers.history({ pair: "orders→payments" }),
      ).rejects.toMatchObject({
        code: "SERVICE_UNAVAILABLE",
        message: expect.stringMatching(/^Postgres is unreachable, so the breaker's history cannot be read/),
      });
    } finally {
      await down.end();
    }
  });

  it("ticks when a breaker changes", async () => {
    const controller = new AbortController();
    const stream = await createCaller(context, { signal: controller.signal }).breakers.onChange();
    const iterator = stream[Symbol.asyncIterator]();
    const next = iterator.next();
    await new Promise((r) => setTimeout(r, 200));
    await breakerStore.force(`orders→${uniqueName("svc")}`, "open", Date.now());
    const { value } = await next;
    expect(value).toMatchObject({ at: expect.any(Number) });
    controller.abort();
  });
});
