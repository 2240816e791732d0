// What integration tests get from the global fixture, and small helpers around it.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";

export interface TestInfra {
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
}

declare module "vitest" {
  export interface ProvidedContext {
    infra: TestInfra;
  }
}

export function testInfra(): TestInfra {
  return inject("infra");
}

/** A name no other test or run uses, for topics, consumer groups and databases. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
}

/** A database of its own for one test file, on the test server; `drop` removes it. */
export async function scratchDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = uniqueName(prefix);
  const admin = new pg.Client({ connectionString: testInfra().databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(testInfra().databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Polls `probe` until it gives something other than undefined or false, or fails saying what it waited for. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A TCP port free on 127.0.0.1 right now, for a server a test starts. */
export { freePort } from "../processes.ts";

/**
 * A migrated database of the test's own, with a pool on it, made before the file's tests and
 * dropped after them: `const store = migratedStore("users")`, then `store.pool()`.
 */
export function migratedStore(prefix: string, poolSize = 2) {
  let db: Awaited<ReturnType<typeof scratchDatabase>> | undefined;
  let pool: import("../../server/db/pool.ts").Pool | undefined;
  beforeAll(async () => {
    const { migrate } = await import("../../server/db/migrate.ts");
    const { createPool } = await import("../../server/db/pool.ts");
    db = await scratchDatabase(prefix);
    await migrate(db.url, () => {});
    pool = createPool(db.url, poolSize);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is made in beforeAll: use it inside a test`);
    return value;
  };
  return { pool: () => ready(pool, "the pool"), url: () => ready(db, "the database").url };
}
