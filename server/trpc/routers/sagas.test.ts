// The sagas router called directly (no HTTP), over a real database filled by the
// ingester's own store: pagination by cursor, details, error codes, live changes.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { migratedStore, testInfra, uniqueName } from "../../../scripts/test/infra.ts";
import { createBreakerStore } from "../../breakers/index.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { createPrisma } from "../../db/prisma.ts";
import { newTrace, type SagaEvent, sagaEvent } from "../../events/index.ts";
import { storeBatch } from "../../ingest/store-batch.ts";
import { createBreakerChangeFeed } from "../../live/breaker-change-feed.ts";
import { createSagaChangeFeed, type SagaChangeFeed } from "../../live/saga-change-feed.ts";
import { createLogger } from "../../log.ts";
import { createCaller } from "../root.ts";

const pool = createPool(testInfra().databaseUrl);
const prisma = createPrisma(testInfra().databaseUrl);
const sagaChanges = createSagaChangeFeed(testInfra().databaseUrl, createLogger("test", "error"), {
  flushMs: 20,
});
const redis = new Redis(testInfra().redisUrl);
const breakerStore = createBreakerStore(redis, `${uniqueName("router")}:`);
const breakerChanges = createBreakerChangeFeed(
  testInfra().redisUrl,
  breakerStore.channel,
  createLogger("test", "error"),
);
const context = { prisma, pool, sagaChanges, breakerStore, breakerChanges };
const caller = createCaller(context);
const sagaType = uniqueName("router-saga");
let offset = 0;

async function store(events: SagaEvent[], into: Pool = pool) {
  await storeBatch(into, {
    events: events.map((event) => ({
      event,
      position: { topic: "router-test", partition: 0, offset: offset++ },
    })),
  });
}

function started(sagaId: string, at: Date): SagaEvent {
  return sagaEvent(
    "io.sagascope.saga.started",
    { sagaId, sagaType, mode: "orchestrated", steps: [{ name: "only", service: "svc" }] },
    { source: "/test", trace: newTrace(), time: at },
  );
}

const ids = Array.from({ length: 7 }, (_, i) => `${sagaType}-${i}`);

beforeAll(async () => {
  // Far in the future, so that these are the newest sagas in the shared test database.
  const base = Date.parse("2099-01-01T00:00:00Z");
  await store(ids.map((id, i) => started(id, new Date(base + (i < 5 ? i * 1000 : 4000)))));
});

afterAll(async () => {
  await sagaChanges.close();
  await breakerChanges.close();
  redis.disconnect();
  await prisma.$disconnect();
  await pool.end();
});

