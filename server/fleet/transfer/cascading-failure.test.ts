// Cascading failure, with and without breakers: the transfer orchestrator calls bank B, and
// bank B calls the screening service for every credit. Screening turns slow (4 s, past
// bank B's 2 s deadline and the orchestrator's 1 s step timeout). With breakers, bank B's
// breaker to screening opens and drops the screening, so the first two services keep
// answering in time; with every breaker disabled, the slowness cascades into timeouts.
import { mkdirSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Child, startTsx, stopChild, waitForTcp } from "../../../scripts/processes.ts";
import { freePort, scratchDatabase, testInfra, uniqueName } from "../../../scripts/test/infra.ts";
import { createBreakerStore } from "../../breakers/index.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { setFaults } from "../../fault-switches/fault-control.ts";

const children: Child[] = [];
let fleetDb: Awaited<ReturnType<typeof scratchDatabase>>;
let fleetPool: Pool;
let redis: Redis;

beforeAll(async () => {
  fleetDb = await scratchDatabase("cascade");
  fleetPool = createPool(fleetDb.url);
  redis = new Redis(testInfra().redisUrl);
});

afterAll(async () => {
  await Promise.all(children.map((c) => stopChild(c, 3000)));
  redis?.disconnect();
  await fleetPool?.end();
  await fleetDb?.drop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the orchestrator recorded between two moments: credit timeouts and completed transfers. */
async function figures(from: Date, to: Date) {
  const r = await fleetPool.query(
    `SELECT count(*) FILTER (WHERE headers->>'ce_type' = 'io.sagascope.saga.timed_out')::int AS timeouts,
            count(*) FILTER (WHERE headers->>'ce_type' = 'io.sagascope.saga.completed')::int AS completed,
            count(*) FILTER (WHERE headers->>'ce_type' = 'io.sagascope.saga.started')::int AS started
     FROM transfer_orchestrator.outbox WHERE created_at >= $1 AND created_at < $2`,
    [from, to],
  );
  return r.rows[0] as { timeouts: number; completed: number; started: number };
}

describe("cascading failure", () => {
  it("a slow third service makes the first two time out without breakers, and not with them", async () => {
    const prefix = `${uniqueName("cascade")}.`;
    const store = createBreakerStore(redis, prefix);
    await store.setConfig("bank-b→screening", {
      minimumCalls: 4,
      failureRate: 0.5,
      windowMs: 5000,
      openMs: 2000,
      maxOpenMs: 8000,
    });
    const env = {
      FLEET_DATABASE_URL: fleetDb.url,
      KAFKA_BROKERS: testInfra().kafkaBrokers.join(","),
      REDIS_URL: testInfra().redisUrl,
      SAGASCOPE_TOPIC_PREFIX: prefix,
      FLEET_BANK_A_ADDRESS: `127.0.0.1:${await freePort()}`,
      FLEET_BANK_B_ADDRESS: `127.0.0.1:${await freePort()}`,
      FLEET_SCREENING_ADDRESS: `127.0.0.1:${await freePort()}`,
      FLEET_BANK_B_SCREENING: "on",
      FLEET_SCREENING_DEADLINE_MS: "2000",
      SAGASCOPE_LOG_LEVEL: "info",
    };
    mkdirSync("test-results", { recursive: true });
    const output = { file: `test-results/${prefix}log` };
    const screening = startTsx("screening", "server/fleet/screening/main.ts", env, output);
    const bankA = startTsx("bank-a", "server/fleet/bank/main.ts", { ...env, FLEET_BANK: "bank-a" }, output);
    const bankB = startTsx("bank-b", "server/fleet/bank/main.ts", { ...env, FLEET_BANK: "bank-b" }, output);
    children.push(screening, bankA, bankB);
    // The orchestrator starts once every server it reaches serves, not while they are still starting.
    await Promise.all([
      waitForTcp(env.FLEET_SCREENING_ADDRESS, screening),
      waitForTcp(env.FLEET_BANK_A_ADDRESS, bankA),
      waitForTcp(env.FLEET_BANK_B_ADDRESS, bankB),
    ]);
    children.push(
      startTsx(
        "transfers",
        "server/fleet/transfer/main.ts",
        {
          ...env,
          SAGASCOPE_DEMO_RATE: "10",
          SAGASCOPE_DEMO_FAILURE_RATE: "0",
          FLEET_STEP_TIMEOUT_MS: "1000",
          FLEET_ORCHESTRATOR_LEASE_MS: "2500",
        },
        output,
      ),
    );
    // The whole chain answers: transfers complete.
    const completed = async () =>
      (
        await fleetPool
          .query(
            "SELECT count(*)::int AS n FROM transfer_orchestrator.saga_instance WHERE phase = 'completed'",
          )
          .catch(() => ({ rows: [{ n: 0 }] }))
      ).rows[0].n as number;
    for (let deadline = Date.now() + 90_000; (await completed()) < 10; await sleep(200)) {
      if (Date.now() > deadline) throw new Error("the fleet did not start completing transfers");
    }

    /** Screening turns slow; after a settling time, a 10 s window is measured. */
    async function slowScreening() {
      await setFaults(redis, prefix, "screening", { latencyMs: 4000 });
      await sleep(4000);
      const from = new Date();
      await sleep(10_000);
      const result = await figures(from, new Date());
      await setFaults(redis, prefix, "screening", { clear: true });
      return result;
    }

    const withBreakers = await slowScreening();
    // Every breaker disabled, and time for the slow calls in flight to drain.
    for (const pair of ["bank-b→screening", "transfers→bank-a", "transfers→bank-b"])
      await store.force(pair, "disabled", Date.now());
    await sleep(5000);
    const without = await slowScreening();

    console.log(
      `cascading failure, 10 s with screening 4 s slow: with breakers ${withBreakers.timeouts} step timeouts, ` +
        `${withBreakers.completed} of ${withBreakers.started} transfers completed; without breakers ${without.timeouts} timeouts, ` +
        `${without.completed} of ${without.started} completed`,
    );
    expect(without.timeouts).toBeGreaterThan(20);
    expect(withBreakers.timeouts * 4).toBeLessThan(without.timeouts);
    expect(withBreakers.completed).toBeGreaterThan(without.completed * 2);
  }, 120_000);
});
