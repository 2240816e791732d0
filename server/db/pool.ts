// A raw pg pool for the hot paths (bulk ingestion, LISTEN/NOTIFY), where Prisma adds nothing.
import pg from "pg";

export type { Pool, PoolClient } from "pg";

// bigint columns (Kafka offsets) come back as strings by default; they fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createPool(databaseUrl: string, max = 5): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  return pool;
}
