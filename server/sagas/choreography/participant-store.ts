// A choreography participant's own bookkeeping, in its own schema beside its business
// tables: the event ids it has handled (dedupe), messages it parked (or held while the saga
// was paused), the message that triggered each step it performed (so an operator's
// retry-from can handle it again), what operators asked of each saga, commands waiting for
// their saga to end, and its outbox.
import type { Pool, PoolClient } from "../../db/pool.ts";
import { serializedDdl } from "../../db/serialized-ddl.ts";
import { outboxTable } from "../outbox/outbox-table.ts";

export interface SagaMark {
  cancelRequested: boolean;
  resolved: boolean;
  ended: "completed" | "compensated" | "failed" | null;
  /** A step of the saga failed for good at this participant: the saga is compensating. */
  failed: boolean;
  /** An operator paused the saga: its messages are held until resumed. */
  paused: { by: string; since: Date } | null;
}

/** A message as read from Kafka, kept byte for byte. */
export interface StoredMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface ParkedMessage extends StoredMessage {
  id: number;
  sagaId: string | null;
  reason: string;
  /** Held while the saga was paused (handled on resume), rather than parked as failing. */
  held?: boolean;
}

/** A kept message as its row holds it (topic, kafka_partition, kafka_offset, key, value, headers). */
function storedMessage(row: Record<string, unknown>): StoredMessage {
  return {
    topic: row.topic as string,
    partition: row.kafka_partition as number,
    offset: String(row.kafka_offset),
    key: row.key as Buffer | null,
    value: row.value as Buffer | null,
    headers: row.headers as Record<string, string>,
  };
}

/** How long a trigger is kept when its saga's end is not seen here (ParticipantOptions.keepTriggersMs). */
export const DEFAULT_KEEP_TRIGGERS_MS = 7 * 86_400_000;

/** A saga's mark as read from `saga_mark m`; every column null when there is no row yet. */
const MARK_COLUMNS = `m.cancel_requested_at IS NOT NULL AS cancel, m.resolved_at IS NOT NULL AS resolved, m.ended,
  m.failed_at IS NOT NULL AS failed, m.paused_at, m.paused_by`;

function markOf(row: Record<string, unknown> | undefined): SagaMark {
  return {
    cancelRequested: row?.cancel === true,
    resolved: row?.resolved === true,
    ended: (row?.ended as SagaMark["ended"] | undefined) ?? null,
    failed: row?.failed === true,
    paused: row?.paused_at ? { by: row.paused_by as string, since: row.paused_at as Date } : null,
  };
}

/** A keeping time as a participant's answer states it: "7 d", "12 h", "30 min", "45 s". */
export function formatKept(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "min"],
  ];
  for (const [size, unit] of units) if (ms >= size) return `${Math.round(ms / size)} ${unit}`;
  return `${Math.round(ms / 1000)} s`;
}

/** Triggers dropped per statement when old ones are pruned. */
export const TRIGGER_PRUNE_BATCH = 5_000;

/** A kept message's columns, in the order the tables list them. */
const messageColumns = (m: StoredMessage) => [m.topic, m.partition, m.offset, m.key, m.value, m.headers];

/**
 * A value as an SQL literal, for a statement sent in one message with others (Postgres runs
 * several statements in one message only without parameters); Postgres gives it the type of
 * the column it is inserted into. Text is escaped by the driver, bytes go as hex (no quote),
 * objects as their JSON.
 */
function literal(client: PoolClient, value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (Buffer.isBuffer(value)) return `decode('${value.toString("hex")}', 'hex')`;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "string") return client.escapeLiteral(value);
  return client.escapeLiteral(JSON.stringify(value));
}

/** A kept message's columns as literals (messageColumns). */
const messageLiterals = (client: PoolClient, m: StoredMessage) =>
  messageColumns(m)
    .map((v) => literal(client, v))
    .join(", ");

/** The last statement's answer: for a message of several statements, the driver answers with one result each. */
function lastResult(answer: unknown): { rows: Record<string, unknown>[] } {
  return (Array.isArray(answer) ? answer.at(-1) : answer) as { rows: Record<string, unknown>[] };
}

