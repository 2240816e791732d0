// A transaction Postgres aborts to break a real deadlock runs again and both transactions'
// writes land once; any other error is not retried.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase } from "../../scripts/test/infra.ts";
import { createPool, type Pool } from "./pool.ts";
import { isDeadlock, retryOnDeadlock } from "./retry-deadlock.ts";
import { withTransaction } from "./transaction.ts";

let database: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;

beforeAll(async () => {
  database = await scratchDatabase("deadlock_retry");
  // Detect the deadlock quickly (for this database's sessions); the default 1 s would only slow the test.
  const setUp = createPool(database.url, 1);
  await setUp.query(
    `ALTER DATABASE ${new URL(database.url).pathname.slice(1)} SET deadlock_timeout = '100ms'`,
  );
  await setUp.end();
  pool = createPool(database.url, 4);
  await pool.query("CREATE TABLE counter (id text PRIMARY KEY, n int NOT NULL)");
  await pool.query("INSERT INTO counter VALUES ('a', 0), ('b', 0)");
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

/**
 * Two transactions that each lock one row, wait for the other to lock its own, then take the
 * other's row. A side's second try starts once the other side has committed: otherwise, on a
 * busy machine, the retry can lock its first row before the survivor takes it and deadlock
 * once more (which retryOnDeadlock would also survive, but then the count of retries varies).
 */
function crossedPair(onAttempt: () => void) {
  let locked = 0;
  let bothLocked: () => void = () => {};
  const barrier = new Promise<void>((resolve) => {
    bothLocked = resolve;
  });
  const committed: Record<string, () => void> = {};
  const done = Object.fromEntries(
    ["a", "b"].map((id) => [id, new Promise<void>((resolve) => (committed[id] = resolve))]),
  );
  const side = (first: string, second: string) => {
    let tries = 0;
    return async () => {
      tries += 1;
      if (tries > 1) await done[second];
      await withTransaction(pool, async (client) => {
        onAttempt();
        await client.query("UPDATE counter SET n = n + 1 WHERE id = $1", [first]);
        locked += 1;
        if (locked === 2) bothLocked();
        await barrier;
        await client.query("UPDATE counter SET n = n + 1 WHERE id = $1", [second]);
      });
      committed[first]?.();
    };
  };
  return { left: side("a", "b"), right: side("b", "a") };
}

describe("retryOnDeadlock", () => {
  it("runs the transaction Postgres aborted again, and both land once", async () => {
    await pool.query("UPDATE counter SET n = 0");
    let attempts = 0;
    const retried: number[] = [];
    const pair = crossedPair(() => {
      attempts += 1;
    });
    await Promise.all([
      retryOnDeadlock(pair.left, (n) => retried.push(n)),
      retryOnDeadlock(pair.right, (n) => retried.push(n)),
    ]);
    expect(retried).toEqual([1]);
    expect(attempts).toBe(3);
    const rows = await pool.query("SELECT id, n FROM counter ORDER BY id");
    expect(rows.rows).toEqual([
      { id: "a", n: 2 },
      { id: "b", n: 2 },
    ]);
  });

  it("without it one of the pair fails with the deadlock, and nothing of it is applied", async () => {
    await pool.query("UPDATE counter SET n = 0");
    const pair = crossedPair(() => {});
    const results = await Promise.allSettled([pair.left(), pair.right()]);
    const failed = results.filter((r) => r.status === "rejected");
    expect(failed).toHaveLength(1);
    expect(isDeadlock((failed[0] as PromiseRejectedResult).reason)).toBe(true);
    const total = await pool.query("SELECT sum(n)::int AS n FROM counter");
    expect(total.rows[0].n).toBe(2);
  });

  it("does not retry any other error", async () => {
    let attempts = 0;
    const duplicate = () =>
      withTransaction(pool, async (client) => {
        attempts += 1;
        await client.query("INSERT INTO counter VALUES ('a', 0)");
      });
    await expect(retryOnDeadlock(duplicate, () => {})).rejects.toMatchObject({ code: "23505" });
    expect(attempts).toBe(1);
  });
});
