// One transaction on a pooled connection: committed when `work` resolves, rolled back
// when it throws, and the connection always returned to the pool.
import type { Pool, PoolClient } from "./pool.ts";

export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
