// Chaos, inter-bank transfer: the banks and the orchestrator as separate processes, bank B
// failing a share of calls and holding others past the step timeout (they land late), and
// bank B killed (SIGKILL) and restarted mid-run; its faults end once every transfer has started.
// Afterwards every saga has completed or been compensated, and the sum of all balances equals
// the starting sum exactly.
import { mkdirSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Child, startTsx, stopChild, waitForTcp } from "../../../scripts/processes.ts";
import { freePort, scratchDatabase, testInfra, uniqueName } from "../../../scripts/test/infra.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { setFaults } from "../../fault-switches/fault-control.ts";
import { ACCOUNTS_PER_BANK, OPENING_BALANCE } from "./transfer-world.ts";

const TRANSFERS = 120;
const children: Child[] = [];
let fleetDb: Awaited<ReturnType<typeof scratchDatabase>>;
let fleetPool: Pool;
let redis: Redis;

beforeAll(async () => {
  fleetDb = await scratchDatabase("transfer_chaos");
  fleetPool = createPool(fleetDb.url);
  redis = new Redis(testInfra().redisUrl);
});

afterAll(async () => {
  await Promise.all(children.map((c) => stopChild(c, 3000)));
  redis?.disconnect();
  await fleetPool?.end();
  await fleetDb?.drop();
});

const sagas = async (where = "true") =>
  (
    await fleetPool
      .query(`SELECT count(*)::int AS n FROM transfer_orchestrator.saga_instance WHERE ${where}`)
      .catch(() => ({ rows: [{ n: 0 }] }))
  ).rows[0].n as number;

describe("inter-bank transfer chaos", () => {
  it("keeps the money exact through errors, late-landing calls and a killed bank", async () => {
    const prefix = `${uniqueName("transfer_chaos")}.`;
    const env = {
      FLEET_DATABASE_URL: fleetDb.url,
      KAFKA_BROKERS: testInfra().kafkaBrokers.join(","),
      REDIS_URL: testInfra().redisUrl,
      SAGASCOPE_TOPIC_PREFIX: prefix,
      FLEET_BANK_A_ADDRESS: `127.0.0.1:${await freePort()}`,
      FLEET_BANK_B_ADDRESS: `127.0.0.1:${await freePort()}`,
      SAGASCOPE_LOG_LEVEL: "info",
    };
    // Bank B answers slowly, fails 10 % of calls and holds 10 % past the 1 s step timeout before they land.
    await setFaults(redis, prefix, "bank-b", { errorRate: 0.1, latencyMs: 100, slowRate: 0.1, slowMs: 1300 });
    mkdirSync("test-results", { recursive: true });
    const output = { file: `test-results/${prefix}log` };
    const bank = (name: "bank-a" | "bank-b") =>
      startTsx(name, "server/fleet/bank/main.ts", { ...env, FLEET_BANK: name }, output);
    const bankA = bank("bank-a");
    const bankB = bank("bank-b");
    children.push(bankA, bankB);
    // The orchestrator starts once both banks serve, not while they are still starting.
    await Promise.all([
      waitForTcp(env.FLEET_BANK_A_ADDRESS, bankA),
      waitForTcp(env.FLEET_BANK_B_ADDRESS, bankB),
    ]);
    children.push(
      startTsx(
        "transfers",
        "server/fleet/transfer/main.ts",
        {
          ...env,
          SAGASCOPE_DEMO_RATE: "20",
          SAGASCOPE_DEMO_FAILURE_RATE: "0.2",
          FLEET_TRANSFER_LIMIT: String(TRANSFERS),
          FLEET_ORCHESTRATOR_LEASE_MS: "2500",
          FLEET_STEP_TIMEOUT_MS: "1000",
        },
        output,
      ),
    );
    const began = Date.now();
    // Killed while it has calls of several sagas in hand.
    let inFlight = 0;
    await vi.waitFor(
      async () => {
        expect(await sagas()).toBeGreaterThanOrEqual(40);
        inFlight = await sagas("phase IN ('forward', 'compensating')");
        expect(inFlight).toBeGreaterThanOrEqual(4);
      },
      { timeout: 90_000, interval: 20 },
    );
    process.kill(-(bankB.process.pid as number), "SIGKILL");
    await bankB.exited;
    await new Promise((r) => setTimeout(r, 1500));
    children.push(bank("bank-b"));

    // The chaos lasts until every transfer has started (and bank B was killed and restarted);
    // then bank B's faults end. Under them, each of the breaker's half-open tries (three trial
    // calls, any failure reopens it, its open time doubling up to a minute) passes about half
    // the time on a quiet machine and less on a loaded one, where the injected 100 ms and
    // real CPU starvation push more calls past the 1 s step timeout: once, 28 reversals still
    // waited after 220 s, the breaker failing its trials six times in a row.
    await vi.waitFor(async () => expect(await sagas()).toBe(TRANSFERS), { timeout: 90_000, interval: 100 });
    const unfinishedWhenHealed = await sagas("phase IN ('forward', 'compensating')");
    await setFaults(redis, prefix, "bank-b", { clear: true });

    await vi.waitFor(
      async () => expect(await sagas("phase IN ('forward', 'compensating')")).toBe(0),
      // Long enough for the breaker's last open time (up to a minute) to end, then its trials.
      { timeout: 180_000, interval: 250 },
    );
    const seconds = (Date.now() - began) / 1000;
    const completed = await sagas("phase = 'completed'");
    const compensated = await sagas("phase = 'compensated'");
    expect(completed + compensated).toBe(TRANSFERS);
    const total = await fleetPool.query(
      "SELECT (SELECT sum(balance) FROM bank_a.accounts) + (SELECT sum(balance) FROM bank_b.accounts) AS total",
    );
    expect(Number(total.rows[0].total)).toBe(2 * ACCOUNTS_PER_BANK * OPENING_BALANCE);
    const faults = await fleetPool.query(
      `SELECT count(*) FILTER (WHERE d.data->'error'->>'category' = 'timeout')::int AS timeouts,
              count(*) FILTER (WHERE d.data->'error'->>'category' = 'transient')::int AS errors
       FROM transfer_orchestrator.outbox o, LATERAL (SELECT o.value::jsonb AS data) d
       WHERE o.headers->>'ce_type' = 'io.sagascope.saga.step.failed'`,
    );
    const { timeouts, errors } = faults.rows[0];
    expect(timeouts + errors).toBeGreaterThan(0);
    console.log(
      `transfer chaos: ${TRANSFERS} sagas in ${seconds.toFixed(1)} s (${completed} completed, ${compensated} compensated); ` +
        `${errors} failed calls and ${timeouts} timeouts injected, bank-b killed with ${inFlight} sagas unfinished and restarted, ` +
        `its faults cleared with ${unfinishedWhenHealed} unfinished; ` +
        "balances sum exactly to the opening total: 0 invariant violations",
    );
  }, 330_000);
});
