// One transaction on a pooled connection: committed when `work` resolves, rolled back
// when it throws, and the connection always returned to the pool (or, when the connection
// itself failed, thrown away so the next transaction gets a fresh one). `prepare` runs on the
// connection before BEGIN, for session state that a rollback must not undo. On a hot path,
// withBoundaries lets BEGIN and COMMIT travel in one message with the work's own statements.
import { databaseUnreachableReason } from "./database-unreachable.ts";
import type { Pool, PoolClient } from "./pool.ts";

export function withTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
  prepare?: (client: PoolClient) => Promise<void>,
): Promise<T> {
  return withBoundaries(
    pool,
    async (client, boundaries) => {
      await boundaries.begin();
      return work(client);
    },
    prepare,
  );
}

/** BEGIN and COMMIT sent in one message with the work's first and last statements. */
export interface Boundaries {
  /**
   * The statement with BEGIN ahead of it when nothing has begun the transaction yet. Only for
   * text sent without parameters (a COPY too): Postgres runs a query string of several
   * statements only in the simple protocol.
   */
  opening(sql: string): string;
  /** Begins the transaction now, unless a statement already did. */
  begin(): Promise<void>;
  /**
   * A statement with no parameters whose answer nobody reads, sent in one message with the
   * transaction's last statement (closing), or with its COMMIT when the work sends none.
   */
  defer(sql: string): void;
  /** The work's last statement (no parameters, no rows) with the deferred ones ahead and COMMIT after it. */
  closing(sql: string): string;
}

/**
 * withTransaction for a hot path: two round trips fewer when the work opens with a statement
 * that can carry BEGIN and closes with one that can carry COMMIT, each costing far more than
 * its work on a loaded machine. Otherwise BEGIN and COMMIT go as statements of their own. A
 * failure rolls back whatever began; a ROLLBACK with nothing begun is a harmless warning.
 */
export async function withBoundaries<T>(
  pool: Pool,
  work: (client: PoolClient, boundaries: Boundaries) => Promise<T>,
  prepare?: (client: PoolClient) => Promise<void>,
): Promise<T> {
  const client = await pool.connect();
  let begun = false;
  let committed = false;
  let deferred: string[] = [];
  /** The deferred statements ahead of `sql`, taken: each is sent once. */
  const afterDeferred = (sql: string) => {
    const all = [...deferred, sql].join(";\n");
    deferred = [];
    return all;
  };
  const boundaries: Boundaries = {
    opening(sql) {
      if (begun) return sql;
      begun = true;
      return `BEGIN; ${sql}`;
    },
    async begin() {
      if (begun) return;
      begun = true;
      await client.query("BEGIN");
    },
    defer(sql) {
      if (!begun) throw new Error("deferring a statement to a transaction that has not begun");
      deferred.push(sql);
    },
    closing(sql) {
      if (!begun) throw new Error("closing a transaction that has not begun");
      committed = true;
      return `${afterDeferred(sql)}; COMMIT`;
    },
  };
  let broken: Error | undefined;
  try {
    await prepare?.(client);
    const result = await work(client, boundaries);
    if (begun && !committed) await client.query(afterDeferred("COMMIT"));
    return result;
  } catch (error) {
    if (databaseUnreachableReason(error)) broken = error as Error;
    else if (begun) await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release(broken);
  }
}