/** The key of a step's trigger: a message handled again replaces the one kept. */
const TRIGGER_UPSERT = `ON CONFLICT (saga_id, step) DO UPDATE SET topic = EXCLUDED.topic, kafka_partition = EXCLUDED.kafka_partition,
           kafka_offset = EXCLUDED.kafka_offset, key = EXCLUDED.key, value = EXCLUDED.value,
           headers = EXCLUDED.headers, handled_at = now()`;

export function createParticipantStore(
  pool: Pool,
  schema: string,
  keepTriggersMs: number = DEFAULT_KEEP_TRIGGERS_MS,
) {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new RangeError(`invalid schema name ${schema}`);
  if (!(keepTriggersMs >= 1000))
    throw new RangeError(`keepTriggersMs is 1000 at least, not ${keepTriggersMs}`);
  const t = (table: string) => `"${schema}".${table}`;
  const outbox = outboxTable(pool, schema);

  return {
    outbox,
    pool,
    schema,
    /** How long a trigger is kept when its saga's end is not seen here. */
    keepTriggersMs,

    init: () =>
      serializedDdl(pool, schema, [
        `CREATE SCHEMA IF NOT EXISTS "${schema}"`,
        `CREATE TABLE IF NOT EXISTS ${t("processed_event")} (
          event_id text PRIMARY KEY, saga_id text, type text NOT NULL, processed_at timestamptz NOT NULL DEFAULT now())`,
        `CREATE TABLE IF NOT EXISTS ${t("parked_message")} (
          id bigserial PRIMARY KEY, saga_id text, topic text NOT NULL, kafka_partition int NOT NULL,
          kafka_offset bigint NOT NULL, key bytea, value bytea, headers jsonb NOT NULL, reason text NOT NULL,
          parked_at timestamptz NOT NULL DEFAULT now(), redriven_at timestamptz)`,
        `CREATE INDEX IF NOT EXISTS parked_message_saga ON ${t("parked_message")} (saga_id) WHERE redriven_at IS NULL`,
        `CREATE TABLE IF NOT EXISTS ${t("saga_mark")} (
          saga_id text PRIMARY KEY, cancel_requested_at timestamptz, resolved_at timestamptz, ended text)`,
        // Added with pause and resume; schemas made before get them here.
        `ALTER TABLE ${t("saga_mark")} ADD COLUMN IF NOT EXISTS paused_at timestamptz,
          ADD COLUMN IF NOT EXISTS paused_by text`,
        `ALTER TABLE ${t("parked_message")} ADD COLUMN IF NOT EXISTS held boolean NOT NULL DEFAULT false`,
        // Added with retry-from: a step of the saga failed for good here.
        `ALTER TABLE ${t("saga_mark")} ADD COLUMN IF NOT EXISTS failed_at timestamptz`,
        `CREATE TABLE IF NOT EXISTS ${t("step_trigger")} (
          saga_id text NOT NULL, step text NOT NULL, topic text NOT NULL, kafka_partition int NOT NULL,
          kafka_offset bigint NOT NULL, key bytea, value bytea, headers jsonb NOT NULL,
          handled_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (saga_id, step))`,
        // Added with trigger pruning: the oldest triggers are found without a scan.
        `CREATE INDEX IF NOT EXISTS step_trigger_handled ON ${t("step_trigger")} (handled_at)`,
        `CREATE TABLE IF NOT EXISTS ${t("pending_command")} (
          command_id text PRIMARY KEY, saga_id text NOT NULL, action text NOT NULL,
          received_at timestamptz NOT NULL DEFAULT now())`,
        ...outbox.ddl,
      ]),

    /** True the first time an event id is seen; inside the transaction that handles it. */
    async claimEvent(client: PoolClient, eventId: string, sagaId: string | null, type: string) {
      const r = await client.query(
        `INSERT INTO ${t("processed_event")} (event_id, saga_id, type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [eventId, sagaId, type],
      );
      return r.rowCount === 1;
    },

    async processed(eventId: string): Promise<boolean> {
      const r = await pool.query(`SELECT 1 FROM ${t("processed_event")} WHERE event_id = $1`, [eventId]);
      return (r.rowCount ?? 0) > 0;
    },

    async forgetEvent(client: PoolClient, eventId: string) {
      await client.query(`DELETE FROM ${t("processed_event")} WHERE event_id = $1`, [eventId]);
    },

    /** What operators asked of the saga; `lock` holds it against a change until the transaction ends. */
    async mark(client: PoolClient | Pool, sagaId: string, lock = false): Promise<SagaMark> {
      const r = await client.query(
        `SELECT ${MARK_COLUMNS} FROM ${t("saga_mark")} m WHERE saga_id = $1${lock ? " FOR SHARE" : ""}`,
        [sagaId],
      );
      return markOf(r.rows[0]);
    },

    /**
     * claimEvent and an unlocked read of the saga's mark in one statement, which `opening` may
     * put BEGIN ahead of: a handled message's first round trip does what three did (the mark,
     * BEGIN, the claim). The values go as literals, escaped by the driver: Postgres runs two
     * statements in one message only without parameters.
     */
    async claimAndMark(
      client: PoolClient,
      event: { id: string; sagaId: string; type: string },
      opening: (sql: string) => string = (sql) => sql,
    ): Promise<{ fresh: boolean; mark: SagaMark }> {
      const [id, sagaId, type] = [event.id, event.sagaId, event.type].map((v) => client.escapeLiteral(v));
      const answer: unknown = await client.query(
        opening(`WITH claimed AS (
           INSERT INTO ${t("processed_event")} (event_id, saga_id, type) VALUES (${id}, ${sagaId}, ${type})
           ON CONFLICT DO NOTHING RETURNING 1)
         SELECT EXISTS (SELECT FROM claimed) AS fresh, ${MARK_COLUMNS}
         FROM (SELECT) AS one LEFT JOIN ${t("saga_mark")} m ON m.saga_id = ${sagaId}`),
      );
      const row = lastResult(answer).rows[0] as Record<string, unknown>;
      return { fresh: row.fresh === true, mark: markOf(row) };
    },

    /** Pauses the saga (by whom) or, with null, resumes it. */
    async setPaused(client: PoolClient, sagaId: string, by: string | null) {
      await client.query(
        `INSERT INTO ${t("saga_mark")} (saga_id, paused_at, paused_by) VALUES ($1, CASE WHEN $2::text IS NULL THEN NULL ELSE now() END, $2)
         ON CONFLICT (saga_id) DO UPDATE SET paused_at = EXCLUDED.paused_at, paused_by = EXCLUDED.paused_by`,
        [sagaId, by],
      );
    },

    /** Records an operator's request (cancel, resolve) or a step's failure here; the first record of each stays. */
    async setMark(client: PoolClient, sagaId: string, what: "cancel" | "resolve" | "fail") {
      const column = { cancel: "cancel_requested_at", resolve: "resolved_at", fail: "failed_at" }[what];
      await client.query(
        `INSERT INTO ${t("saga_mark")} (saga_id, ${column}) VALUES ($1, now())
         ON CONFLICT (saga_id) DO UPDATE SET ${column} = COALESCE(${t("saga_mark")}.${column}, EXCLUDED.${column})`,
        [sagaId],
      );
    },

    async park(client: PoolClient, message: Omit<ParkedMessage, "id">) {
      await client.query(
        `INSERT INTO ${t("parked_message")} (saga_id, topic, kafka_partition, kafka_offset, key, value, headers, reason, held)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [message.sagaId, ...messageColumns(message), message.reason, message.held ?? false],
      );
    },

    /** The saga's parked (or, with `held`, held while paused) messages not yet re-driven, oldest first. */
    async listParked(sagaId: string, which: { held: boolean } = { held: false }): Promise<ParkedMessage[]> {
      const r = await pool.query(
        `SELECT id, saga_id, topic, kafka_partition, kafka_offset, key, value, headers, reason
         FROM ${t("parked_message")} WHERE saga_id = $1 AND redriven_at IS NULL AND held = $2 ORDER BY id`,
        [sagaId, which.held],
      );
      return r.rows.map((row) => ({
        ...storedMessage(row),
        id: Number(row.id),
        sagaId: row.saga_id,
        reason: row.reason,
      }));
    },

    /** Sagas with messages held while paused that are paused no longer (a resume cut short by a crash). */
    async sagasHeldUnpaused(): Promise<string[]> {
      const r = await pool.query(
        `SELECT DISTINCT p.saga_id FROM ${t("parked_message")} p
         LEFT JOIN ${t("saga_mark")} m USING (saga_id)
         WHERE p.held AND p.redriven_at IS NULL AND m.paused_at IS NULL`,
      );
      return r.rows.map((row) => row.saga_id as string);
    },

    /**
     * Keeps the message that triggered a step the participant performed (the latest, if handled
     * again): a statement with its values as literals, to defer to the transaction's last
     * message (a step's transaction is a round trip shorter).
     */
    keepTriggerStatement(client: PoolClient, sagaId: string, step: string, message: StoredMessage): string {
      return `INSERT INTO ${t("step_trigger")} (saga_id, step, topic, kafka_partition, kafka_offset, key, value, headers)
         VALUES (${client.escapeLiteral(sagaId)}, ${client.escapeLiteral(step)}, ${messageLiterals(client, message)})
         ${TRIGGER_UPSERT}`;
    },

    /** The message that triggered `step` of the saga here, if the participant performed it. */
    async trigger(sagaId: string, step: string): Promise<StoredMessage | undefined> {
      const r = await pool.query(
        `SELECT topic, kafka_partition, kafka_offset, key, value, headers FROM ${t("step_trigger")}
         WHERE saga_id = $1 AND step = $2`,
        [sagaId, step],
      );
      return r.rows[0] ? storedMessage(r.rows[0]) : undefined;
    },

    /**
     * Drops the saga's triggers (it ended here, and a retry-from applies only to a saga moving
     * forward): a statement to defer to the transaction's last message.
     */
    dropTriggersStatement(client: PoolClient, sagaId: string): string {
      return `DELETE FROM ${t("step_trigger")} WHERE saga_id = ${client.escapeLiteral(sagaId)}`;
    },

    /**
     * Drops triggers kept longer than `keepTriggersMs` (sagas that ended elsewhere, or never),
     * at most `batch` rows a statement so no prune holds many locks, while `goOn()` says so;
     * returns how many went.
     */
    async pruneTriggers(batch = TRIGGER_PRUNE_BATCH, goOn = () => true): Promise<number> {
      let dropped = 0;
      while (goOn()) {
        const r = await pool.query(
          `DELETE FROM ${t("step_trigger")} WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM ${t("step_trigger")} WHERE handled_at < now() - $1 * interval '1 millisecond'
             ORDER BY handled_at LIMIT $2))`,
          [keepTriggersMs, batch],
        );
        dropped += r.rowCount ?? 0;
        if ((r.rowCount ?? 0) < batch) break;
      }
      return dropped;
    },

    async markRedriven(id: number) {
      await pool.query(`UPDATE ${t("parked_message")} SET redriven_at = now() WHERE id = $1`, [id]);
    },

    async addPending(client: PoolClient, commandId: string, sagaId: string, action: string) {
      await client.query(
        `INSERT INTO ${t("pending_command")} (command_id, saga_id, action) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [commandId, sagaId, action],
      );
    },

    /**
     * The owner saw the saga end: records how (the first record stays), then takes the commands
     * that waited for the end. One message, two statements in this order, each with its own
     * snapshot: a command that queued itself while the mark waited for its lock is still taken,
     * and one that comes after the mark sees the saga ended.
     */
    async endAndTakePending(
      client: PoolClient,
      sagaId: string,
      ended: string,
    ): Promise<{ commandId: string; action: string }[]> {
      const [id, how] = [client.escapeLiteral(sagaId), client.escapeLiteral(ended)];
      const answer: unknown = await client.query(
        `INSERT INTO ${t("saga_mark")} (saga_id, ended) VALUES (${id}, ${how})
         ON CONFLICT (saga_id) DO UPDATE SET ended = COALESCE(${t("saga_mark")}.ended, EXCLUDED.ended);
         DELETE FROM ${t("pending_command")} WHERE saga_id = ${id} RETURNING command_id, action`,
      );
      return lastResult(answer).rows.map((row) => ({
        commandId: row.command_id as string,
        action: row.action as string,
      }));
    },
  };
}

export type ParticipantStore = ReturnType<typeof createParticipantStore>;
