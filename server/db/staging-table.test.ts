// Rows staged by COPY come back from Postgres exactly as they were sent, whatever their text
// holds (COPY's separators, backslashes, quotes, braces, non-ASCII), and a value Postgres
// cannot hold is refused as a data error, so the ingester quarantines the message at fault.
import { afterAll, describe, expect, it } from "vitest";
import { testInfra } from "../../scripts/test/infra.ts";
import { createPool, type PoolClient } from "./pool.ts";
import { copyLines, prepareStagingTables, type StagingTable, stageRows } from "./staging-table.ts";
import { withTransaction } from "./transaction.ts";

interface Row {
  n: number;
  label: string | null;
  data: unknown;
  tags: string[];
  at: Date | null;
  flag: boolean;
}

const TABLE: StagingTable<Row> = {
  name: "staging_test_row",
  columns: { n: "int", label: "text", data: "jsonb", tags: "text[]", at: "timestamptz", flag: "boolean" },
};

const pool = createPool(testInfra().databaseUrl, 2);
afterAll(() => pool.end());

const awkward = [
  "tab\there",
  "line\nbreak and\r\ncarriage",
  "back\\slash \\N \\. end",
  'quote " and {brace,comma}',
  "ünïcødé ✓ 🚀",
  "",
];

const rows: Row[] = awkward.map((label, n) => ({
  n,
  label,
  data: { label, nested: { list: [label, 1.5, null, true] } },
  tags: [label, "NULL", "plain"],
  at: new Date(Date.UTC(2026, 11, 4, 3, 0, n, 123)),
  flag: n % 2 === 0,
}));
rows.push({ n: awkward.length, label: null, data: {}, tags: [], at: null, flag: false });

describe("a staging table", () => {
  it("writes one COPY line per row, separators escaped", () => {
    const text = copyLines(TABLE, rows);
    expect(text.split("\n")).toHaveLength(rows.length + 1);
    expect(text.split("\n")[0]?.split("\t")).toHaveLength(6);
    expect(text).toContain("\\N");
  });

  it("outlives a rolled-back transaction when the connection was prepared, and is made again when it was not", async () => {
    const staged = async (client: PoolClient, end: "COMMIT" | "ROLLBACK") => {
      await client.query("BEGIN");
      await stageRows(client, TABLE, rows);
      const { rows: count } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${TABLE.name}`,
      );
      await client.query(end);
      return count[0]?.n;
    };
    const prepared = await pool.connect();
    const unprepared = await pool.connect();
    try {
      await prepareStagingTables(prepared, [TABLE]);
      expect(await staged(prepared, "ROLLBACK")).toBe(rows.length);
      expect(await staged(prepared, "COMMIT")).toBe(rows.length);
      // Made inside a transaction that rolled back: gone with it, so not taken as made.
      expect(await staged(unprepared, "ROLLBACK")).toBe(rows.length);
      expect(await staged(unprepared, "COMMIT")).toBe(rows.length);
    } finally {
      prepared.release();
      unprepared.release();
    }
  });

  it("gives back exactly the rows staged, and is empty again after the commit", async () => {
    const back = await withTransaction(pool, async (client) => {
      await stageRows(client, TABLE, rows);
      const { rows: read } = await client.query(`SELECT * FROM ${TABLE.name} ORDER BY n`);
      return read;
    });
    expect(back).toEqual(rows);
    const after = await withTransaction(pool, async (client) => {
      await stageRows(client, TABLE, []);
      return (await client.query(`SELECT count(*)::int AS n FROM ${TABLE.name}`)).rows[0]?.n;
    });
    expect(after).toBe(0);
  });

  it("refuses a NUL in text as a data error (SQLSTATE class 22), the transaction rolled back", async () => {
    const bad = { ...rows[0], label: "nul\u0000inside" } as Row;
    await expect(withTransaction(pool, (client) => stageRows(client, TABLE, [bad]))).rejects.toMatchObject({
      code: expect.stringMatching(/^22/),
    });
  });
});
