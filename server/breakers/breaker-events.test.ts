// A breaker's state changes and stats windows travel as contract events through the real
// broker, and the ingester stores them.

import { Redis } from "ioredis";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { testInfra, uniqueName } from "../../scripts/test/infra.ts";
import { createPool } from "../db/pool.ts";
import { ensureTopics, topics } from "../events/index.ts";
import { createIngester } from "../ingest/ingester.ts";
import { createLogger } from "../log.ts";
import { createBreakerEventPublisher } from "./breaker-event-publisher.ts";
import { createBreakerStore } from "./breaker-store.ts";
import { createBreakerRegistry } from "./circuit-breaker.ts";

const log = createLogger("breaker-events-test", "error");
const pool = createPool(testInfra().databaseUrl);
const redis = new Redis(testInfra().redisUrl);
afterAll(async () => {
  await pool.end();
  redis.disconnect();
});

describe("breaker events", () => {
  it("a transition and the stats windows reach the store", async () => {
    const prefix = `${uniqueName("bkev")}.`;
    const topic = topics(prefix).breakerEvents;
    const kafka = new Kafka({
      clientId: "bk-events",
      brokers: testInfra().kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topic], 2);
    await admin.disconnect();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const publisher = createBreakerEventPublisher({
      producer,
      topic,
      source: "/test/caller",
      instance: "caller-1",
      log,
    });
    const namespace = `${prefix}:`;
    const callee = uniqueName("flaky");
    const pair = `caller→${callee}`;
    await createBreakerStore(redis, namespace).setConfig(pair, {
      minimumCalls: 5,
      failureRate: 0.5,
    });
    const registry = createBreakerRegistry({
      redisUrl: testInfra().redisUrl,
      namespace,
      instance: "caller-1",
      log,
      statsEveryMs: 200,
      onTransition: publisher.onTransition,
      onStats: publisher.onStats,
    });
    await registry.start();
    const ingester = createIngester({
      kafka,
      pool,
      topics: [],
      breakerTopic: topic,
      groupId: uniqueName("bkev"),
      log,
    });
    await ingester.start();
    try {
      const breaker = registry.breaker({ caller: "caller", callee });
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 12; i++) {
        await breaker
          .call(async () => {
            throw new Error("down");
          })
          .catch(() => {});
        await new Promise((r) => setTimeout(r, 10));
      }
      const deadline = Date.now() + 20_000;
      let transitions: { to_state: string; reason: string; instance: string }[] = [];
      let stats: { calls: number; failures: number; rejections: number }[] = [];
      while (Date.now() < deadline) {
        transitions = (await pool.query("SELECT * FROM breaker_transition WHERE pair = $1", [pair])).rows;
        stats = (await pool.query("SELECT * FROM breaker_stats WHERE pair = $1", [pair])).rows;
        if (transitions.length > 0 && stats.reduce((n, s) => n + s.calls + s.rejections, 0) >= 12) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(transitions.filter((t) => t.to_state === "open")).toHaveLength(1);
      // It opens on the minimum of 5 calls, or a few more: outcomes reach Redis in batches, so
      // on a busy machine a call or two more may be counted in the window that opens it.
      const opened = /failure rate 100.0% >= 50.0% over (\d+) calls \((\d+) failed\)/.exec(
        transitions[0]?.reason ?? "",
      );
      expect(opened, transitions[0]?.reason).not.toBeNull();
      expect(Number(opened?.[1])).toBeGreaterThanOrEqual(5);
      expect(Number(opened?.[1])).toBeLessThanOrEqual(12);
      expect(opened?.[2]).toBe(opened?.[1]);
      const total = stats.reduce(
        (sum, s) => ({
          calls: sum.calls + s.calls,
          failures: sum.failures + s.failures,
          rejections: sum.rejections + s.rejections,
        }),
        { calls: 0, failures: 0, rejections: 0 },
      );
      expect(total.calls + total.rejections).toBeGreaterThanOrEqual(12);
      expect(total.rejections).toBeGreaterThan(0);
    } finally {
      await registry.stop();
      await ingester.stop();
      await producer.disconnect();
    }
  }, 60_000);
});
