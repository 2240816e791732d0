// A transactional outbox in a service's own schema: messages are written in the same
// transaction as the state change that produced them, and a relay publishes them in id
// order. A change that rolled back leaves no message; a committed one is never lost.
import type { Message } from "kafkajs";
import type { Pool, PoolClient } from "../../db/pool.ts";

export interface OutboxRow {
  id: number;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

export interface OutboxMessage {
  topic: string;
  message: Message;
}

export interface OutboxTable {
  ddl: string[];
  /**
   * Adds messages inside the caller's transaction, in the given order. With `closing` (the
   * transaction's last statement, withBoundaries), COMMIT goes in the same message; the rows
   * then go as a literal, escaped by the driver, since Postgres runs two statements in one
   * message only without parameters.
   */
  insert(client: PoolClient, messages: OutboxMessage[], closing?: (sql: string) => string): Promise<void>;
  /**
   * The same insert to embed in a caller's own single statement, as the CTE `name`: it reads
   * the rows from parameter `$param`, given as `rowsParam(messages)`, and inserts them only
   * where `condition` (SQL) holds. The statement must select `wake` (an expression), which
   * notifies the relay at commit if a row went in, as `insert` does.
   */
  insertCte(name: string, param: number, condition?: string): { cte: string; wake: string };
  rowsParam(messages: OutboxMessage[]): string;
  /** The channel a commit that added messages notifies, so the relay publishes them at once. */
  channel: string;
  /** The oldest unpublished rows, or with "last" the newest one. */
  unpublished(limit: number, end?: "first" | "last"): Promise<OutboxRow[]>;
  markPublished(ids: number[]): Promise<void>;
  /** Sets a row aside that the broker refuses for good (kept, with the reason, never retried). */
  markRefused(id: number, reason: string): Promise<void>;
  /** Deletes published rows older than `olderThanMs`; returns how many. */
  prune(olderThanMs: number): Promise<number>;
}

/** What a relay uses of an outbox (a durable orchestrator's saga store offers the same). */
export type RelayedOutbox = Pick<
  OutboxTable,
  "unpublished" | "markPublished" | "markRefused" | "prune" | "channel"
>;

export function outboxTable(pool: Pool, schema: string): OutboxTable {
  const table = `"${schema}".outbox`;
  const rowsParam = (messages: OutboxMessage[]) =>
    JSON.stringify(
      messages.map(({ topic, message }, seq) => ({
        seq,
        topic,
        key: String(message.key),
        value: String(message.value),
        headers: message.headers,
      })),
    );
  // A channel name is at most 63 bytes; the schema is an identifier, so no quote to escape.
  const channel = `outbox:${schema}`.slice(0, 63);
  // Ids follow the messages' order, which is the order the relay publishes them in. The
  // notification is delivered at commit (never for a rolled-back change), once per transaction.
  // `rows` is the JSON's SQL: a parameter ($n) or a literal.
  const insertCteOf = (name: string, rows: string, condition = "true") => ({
    cte: `${name} AS (INSERT INTO ${table} (topic, key, value, headers)
     SELECT topic, key, value, headers FROM json_to_recordset(${rows}::json)
       AS r(seq int, topic text, key text, value text, headers jsonb) WHERE ${condition} ORDER BY seq
     RETURNING 1)`,
    wake: `(SELECT pg_notify('${channel}', '') FROM (SELECT 1 FROM ${name} LIMIT 1) AS one)`,
  });
  const insertCte = (name: string, param: number, condition?: string) =>
    insertCteOf(name, `$${param}`, condition);
  return {
    ddl: [
      `CREATE TABLE IF NOT EXISTS ${table} (
        id bigserial PRIMARY KEY, topic text NOT NULL, key text NOT NULL, value text NOT NULL,
        headers jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), published_at timestamptz)`,
      `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS refused_at timestamptz, ADD COLUMN IF NOT EXISTS refusal text`,
      `DROP INDEX IF EXISTS "${schema}".outbox_unpublished`,
      `CREATE INDEX IF NOT EXISTS outbox_pending ON ${table} (id) WHERE published_at IS NULL AND refused_at IS NULL`,
      `CREATE INDEX IF NOT EXISTS outbox_published ON ${table} (published_at) WHERE published_at IS NOT NULL`,
    ],

    async insert(client, messages, closing) {
      if (messages.length === 0) return;
      if (!closing) {
        const added = insertCte("added", 1);
        await client.query(`WITH ${added.cte} SELECT ${added.wake}`, [rowsParam(messages)]);
        return;
      }
      const added = insertCteOf("added", client.escapeLiteral(rowsParam(messages)));
      await client.query(closing(`WITH ${added.cte} SELECT ${added.wake}`));
    },

    insertCte,
    rowsParam,
    channel,

    async unpublished(limit, end = "first") {
      const r = await pool.query(
        `SELECT id, topic, key, value, headers FROM ${table} WHERE published_at IS NULL AND refused_at IS NULL
         ORDER BY id ${end === "last" ? "DESC" : "ASC"} LIMIT $1`,
        [limit],
      );
      return r.rows.map((row) => ({ ...row, id: Number(row.id) }));
    },

    async markPublished(ids) {
      await pool.query(`UPDATE ${table} SET published_at = now() WHERE id = ANY($1)`, [ids]);
    },

    async markRefused(id, reason) {
      await pool.query(`UPDATE ${table} SET refused_at = now(), refusal = $2 WHERE id = $1`, [id, reason]);
    },

    async prune(olderThanMs) {
      const r = await pool.query(
        `DELETE FROM ${table} WHERE published_at < now() - make_interval(secs => $1::double precision / 1000)`,
        [olderThanMs],
      );
      return r.rowCount ?? 0;
    },
  };
}
