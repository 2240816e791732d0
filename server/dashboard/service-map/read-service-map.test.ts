// The service map read from a real Postgres of its own, filled through the ingester's own store
// (saga events, breaker stats, a projector checkpoint), and a Redis namespace of its own holding
// breaker pairs; then with Redis, Postgres or both unreachable.

import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, scratchDatabase, testInfra, uniqueName } from "../../../scripts/test/infra.ts";
import { type BreakerStore, createBreakerStore } from "../../breakers/index.ts";
import { migrate } from "../../db/migrate.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { breakerEvent, newTrace, type SagaEvent, sagaEvent } from "../../events/index.ts";
import { DEMO_FLEET_MANIFEST_PATH } from "../../fleet/demo-manifest.ts";
import { NO_MANIFEST, readFleetManifest } from "../../fleet-manifest/fleet-manifest.ts";
import { storeBatch } from "../../ingest/store-batch.ts";
import type { PlacedNode } from "./map-model.ts";
import { readServiceMap } from "./read-service-map.ts";

const PREFIX = "svcmap-test.";
const SAGAS = `${PREFIX}sagascope.saga-events`;
const BANK_B_CHANGES = `${PREFIX}sagascope.fleet.bank-b.changes`;
let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
const redis = new Redis(testInfra().redisUrl);
let store: BreakerStore;
let offset = 0;
const oldEventId = "old-event-ghost";

const ago = (ms: number) => new Date(Date.now() - ms);
const transfer = { sagaId: "transfer-1", sagaType: "interbank-transfer", mode: "orchestrated" as const };
const orchestrated = (ms: number) => ({
  source: "/fleet/transfer-orchestrator",
  trace: newTrace(),
  time: ago(ms),
});
const step = (name: string, service: string, index: number, attempt = 1) => ({
  ...transfer,
  step: name,
  stepIndex: index,
  service,
  attempt,
});

function stats(
  pair: string,
  instance: string,
  windowEnd: Date,
  calls: number,
  failures: number,
  rejections: number,
) {
  const [caller = "", callee = ""] = pair.split("→");
  return breakerEvent(
    "io.sagascope.breaker.stats",
    {
      pair,
      caller,
      callee,
      instance,
      windowStart: new Date(windowEnd.getTime() - 10_000).toISOString(),
      windowEnd: windowEnd.toISOString(),
      state: "closed",
      forced: null,
      calls,
      successes: calls - failures,
      business: 0,
      failures,
      rejections,
      trials: 0,
      latencyMs: { p50: 5, p95: 9, p99: 12, max: 20 },
    },
    { source: `/fleet/${instance}`, time: windowEnd },
  );
}

const at = (topic: string) => ({ topic, partition: 0, offset: offset++ });

