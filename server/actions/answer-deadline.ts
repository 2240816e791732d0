// A command to a saga gets an answer within a bounded time, unless its runtime promised one.
// A choreographed saga's participants answer only what they act on: a retry-step that finds
// no parked message anywhere, or a compensation that never ends, would otherwise stay pending
// forever. An orchestrated saga's runtime may not answer a command at all (one not written
// with Sagascope's runtime, which does not know pause, say). Past the deadline, a pending
// command is settled with what the silence means. An answer settles its command when the
// ingester stores it (server/ingest/settle-operator-actions.ts); one arriving after the
// deadline finds the action ended (one final phase per action). An orchestrated saga whose
// start declared the command among its `controls` waits for its orchestrator, when it is back
// if it was down.
import type { Pool } from "../db/pool.ts";
import { commandOf, type SagaAction } from "../saga-rules/saga-allowance.ts";
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

/** What a saga's silence means, per command. */
function silence(
  action: string,
  mode: "orchestrated" | "choreographed",
  seconds: number,
): { phase: "refused" | "failed"; message: string } {
  if (mode === "orchestrated")
    return {
      phase: "failed",
      message: `no answer from the saga's orchestrator within ${seconds} s: it may be down (it acts on the command when back), or its runtime does not answer ${commandName(action)} (a runtime declares the commands it answers in its saga.started event's controls)`,
    };
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

/** The contract's command an audited saga action (`saga.<action>`) sent. */
const commandName = (action: string) => commandOf(action.replace(/^saga\./, "") as SagaAction);

/** Settles every saga command pending for longer than `answerWithinMs` that no runtime promised to answer. */
export async function settleUnanswered(
  db: Db,
  answerWithinMs: number,
  now = new Date(),
): Promise<SettledByDeadline[]> {
  const { rows } = await db.query<{
    action_id: string;
    action: string;
    target: string;
    mode: "orchestrated" | "choreographed";
  }>(
    `SELECT p.action_id, p.action, p.target, s.mode FROM audit_entry p
     JOIN saga_summary s ON s.saga_id = p.target
     WHERE p.phase = 'pending' AND p.action LIKE 'saga.%' AND p.at < $1 AND p.at > $2
       AND NOT EXISTS (SELECT 1 FROM audit_entry f WHERE f.action_id = p.action_id
                       AND f.phase IN ('done', 'refused', 'failed'))
       AND (s.mode = 'choreographed' OR NOT EXISTS (
         SELECT 1 FROM saga_event e WHERE e.saga_id = p.target AND e.type = 'io.sagascope.saga.started'
           AND e.data->'controls' ? (CASE p.action WHEN 'saga.retry-edited' THEN 'retry-step'
                                      ELSE substr(p.action, 6) END)))
     ORDER BY p.id LIMIT ${ANSWER_SWEEP_BATCH}`,
    [new Date(now.getTime() - answerWithinMs), new Date(now.getTime() - ANSWER_LOOKBACK_HOURS * 3_600_000)],
  );
  const settled: SettledByDeadline[] = [];
  for (const r of rows) {
    const { phase, message } = silence(r.action, r.mode, Math.round(answerWithinMs / 1000));
    await settleAction(db, r.action_id, phase, message);
    settled.push({ actionId: r.action_id, action: r.action, sagaId: r.target, phase });
  }
  return settled;
}
