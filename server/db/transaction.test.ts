// withBoundaries: BEGIN and COMMIT ride in one message with the work's own statements, so a
// hot path's transaction costs two round trips fewer; and it is still one transaction, all or
// nothing, that leaves its connection clean for the next.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { scratchDatabase } from "../../scripts/test/infra.ts";
import { createPool, type Pool } from "./pool.ts";
import { prepareStagingTables, type StagingTable, stageRows } from "./staging-table.ts";
import { withBoundaries } from "./transaction.ts";

let database: Awaited<ReturnType<typeof scratchDatabase>>;
/** One connection, so the next transaction runs where the last one ended. */
let pool: Pool;
let other: Pool;

beforeAll(async () => {
  database = await scratchDatabase("boundaries");
  pool = createPool(database.url, 1);
  other = createPool(database.url, 1);
  await pool.query("CREATE TABLE item (n int PRIMARY KEY)");
});

afterAll(async () => {
  await pool?.end();
  await other?.end();
  await database?.drop();
});

const STAGED: StagingTable<{ n: number | string }> = { name: "staging_item", columns: { n: "int" } };

const stored = async () =>
  (await other.query<{ n: number }>("SELECT n FROM item ORDER BY n")).rows.map((r) => r.n);

/** Counts the statements sent on the pool's one connection while `run` runs. */
async function roundTrips(run: () => Promise<unknown>): Promise<number> {
  const client = await pool.connect();
  const spy = vi.spyOn(client, "query");
  client.release();
  try {
    await run();
    return spy.mock.calls.length;
  } finally {
    spy.mockRestore();
  }
}

describe("withBoundaries", () => {
  it("sends BEGIN with the first statement and COMMIT with the last: two statements, two round trips", async () => {
    await pool.query("TRUNCATE item");
    const trips = await roundTrips(() =>
      withBoundaries(pool, async (client, b) => {
        await client.query(b.opening("INSERT INTO item VALUES (1)"));
        // Inside the transaction: the other connection does not see the first row yet.
        expect(await stored()).toEqual([]);
        await client.query(b.closing("INSERT INTO item VALUES (2)"));
      }),
    );
    expect(trips).toBe(2);
    expect(await stored()).toEqual([1, 2]);
  });

  it("opens with a COPY too, and with the staging table's making when the connection has none yet", async () => {
    await pool.query("TRUNCATE item");
    await withBoundaries(pool, async (client, b) => {
      await stageRows(client, STAGED, [{ n: 5 }, { n: 6 }], { opening: b.opening });
      await client.query(b.closing(`INSERT INTO item SELECT n FROM ${STAGED.name}`));
    });
    expect(await stored()).toEqual([5, 6]);
  });

  it("rolls back everything when the statement carrying COMMIT fails, and leaves the connection clean", async () => {
    await pool.query("TRUNCATE item");
    await expect(
      withBoundaries(pool, async (client, b) => {
        await client.query(b.opening("INSERT INTO item VALUES (1)"));
        await client.query(b.closing("INSERT INTO item VALUES (1)")); // the same key again
      }),
    ).rejects.toMatchObject({ code: "23505" });
    expect(await stored()).toEqual([]);
    // Not left inside a transaction: this row, outside any, is seen from elsewhere at once.
    await pool.query("INSERT INTO item VALUES (3)");
    expect(await stored()).toEqual([3]);
  });

  it("rolls back a COPY carrying BEGIN that Postgres refuses, and leaves the connection clean", async () => {
    await pool.query("TRUNCATE item");
    const client = await pool.connect();
    await prepareStagingTables(client, [STAGED]);
    client.release();
    await expect(
      withBoundaries(pool, async (client, b) => {
        await stageRows(client, STAGED, [{ n: 1 }, { n: "one" }], { opening: b.opening });
      }),
    ).rejects.toMatchObject({ code: "22P02" });
    await pool.query("INSERT INTO item VALUES (4)");
    expect(await stored()).toEqual([4]);
  });

  it("begins and commits by statements of their own when the work's statements cannot carry them", async () => {
    await pool.query("TRUNCATE item");
    const trips = await roundTrips(() =>
      withBoundaries(pool, async (client, b) => {
        await b.begin();
        await b.begin(); // once only
        await client.query("INSERT INTO item VALUES ($1)", [8]);
      }),
    );
    expect(trips).toBe(3);
    expect(await stored()).toEqual([8]);
  });

  it("sends deferred statements with the last statement, or with COMMIT when there is none", async () => {
    await pool.query("TRUNCATE item");
    const withLast = await roundTrips(() =>
      withBoundaries(pool, async (client, b) => {
        await client.query(b.opening("INSERT INTO item VALUES (1)"));
        b.defer("INSERT INTO item VALUES (2)");
        b.defer("INSERT INTO item VALUES (3)");
        // Not sent yet: nothing of them is in the transaction before the last statement.
        expect((await client.query("SELECT count(*)::int AS n FROM item")).rows[0].n).toBe(1);
        await client.query(b.closing("INSERT INTO item VALUES (4)"));
      }),
    );
    expect(withLast).toBe(3);
    expect(await stored()).toEqual([1, 2, 3, 4]);
    const withCommit = await roundTrips(() =>
      withBoundaries(pool, async (client, b) => {
        await client.query(b.opening("INSERT INTO item VALUES (5)"));
        b.defer("INSERT INTO item VALUES (6)");
      }),
    );
    expect(withCommit).toBe(2);
    expect(await stored()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("rolls back deferred statements with the rest when one fails", async () => {
    await pool.query("TRUNCATE item");
    await expect(
      withBoundaries(pool, async (client, b) => {
        await client.query(b.opening("INSERT INTO item VALUES (1)"));
        b.defer("INSERT INTO item VALUES (1)"); // the same key again
      }),
    ).rejects.toMatchObject({ code: "23505" });
    expect(await stored()).toEqual([]);
    await pool.query("INSERT INTO item VALUES (7)");
    expect(await stored()).toEqual([7]);
  });

  it("refuses to close a transaction that has not begun", async () => {
    await expect(withBoundaries(pool, async (_client, b) => b.closing("SELECT 1"))).rejects.toThrow(
      "closing a transaction that has not begun",
    );
  });
});
