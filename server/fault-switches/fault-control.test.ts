// Fault injection at run time through the real Redis: a change reaches a running bank
// within a second (by pub/sub, not by the periodic re-read), invalid settings are ignored,
// and a crash order is obeyed once.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { scratchDatabase, testInfra, uniqueName } from "../../scripts/test/infra.ts";
import { createPool, type Pool } from "../db/pool.ts";
import { type BankClient, createBankGrpcClient } from "../fleet/bank/bank-grpc-client.ts";
import { type BankGrpcServer, createBankGrpcServer } from "../fleet/bank/bank-grpc-server.ts";
import { createBankStore } from "../fleet/bank/bank-store.ts";
import { createLogger } from "../log.ts";
import { StepFailure } from "../sagas/index.ts";
import { createFaultControl, type FaultControl, faultsKey, setFaults } from "./fault-control.ts";

const namespace = `${uniqueName("faults")}.`;
const log = createLogger("fault-test", "error");
let database: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let redis: Redis;
let subscriber: Redis;
let control: FaultControl;
let server: BankGrpcServer;
let client: BankClient;
let crashes = 0;

beforeAll(async () => {
  database = await scratchDatabase("faults");
  pool = createPool(database.url);
  const store = createBankStore(pool, "bank_f");
  await store.init([{ id: "F-1", balance: 1_000 }]);
  redis = new Redis(testInfra().redisUrl);
  subscriber = new Redis(testInfra().redisUrl);
  control = createFaultControl({
    redis,
    subscriber,
    namespace,
    service: "bank-f",
    log,
    onCrash: () => {
      crashes += 1;
    },
    rereadMs: 60_000, // only the announcement can deliver a change within the test
  });
  await control.start();
  server = createBankGrpcServer(store, control.faults, log);
  client = createBankGrpcClient(`127.0.0.1:${await server.start("127.0.0.1:0")}`, 2000);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  await control?.stop();
  await redis?.del(faultsKey(namespace, "bank-f"));
  redis?.disconnect();
  subscriber?.disconnect();
  await pool?.end();
  await database?.drop();
});

let op = 0;
const credit = () => client.credit({ opId: `f-${op++}`, account: "F-1", amount: 1 });

describe("fault control", () => {
  it("makes a running service fail within a second of the change, and recover when cleared", async () => {
    await credit();
    const changedAt = Date.now();
    await setFaults(redis, namespace, "bank-f", { errorRate: 1 });
    await vi.waitFor(() => expect(control.faults().errorRate).toBe(1), { timeout: 1000, interval: 10 });
    expect(Date.now() - changedAt).toBeLessThan(1000);
    await expect(credit()).rejects.toBeInstanceOf(StepFailure);
    await setFaults(redis, namespace, "bank-f", { clear: true });
    await vi.waitFor(() => expect(control.faults().errorRate).toBe(0), { timeout: 1000, interval: 10 });
    await expect(credit()).resolves.toMatchObject({ balance: expect.any(Number) });
  });

  it("ignores invalid settings and keeps the last good ones", async () => {
    await setFaults(redis, namespace, "bank-f", { latencyMs: 5 });
    await vi.waitFor(() => expect(control.faults().latencyMs).toBe(5), { timeout: 1000, interval: 10 });
    await redis.hset(faultsKey(namespace, "bank-f"), "errorRate", "lots");
    await redis.publish(`${namespace}sagascope:fleet:faults`, "bank-f");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(control.faults()).toMatchObject({ latencyMs: 5, errorRate: 0 });
    await setFaults(redis, namespace, "bank-f", { clear: true });
  });

  it("obeys a crash order once", async () => {
    await setFaults(redis, namespace, "bank-f", { crash: true });
    await vi.waitFor(() => expect(crashes).toBe(1), { timeout: 1000, interval: 10 });
    await setFaults(redis, namespace, "bank-f", { latencyMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(crashes).toBe(1);
  });
});
