// The durable orchestrator's own tables: one row per saga (its machine state, its owner
// and lease), and an outbox of events written in the same transaction as the state that
// produced them. Every write is fenced by ownership: an instance that lost a saga to
// another (its lease ran out) can no longer change it.
import type { Pool } from "../../db/pool.ts";
import { serializedDdl } from "../../db/serialized-ddl.ts";
import { withTransaction } from "../../db/transaction.ts";
import { encodeSagaEvent, type SagaEvent, topicOfSagaEvent } from "../../events/index.ts";
import { outboxTable, type RelayedOutbox } from "../outbox/outbox-table.ts";
import type { SagaState } from "../saga-machine.ts";

/** What a control command decided, to be saved with its events in one transaction. */
export interface ControlWrite {
  outcome: "done" | "refused";
  message: string;
  /** The saga's new state; absent when refused. */
  state?: SagaState;
  events: SagaEvent[];
}

export type ControlApplied = "duplicate" | "busy" | { outcome: "done" | "refused"; message: string };

/** What became of a move's save: lost to another instance, saved, or saved and the saga is paused. */
export type SaveResult = "lost" | "saved" | "paused";

/** Pause and resume apply while a move is in flight: they change only whether the next one starts. */
const APPLIES_IN_FLIGHT: ReadonlySet<string> = new Set(["pause", "resume"]);

export interface ClaimedSaga {
  sagaId: string;
  state: SagaState;
}

export interface SagaStore extends RelayedOutbox {
  init(): Promise<void>;
  create(state: SagaState, events: SagaEvent[], owner: string, leaseMs: number): Promise<void>;
  /**
   * Takes up to `limit` sagas that are due and unowned, owned by `owner`, or whose lease
   * expired; never a paused one (even one paused while the instance that held it died mid-move:
   * its row still says the phase it had, and a resume makes it due again).
   */
  claim(owner: string, limit: number, leaseMs: number, running: string[]): Promise<ClaimedSaga[]>;
  /** Extends the lease of a saga whose move is still running; false when it was lost. */
  renew(owner: string, sagaId: string, leaseMs: number): Promise<boolean>;
  /**
   * Saves a move's result; "lost" when `owner` no longer owns the saga (nothing is written),
   * "paused" when an operator paused it meanwhile (the pause is kept and the saga handed back).
   */
  save(
    owner: string,
    state: SagaState,
    events: SagaEvent[],
    opts: { leaseMs: number; delayMs: number; beginning?: boolean },
  ): Promise<SaveResult>;
  /** Hands back every saga `owner` holds, for another instance to take at once. */
  releaseAll(owner: string): Promise<void>;
  counts(): Promise<Record<string, number>>;
  /**
   * Applies a control command once per command id: "duplicate" when it was seen before,
   * "busy" while a move of the saga is in flight under a live lease (its outcome would
   * overwrite the command's). A changed saga is handed back (no owner, due now), which
   * also fences the instance that held it. Pause and resume are not held back by a move in
   * flight: they change only the saga's pause, which that move's save keeps and obeys.
   */
  control(
    sagaId: string,
    commandId: string,
    action: string,
    decide: (state: SagaState | undefined, moveInFlight: boolean) => ControlWrite,
  ): Promise<ControlApplied>;
}

/** The row's phase: a paused saga is "paused" there, so no instance claims it until resumed. */
const rowPhase = (state: SagaState) => (state.paused ? "paused" : state.phase);

