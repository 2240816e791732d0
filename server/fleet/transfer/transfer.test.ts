// The first real saga end to end: concurrent transfers with injected faults run against
// the banks' real ledgers, publish to the real broker, and the ingester's summaries agree
// with what the orchestrator saw. The banks' total never changes.
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { scratchDatabase, testInfra, uniqueName } from "../../../scripts/test/infra.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { ensureTopics } from "../../events/index.ts";
import { createIngester } from "../../ingest/ingester.ts";
import { createLogger } from "../../log.ts";
import { createKafkaEventSink } from "../../sagas/index.ts";
import { ACCOUNTS_PER_BANK, createTransferWorld, OPENING_BALANCE } from "./transfer-world.ts";

const log = createLogger("transfer-test", "error");
let fleetDb: Awaited<ReturnType<typeof scratchDatabase>>;
let fleetPool: Pool;
let storePool: Pool;
let kafka: Kafka;

beforeAll(async () => {
  fleetDb = await scratchDatabase("fleet");
  fleetPool = createPool(fleetDb.url, 10);
  storePool = createPool(testInfra().databaseUrl);
  kafka = new Kafka({
    clientId: "transfer-test",
    brokers: testInfra().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
});

afterAll(async () => {
  await fleetPool?.end();
  await storePool?.end();
  await fleetDb?.drop();
});

describe("inter-bank transfer saga", () => {
  it("keeps the banks' total through failures, and the stored summaries match every outcome", async () => {
    const topic = uniqueName("transfers");
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    await ensureTopics(kafkaAdmin, [topic], 3);
    await kafkaAdmin.disconnect();
    const producer = kafka.producer();
    await producer.connect();

    const world = createTransferWorld(fleetPool, {
      emit: createKafkaEventSink(producer, topic),
      stepTimeoutMs: 250,
    });
    await world.init();
    const startTotal = await world.totalBalance();
    expect(startTotal).toBe(2 * ACCOUNTS_PER_BANK * OPENING_BALANCE);
    world.faults["bank-a"].errorRate = 0.15;
    world.faults["bank-b"].errorRate = 0.3;
    // Calls that outlive the orchestrator's timeout and land late: compensations must catch them.
    world.faults["bank-a"].slowRate = 0.1;
    world.faults["bank-b"].slowRate = 0.15;
    world.faults["bank-a"].slowMs = world.faults["bank-b"].slowMs = 400;

    const runs = await Promise.all(Array.from({ length: 40 }, () => world.runRandomTransfer(0.25)));
    await producer.disconnect();
    // Let the late calls land before the banks are summed.
    await new Promise((resolve) => setTimeout(resolve, 600));

    const byStatus = (s: string) => runs.filter((r) => r.outcome.status === s).length;
    expect(byStatus("completed")).toBeGreaterThan(0);
    expect(byStatus("compensated")).toBeGreaterThan(0);
    expect(byStatus("failed")).toBe(0);
    expect(await world.totalBalance()).toBe(startTotal);

    const ingester = createIngester({ kafka, pool: storePool, topic, groupId: uniqueName("group"), log });
    await ingester.start();
    try {
      const ids = runs.map((r) => r.sagaId);
      await vi.waitFor(
        async () => {
          const r = await storePool.query(
            "SELECT count(*)::int AS n FROM saga_summary WHERE saga_id = ANY($1) AND status IN ('completed','compensated')",
            [ids],
          );
          expect(r.rows[0].n).toBe(40);
        },
        { timeout: 30_000, interval: 250 },
      );
      const stored = await storePool.query(
        "SELECT saga_id, status FROM saga_summary WHERE saga_id = ANY($1)",
        [ids],
      );
      const statusOf = new Map(stored.rows.map((r) => [r.saga_id, r.status]));
      for (const run of runs) expect(statusOf.get(run.sagaId), run.sagaId).toBe(run.outcome.status);

      // The faults really happened: retries, timeouts (late landings) and compensations.
      const kinds = await storePool.query(
        "SELECT type, count(*)::int AS n FROM saga_event WHERE saga_id = ANY($1) GROUP BY type",
        [ids],
      );
      const count = (type: string) => kinds.rows.find((r) => r.type === `io.sagascope.saga.${type}`)?.n ?? 0;
      expect(count("timed_out")).toBeGreaterThan(0);
      expect(count("compensation.succeeded")).toBeGreaterThan(0);

      // One trace per saga, on every event.
      const traces = await storePool.query(
        "SELECT saga_id, count(DISTINCT trace_id)::int AS traces FROM saga_event WHERE saga_id = ANY($1) GROUP BY saga_id",
        [ids],
      );
      expect(traces.rows).toHaveLength(40);
      for (const row of traces.rows) expect(row.traces).toBe(1);
    } finally {
      await ingester.stop();
    }
  });
});
