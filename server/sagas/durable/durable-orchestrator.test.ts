// Configuration the durable orchestrator refuses before it touches anything.
import type { Producer } from "kafkajs";
import { describe, expect, it } from "vitest";
import type { Pool } from "../../db/pool.ts";
import { AppError } from "../../errors.ts";
import { createLogger } from "../../log.ts";
import { defineSaga } from "../definition.ts";
import { createDurableOrchestrator } from "./durable-orchestrator.ts";

const saga = defineSaga<Record<string, unknown>>({
  type: "lease-test",
  steps: [
    {
      name: "slow",
      service: "svc",
      timeoutMs: 5000,
      retry: { attempts: 1, backoffMs: 1 },
      action: async () => undefined,
    },
  ],
  compensationRetry: { attempts: 1, backoffMs: 1 },
});

describe("durable orchestrator", () => {
  it("refuses a lease shorter than a step can take: another instance would take the saga mid-call", () => {
    const create = (leaseMs: number) =>
      createDurableOrchestrator({
        pool: {} as Pool,
        databaseUrl: "postgresql://unused",
        schema: "lease_test",
        definition: saga,
        source: "/test",
        owner: "test",
        producer: {} as Producer,
        topics: { sagaEvents: "t", control: "c" },
        log: createLogger("t", "error"),
        leaseMs,
      });
    expect(() => create(5500)).toThrow(AppError);
    expect(() => create(5500)).toThrow(/must outlast the longest step timeout \(5000 ms\)/);
    expect(() => create(6000)).not.toThrow();
  });
});
