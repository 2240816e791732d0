// Rows written in COPY's binary format are read by Postgres as the same values: every type the
// writer knows, at their edges (NULL, empty and multi-byte text, int4's bounds, int8 past
// 32 bits, timestamps before Postgres's epoch and with milliseconds, JSON holding COPY text's
// separators), a batch larger than the writer's first buffer, and the same rows the text
// format gives. A value its column cannot take is refused before anything is sent; a text
// holding NUL is refused by Postgres as a data error (SQLSTATE class 22), as in text format,
// so the ingester's quarantine of a refused message still applies.
import { afterAll, describe, expect, it } from "vitest";
import { testInfra } from "../../scripts/test/infra.ts";
import { binaryCopyOf } from "./copy-binary.ts";
import { copyIn } from "./copy-in.ts";
import { createPool, type PoolClient } from "./pool.ts";
import { copyLines, copyStatement, type StagingTable } from "./staging-table.ts";

const pool = createPool(testInfra().databaseUrl, 2);
afterAll(() => pool.end());

interface Row {
  label: string | null;
  n: number | null;
  big: number | null;
  at: Date | string | null;
  doc: unknown;
}

const TABLE: StagingTable<Row> = {
  name: "copy_binary_test",
  columns: { label: "text", n: "int", big: "bigint", at: "timestamptz", doc: "jsonb" },
};
const binary = binaryCopyOf(TABLE);

async function withTable<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(
      `CREATE TEMP TABLE ${TABLE.name} (i serial, label text, n int, big bigint, at timestamptz(3), doc jsonb)`,
    );
    return await work(client);
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${TABLE.name}`).catch(() => {});
    client.release();
  }
}

/** What Postgres holds, as text, in the order the rows were copied. */
async function stored(client: PoolClient) {
  const { rows } = await client.query(
    `SELECT label, n, big::text AS big, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS at, doc
     FROM ${TABLE.name} ORDER BY i`,
  );
  return rows;
}

const EDGES: Row[] = [
  { label: null, n: null, big: null, at: null, doc: null },
  { label: "", n: 0, big: 0, at: new Date("2000-01-01T00:00:00.000Z"), doc: {} },
  {
    label: "tab\there, newline\nthere, back\\slash, ünïcödé, 中文, emoji 🧭",
    n: 2 ** 31 - 1,
    big: 2 ** 53 - 1,
    at: new Date("2026-12-07T10:11:12.345Z"),
    doc: { s: 'a\tb\nc\\d"e', nested: [1, 2.5, true, null, { k: "中" }], emoji: "🧭" },
  },
  {
    label: "x".repeat(5000),
    n: -(2 ** 31),
    big: -(2 ** 40) - 7,
    at: "1999-12-31T23:59:59.999Z",
    doc: [{ many: "y".repeat(3000) }],
  },
  {
    label: "before the Unix epoch",
    n: -1,
    big: -1,
    at: new Date("1969-07-20T20:17:40.001Z"),
    doc: "a string",
  },
];

describe("binaryCopyOf", () => {
  it("copies every type at its edges as the same values", async () => {
    await withTable(async (client) => {
      expect(await copyIn(client, copyStatement(TABLE, "binary"), binary.rows(EDGES))).toBe(EDGES.length);
      expect(await stored(client)).toEqual([
        { label: null, n: null, big: null, at: null, doc: null },
        { label: "", n: 0, big: "0", at: "2000-01-01 00:00:00.000", doc: {} },
        {
          label: EDGES[2]?.label,
          n: 2147483647,
          big: "9007199254740991",
          at: "2026-12-07 10:11:12.345",
          doc: EDGES[2]?.doc,
        },
        {
          label: "x".repeat(5000),
          n: -2147483648,
          big: "-1099511627783",
          at: "1999-12-31 23:59:59.999",
          doc: EDGES[3]?.doc,
        },
        { label: "before the Unix epoch", n: -1, big: "-1", at: "1969-07-20 20:17:40.001", doc: "a string" },
      ]);
    });
  });

  it("stores a batch past its first buffer as the text format stores it", async () => {
    const rows: Row[] = Array.from({ length: 3000 }, (_, i) => ({
      label: `row ${i} ${"é".repeat(i % 700)}`,
      n: i,
      big: i * 4_294_967_311,
      at: new Date(Date.UTC(2026, 11, 7) + i * 1001),
      doc: { i, text: "z\n".repeat(i % 300) },
    }));
    await withTable(async (client) => {
      await copyIn(client, copyStatement(TABLE, "binary"), binary.rows(rows));
      const byBinary = await stored(client);
      await client.query(`TRUNCATE ${TABLE.name}`);
      await copyIn(client, copyStatement(TABLE), copyLines(TABLE, rows));
      const byText = await stored(client);
      expect(byBinary).toHaveLength(3000);
      expect(byBinary).toEqual(byText);
    });
  });

  it("refuses a value its column cannot take, naming the column, before anything is sent", () => {
    const base = { label: "a", n: 1, big: 1, at: new Date(), doc: {} };
    expect(() => binary.rows([{ ...base, n: 1.5 }])).toThrow(/column "n" \(int\)/);
    expect(() => binary.rows([{ ...base, n: 2 ** 31 }])).toThrow(/column "n" \(int\)/);
    expect(() => binary.rows([{ ...base, big: 2 ** 53 }])).toThrow(/column "big" \(bigint\)/);
    expect(() => binary.rows([{ ...base, at: "not a time" }])).toThrow(/column "at" \(timestamptz\)/);
    expect(() => binary.rows([{ ...base, label: 7 as unknown as string }])).toThrow(
      /column "label" \(text\)/,
    );
    expect(() => binaryCopyOf({ name: "t", columns: { tags: "text[]" } })).toThrow(/tags: type text\[\]/);
  });

  it("leaves a text holding NUL to Postgres, which refuses it as a data error", async () => {
    await withTable(async (client) => {
      const rows = [{ label: "nul\u0000inside", n: 1, big: 1, at: new Date(), doc: {} }];
      await expect(copyIn(client, copyStatement(TABLE, "binary"), binary.rows(rows))).rejects.toMatchObject({
        code: expect.stringMatching(/^22/),
      });
      expect((await client.query("SELECT 41 + 1 AS n")).rows).toEqual([{ n: 42 }]);
    });
  });
});
