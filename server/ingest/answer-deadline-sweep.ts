// Settles the choreographed saga commands nobody answered in time (server/actions/
// answer-deadline.ts), every few seconds. Several ingesters may sweep at once: an action is
// settled once (one final phase per action, enforced by a unique index).
import { settleUnanswered } from "../actions/answer-deadline.ts";
import type { Pool } from "../db/pool.ts";
import type { Logger } from "../log.ts";
import { createPeriodic, type Periodic } from "../periodic.ts";

export function createAnswerDeadline(deps: { pool: Pool; answerWithinMs: number; log: Logger }): Periodic {
  // Often enough that an answer is settled within a tenth of the deadline past it (at most 5 s).
  const everyMs = Math.min(5000, Math.max(250, deps.answerWithinMs / 10));
  return createPeriodic(
    everyMs,
    async () => {
      const settled = await settleUnanswered(deps.pool, deps.answerWithinMs);
      for (const s of settled)
        deps.log.info("a choreographed saga's command was settled at its deadline", { ...s });
    },
    (error) => deps.log.warn("unanswered commands not settled", { error: String(error) }),
  );
}
