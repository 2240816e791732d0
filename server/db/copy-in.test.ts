// A COPY whose data goes with its statement: the rows arrive, the data is on the wire before
// Postgres has answered (no round trip waiting for its readiness), and a COPY that fails,
// before or while reading its data, is answered with Postgres's error and leaves the
// connection ready for the next statement, the copy messages that followed it ignored.
// Statements after the COPY in its message read the copied rows, and their rows come back
// parsed as pg parses any query's.

import type { Socket } from "node:net";
import pg from "pg";
import { afterAll, describe, expect, it, vi } from "vitest";
import { testInfra } from "../../scripts/test/infra.ts";
import { copyIn, copyInThen } from "./copy-in.ts";
import { createPool, type PoolClient } from "./pool.ts";

const pool = createPool(testInfra().databaseUrl, 2);
afterAll(() => pool.end());

async function withTable<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("CREATE TEMP TABLE copy_in_test (n int, label text)");
    return await work(client);
  } finally {
    await client.query("DROP TABLE IF EXISTS copy_in_test").catch(() => {});
    client.release();
  }
}

describe("copyIn", () => {
  it("copies the rows, its data written in the same turn as its statement", async () => {
    await withTable(async (client) => {
      const data = Array.from({ length: 2000 }, (_, n) => `${n}\trow ${n}\n`).join("");
      const socket = (client as unknown as { connection: { stream: { bytesWritten: number } } }).connection
        .stream;
      const before = socket.bytesWritten;
      const copied = copyIn(client, "COPY copy_in_test (n, label) FROM STDIN", data);
      // Written (or queued to the socket) before any answer could have come back.
      expect(socket.bytesWritten - before).toBeGreaterThan(Buffer.byteLength(data));
      expect(await copied).toBe(2000);
      const { rows } = await client.query("SELECT count(*)::int AS n, max(label) AS last FROM copy_in_test");
      expect(rows[0]).toEqual({ n: 2000, last: "row 999" });
    });
  });

  it("hands the data block itself to the socket, not a copy, and the message leaves in one write", async () => {
    await withTable(async (client) => {
      const block = Buffer.from(Array.from({ length: 3000 }, (_, n) => `${n}\trow ${n}\n`).join(""));
      const socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
      const writes = vi.spyOn(socket, "write");
      const syscalls = vi.spyOn(socket as unknown as { _writev: () => void }, "_writev");
      try {
        expect(await copyIn(client, "COPY copy_in_test (n, label) FROM STDIN", block)).toBe(3000);
        expect(writes.mock.calls.some(([chunk]) => chunk === block)).toBe(true);
        // Statement, CopyData head, the block and CopyDone: corked, then written together.
        expect(writes.mock.calls.length).toBeGreaterThanOrEqual(4);
        expect(syscalls).toHaveBeenCalledTimes(1);
      } finally {
        writes.mockRestore();
        syscalls.mockRestore();
      }
    });
  });

  it("rides with BEGIN in one message, inside the transaction it opens", async () => {
    await withTable(async (client) => {
      expect(await copyIn(client, "BEGIN; COPY copy_in_test (n, label) FROM STDIN", "1\tone\n")).toBe(1);
      await client.query("ROLLBACK");
      const { rows } = await client.query("SELECT count(*)::int AS n FROM copy_in_test");
      expect(rows[0]).toEqual({ n: 0 });
    });
  });

  it("fails with Postgres's error when the statement fails before reading, and the connection goes on", async () => {
    await withTable(async (client) => {
      await expect(copyIn(client, "COPY no_such_table (n) FROM STDIN", "1\n2\n")).rejects.toMatchObject({
        code: "42P01",
      });
      expect((await client.query("SELECT 41 + 1 AS n")).rows).toEqual([{ n: 42 }]);
    });
  });

  it("fails with the driver's read timeout when Postgres does not answer in time (query_timeout)", async () => {
    const table = `copy_in_wait_${process.pid}`;
    await pool.query(`CREATE TABLE ${table} (n int)`);
    const holder = await pool.connect();
    const impatient = new pg.Client({ connectionString: testInfra().databaseUrl, query_timeout: 300 });
    try {
      await holder.query(`BEGIN; LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      await impatient.connect();
      await expect(
        copyIn(impatient as unknown as PoolClient, `COPY ${table} (n) FROM STDIN`, "1\n"),
      ).rejects.toThrow("Query read timeout");
    } finally {
      await holder.query("ROLLBACK");
      holder.release();
      await impatient.end().catch(() => {});
      await pool.query(`DROP TABLE ${table}`);
    }
  });

  it("fails with a data error for a value its column refuses, and the connection goes on", async () => {
    await withTable(async (client) => {
      const data = `1\tfine\nnot a number\tbad\n${"3\tafter\n".repeat(5000)}`;
      await expect(copyIn(client, "COPY copy_in_test (n, label) FROM STDIN", data)).rejects.toMatchObject({
        code: "22P02",
      });
      expect((await client.query("SELECT count(*)::int AS n FROM copy_in_test")).rows).toEqual([{ n: 0 }]);
      expect(await copyIn(client, "COPY copy_in_test (n, label) FROM STDIN", "7\tagain\n")).toBe(1);
    });
  });

  it("goes on after the COPY in the same message: later statements read the copied rows, parsed as pg parses them", async () => {
    await withTable(async (client) => {
      const { copied, results } = await copyInThen(
        client,
        `COPY copy_in_test (n, label) FROM STDIN;
         SELECT n, label, now() AS at, ARRAY[label] AS labels FROM copy_in_test WHERE n > 1 ORDER BY n;
         UPDATE copy_in_test SET label = 'seen';
         SELECT count(*)::bigint AS n FROM copy_in_test WHERE n > 99`,
        "1\tone\n2\ttwo\n3\tthree\n",
      );
      expect(copied).toBe(3);
      // One list of rows for each statement that answered with rows; the UPDATE has none.
      expect(results).toEqual([
        [
          { n: 2, label: "two", at: expect.any(Date), labels: ["two"] },
          { n: 3, label: "three", at: expect.any(Date), labels: ["three"] },
        ],
        [{ n: 0 }],
      ]);
      const { rows } = await client.query("SELECT DISTINCT label FROM copy_in_test");
      expect(rows).toEqual([{ label: "seen" }]);
    });
  });

  it("fails with the error of a statement after the COPY, and the connection goes on", async () => {
    await withTable(async (client) => {
      await expect(
        copyInThen(
          client,
          "COPY copy_in_test (n, label) FROM STDIN; SELECT n / 0 FROM copy_in_test",
          "1\tone\n",
        ),
      ).rejects.toMatchObject({ code: "22012" });
      expect((await client.query("SELECT 41 + 1 AS n")).rows).toEqual([{ n: 42 }]);
    });
  });

  it("takes a block of data for each COPY of its message; a COPY that fails leaves the blocks after it ignored", async () => {
    await withTable(async (client) => {
      await client.query("CREATE TEMP TABLE copy_in_other (label text PRIMARY KEY)");
      try {
        const { results } = await copyInThen(
          client,
          `COPY copy_in_test (n, label) FROM STDIN;
           COPY copy_in_other (label) FROM STDIN;
           SELECT (SELECT count(*)::int FROM copy_in_test) AS tests, (SELECT count(*)::int FROM copy_in_other) AS others`,
          ["1\tone\n2\ttwo\n", "a\nb\nc\n"],
        );
        expect(results).toEqual([[{ tests: 2, others: 3 }]]);
        // The second COPY breaks a key: the message fails with it, and the connection goes on.
        await expect(
          copyInThen(
            client,
            "BEGIN; COPY copy_in_test (n, label) FROM STDIN; COPY copy_in_other (label) FROM STDIN",
            ["3\tthree\n", "d\na\n"],
          ),
        ).rejects.toMatchObject({ code: "23505" });
        await client.query("ROLLBACK");
        // The first COPY breaks: the second block is ignored, not read as a statement.
        await expect(
          copyInThen(
            client,
            "COPY copy_in_other (label) FROM STDIN; COPY copy_in_test (n, label) FROM STDIN",
            ["a\n", "4\tfour\n"],
          ),
        ).rejects.toMatchObject({ code: "23505" });
        expect((await client.query("SELECT count(*)::int AS n FROM copy_in_test")).rows).toEqual([{ n: 2 }]);
      } finally {
        await client.query("DROP TABLE IF EXISTS copy_in_other").catch(() => {});
      }
    });
  });
});
