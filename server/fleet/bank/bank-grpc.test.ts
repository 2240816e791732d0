// A bank over real gRPC: failures keep their kind across the wire, bad requests are
// refused at the edge, deadlines become timeouts, and the trace context arrives.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase } from "../../../scripts/test/infra.ts";
import { stepFailureOf } from "../../../scripts/test/step-failure-of.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { formatTraceparent, newTrace } from "../../events/index.ts";
import { noFaults } from "../../fault-switches/faults.ts";
import { createLogger } from "../../log.ts";
import { type BankClient, createBankGrpcClient } from "./bank-grpc-client.ts";
import { type BankGrpcServer, createBankGrpcServer } from "./bank-grpc-server.ts";
import { createBankStore } from "./bank-store.ts";

let database: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let server: BankGrpcServer;
let client: BankClient;
let address: string;
const faults = noFaults();

beforeAll(async () => {
  database = await scratchDatabase("bank_grpc");
  pool = createPool(database.url);
  const store = createBankStore(pool, "bank_g");
  await store.init([
    { id: "G-1", balance: 100 },
    { id: "G-2", balance: 0, closed: true },
  ]);
  server = createBankGrpcServer(store, () => faults, createLogger("bank-grpc-test", "error"));
  address = `127.0.0.1:${await server.start("127.0.0.1:0")}`;
  client = createBankGrpcClient(address, 2000);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  await pool?.end();
  await database?.drop();
});

describe("bank over gRPC", () => {
  it("moves money and records the caller's trace id", async () => {
    const trace = newTrace();
    const reply = await client.debit({
      opId: "g-1",
      account: "G-1",
      amount: 30,
      traceparent: formatTraceparent(trace),
    });
    expect(reply).toEqual({ balance: 70 });
    const op = await pool.query("SELECT trace_id FROM bank_g.operations WHERE op_id = 'g-1'");
    expect(op.rows[0].trace_id).toBe(trace.traceId);
  });

  it("keeps a business refusal a business failure, with its code", async () => {
    const failure = await stepFailureOf(client.credit({ opId: "g-2", account: "G-2", amount: 5 }));
    expect(failure).toMatchObject({
      category: "business",
      code: "ACCOUNT_CLOSED",
      message: "account G-2 is closed",
    });
  });

  it("refuses an invalid request at the edge as a business failure", async () => {
    const failure = await stepFailureOf(client.debit({ opId: "", account: "G-1", amount: -5 }));
    expect(failure.category).toBe("business");
    expect(failure.code).toBe("INVALID_ARGUMENT");
    expect(failure.message).toMatch(/operationId.*amount/s);
  });

  it("turns an injected outage into a transient failure and a missed deadline into a timeout", async () => {
    faults.errorRate = 1;
    expect(await stepFailureOf(client.credit({ opId: "g-3", account: "G-1", amount: 1 }))).toMatchObject({
      category: "transient",
      code: "UNAVAILABLE",
    });
    faults.errorRate = 0;
    faults.latencyMs = 300;
    const impatient = createBankGrpcClient(address, 100);
    expect((await stepFailureOf(impatient.credit({ opId: "g-4", account: "G-1", amount: 1 }))).category).toBe(
      "timeout",
    );
    impatient.close();
    faults.latencyMs = 0;
  });

  it("waits for an unreachable bank only until its deadline, then reports a timeout", async () => {
    const late = createBankGrpcClient("127.0.0.1:1", 300);
    expect((await stepFailureOf(late.totalBalance())).category).toBe("timeout");
    late.close();
  });
});