beforeAll(async () => {
  db = await scratchDatabase("service_map");
  await migrate(db.url);
  pool = createPool(db.url);
  store = createBreakerStore(redis, `${uniqueName("svcmap")}:`);

  const events: SagaEvent[] = [
    sagaEvent(
      "io.sagascope.saga.started",
      {
        ...transfer,
        steps: [
          { name: "debit", service: "bank-a" },
          { name: "credit", service: "bank-b" },
        ],
      },
      orchestrated(9000),
    ),
    sagaEvent("io.sagascope.saga.step.started", step("debit", "bank-a", 0), orchestrated(8000)),
    sagaEvent(
      "io.sagascope.saga.step.succeeded",
      { ...step("debit", "bank-a", 0), durationMs: 5 },
      orchestrated(7900),
    ),
    sagaEvent("io.sagascope.saga.step.started", step("credit", "bank-b", 1), orchestrated(7000)),
    sagaEvent(
      "io.sagascope.saga.step.failed",
      {
        ...step("credit", "bank-b", 1),
        durationMs: 50,
        error: { category: "transient", message: "UNAVAILABLE" },
        willRetry: true,
      },
      orchestrated(6900),
    ),
    sagaEvent("io.sagascope.saga.step.started", step("credit", "bank-b", 1, 2), orchestrated(6000)),
    sagaEvent(
      "io.sagascope.saga.step.failed",
      {
        ...step("credit", "bank-b", 1, 2),
        durationMs: 4,
        error: { category: "business", message: "account closed" },
        willRetry: false,
      },
      orchestrated(5900),
    ),
    sagaEvent(
      "io.sagascope.saga.started",
      {
        sagaId: "order-1",
        sagaType: "marketplace-checkout",
        mode: "choreographed",
        steps: [{ name: "place-order", service: "order" }],
      },
      { source: "/fleet/checkout/order", trace: newTrace(), time: ago(4000) },
    ),
    // Stored an hour ago (below): outside the window, its service must not appear.
    sagaEvent(
      "io.sagascope.saga.step.started",
      { sagaId: "old-1", sagaType: "old", mode: "orchestrated", step: "s", stepIndex: 0, service: "ghost" },
      { source: "/fleet/ghost", trace: newTrace(), time: ago(3000), id: oldEventId },
    ),
  ];
  const pair = "transfers→bank-b";
  await storeBatch(pool, {
    events: events.map((event) => ({ event, position: at(SAGAS) })),
    breakerEvents: [
      stats(pair, "transfers-1", ago(20_000), 10, 6, 0),
      stats(pair, "transfers-2", ago(15_000), 0, 0, 5),
      // Ended before the stats window: not counted.
      stats(pair, "transfers-1", ago(10 * 60_000), 100, 0, 0),
    ].map((event) => ({ event, position: at(`${PREFIX}sagascope.breaker-events`) })),
    projectionEvents: [
      {
        id: "checkpoint-1",
        source: "/projector/test",
        type: "io.sagascope.projection.checkpoint",
        time: ago(1000),
        data: {
          projection: "fleet",
          generation: 1,
          groupId: `${PREFIX}sagascope.projector.g1`,
          active: true,
          partitions: [
            {
              topic: BANK_B_CHANGES,
              partition: 0,
              committedOffset: 7,
              logEndOffset: 10,
              offsetLag: 3,
              newestAppliedAt: null,
              timeLagMs: null,
              oldestUnappliedAgeMs: 2500,
            },
            {
              topic: BANK_B_CHANGES,
              partition: 1,
              committedOffset: 5,
              logEndOffset: 5,
              offsetLag: 0,
              newestAppliedAt: null,
              timeLagMs: null,
              oldestUnappliedAgeMs: null,
            },
          ],
        },
      },
    ],
  });
  await pool.query(`UPDATE saga_event SET ingested_at = now() - interval '1 hour' WHERE id = $1`, [
    oldEventId,
  ]);

  await store.setConfig(pair, { minimumCalls: 2, failureRate: 0.5 });
  const opened = await store.record(pair, await store.readConfig(pair), {
    calls: 4,
    failures: 4,
    now: Date.now(),
  });
  expect(opened.snapshot.state).toBe("open");
  await store.register("transfers→bank-a");
  await store.record("transfers→bank-a", await store.readConfig("transfers→bank-a"), {
    calls: 3,
    failures: 0,
    now: Date.now(),
  });
  await store.force("bank-b→screening", "open", Date.now());
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
  redis.disconnect();
});