export function createSagaStore(
  pool: Pool,
  schema: string,
  topics: { sagaEvents: string; control: string },
): SagaStore {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new RangeError(`invalid schema name ${schema}`);
  const t = (table: string) => `"${schema}".${table}`;

  const outbox = outboxTable(pool, schema);
  const toOutbox = (events: SagaEvent[]) =>
    events.map((e) => ({
      topic: topicOfSagaEvent(e.type, topics),
      message: encodeSagaEvent(e),
    }));

  return {
    async init() {
      await serializedDdl(pool, schema, [
        `CREATE SCHEMA IF NOT EXISTS "${schema}"`,
        `CREATE TABLE IF NOT EXISTS ${t("saga_instance")} (
          saga_id text PRIMARY KEY, saga_type text NOT NULL, phase text NOT NULL, state jsonb NOT NULL,
          owner text, lease_until timestamptz, next_run_at timestamptz NOT NULL DEFAULT now(),
          created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`,
        `CREATE INDEX IF NOT EXISTS saga_instance_due ON ${t("saga_instance")} (next_run_at)
          WHERE phase IN ('forward', 'compensating')`,
        ...outbox.ddl,
        `CREATE TABLE IF NOT EXISTS ${t("control_command")} (
          command_id text PRIMARY KEY, saga_id text NOT NULL, action text NOT NULL, outcome text NOT NULL,
          message text NOT NULL, handled_at timestamptz NOT NULL DEFAULT now())`,
      ]);
    },

    // One statement, not a transaction of several: a saga's start is one round trip.
    async create(state, events, owner, leaseMs) {
      const messages = outbox.insertCte("messages", 7);
      await pool.query(
        `WITH instance AS (
           INSERT INTO ${t("saga_instance")} (saga_id, saga_type, phase, state, owner, lease_until)
           VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::double precision / 1000))
         ), ${messages.cte}
         SELECT ${messages.wake}`,
        [
          state.sagaId,
          state.sagaType,
          state.phase,
          JSON.stringify(state),
          owner,
          leaseMs,
          outbox.rowsParam(toOutbox(events)),
        ],
      );
    },

    async claim(owner, limit, leaseMs, running) {
      const result = await pool.query(
        `UPDATE ${t("saga_instance")} s
         SET owner = $1, lease_until = now() + make_interval(secs => $3::double precision / 1000), updated_at = now()
         WHERE s.saga_id IN (
           SELECT saga_id FROM ${t("saga_instance")}
           WHERE phase IN ('forward', 'compensating') AND next_run_at <= now() AND NOT (state ? 'paused')
             AND (owner IS NULL OR owner = $1 OR lease_until < now())
             AND saga_id <> ALL($4::text[])
           ORDER BY next_run_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING s.saga_id, s.state`,
        [owner, limit, leaseMs, running],
      );
      return result.rows.map((r) => ({ sagaId: r.saga_id, state: r.state as SagaState }));
    },

    // One statement (a move is saved twice, so its round trips are the orchestrator's pace):
    // the row is locked and judged, then written and its events added, as the decision says.
    //   lost           another instance owns the saga (or its lease ran out): nothing is written.
    //   paused-before  an operator paused the saga while this instance held it, and a move is
    //                  about to begin: nothing of the move is written; the saga is handed back
    //                  as paused, and no instance claims it until it is resumed.
    //   paused         paused while a move ran: its outcome is kept with the pause (the state in
    //                  hand predates it), and the saga is handed back as paused.
    //   saved          otherwise (a move that ended the saga ends a pause too).
    async save(owner, state, events, { leaseMs, delayMs, beginning }) {
      const finished = state.phase !== "forward" && state.phase !== "compensating";
      const messages = outbox.insertCte(
        "messages",
        9,
        "(SELECT result FROM decision) IN ('saved', 'paused')",
      );
      const r = await pool.query<{ result: "lost" | "paused-before" | "paused" | "saved" }>(
        `WITH current AS (
           SELECT owner = $2 AND lease_until >= now() AS owned, nullif(state->'paused', 'null'::jsonb) AS paused
           FROM ${t("saga_instance")} WHERE saga_id = $1 FOR UPDATE
         ), decision AS (
           SELECT paused, CASE
               WHEN NOT coalesce(owned, false) THEN 'lost'
               WHEN paused IS NOT NULL AND $7 THEN 'paused-before'
               WHEN paused IS NOT NULL AND NOT $8 THEN 'paused'
               ELSE 'saved' END AS result
           FROM current
         ), written AS (
           UPDATE ${t("saga_instance")} s SET updated_at = now(),
             state = CASE d.result WHEN 'paused-before' THEN s.state
               WHEN 'paused' THEN jsonb_set($3::jsonb, '{paused}', d.paused) ELSE $3::jsonb END,
             phase = CASE WHEN d.result IN ('paused-before', 'paused') THEN 'paused' ELSE $4 END,
             next_run_at = CASE WHEN d.result = 'paused-before' THEN s.next_run_at
               ELSE now() + make_interval(secs => $5::double precision / 1000) END,
             owner = CASE WHEN d.result IN ('paused-before', 'paused') OR $8 THEN NULL ELSE s.owner END,
             lease_until = CASE WHEN d.result IN ('paused-before', 'paused') OR $8 THEN NULL
               ELSE now() + make_interval(secs => $6::double precision / 1000) END
           FROM decision d WHERE s.saga_id = $1 AND d.result <> 'lost'
         ), ${messages.cte}
         SELECT result, ${messages.wake} AS woken FROM decision`,
        [
          state.sagaId,
          owner,
          JSON.stringify(state),
          rowPhase(state),
          delayMs,
          leaseMs,
          Boolean(beginning),
          finished,
          outbox.rowsParam(toOutbox(events)),
        ],
      );
      const result = r.rows[0]?.result ?? "lost";
      return result === "paused-before" ? "paused" : result;
    },

    async renew(owner, sagaId, leaseMs) {
      const r = await pool.query(
        `UPDATE ${t("saga_instance")} SET lease_until = now() + make_interval(secs => $3::double precision / 1000)
         WHERE saga_id = $1 AND owner = $2 AND lease_until >= now()`,
        [sagaId, owner, leaseMs],
      );
      return r.rowCount === 1;
    },

    async releaseAll(owner) {
      await pool.query(`UPDATE ${t("saga_instance")} SET owner = NULL, lease_until = NULL WHERE owner = $1`, [
        owner,
      ]);
    },

    unpublished: outbox.unpublished,
    markPublished: outbox.markPublished,
    markRefused: outbox.markRefused,
    prune: outbox.prune,
    channel: outbox.channel,

    async control(sagaId, commandId, action, decide) {
      return withTransaction(pool, async (client) => {
        const seen = await client.query(`SELECT 1 FROM ${t("control_command")} WHERE command_id = $1`, [
          commandId,
        ]);
        if (seen.rowCount) return "duplicate" as const;
        const row = await client.query(
          `SELECT state, owner IS NOT NULL AND lease_until >= now() AS leased
           FROM ${t("saga_instance")} WHERE saga_id = $1 FOR UPDATE`,
          [sagaId],
        );
        const current = row.rows[0] as { state: SagaState; leased: boolean } | undefined;
        const inFlight = Boolean(current?.state.move && current.leased);
        if (inFlight && !APPLIES_IN_FLIGHT.has(action)) return "busy" as const;
        const write = decide(current?.state, inFlight);
        if (write.state && inFlight) {
          // The move keeps its owner and finishes; its save keeps the pause and stops there.
          await client.query(
            `UPDATE ${t("saga_instance")} SET updated_at = now(),
               state = CASE WHEN $2::jsonb IS NULL THEN state - 'paused' ELSE jsonb_set(state, '{paused}', $2::jsonb) END
             WHERE saga_id = $1`,
            [sagaId, write.state.paused ? JSON.stringify(write.state.paused) : null],
          );
        } else if (write.state) {
          await client.query(
            `UPDATE ${t("saga_instance")} SET state = $2, phase = $3, owner = NULL, lease_until = NULL,
               next_run_at = now(), updated_at = now() WHERE saga_id = $1`,
            [sagaId, JSON.stringify(write.state), rowPhase(write.state)],
          );
        }
        // The primary key settles a race between two instances handed the same command.
        await client.query(
          `INSERT INTO ${t("control_command")} (command_id, saga_id, action, outcome, message)
           VALUES ($1, $2, $3, $4, $5)`,
          [commandId, sagaId, action, write.outcome, write.message],
        );
        await outbox.insert(client, toOutbox(write.events));
        return { outcome: write.outcome, message: write.message };
      });
    },

    async counts() {
      const r = await pool.query(
        `SELECT phase, count(*)::int AS n FROM ${t("saga_instance")} GROUP BY phase`,
      );
      return Object.fromEntries(r.rows.map((row) => [row.phase, row.n]));
    },
  };
}
