// A connection lost in the middle of a transaction (the database restarted, or an operator
// terminated the session) fails that transaction with the driver's error, and nothing else:
// no unhandled 'error' event takes the process down, and the pool's next transaction works.
// (Seen under load: the ingester died of an unhandled ECONNRESET while Postgres refused it.)
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { testInfra } from "../../scripts/test/infra.ts";
import { databaseUnreachableReason } from "./database-unreachable.ts";
import { createPool } from "./pool.ts";
import { withTransaction } from "./transaction.ts";

const pool = createPool(testInfra().databaseUrl, 2);
const admin = new pg.Pool({ connectionString: testInfra().databaseUrl, max: 1 });
afterAll(async () => {
  await pool.end();
  await admin.end();
});

describe("a connection lost mid-transaction", () => {
  it("terminated by the server: fails that transaction only; the pool goes on with a fresh connection", async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      const failed = withTransaction(pool, async (client) => {
        const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
        await admin.query("SELECT pg_terminate_backend($1)", [rows[0]?.pid]);
        await client.query("SELECT pg_sleep(0.2)");
      });
      const error = await failed.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(databaseUnreachableReason(error)).toBeDefined();
      // Any late 'error' event of the dead client has had its chance to fire.
      await new Promise((r) => setTimeout(r, 200));
      expect(uncaught).toEqual([]);
      await expect(
        withTransaction(pool, async (c) => (await c.query("SELECT 1 AS one")).rows[0]),
      ).resolves.toEqual({
        one: 1,
      });
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });

  it("reset under it between two queries (the stack seen under load): no unhandled 'error' event", async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.prependListener("uncaughtException", onUncaught);
    try {
      const error = await withTransaction(pool, async (client) => {
        await client.query("SELECT 1");
        // The socket fails while the client is checked out and no query is running, as a
        // connection reset by a restarting server does (pg reports it as a client 'error').
        const socket = (client as unknown as { connection: { stream: NodeJS.EventEmitter } }).connection
          .stream;
        setImmediate(() =>
          socket.emit("error", Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })),
        );
        await new Promise((r) => setTimeout(r, 50));
        await client.query("SELECT 1");
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(databaseUnreachableReason(error)).toBeDefined();
      expect(uncaught).toEqual([]);
      await expect(
        withTransaction(pool, async (c) => (await c.query("SELECT 2 AS two")).rows[0]),
      ).resolves.toEqual({
        two: 2,
      });
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });
});
