// Edit then replay (admins): a quarantined message is published again with a corrected key,
// value or headers, after the edit has passed the same contract check the ingester applies to
// its topic (an edit that still breaks it is refused with the reason, and nothing is sent).
// The original bytes stay as they were; the edit is kept beside them, with who and why.
import type { Producer } from "kafkajs";
import { z } from "zod";
import type { Pool } from "../db/pool.ts";
import { AppError } from "../errors.ts";
import {
  decodeBreakerControl,
  decodeBreakerEvent,
  decodeProjectionEvent,
  decodeSagaEvent,
  MAX_EVENT_BYTES,
  MESSAGE_LIMITS,
  outsideValueProblem,
  topics,
} from "../events/index.ts";
import type { Acting } from "./acting.ts";
import { type ActionStatus, type Outcome, performAction } from "./perform-action.ts";

export const DeadLetterEditSchema = z.object({
  id: z.string().regex(/^\d{1,19}$/, "a dead letter id is a number"),
  /** null: no key. */
  key: z.string().max(MESSAGE_LIMITS.keyBytes).nullable(),
  value: z.string().max(MAX_EVENT_BYTES, `at most ${MAX_EVENT_BYTES} characters`),
  headers: z
    .record(
      z.string().min(1).max(MESSAGE_LIMITS.headerNameBytes),
      z.string().max(MESSAGE_LIMITS.headerValueBytes),
    )
    .refine(
      (h) => Object.keys(h).length <= MESSAGE_LIMITS.headers,
      `at most ${MESSAGE_LIMITS.headers} headers`,
    ),
  /** What the edit fixes: kept on the letter and in the audit log. */
  note: z.string().trim().min(1, "say what the edit fixes").max(500),
  idempotencyKey: z.string().min(8).max(200),
});
export type DeadLetterEdit = z.infer<typeof DeadLetterEditSchema>;

type Message = { key: Buffer | null; value: Buffer; headers: Record<string, string> };

/** Why the message would be quarantined again on `topic`, or null; undefined: a topic whose contract is not Sagascope's. */
export function contractProblem(topic: string, prefix: string, message: Message): string | null | undefined {
  const names = topics(prefix);
  const decode =
    topic === names.sagaEvents || topic === names.control
      ? decodeSagaEvent
      : topic === names.breakerEvents
        ? decodeBreakerEvent
        : topic === names.projectionEvents
          ? decodeProjectionEvent
          : topic === names.breakerControl
            ? decodeBreakerControl
            : undefined;
  if (!decode) return undefined;
  const decoded = decode(message);
  return decoded.ok ? null : decoded.reason;
}

type Db = Pick<Pool, "query">;

export async function editAndReplay(
  db: Db,
  producer: Producer,
  prefix: string,
  edit: DeadLetterEdit,
  actor: string,
): Promise<Outcome> {
  const { rows } = await db.query<{
    kafka_topic: string;
    resolution: string | null;
    resolved_by: string | null;
  }>("SELECT kafka_topic, resolution, resolved_by FROM dead_letter WHERE id = $1", [edit.id]);
  const letter = rows[0];
  if (!letter) throw new AppError("NOT_FOUND", `no dead letter ${edit.id}`);
  if (letter.resolution)
    return {
      phase: "refused",
      message: `dead letter ${edit.id} was already ${letter.resolution} by ${letter.resolved_by}`,
    };
  const message: Message = {
    key: edit.key === null ? null : Buffer.from(edit.key),
    value: Buffer.from(edit.value),
    headers: edit.headers,
  };
  const outside = outsideValueProblem(message.key, message.headers);
  if (outside) return { phase: "refused", message: `the edit breaks a limit: ${outside}` };
  const problem = contractProblem(letter.kafka_topic, prefix, message);
  if (problem)
    return { phase: "refused", message: `the edit still breaks the contract: ${problem}; nothing was sent` };

  // Claimed first, with the edit kept beside the original, so that it is sent once.
  const claimed = await db.query(
    `UPDATE dead_letter SET resolution = 'replayed-edited', resolved_by = $2, resolved_at = now(),
       resolution_note = $3, edited_key = $4, edited_value = $5, edited_headers = $6
     WHERE id = $1 AND resolution IS NULL`,
    [edit.id, actor, edit.note, message.key, message.value, JSON.stringify(message.headers)],
  );
  if (claimed.rowCount === 0)
    return { phase: "refused", message: `dead letter ${edit.id} was resolved by someone else meanwhile` };
  try {
    const [meta] = await producer.send({ topic: letter.kafka_topic, messages: [message] });
    const at = `${letter.kafka_topic}/${meta?.partition}/${meta?.baseOffset}`;
    await db.query("UPDATE dead_letter SET resolution_note = $2 WHERE id = $1", [
      edit.id,
      `replayed with an edit to ${at}: ${edit.note}`,
    ]);
    return {
      phase: "done",
      message: `dead letter ${edit.id} replayed with an edit to ${at}${
        problem === undefined ? " (Sagascope does not know this topic's contract: sent as edited)" : ""
      }`,
    };
  } catch (error) {
    await db.query(
      `UPDATE dead_letter SET resolution = NULL, resolved_by = NULL, resolved_at = NULL, resolution_note = NULL,
         edited_key = NULL, edited_value = NULL, edited_headers = NULL
       WHERE id = $1`,
      [edit.id],
    );
    throw new AppError("UNAVAILABLE", `not replayed, the letter stays open: ${(error as Error).message}`);
  }
}

/** Replays one quarantined message with an edit (admins); the original is kept. */
export function editAndReplayAction(a: Acting, input: DeadLetterEdit): Promise<ActionStatus> {
  return performAction(
    a.pool,
    a.actor,
    {
      action: "dead-letter.edit-replay",
      permission: "dead-letter.edit",
      target: `dead-letter:${input.id}`,
      params: { note: input.note, key: input.key, value: input.value, headers: input.headers },
      idempotencyKey: input.idempotencyKey,
    },
    async () => editAndReplay(a.pool, await a.producer(), a.topicPrefix, input, a.actor.email),
  );
}