describe("sagas router", () => {
  it("filters by type, mode and an exact saga id, trace id or business key, and pages within the filter", async () => {
    const otherType = uniqueName("router-filter");
    const trace = newTrace();
    const at = new Date(Date.parse("2099-02-01T00:00:00Z"));
    const ev = (
      sagaId: string,
      mode: "orchestrated" | "choreographed",
      businessKey: string,
      t = newTrace(),
    ) =>
      sagaEvent(
        "io.sagascope.saga.started",
        { sagaId, sagaType: otherType, mode, businessKey, steps: [{ name: "only", service: "svc" }] },
        { source: "/test", trace: t, time: at },
      );
    await store([
      ev(`${otherType}-a`, "orchestrated", `${otherType}-KEY-A`, trace),
      ev(`${otherType}-b`, "choreographed", `${otherType}-KEY-B`),
      ev(`${otherType}-c`, "choreographed", `${otherType}-KEY-C`),
    ]);
    const ids = async (filter: NonNullable<Parameters<typeof caller.sagas.list>[0]["filter"]>) =>
      (await caller.sagas.list({ filter })).items.map((s) => s.sagaId).sort();
    expect(await ids({ sagaType: otherType })).toEqual([
      `${otherType}-a`,
      `${otherType}-b`,
      `${otherType}-c`,
    ]);
    expect(await ids({ sagaType: otherType, mode: "choreographed" })).toEqual([
      `${otherType}-b`,
      `${otherType}-c`,
    ]);
    expect(await ids({ search: `${otherType}-KEY-B` })).toEqual([`${otherType}-b`]);
    expect(await ids({ search: trace.traceId.toUpperCase() })).toEqual([`${otherType}-a`]);
    expect(await ids({ search: `${otherType}-c` })).toEqual([`${otherType}-c`]);
    const first = await caller.sagas.list({
      filter: { sagaType: otherType, mode: "choreographed" },
      limit: 1,
    });
    const second = await caller.sagas.list({
      filter: { sagaType: otherType, mode: "choreographed" },
      limit: 1,
      cursor: first.nextCursor,
    });
    expect([...first.items, ...second.items].map((s) => s.sagaId).sort()).toEqual([
      `${otherType}-b`,
      `${otherType}-c`,
    ]);
    expect((await caller.sagas.vocabulary()).sagaTypes).toContain(otherType);
  });

  it("filters by the services a saga involved, the step it is at or failed at, and a time range", async () => {
    const type = uniqueName("router-where");
    const at = Date.parse("2099-03-01T00:00:00Z");
    const trace = () => ({ source: "/test", trace: newTrace() });
    const start = (sagaId: string, minute: number) =>
      sagaEvent(
        "io.sagascope.saga.started",
        { sagaId, sagaType: type, mode: "orchestrated", steps: [{ name: "debit", service: `${type}-a` }] },
        { ...trace(), time: new Date(at + minute * 60_000) },
      );
    const step = (sagaId: string, name: string, service: string, minute: number, failed = false) =>
      failed
        ? sagaEvent(
            "io.sagascope.saga.step.failed",
            {
              sagaId,
              sagaType: type,
              mode: "orchestrated",
              step: name,
              stepIndex: 0,
              service,
              attempt: 1,
              durationMs: 5,
              willRetry: false,
              error: { code: "DECLINED", message: "no", category: "business" },
            },
            { ...trace(), time: new Date(at + minute * 60_000 + 1000) },
          )
        : sagaEvent(
            "io.sagascope.saga.step.started",
            { sagaId, sagaType: type, mode: "orchestrated", step: name, stepIndex: 0, service, attempt: 1 },
            { ...trace(), time: new Date(at + minute * 60_000 + 1000) },
          );
    await store([
      start(`${type}-1`, 0),
      step(`${type}-1`, "debit", `${type}-a`, 0),
      start(`${type}-2`, 10),
      step(`${type}-2`, "credit", `${type}-b`, 10, true),
      start(`${type}-3`, 20),
      step(`${type}-3`, "debit", `${type}-a`, 20),
      step(`${type}-3`, "credit", `${type}-b`, 20),
    ]);
    const ids = async (filter: NonNullable<Parameters<typeof caller.sagas.list>[0]["filter"]>) =>
      (await caller.sagas.list({ filter: { sagaType: type, ...filter } })).items.map((s) => s.sagaId).sort();
    expect(await ids({ service: `${type}-b` })).toEqual([`${type}-2`, `${type}-3`]);
    expect(await ids({ service: `${type}-a` })).toEqual([`${type}-1`, `${type}-3`]);
    // A type and a service that never met answer at once, with nothing.
    expect(await ids({ service: "no-such-service" })).toEqual([]);
    expect(await ids({ step: "debit" })).toEqual([`${type}-1`]);
    expect(await ids({ step: "credit" })).toEqual([`${type}-2`, `${type}-3`]);
    expect(await ids({ step: "credit", status: "running" })).toEqual([`${type}-2`, `${type}-3`]);
    expect(await ids({ from: new Date(at + 5 * 60_000), to: new Date(at + 15 * 60_000) })).toEqual([
      `${type}-2`,
    ]);
    expect(await ids({ from: new Date(at + 5 * 60_000) })).toEqual([`${type}-2`, `${type}-3`]);
    const vocabulary = await caller.sagas.vocabulary();
    expect(vocabulary.services).toEqual(expect.arrayContaining([`${type}-a`, `${type}-b`]));
    expect(vocabulary.steps).toEqual(expect.arrayContaining(["debit", "credit"]));
    await expect(
      caller.sagas.list({ filter: { from: new Date(at + 60_000), to: new Date(at) } }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringContaining("start before it ends"),
    });
  });

  it("pages newest first by cursor without gaps or repeats, ties broken by saga id", async () => {
    const seen: string[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await caller.sagas.list({ limit: 3, cursor });
      seen.push(...page.items.map((s) => s.sagaId).filter((id) => id.startsWith(sagaType)));
      cursor = page.nextCursor;
      if (seen.length === ids.length) break;
    } while (cursor);
    // Sagas 4, 5 and 6 share one start time: the id orders them.
    expect(seen).toEqual([ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]]);
  });

  it("filters by status", async () => {
    const page = await caller.sagas.list({ limit: 200, filter: { status: "completed" } });
    expect(page.items.some((s) => s.sagaId.startsWith(sagaType))).toBe(false);
  });

  it("returns a saga with its events and timeline", async () => {
    const detail = await caller.sagas.byId({ sagaId: ids[0] as string });
    expect(detail.summary).toMatchObject({ sagaId: ids[0], sagaType, status: "running", eventCount: 1 });
    expect(detail.events.map((e) => e.type)).toEqual(["io.sagascope.saga.started"]);
  });

  it("sends a long saga's first 200 events with it, and the rest page by page, in the saga's order", async () => {
    const sagaId = `${sagaType}-long`;
    const o = { source: "/test", trace: newTrace() };
    const step = {
      sagaId,
      sagaType,
      mode: "orchestrated" as const,
      step: "poll",
      stepIndex: 0,
      service: "svc",
    };
    const t0 = Date.parse("2098-06-01T00:00:00Z");
    const events: SagaEvent[] = [started(sagaId, new Date(t0))];
    for (let attempt = 1; events.length < 450; attempt++)
      events.push(
        sagaEvent(
          "io.sagascope.saga.step.started",
          { ...step, attempt },
          { ...o, time: new Date(t0 + events.length) },
        ),
      );
    await store(events);
    const detail = await caller.sagas.byId({ sagaId });
    expect(detail.events).toHaveLength(200);
    expect(detail.eventsRead).toBe(450);
    expect(detail.steps).toEqual([{ name: "only", service: "svc" }]);
    const second = await caller.sagas.events({ sagaId, cursor: 200 });
    const third = await caller.sagas.events({ sagaId, cursor: second.nextOffset });
    expect(second.nextOffset).toBe(400);
    expect(third.nextOffset).toBeNull();
    expect([...detail.events, ...second.events, ...third.events].map((e) => e.id)).toEqual(
      events.map((e) => e.id),
    );
    await expect(caller.sagas.events({ sagaId, limit: 201 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(caller.sagas.events({ sagaId: "never-seen" })).rejects.toMatchObject({ code: "NOT_FOUND" });

    // The page's outline of a long saga is kept between reads, until the saga changes: the next
    // event is on its timeline and in its last page at once.
    const next = sagaEvent(
      "io.sagascope.saga.step.succeeded",
      { ...step, attempt: 449, durationMs: 5 },
      { ...o, time: new Date(t0 + events.length) },
    );
    await store([next]);
    const after = await caller.sagas.byId({ sagaId });
    expect(after.eventsRead).toBe(451);
    expect(after.timeline.rows.at(-1)).toMatchObject({ kind: "step", attempt: 449, outcome: "succeeded" });
    const last = await caller.sagas.events({ sagaId, cursor: 400 });
    expect(last.events.map((e) => e.id).at(-1)).toBe(next.id);
  });

  it("answers NOT_FOUND for an unknown saga and BAD_REQUEST for a forged cursor or bad input", async () => {
    await expect(caller.sagas.byId({ sagaId: "never-seen" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(caller.sagas.list({ limit: 5, cursor: "forged" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringContaining("invalid cursor"),
    });
    await expect(caller.sagas.list({ limit: 0 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("sagas router, live", () => {
  // A database of its own: NOTIFY is per database, so no other test file's batch mixes in (one
  // whose ids do not fit a notification is sent as "*", and a "*" in the same flush hides ours).
  const own = migratedStore("router_live");
  const applicationName = uniqueName("router-feed");
  let feed: SagaChangeFeed | undefined;
  afterAll(async () => {
    await feed?.close();
  });

  /** True once the feed's connection has run its LISTEN: a change committed after it is heard. */
  async function listening(): Promise<boolean> {
    const r = await own
      .pool()
      .query(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle' AND query LIKE 'LISTEN %'",
        [applicationName],
      );
    return r.rowCount === 1;
  }

  it("streams the ids of sagas that change, once the ingester's transaction commits", async () => {
    feed = createSagaChangeFeed(own.url(), createLogger("test", "error"), { flushMs: 20, applicationName });
    const controller = new AbortController();
    const liveCaller = createCaller(
      { ...context, pool: own.pool(), sagaChanges: feed },
      { signal: controller.signal },
    );
    const iterator = (await liveCaller.sagas.onChange())[Symbol.asyncIterator]();
    const next = iterator.next();
    // A change committed before the LISTEN is never heard: wait for it, not for a fixed time
    // (200 ms was once not enough on a loaded machine).
    await vi.waitFor(async () => expect(await listening()).toBe(true), { timeout: 10_000 });
    const changed = `${sagaType}-live`;
    await store([started(changed, new Date())], own.pool());
    expect((await next).value).toEqual({ sagaIds: [changed] });
    controller.abort();
  });
});
