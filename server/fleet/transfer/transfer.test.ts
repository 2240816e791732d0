// The first real saga end to end: concurrent transfers with injected faults run against
// the banks' real ledgers, publish to the real broker, and the ingester's summaries agree
// with what the orchestrator saw. The banks' total never changes.
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { scratchDatabase, testInfra, uniqueName } from "../../../scripts/test/infra.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { ensureTopics } from "../../events/index.ts";
import { noFaults } from "../../fault-switches/faults.ts";
import { createIngester } from "../../ingest/ingester.ts";
import { createLogger } from "../../log.ts";
import { createKafkaEventSink, runSaga } from "../../sagas/index.ts";
import { createBankGrpcClient } from "../bank/bank-grpc-client.ts";
import { createBankGrpcServer } from "../bank/bank-grpc-server.ts";
import { createBankStore } from "../bank/bank-store.ts";
import {
  ACCOUNTS_PER_BANK,
  createTransferWorld,
  OPENING_BALANCE,
  openingAccounts,
} from "./transfer-world.ts";

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
  const TRANSFERS = 40;
  const CONCURRENT_TRANSFERS = 4;

  it("keeps the banks' total through failures, and the stored summaries match every outcome", async () => {
    const topic = uniqueName("transfers");
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    await ensureTopics(kafkaAdmin, [topic], 3);
    await kafkaAdmin.disconnect();
    const producer = kafka.producer();
    await producer.connect();

    // Each bank is a real gRPC service over its own schema, with its own injected faults.
    // Generous enough that a loaded machine (the whole suite in parallel on 2 cores) still
    // completes transfers; the slow calls below outlive it all the same.
    const stepTimeoutMs = 1000;
    const banks = await Promise.all(
      (["bank-a", "bank-b"] as const).map(async (name) => {
        const store = createBankStore(fleetPool, name.replace("-", "_"));
        await store.init(openingAccounts(name));
        const faults = noFaults();
        const server = createBankGrpcServer(store, () => faults, log);
        const port = await server.start("127.0.0.1:0");
        return { store, faults, server, client: createBankGrpcClient(`127.0.0.1:${port}`, stepTimeoutMs) };
      }),
    );
    const [bankA, bankB] = banks as [(typeof banks)[0], (typeof banks)[0]];
    // Summed from the banks' own ledgers, not through their gRPC APIs (whose deadline is the step's).
    const totalBalance = async () => (await bankA.store.totalBalance()) + (await bankB.store.totalBalance());
    const world = createTransferWorld({ bankA: bankA.client, bankB: bankB.client, stepTimeoutMs });
    const emit = createKafkaEventSink(producer, topic);
    const startTotal = await totalBalance();
    expect(startTotal).toBe(2 * ACCOUNTS_PER_BANK * OPENING_BALANCE);
    bankA.faults.errorRate = 0.15;
    bankB.faults.errorRate = 0.3;
    // Calls that outlive the orchestrator's deadline and land late: compensations must catch them.
    bankA.faults.slowRate = 0.1;
    bankB.faults.slowRate = 0.15;
    bankA.faults.slowMs = bankB.faults.slowMs = 1300;

    // A few transfers at a time, as a fleet's orchestrator runs them: forty at once on a loaded
    // 2-core machine starve every call past its deadline, and nothing would complete.
    type Outcome = Awaited<ReturnType<typeof runSaga>>;
    const started: { sagaId: string; outcome: Promise<Outcome> }[] = [];
    await Promise.all(
      Array.from({ length: CONCURRENT_TRANSFERS }, async () => {
        while (started.length < TRANSFERS) {
          const run = world.randomTransfer(0.25);
          const outcome = runSaga(world.saga, run, { emit, source: "/test/transfers" });
          started.push({ sagaId: run.sagaId, outcome });
          await outcome;
        }
      }),
    );
    const runs = await Promise.all(
      started.map(async (r) => ({ sagaId: r.sagaId, outcome: await r.outcome })),
    );
    await producer.disconnect();
    // The late calls land before the banks are summed: a bank server stops only once the
    // calls it is still handling have finished.
    for (const bank of banks) {
      bank.client.close();
      await bank.server.stop();
    }

    const byStatus = (s: string) => runs.filter((r) => r.outcome.status === s).length;
    expect(byStatus("completed")).toBeGreaterThan(0);
    expect(byStatus("compensated")).toBeGreaterThan(0);
    expect(byStatus("failed")).toBe(0);
    expect(await totalBalance()).toBe(startTotal);
    const ingester = createIngester({
      kafka,
      pool: storePool,
      topics: [topic],
      groupId: uniqueName("group"),
      log,
    });
    await ingester.start();
    try {
      const ids = runs.map((r) => r.sagaId);
      await vi.waitFor(
        async () => {
          const r = await storePool.query(
            "SELECT count(*)::int AS n FROM saga_summary WHERE saga_id = ANY($1) AND status IN ('completed','compensated')",
            [ids],
          );
          expect(r.rows[0].n).toBe(TRANSFERS);
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

      // The trace crossed gRPC: the banks recorded each saga's trace id with its money movements.
      const traceOf = new Map(
        (
          await storePool.query("SELECT saga_id, trace_id FROM saga_summary WHERE saga_id = ANY($1)", [ids])
        ).rows.map((r) => [r.saga_id, r.trace_id]),
      );
      const debits = await fleetPool.query(
        "SELECT op_id, trace_id FROM bank_a.operations WHERE kind = 'debit'",
      );
      expect(debits.rows.length).toBeGreaterThan(0);
      for (const row of debits.rows) expect(row.trace_id).toBe(traceOf.get(row.op_id.replace(/:debit$/, "")));

      // One trace per saga, on every event.
      const traces = await storePool.query(
        "SELECT saga_id, count(DISTINCT trace_id)::int AS traces FROM saga_event WHERE saga_id = ANY($1) GROUP BY saga_id",
        [ids],
      );
      expect(traces.rows).toHaveLength(TRANSFERS);
      for (const row of traces.rows) expect(row.traces).toBe(1);
    } finally {
      await ingester.stop();
    }
  });
});
