// The physical ceiling of a store: the very rows an ingest run left in its tables, written
// again by Postgres COPY into the same tables with the same indexes, one table after another
// on one connection. What the ingester's own work (decode, validate, deduplicate, fold
// summaries, commit offsets) costs is measured against it.
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import type { Pool } from "../../server/db/pool.ts";

interface TableCopy {
  table: string;
  columns: string[];
  data: Buffer;
  rows: number;
}

/** Reads each table's rows (COPY TO, binary) into memory: what the timed COPY FROM writes back. */
export async function takeRows(pool: Pool, tables: string[]): Promise<TableCopy[]> {
  const client = await pool.connect();
  try {
    const copies: TableCopy[] = [];
    for (const table of tables) {
      const columns = await client.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'
         ORDER BY ordinal_position`,
        [table],
      );
      const names = columns.rows.map((c) => c.column_name);
      const chunks: Buffer[] = [];
      await pipeline(
        client.query(copyTo(`COPY (SELECT ${names.join(", ")} FROM ${table}) TO STDOUT (FORMAT binary)`)),
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            chunks.push(chunk);
            done();
          },
        }),
      );
      const count = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      copies.push({ table, columns: names, data: Buffer.concat(chunks), rows: count.rows[0]?.n ?? 0 });
    }
    return copies;
  } finally {
    client.release();
  }
}

/** Empties the tables and writes the rows back by COPY FROM in one transaction; the time it took. */
export async function copyRowsBack(pool: Pool, copies: TableCopy[]): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query(`TRUNCATE ${copies.map((c) => c.table).join(", ")}`);
    const began = performance.now();
    await client.query("BEGIN");
    for (const copy of copies)
      await pipeline(
        Readable.from([copy.data]),
        client.query(copyFrom(`COPY ${copy.table} (${copy.columns.join(", ")}) FROM STDIN (FORMAT binary)`)),
      );
    await client.query("COMMIT");
    return performance.now() - began;
  } finally {
    client.release();
  }
}