/** A client of a port nothing listens on, failing at once like the web process's client does. */
async function unreachableRedis() {
  const client = new Redis(`redis://127.0.0.1:${await freePort()}`, {
    lazyConnect: true,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  return client;
}

const overlap = (a: PlacedNode, b: PlacedNode) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe("readServiceMap", () => {
  it("draws the services, their gRPC calls with breaker state and figures, and the Kafka part", async () => {
    const fleet = readFleetManifest(DEMO_FLEET_MANIFEST_PATH);
    const map = await readServiceMap({ pool, breakerStore: store, prefix: PREFIX, fleet });
    expect(map.problems).toEqual([]);
    const ids = map.nodes.map((n) => n.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        "service:transfers",
        "service:bank-a",
        "service:bank-b",
        "service:screening",
        "service:transfer-orchestrator",
        "service:order",
        `topic:${SAGAS}`,
        "sagascope:ingester",
        "sagascope:projector",
      ]),
    );
    expect(ids).not.toContain("service:ghost");

    // bank-b: two attempts, one failed for real, one refused for a business reason.
    expect(map.nodes.find((n) => n.id === "service:bank-b")).toMatchObject({ errorRate: 0.5, calls: 2 });
    expect(map.nodes.find((n) => n.id === "service:bank-a")).toMatchObject({ errorRate: 0, calls: 1 });

    const edge = (id: string) => map.edges.find((e) => e.id === id);
    expect(edge("grpc:transfers→bank-b")).toMatchObject({
      breakerState: "open",
      shownState: "open",
      tone: "bad",
      calls: 10,
      failures: 6,
      rejections: 5,
      errorRate: 0.6,
      href: "/breakers?pair=transfers%E2%86%92bank-b",
    });
    // No caller report yet: the breaker's own window in Redis.
    expect(edge("grpc:transfers→bank-a")).toMatchObject({ shownState: "closed", calls: 3, tone: "ok" });
    expect(edge("grpc:bank-b→screening")).toMatchObject({
      breakerState: "closed",
      forced: "open",
      shownState: "open",
    });

    expect(edge(`publishes:service:transfer-orchestrator>topic:${SAGAS}`)).toMatchObject({
      observed: true,
      calls: 7,
    });
    expect(edge(`consumes:topic:${SAGAS}>sagascope:ingester`)).toMatchObject({ observed: true, calls: 8 });
    expect(edge(`publishes:service:transfers>topic:${PREFIX}sagascope.breaker-events`)).toMatchObject({
      observed: true,
      calls: 2,
    });
    expect(edge(`consumes:topic:${BANK_B_CHANGES}>sagascope:projector`)).toMatchObject({
      observed: true,
      label: "3 behind",
    });
    expect(edge(`publishes:service:order>topic:${PREFIX}sagascope.fleet.checkout`)).toMatchObject({
      observed: false,
    });

    expect(map.width).toBeGreaterThan(0);
    for (const [i, a] of map.nodes.entries())
      for (const b of map.nodes.slice(i + 1)) expect(overlap(a, b), `${a.id} over ${b.id}`).toBe(false);
  });

  it("draws what Postgres holds and says so plainly when Redis is unreachable", async () => {
    const away = await unreachableRedis();
    try {
      const map = await readServiceMap({
        pool,
        breakerStore: createBreakerStore(away, "x:"),
        prefix: PREFIX,
        fleet: NO_MANIFEST,
      });
      expect(map.problems).toEqual([
        expect.stringMatching(/^Redis is unreachable, so the breakers' live state/),
      ]);
      expect(map.edges.some((e) => e.kind === "grpc")).toBe(false);
      expect(map.nodes.some((n) => n.id === "service:bank-b")).toBe(true);
    } finally {
      away.disconnect();
    }
  });

  it("draws the breakers and says so plainly when Postgres is unreachable, and fails when both are", async () => {
    const down = createPool(`postgresql://postgres@127.0.0.1:${await freePort()}/nothing`);
    const away = await unreachableRedis();
    try {
      const map = await readServiceMap({
        pool: down,
        breakerStore: store,
        prefix: PREFIX,
        fleet: NO_MANIFEST,
      });
      expect(map.problems).toEqual([expect.stringMatching(/^Postgres is unreachable, so the recent events/)]);
      expect(map.edges.find((e) => e.id === "grpc:transfers→bank-b")).toMatchObject({ shownState: "open" });
      await expect(
        readServiceMap({
          pool: down,
          breakerStore: createBreakerStore(away, "x:"),
          prefix: PREFIX,
          fleet: NO_MANIFEST,
        }),
      ).rejects.toMatchObject({
        code: "UNAVAILABLE",
        message: expect.stringMatching(/^Redis is unreachable/),
      });
    } finally {
      await down.end();
      away.disconnect();
    }
  });
});
