// A raw pg pool for the hot paths (bulk ingestion, LISTEN/NOTIFY), where Prisma adds nothing.
import pg from "pg";

export type { Pool, PoolClient } from "pg";

// bigint columns (Kafka offsets) come back as strings by default; they fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createPool(
  databaseUrl: string,
  max = 5,
  options: { statementTimeoutMs?: number } = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    // Set on every connection at its start; Postgres cancels a statement that runs longer.
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // A client losing its connection must not crash the process: idle ones are reported on the
  // pool, checked-out ones on themselves (the database restarted or refused us mid-transaction;
  // the query in hand fails with the same error and its caller decides). The next query reconnects.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}
