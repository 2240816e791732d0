// A command to a choreographed saga gets an answer within a bounded time. Its participants
// answer only what they act on: a retry-step that finds no parked message anywhere, or a
// compensation that never ends, would otherwise stay pending forever. Past the deadline, a
// pending command is settled with what the silence means. An answer settles its command when
// the ingester stores it (server/ingest/settle-operator-actions.ts); one arriving after the
// deadline finds the action ended (one final phase per action). An orchestrated saga's
// orchestrator answers every command, when it is back if it was down: its commands wait for it.
import type { Pool } from "../db/pool.ts";
import { settleAction } from "./perform-action.ts";

/** Pending commands older than this are not looked at again (a bound on each sweep's read). */
export const ANSWER_LOOKBACK_HOURS = 24;
/** Commands settled per sweep, the oldest first. */
export const ANSWER_SWEEP_BATCH = 500;

type Db = Pick<Pool, "query">;

export interface SettledByDeadline {
  actionId: string;
  action: string;
  sagaId: string;
  phase: "refused" | "failed";
}

/** What a choreographed saga's silence means, per command. */
function silence(action: string, seconds: number): { phase: "refused" | "failed"; message: string } {
  if (action === "saga.retry-step")
    return {
      phase: "refused",
      message: `nothing to retry: no participant had a parked message of this saga to handle again (waited ${seconds} s for one to answer)`,
    };
  if (action === "saga.compensate")
    return {
      phase: "failed",
      message: `the saga's participants did not finish compensating it within ${seconds} s: one may be down or still retrying; the saga's page shows how far it got`,
    };
  if (action === "saga.retry-from")
    return {
      phase: "failed",
      message: `no participant handled the step's trigger again within ${seconds} s: the service that performs the step may be down (it acts when back), or keeps no triggers (a runtime other than Sagascope's)`,
    };
  return { phase: "failed", message: `no participant answered within ${seconds} s` };
}

/** Settles every choreographed saga command pending for longer than `answerWithinMs`. */
export async function settleUnanswered(
  db: Db,
  answerWithinMs: number,
  now = new Date(),
): Promise<SettledByDeadline[]> {
  const { rows } = await db.query<{ action_id: string; action: string; target: string }>(
    `SELECT p.action_id, p.action, p.target FROM audit_entry p
     JOIN saga_summary s ON s.saga_id = p.target AND s.mode = 'choreographed'
     WHERE p.phase = 'pending' AND p.action LIKE 'saga.%' AND p.at < $1 AND p.at > $2
       AND NOT EXISTS (SELECT 1 FROM audit_entry f WHERE f.action_id = p.action_id
                       AND f.phase IN ('done', 'refused', 'failed'))
     ORDER BY p.id LIMIT ${ANSWER_SWEEP_BATCH}`,
    [new Date(now.getTime() - answerWithinMs), new Date(now.getTime() - ANSWER_LOOKBACK_HOURS * 3_600_000)],
  );
  const settled: SettledByDeadline[] = [];
  for (const r of rows) {
    const { phase, message } = silence(r.action, Math.round(answerWithinMs / 1000));
    await settleAction(db, r.action_id, phase, message);
    settled.push({ actionId: r.action_id, action: r.action, sagaId: r.target, phase });
  }
  return settled;
}
