// Two transfer orchestrator processes share the sagas; one is killed (SIGKILL) mid-run.
// The other takes over its sagas when their lease runs out and finishes every one; the
// banks' total is unchanged and the dashboard's store sees every saga end.
import { mkdirSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Child, startTsx, stopChild, waitForTcp } from "../../../scripts/processes.ts";
import { freePort, scratchDatabase, testInfra, uniqueName } from "../../../scripts/test/infra.ts";
import { DEFAULT_BREAKER_CONFIG } from "../../breakers/index.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { ensureTopics, topics } from "../../events/index.ts";
import { createIngester } from "../../ingest/ingester.ts";
import { createLogger } from "../../log.ts";
import { ACCOUNTS_PER_BANK, OPENING_BALANCE } from "./transfer-world.ts";

const LEASE_MS = 2500;
/**
 * How long the killed instance's sagas may take to end on the survivor: its lease, then,
 * on a loaded machine where step timeouts open a bank's breaker, a few of the breaker's
 * longest openings (a saga refused by an open breaker waits for it, spending no attempt).
 */
const FINISH_WITHIN_MS = LEASE_MS + 3 * DEFAULT_BREAKER_CONFIG.maxOpenMs + 30_000;

const children: Child[] = [];
let fleetDb: Awaited<ReturnType<typeof scratchDatabase>>;
let fleetPool: Pool;
let storePool: Pool;

beforeAll(async () => {
  fleetDb = await scratchDatabase("failover_fleet");
  fleetPool = createPool(fleetDb.url);
  storePool = createPool(testInfra().databaseUrl);
});

afterAll(async () => {
  await Promise.all(children.map((c) => stopChild(c, 3000)));
  await fleetPool?.end();
  await storePool?.end();
  await fleetDb?.drop();
});

const unfinished = async () =>
  (
    await fleetPool.query(
      "SELECT count(*)::int AS n FROM transfer_orchestrator.saga_instance WHERE phase IN ('forward', 'compensating')",
    )
  ).rows[0].n as number;

describe("durable transfer orchestrator", () => {
  it(
    "finishes a killed instance's sagas on the other instance, and the money adds up",
    async () => {
      const prefix = `${uniqueName("failover")}.`;
      const topic = topics(prefix).sagaEvents;
      const kafka = new Kafka({
        clientId: "failover-test",
        brokers: testInfra().kafkaBrokers,
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, [topic], 3);
      await admin.disconnect();

      const env = {
        FLEET_DATABASE_URL: fleetDb.url,
        KAFKA_BROKERS: testInfra().kafkaBrokers.join(","),
        SAGASCOPE_TOPIC_PREFIX: prefix,
        FLEET_BANK_A_ADDRESS: `127.0.0.1:${await freePort()}`,
        FLEET_BANK_B_ADDRESS: `127.0.0.1:${await freePort()}`,
        FLEET_BANK_LATENCY_MS: "80",
        SAGASCOPE_LOG_LEVEL: "info",
      };
      // The processes' logs, kept for a failure's diagnosis.
      mkdirSync("test-results", { recursive: true });
      const output = { file: `test-results/${prefix}log` };
      const bankA = startTsx("bank-a", "server/fleet/bank/main.ts", { ...env, FLEET_BANK: "bank-a" }, output);
      const bankB = startTsx(
        "bank-b",
        "server/fleet/bank/main.ts",
        { ...env, FLEET_BANK: "bank-b", FLEET_BANK_ERROR_RATE: "0.1" },
        output,
      );
      children.push(bankA, bankB);
      // The orchestrators start once both banks serve. Started beside them on a loaded machine,
      // they once found bank A not yet listening, its breaker opened, and every transfer was
      // compensated at once: never three of the victim's in flight to kill it with.
      await Promise.all([
        waitForTcp(env.FLEET_BANK_A_ADDRESS, bankA),
        waitForTcp(env.FLEET_BANK_B_ADDRESS, bankB),
      ]);
      const orchestrator = (id: string) =>
        startTsx(
          id,
          "server/fleet/transfer/main.ts",
          {
            ...env,
            FLEET_ORCHESTRATOR_ID: id,
            SAGASCOPE_DEMO_RATE: "15",
            SAGASCOPE_DEMO_FAILURE_RATE: "0.2",
            FLEET_TRANSFER_LIMIT: "45",
            FLEET_ORCHESTRATOR_LEASE_MS: String(LEASE_MS),
            FLEET_STEP_TIMEOUT_MS: "1000",
          },
          output,
        );
      const victim = orchestrator("orchestrator-1");
      const survivor = orchestrator("orchestrator-2");
      children.push(victim, survivor);

      // Kill the first instance while it holds sagas in flight.
      let orphans: string[] = [];
      await vi.waitFor(
        async () => {
          const held = await fleetPool.query(
            `SELECT saga_id FROM transfer_orchestrator.saga_instance
           WHERE owner = 'orchestrator-1' AND phase IN ('forward', 'compensating')`,
          );
          orphans = held.rows.map((r) => r.saga_id);
          expect(orphans.length).toBeGreaterThanOrEqual(3);
        },
        { timeout: 60_000, interval: 50 },
      );
      process.kill(-(victim.process.pid as number), "SIGKILL");
      await victim.exited;

      await vi.waitFor(async () => expect(await unfinished()).toBe(0), {
        timeout: FINISH_WITHIN_MS,
        interval: 250,
      });
      const phases = await fleetPool.query(
        "SELECT saga_id, phase FROM transfer_orchestrator.saga_instance ORDER BY saga_id",
      );
      const byPhase = (p: string) => phases.rows.filter((r) => r.phase === p).length;
      expect(byPhase("failed")).toBe(0);
      expect(byPhase("completed") + byPhase("compensated")).toBe(phases.rowCount);
      const orphanPhases = phases.rows.filter((r) => orphans.includes(r.saga_id)).map((r) => r.phase);
      expect(orphanPhases).toHaveLength(orphans.length);

      const total = await fleetPool.query(
        "SELECT (SELECT sum(balance) FROM bank_a.accounts) + (SELECT sum(balance) FROM bank_b.accounts) AS total",
      );
      expect(Number(total.rows[0].total)).toBe(2 * ACCOUNTS_PER_BANK * OPENING_BALANCE);

      // Every saga's events reached Kafka through the outbox, and the store saw each one end.
      const ingester = createIngester({
        kafka,
        pool: storePool,
        topics: [topic],
        groupId: uniqueName("group"),
        log: createLogger("failover-test", "error"),
      });
      await ingester.start();
      try {
        const ids = phases.rows.map((r) => r.saga_id);
        await vi.waitFor(
          async () => {
            const r = await storePool.query(
              "SELECT saga_id, status FROM saga_summary WHERE saga_id = ANY($1)",
              [ids],
            );
            const status = new Map(r.rows.map((row) => [row.saga_id, row.status]));
            for (const row of phases.rows) expect(status.get(row.saga_id), row.saga_id).toBe(row.phase);
          },
          { timeout: 30_000, interval: 250 },
        );
      } finally {
        await ingester.stop();
      }
      console.log(
        `failover: ${phases.rowCount} sagas (${byPhase("completed")} completed, ${byPhase("compensated")} compensated), ` +
          `${orphans.length} taken over from the killed instance, 0 invariant violations`,
      );
    },
    FINISH_WITHIN_MS + 90_000,
  );
});
