// The fault panel's reading of what is in force, against real Redis: what the panel's
// changes wrote, a value the services would ignore, Redis away, and nothing outside demo mode.
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { testInfra, uniqueName } from "../../scripts/test/infra.ts";
import { faultsKey } from "../fault-switches/fault-control.ts";
import { DEMO_FLEET_MANIFEST_PATH } from "../fleet/demo-manifest.ts";
import { readFleetManifest } from "../fleet-manifest/fleet-manifest.ts";
import type { Context } from "../trpc/init.ts";
import { createCaller } from "../trpc/root.ts";
import { faultServices, injectFaults } from "./fault-actions.ts";
import { readFaultState } from "./fault-state.ts";

const redis = new Redis(testInfra().redisUrl);
afterAll(() => redis.disconnect());

const key = () => uniqueName("key");
/** The demo fleet, as its manifest declares it, and what the fault panel offers for it. */
const DEMO_FLEET = readFleetManifest(DEMO_FLEET_MANIFEST_PATH);
const DEMO_SERVICES = faultServices(DEMO_FLEET);

describe("fault state", () => {
  it("shows nothing injected at first, then what the panel wrote, then nothing again once cleared", async () => {
    const ns = `${uniqueName("faults")}.`;
    const before = await readFaultState(redis, ns, DEMO_SERVICES);
    expect(before.map((s) => s.service)).toEqual([
      "bank-a",
      "bank-b",
      "screening",
      "order",
      "payment",
      "inventory",
      "shipping",
      "projector",
    ]);
    expect(before.every((s) => s.errorRate === null && s.latencyMs === null && s.problem === null)).toBe(
      true,
    );

    await injectFaults(redis, ns, {
      service: "bank-a",
      errorRate: 0.25,
      latencyMs: 300,
      idempotencyKey: key(),
    });
    await injectFaults(redis, ns, { service: "projector", paused: true, idempotencyKey: key() });
    const sent = Date.now();
    await injectFaults(redis, ns, { service: "shipping", crash: true, idempotencyKey: key() });
    const after = await readFaultState(redis, ns, DEMO_SERVICES);
    const of = (service: string) => after.find((s) => s.service === service);
    expect(of("bank-a")).toMatchObject({
      errorRate: 0.25,
      latencyMs: 300,
      crashOrderedAt: null,
      paused: null,
    });
    expect(of("projector")).toMatchObject({ paused: true, errorRate: null });
    expect(of("shipping")?.crashOrderedAt?.getTime()).toBeGreaterThanOrEqual(sent);
    expect(of("bank-b")).toMatchObject({ errorRate: null, latencyMs: null });

    await injectFaults(redis, ns, { service: "bank-a", clear: true, idempotencyKey: key() });
    expect((await readFaultState(redis, ns, DEMO_SERVICES))[0]).toMatchObject({
      errorRate: null,
      latencyMs: null,
    });
  });

  it("says when a hash holds a value the service ignores", async () => {
    const ns = `${uniqueName("faults")}.`;
    await redis.hset(faultsKey(ns, "order"), "errorRate", "lots");
    const order = (await readFaultState(redis, ns, DEMO_SERVICES)).find((s) => s.service === "order");
    expect(order).toMatchObject({ errorRate: null, problem: expect.stringContaining("errorRate") });
  });

  it("says plainly that Redis is unreachable", async () => {
    const away = new Redis({
      host: "127.0.0.1",
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    away.on("error", () => {});
    try {
      await expect(readFaultState(away, "x.", DEMO_SERVICES)).rejects.toMatchObject({
        code: "UNAVAILABLE",
        message: expect.stringContaining("Redis is unreachable, so the fault settings cannot be read"),
      });
    } finally {
      away.disconnect();
    }
  });

  it("is read through the API in demo mode only", async () => {
    const ns = `${uniqueName("faults")}.`;
    await injectFaults(redis, ns, { service: "bank-b", errorRate: 0.5, idempotencyKey: key() });
    const caller = (mode: "demo" | "production") =>
      createCaller({
        fleet: DEMO_FLEET,
        actions: { producer: async () => undefined as never, topicPrefix: ns, mode, bulkCap: 1, redis },
      } as unknown as Context);
    const demo = await caller("demo").actions.faultsState();
    expect(demo.mode).toBe("demo");
    expect(demo.services.find((s) => s.service === "bank-b")?.errorRate).toBe(0.5);
    expect(await caller("production").actions.faultsState()).toEqual({ mode: "production", services: [] });
  });
});
