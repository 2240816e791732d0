// A pair's history against a real Postgres of its own, filled through the ingester's own insert
// path: stats summed per bucket over instances, the breaker's failure rate, the slowest
// instance's percentiles, the state band from transitions (exact, and per bucket when flapping).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase } from "../../../scripts/test/infra.ts";
import { migrate } from "../../db/migrate.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { breakerEvent } from "../../events/index.ts";
import { type IncomingBreakerEvent, insertBreakerEvents } from "../../ingest/store-breaker-events.ts";
import { MAX_EXACT_TRANSITIONS, readPairHistory } from "./pair-history.ts";

let database: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let offset = 0;

beforeAll(async () => {
  database = await scratchDatabase("pair_history");
  await migrate(database.url);
  pool = createPool(database.url);
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

const NOW = Date.parse("2030-01-01T12:00:04.000Z");
const at = (hms: string) => new Date(`2030-01-01T${hms}Z`);
const PAIR = "transfers→bank-b";

async function store(events: IncomingBreakerEvent["event"][]) {
  const client = await pool.connect();
  try {
    await insertBreakerEvents(
      client,
      events.map((event) => ({ event, position: { topic: "t", partition: 0, offset: offset++ } })),
    );
  } finally {
    client.release();
  }
}

function stats(
  pair: string,
  instance: string,
  windowEnd: Date,
  figures: {
    calls: number;
    successes: number;
    business: number;
    failures: number;
    rejections: number;
    trials: number;
    latency: [number, number, number, number];
    state?: "closed" | "open" | "half_open";
    forced?: "open" | "closed" | "disabled" | null;
  },
) {
  const [callee = "", caller = ""] = pair.split("→").reverse();
  const [p50, p95, p99, max] = figures.latency;
  return breakerEvent(
    "io.sagascope.breaker.stats",
    {
      pair,
      caller,
      callee,
      instance,
      windowStart: new Date(windowEnd.getTime() - 10_000).toISOString(),
      windowEnd: windowEnd.toISOString(),
      state: figures.state ?? "closed",
      forced: figures.forced ?? null,
      calls: figures.calls,
      successes: figures.successes,
      business: figures.business,
      failures: figures.failures,
      rejections: figures.rejections,
      trials: figures.trials,
      latencyMs: { p50, p95, p99, max },
    },
    { source: "/test", time: windowEnd },
  );
}

function transition(
  pair: string,
  time: Date,
  from: "closed" | "open" | "half_open",
  to: "closed" | "open" | "half_open",
  reason: string,
  forced: "open" | "closed" | "disabled" | null = null,
) {
  const [callee = "", caller = ""] = pair.split("→").reverse();
  return breakerEvent(
    "io.sagascope.breaker.state_changed",
    {
      pair,
      caller,
      callee,
      instance: "transfers-1",
      from,
      to,
      forced,
      reason,
      calls: to === "open" ? 12 : 0,
      failures: to === "open" ? 7 : 0,
      failureRateThreshold: 0.5,
      minimumCalls: 10,
      ...(to === "open" ? { openUntil: new Date(time.getTime() + 5000).toISOString() } : {}),
    },
    { source: "/test", time },
  );
}

describe("readPairHistory", () => {
  it("sums the instances' stats per bucket, with the breaker's failure rate and the slowest percentiles", async () => {
    const quiet = { successes: 0, business: 0, failures: 0, trials: 0 };
    await store([
      stats(PAIR, "transfers-1", at("11:59:40.000"), {
        calls: 10,
        successes: 5,
        business: 2,
        failures: 3,
        rejections: 0,
        trials: 0,
        latency: [5, 20, 40, 50],
      }),
      stats(PAIR, "transfers-2", at("11:59:41.500"), {
        calls: 10,
        successes: 4,
        business: 0,
        failures: 6,
        rejections: 1,
        trials: 1,
        latency: [7, 15, 60, 80],
      }),
      // Only refusals: no calls, so no rate and no latency (its zeros must not count).
      stats(PAIR, "transfers-1", at("11:59:50.000"), {
        ...quiet,
        calls: 0,
        rejections: 7,
        latency: [0, 0, 0, 0],
        state: "open",
        forced: "open",
      }),
      // The range's first instant belongs to it, the one before does not.
      stats(PAIR, "transfers-1", at("11:45:00.000"), {
        ...quiet,
        calls: 4,
        successes: 4,
        rejections: 0,
        latency: [1, 2, 3, 4],
      }),
      stats(PAIR, "transfers-1", at("11:44:59.999"), {
        ...quiet,
        calls: 100,
        failures: 100,
        rejections: 0,
        latency: [1, 2, 3, 4],
      }),
      // Another pair in the same bucket stays out.
      stats("transfers→bank-a", "transfers-1", at("11:59:40.000"), {
        ...quiet,
        calls: 50,
        failures: 50,
        rejections: 0,
        latency: [900, 900, 900, 900],
      }),
    ]);

    const history = await readPairHistory(pool, PAIR, "15m", NOW);
    expect(history.range).toEqual({
      key: "15m",
      from: at("11:45:00.000"),
      to: new Date(NOW),
      bucketMs: 10_000,
    });
    // 11:45:00 to 12:00:00 inclusive, one point per 10 s.
    expect(history.points).toHaveLength(91);
    expect(history.points[0]?.at).toEqual(at("11:45:00.000"));
    expect(history.points.at(-1)?.at).toEqual(at("12:00:00.000"));

    const point = (hms: string) => history.points.find((p) => p.at.getTime() === at(hms).getTime());
    expect(point("11:45:00.000")).toMatchObject({ calls: 4, failures: 0, failureRate: 0, instances: 1 });
    expect(point("11:59:40.000")).toEqual({
      at: at("11:59:40.000"),
      calls: 20,
      successes: 9,
      business: 2,
      failures: 9,
      rejections: 1,
      trials: 1,
      failureRate: 9 / 20,
      latencyMs: { p50: 7, p95: 20, p99: 60, max: 80 },
      instances: 2,
      forced: null,
    });
    expect(point("11:59:50.000")).toEqual({
      at: at("11:59:50.000"),
      calls: 0,
      successes: 0,
      business: 0,
      failures: 0,
      rejections: 7,
      trials: 0,
      failureRate: null,
      latencyMs: { p50: null, p95: null, p99: null, max: null },
      instances: 1,
      forced: "open",
    });
    expect(point("11:50:00.000")).toMatchObject({ calls: 0, failureRate: null, instances: 0, forced: null });
    const total = history.points.reduce((sum, p) => sum + p.calls, 0);
    expect(total).toBe(24);
  });

  it("bounds the number of points on the longest range", async () => {
    const history = await readPairHistory(pool, PAIR, "24h", NOW);
    expect(history.points).toHaveLength(121);
    expect(history.range.bucketMs).toBe(12 * 60_000);
    // 12-minute buckets: 11:36 holds the windows ending 11:44:59.999 and 11:45:00, 11:48 the rest.
    expect(history.points.filter((p) => p.calls > 0 || p.rejections > 0)).toEqual([
      expect.objectContaining({ at: at("11:36:00.000"), calls: 104, failures: 100, failureRate: 100 / 104 }),
      expect.objectContaining({
        at: at("11:48:00.000"),
        calls: 20,
        failures: 9,
        rejections: 8,
        failureRate: 9 / 20,
        instances: 2,
        forced: "open",
      }),
    ]);
  });

  it("draws the state band from the transitions, with the state before the range and forced states", async () => {
    await store([
      transition(PAIR, at("11:30:00.000"), "closed", "open", "failure rate 58.3% >= 50.0% over 12 calls"),
      transition(PAIR, at("11:50:00.000"), "open", "half_open", "open for 5000 ms"),
      transition(PAIR, at("11:50:00.500"), "half_open", "closed", "3 trial calls succeeded"),
      transition(PAIR, at("11:55:00.000"), "closed", "open", "failure rate 60.0% >= 50.0% over 20 calls"),
      transition(PAIR, at("11:58:00.000"), "open", "half_open", "trial time", "closed"),
      transition("transfers→bank-a", at("11:52:00.000"), "closed", "open", "another pair"),
      // After `now`: not yet part of the band.
      transition(PAIR, at("12:00:05.000"), "half_open", "closed", "in the future"),
    ]);
    const history = await readPairHistory(pool, PAIR, "15m", NOW);
    expect(history.segmentsExact).toBe(true);
    expect(history.segments).toEqual([
      {
        from: at("11:45:00.000"),
        to: at("11:50:00.000"),
        state: "open",
        forced: null,
        reason: "failure rate 58.3% >= 50.0% over 12 calls",
        changes: 0,
      },
      {
        from: at("11:50:00.000"),
        to: at("11:50:00.500"),
        state: "half_open",
        forced: null,
        reason: "open for 5000 ms",
        changes: 0,
      },
      {
        from: at("11:50:00.500"),
        to: at("11:55:00.000"),
        state: "closed",
        forced: null,
        reason: "3 trial calls succeeded",
        changes: 0,
      },
      {
        from: at("11:55:00.000"),
        to: at("11:58:00.000"),
        state: "open",
        forced: null,
        reason: "failure rate 60.0% >= 50.0% over 20 calls",
        changes: 0,
      },
      {
        from: at("11:58:00.000"),
        to: new Date(NOW),
        state: "half_open",
        forced: "closed",
        reason: "trial time",
        changes: 0,
      },
    ]);
    expect(history.transitions.map((t) => t.reason)).toEqual([
      "in the future",
      "trial time",
      "failure rate 60.0% >= 50.0% over 20 calls",
      "3 trial calls succeeded",
      "open for 5000 ms",
      "failure rate 58.3% >= 50.0% over 12 calls",
    ]);
    expect(history.transitions[2]).toEqual({
      time: at("11:55:00.000"),
      from: "closed",
      to: "open",
      forced: null,
      reason: "failure rate 60.0% >= 50.0% over 20 calls",
      instance: "transfers-1",
      calls: 12,
      failures: 7,
      failureRateThreshold: 0.5,
      minimumCalls: 10,
      openUntil: at("11:55:05.000"),
    });
  });

  it("starts the band with the first transition's former state, or closed when none was ever recorded", async () => {
    const fresh = "checkout→payments";
    expect((await readPairHistory(pool, fresh, "1h", NOW)).segments).toEqual([
      {
        from: at("11:00:00.000"),
        to: new Date(NOW),
        state: "closed",
        forced: null,
        reason: "no transition recorded: a breaker starts closed",
        changes: 0,
      },
    ]);
    await store([transition(fresh, at("11:40:00.000"), "half_open", "open", "a trial call failed")]);
    const history = await readPairHistory(pool, fresh, "1h", NOW);
    expect(history.segments.map((s) => [s.from, s.to, s.state])).toEqual([
      [at("11:00:00.000"), at("11:40:00.000"), "half_open"],
      [at("11:40:00.000"), new Date(NOW), "open"],
    ]);
  });

  it("draws a flapping breaker per bucket, counting the transitions inside each stretch", async () => {
    const flapping = "transfers→bank-c";
    const start = at("11:50:00.000").getTime();
    const count = MAX_EXACT_TRANSITIONS + 1;
    await store(
      Array.from({ length: count }, (_, k) =>
        k % 2 === 0
          ? transition(flapping, new Date(start + k * 100), "closed", "open", `open ${k}`)
          : transition(flapping, new Date(start + k * 100), "open", "closed", `closed ${k}`),
      ),
    );
    const history = await readPairHistory(pool, flapping, "15m", NOW);
    expect(history.segmentsExact).toBe(false);
    // Transitions at 11:50:00.0, :10.0 … :50.0 fall on bucket starts; the 495 others are inside buckets.
    expect(history.segments).toEqual([
      {
        from: at("11:45:00.000"),
        to: at("11:50:00.000"),
        state: "closed",
        forced: null,
        reason: "before its first recorded transition",
        changes: 0,
      },
      {
        from: at("11:50:00.000"),
        to: new Date(NOW),
        state: "open",
        forced: null,
        reason: "open 0",
        changes: 495,
      },
    ]);
  });
});
