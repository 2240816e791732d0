// The API while its database refuses connections: every read answers 503 with the database
// said to be unreachable (never a bare 500), and answers again by itself once it is back,
// with the same process-wide pool and Prisma client (no restart).
import { TRPCError } from "@trpc/server";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase, testInfra, uniqueName } from "../../scripts/test/infra.ts";
import { createBreakerStore } from "../breakers/index.ts";
import { migrate } from "../db/migrate.ts";
import { createPool, type Pool } from "../db/pool.ts";
import { createPrisma, type PrismaClient } from "../db/prisma.ts";
import { createBreakerChangeFeed } from "../live/breaker-change-feed.ts";
import { createSagaChangeFeed } from "../live/saga-change-feed.ts";
import { createLogger } from "../log.ts";
import { createCaller } from "./root.ts";

const log = createLogger("test", "error");
let database: { url: string; drop: () => Promise<void> };
let admin: pg.Client;
let pool: Pool;
let prisma: PrismaClient;
let redis: Redis;
let close: () => Promise<void>;
let caller: ReturnType<typeof createCaller>;

async function refuseConnections(refused: boolean) {
  const name = new URL(database.url).pathname.slice(1);
  await admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS ${refused ? "false" : "true"}`);
  if (refused)
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [name]);
}

beforeAll(async () => {
  database = await scratchDatabase("unreachable");
  await migrate(database.url);
  admin = new pg.Client({ connectionString: testInfra().databaseUrl });
  await admin.connect();
  pool = createPool(database.url, 2);
  prisma = createPrisma(database.url);
  redis = new Redis(testInfra().redisUrl);
  const breakerStore = createBreakerStore(redis, `${uniqueName("unreachable")}:`);
  const sagaChanges = createSagaChangeFeed(database.url, log, { flushMs: 20 });
  const breakerChanges = createBreakerChangeFeed(testInfra().redisUrl, breakerStore.channel, log);
  caller = createCaller({ prisma, pool, sagaChanges, breakerStore, breakerChanges });
  close = async () => {
    await sagaChanges.close();
    await breakerChanges.close();
  };
});

afterAll(async () => {
  await refuseConnections(false);
  await close();
  redis.disconnect();
  await prisma.$disconnect();
  await pool.end();
  await admin.end();
  await database.drop();
});

describe("the API without its database", () => {
  it("answers 503 'database unreachable' while refused, and reads again once it is back", async () => {
    expect((await caller.sagas.list({ filter: {} })).items).toEqual([]);
    await caller.overview.get();

    await refuseConnections(true);
    for (const read of [() => caller.sagas.list({ filter: {} }), () => caller.overview.get()]) {
      const error = await read().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TRPCError);
      expect((error as TRPCError).code).toBe("SERVICE_UNAVAILABLE");
      expect((error as TRPCError).message).toMatch(/^The database is unreachable/);
      expect((error as TRPCError).message).toContain("the page tries again by itself");
    }

    await refuseConnections(false);
    expect((await caller.sagas.list({ filter: {} })).items).toEqual([]);
    await caller.overview.get();
  });
});
