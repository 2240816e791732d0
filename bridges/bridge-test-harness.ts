// What a bridge's integration test runs against: topics of its own on the test broker, a real
// ingester storing the breaker events and control decisions, the dashboard's tRPC caller over
// the store and Redis, and the operator's override as the dashboard performs it.
import { Redis } from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import { testInfra, uniqueName } from "../scripts/test/infra.ts";
import { type BreakerOverride, isReportedOnly, overrideBreaker } from "../server/actions/breaker-actions.ts";
import { createBreakerStore } from "../server/breakers/index.ts";
import { createPool } from "../server/db/pool.ts";
import { createPrisma } from "../server/db/prisma.ts";
import { ensureTopics, topics } from "../server/events/index.ts";
import { createIngester } from "../server/ingest/ingester.ts";
import { createBreakerChangeFeed } from "../server/live/breaker-change-feed.ts";
import { createSagaChangeFeed } from "../server/live/saga-change-feed.ts";
import { createLogger } from "../server/log.ts";
import { createCaller } from "../server/trpc/root.ts";
import type { Bridge } from "./bridge-reporter.ts";

export const OPERATOR = "ops@example.test";

export async function startBridgeHarness(name: string) {
  const log = createLogger(`${name}-bridge-test`, "error");
  const kafka = new Kafka({
    clientId: `${name}-bridge`,
    brokers: testInfra().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer();
  const prefix = `${uniqueName(name)}.`;
  const { breakerEvents: topic, breakerControl: controlTopic } = topics(prefix);
  const redis = new Redis(testInfra().redisUrl);
  const pool = createPool(testInfra().databaseUrl, 2);
  const prisma = createPrisma(testInfra().databaseUrl);
  const breakerStore = createBreakerStore(redis, `${uniqueName(`${name}-bk`)}:`);
  const breakerChanges = createBreakerChangeFeed(testInfra().redisUrl, breakerStore.channel, log, {
    tickMs: 60_000,
  });
  const sagaChanges = createSagaChangeFeed(testInfra().databaseUrl, log);
  const dashboard = createCaller({ prisma, pool, sagaChanges, breakerStore, breakerChanges });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic, controlTopic], 1).finally(() => admin.disconnect());
  await producer.connect();
  const ingester = createIngester({
    kafka,
    pool,
    topics: [],
    breakerTopic: topic,
    breakerControlTopic: controlTopic,
    groupId: uniqueName(`${name}-group`),
    log,
  });
  await ingester.start();
  const bridges: Bridge[] = [];
  return {
    kafka,
    producer,
    topic,
    controlTopic,
    pool,
    breakerStore,
    /** Remembers a bridge, for stop() to stop it. */
    track<B extends Bridge>(bridge: B): B {
      bridges.push(bridge);
      return bridge;
    },
    /** The pair as the dashboard's breakers list shows it. */
    listed: async (pair: string) => (await dashboard.breakers.list()).find((b) => b.pair === pair),
    /** The pair's transitions, oldest first, as "from→to". */
    transitions: async (pair: string) =>
      (await dashboard.breakers.history({ pair, range: "15m" })).transitions
        .map((t) => `${t.from}→${t.to}`)
        .reverse(),
    /** An operator's override, decided as the dashboard decides it. */
    override: async (pair: string, op: BreakerOverride["op"]) =>
      overrideBreaker(
        breakerStore,
        producer,
        prefix,
        { pair, op, idempotencyKey: uniqueName("key") },
        OPERATOR,
        await isReportedOnly(breakerStore, pool, pair),
      ),
    async stop() {
      await Promise.all(bridges.map((b) => b.stop()));
      await ingester.stop();
      await producer.disconnect();
      await breakerChanges.close();
      await sagaChanges.close();
      await prisma.$disconnect();
      await pool.end();
      redis.disconnect();
    },
  };
}
