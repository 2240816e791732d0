// An operator's saga action is settled where the owner's answer lands: when the ingester
// stores a control.result, the action it answers gets its final phase in the audit log in
// the same transaction. Nothing of a pending action lives in the web process, so an answer
// that arrives while no web process runs (killed, restarting) is on record all the same.
import type { PoolClient } from "../db/pool.ts";
import type { IncomingEvent } from "./store-batch.ts";

const RESULT = "io.sagascope.control.result";

/** Appends done/refused to each pending saga action answered in `fresh`; a settled one is left alone. */
export async function settleOperatorActions(client: PoolClient, fresh: IncomingEvent[]): Promise<void> {
  const answers = fresh
    .filter(({ event }) => event.type === RESULT)
    .map(({ event }) => {
      const d = event.data as {
        sagaId: string;
        commandId: string;
        outcome: string;
        message: string;
        handledBy: string;
      };
      return { ...d, text: `${d.message} (${d.handledBy})` };
    });
  if (answers.length === 0) return;
  // Only actions the web has marked pending: one whose answer beats its own "pending" row is
  // settled by the web when it reads the action's status.
  await client.query(
    `INSERT INTO audit_entry (action_id, actor, actor_role, action, target, params, idempotency_key, phase, message)
     SELECT a.action_id, a.actor, a.actor_role, a.action, a.target, a.params, a.idempotency_key, r.outcome, r.message
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS r(command_id, saga_id, outcome, message)
       JOIN audit_entry a ON a.action_id::text = r.command_id AND a.phase = 'requested'
                         AND a.target = r.saga_id AND a.action LIKE 'saga.%'
      WHERE EXISTS (SELECT 1 FROM audit_entry p WHERE p.action_id = a.action_id AND p.phase = 'pending')
        AND NOT EXISTS (SELECT 1 FROM audit_entry f WHERE f.action_id = a.action_id
                          AND f.phase IN ('done', 'failed', 'refused', 'denied'))
     ON CONFLICT DO NOTHING`,
    [
      answers.map((a) => a.commandId),
      answers.map((a) => a.sagaId),
      answers.map((a) => (a.outcome === "done" ? "done" : "refused")),
      answers.map((a) => a.text),
    ],
  );
}
