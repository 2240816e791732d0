// One transaction on a pooled connection: committed when `work` resolves, rolled back
// when it throws, and the connection always returned to the pool (or, when the connection
// itself failed, thrown away so the next transaction gets a fresh one). `prepare` runs on the
// connection before BEGIN, for session state that a rollback must not undo.
import { databaseUnreachableReason } from "./database-unreachable.ts";
import type { Pool, PoolClient } from "./pool.ts";

export async function withTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
  prepare?: (client: PoolClient) => Promise<void>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await prepare?.(client);
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    if (databaseUnreachableReason(error)) broken = error as Error;
    else await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release(broken);
  }
}
