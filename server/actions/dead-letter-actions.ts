// What an operator does with quarantined messages: replay them (their exact key, value and
// headers, to the topic they came from, once the producer or the contract is fixed) or
// discard them with a reason. One letter or every open letter matching a filter, capped,
// with a preview first. A letter is claimed before it is sent, so two operators never replay
// it twice; a send that fails gives the claim back. A replayed message that breaks the
// contract again simply becomes a new dead letter at its new position.
import type { Producer } from "kafkajs";
import { z } from "zod";
import type { Pool } from "../db/pool.ts";
import { AppError } from "../errors.ts";
import type { Acting } from "./acting.ts";
import { type ActionStatus, type Outcome, performAction } from "./perform-action.ts";

/** Which open letters a bulk action means: a reason (substring) and/or a topic. */
export const DeadLetterFilterSchema = z
  .object({
    reason: z.string().trim().min(1).max(200).optional(),
    topic: z.string().trim().min(1).max(300).optional(),
  })
  .refine((f) => f.reason !== undefined || f.topic !== undefined, "a bulk action needs a reason or a topic");
export type DeadLetterFilter = z.infer<typeof DeadLetterFilterSchema>;

const letterId = z.string().regex(/^\d{1,19}$/, "a dead letter id is a number");

export const DeadLetterActionSchema = z
  .object({
    op: z.enum(["replay", "discard"]),
    /** One letter… */
    id: letterId.optional(),
    /** …or every open letter matching this filter (at most the bulk cap). */
    filter: DeadLetterFilterSchema.optional(),
    /** Why (required to discard). */
    note: z.string().trim().max(500).optional(),
    /** The count the operator saw in the preview: the action is refused if the set changed. */
    expectedCount: z.number().int().min(0).optional(),
    idempotencyKey: z.string().min(8).max(200),
  })
  .refine((a) => (a.id === undefined) !== (a.filter === undefined), "name one letter or a filter, not both")
  .refine((a) => a.op !== "discard" || (a.note !== undefined && a.note.length > 0), {
    message: "say why the messages are discarded",
    path: ["note"],
  });
export type DeadLetterAction = z.infer<typeof DeadLetterActionSchema>;

type Db = Pick<Pool, "query">;

function where(filter: DeadLetterFilter, from = 1): { sql: string; params: string[] } {
  const clauses: string[] = ["resolution IS NULL"];
  const params: string[] = [];
  if (filter.reason) {
    params.push(`%${filter.reason.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    clauses.push(`reason ILIKE $${from + params.length - 1}`);
  }
  if (filter.topic) {
    params.push(filter.topic);
    clauses.push(`kafka_topic = $${from + params.length - 1}`);
  }
  return { sql: clauses.join(" AND "), params };
}

export interface DeadLetterPreview {
  count: number;
  cap: number;
  /** The newest few, to see what the action touches. */
  first: { id: string; reason: string; topic: string; offset: number }[];
}

export async function previewDeadLetters(
  db: Db,
  filter: DeadLetterFilter,
  cap: number,
): Promise<DeadLetterPreview> {
  const w = where(filter);
  const [count, first] = await Promise.all([
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dead_letter WHERE ${w.sql}`, w.params),
    db.query<{ id: string; reason: string; kafka_topic: string; kafka_offset: string }>(
      `SELECT id::text, reason, kafka_topic, kafka_offset FROM dead_letter WHERE ${w.sql} ORDER BY id DESC LIMIT 20`,
      w.params,
    ),
  ]);
  return {
    count: count.rows[0]?.n ?? 0,
    cap,
    first: first.rows.map((r) => ({
      id: r.id,
      reason: r.reason,
      topic: r.kafka_topic,
      offset: Number(r.kafka_offset),
    })),
  };
}

interface ClaimedLetter {
  id: string;
  kafka_topic: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Marks the open letters meant as resolved by `actor`, and returns them (bytes included). */
async function claim(
  db: Db,
  action: DeadLetterAction,
  resolution: "replayed" | "discarded",
  actor: string,
  cap: number,
): Promise<ClaimedLetter[]> {
  const note = action.note ?? null;
  if (action.id !== undefined) {
    const { rows } = await db.query<ClaimedLetter>(
      `UPDATE dead_letter SET resolution = $2, resolved_by = $3, resolved_at = now(), resolution_note = $4
       WHERE id = $1 AND resolution IS NULL
       RETURNING id::text, kafka_topic, key, value, headers`,
      [action.id, resolution, actor, note],
    );
    if (rows.length === 0) {
      const { rows: found } = await db.query<{ resolution: string | null; resolved_by: string | null }>(
        "SELECT resolution, resolved_by FROM dead_letter WHERE id = $1",
        [action.id],
      );
      const letter = found[0];
      throw new AppError(
        letter ? "CONFLICT" : "NOT_FOUND",
        letter
          ? `dead letter ${action.id} was already ${letter.resolution} by ${letter.resolved_by}`
          : `no dead letter ${action.id}`,
      );
    }
    return rows;
  }
  const filter = action.filter as DeadLetterFilter;
  const w = where(filter, 5);
  const { rows } = await db.query<ClaimedLetter>(
    `UPDATE dead_letter SET resolution = $1, resolved_by = $2, resolved_at = now(), resolution_note = $3
     WHERE id IN (SELECT id FROM dead_letter WHERE ${w.sql} ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
     RETURNING id::text, kafka_topic, key, value, headers`,
    [resolution, actor, note, cap, ...w.params],
  );
  return rows;
}

/** Gives a claim back (a replay that could not be sent stays open). */
async function unclaim(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `UPDATE dead_letter SET resolution = NULL, resolved_by = NULL, resolved_at = NULL, resolution_note = NULL
     WHERE id = ANY($1::bigint[])`,
    [ids],
  );
}

/** A bulk action is refused, before anything changes, when the set is over the cap or not the one previewed. */
async function checkSet(db: Db, action: DeadLetterAction, cap: number): Promise<void> {
  if (!action.filter) return;
  const { count } = await previewDeadLetters(db, action.filter, cap);
  if (count > cap)
    throw new AppError(
      "BAD_REQUEST",
      `${count} open dead letters match; at most ${cap} can be acted on at once`,
    );
  if (action.expectedCount !== undefined && count !== action.expectedCount)
    throw new AppError(
      "CONFLICT",
      `the set changed since the preview: ${count} open dead letters match now, not ${action.expectedCount}; preview again`,
    );
}

export async function discardDeadLetters(
  db: Db,
  action: DeadLetterAction,
  actor: string,
  cap: number,
): Promise<Outcome> {
  await checkSet(db, action, cap);
  const claimed = await claim(db, action, "discarded", actor, cap);
  return { phase: "done", message: `${claimed.length} dead letter(s) discarded by ${actor}: ${action.note}` };
}

export async function replayDeadLetters(
  db: Db,
  producer: Producer,
  action: DeadLetterAction,
  actor: string,
  cap: number,
): Promise<Outcome> {
  await checkSet(db, action, cap);
  const claimed = await claim(db, action, "replayed", actor, cap);
  const sent: string[] = [];
  try {
    for (const letter of claimed) {
      const [meta] = await producer.send({
        topic: letter.kafka_topic,
        messages: [{ key: letter.key, value: letter.value, headers: letter.headers }],
      });
      sent.push(letter.id);
      await db.query("UPDATE dead_letter SET resolution_note = $2 WHERE id = $1", [
        letter.id,
        `replayed to ${letter.kafka_topic}/${meta?.partition}/${meta?.baseOffset}${action.note ? `: ${action.note}` : ""}`,
      ]);
    }
  } catch (error) {
    await unclaim(
      db,
      claimed.map((l) => l.id).filter((id) => !sent.includes(id)),
    );
    throw new AppError(
      "UNAVAILABLE",
      `${sent.length} of ${claimed.length} replayed; the rest stay open: ${(error as Error).message}`,
    );
  }
  return { phase: "done", message: `${claimed.length} dead letter(s) replayed to their topics by ${actor}` };
}

/** Replay or discard quarantined messages: one, or every open one matching a filter. */
export function actOnDeadLetters(a: Acting, input: DeadLetterAction): Promise<ActionStatus> {
  return performAction(
    a.pool,
    a.actor,
    {
      action: `dead-letter.${input.op}`,
      permission: "dead-letter.act",
      target:
        input.id !== undefined ? `dead-letter:${input.id}` : `dead-letters:${JSON.stringify(input.filter)}`,
      params: { note: input.note ?? "", expectedCount: input.expectedCount ?? null },
      idempotencyKey: input.idempotencyKey,
    },
    async () =>
      input.op === "discard"
        ? discardDeadLetters(a.pool, input, a.actor.email, a.bulkCap)
        : replayDeadLetters(a.pool, await a.producer(), input, a.actor.email, a.bulkCap),
  );
}
