// Marks sagas as stuck: unfinished, and their next event overdue by more than a grace
// period (a participant that is down, a poison message, a dead orchestrator). The reason
// says what was expected and since when. The next event of the saga clears the mark. A
// paused saga is never stuck: nothing is due until an operator resumes it. A deadline a
// producer announced (a participant's timeout) is trusted: it is late after a short grace
// (the pipeline's own delay); a saga that announced nothing, after the long one.
import type { Pool } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";
import type { Logger } from "../log.ts";
import { notifySagaChanges } from "./store-batch.ts";

export interface StuckSweeper {
  start(): void;
  stop(): void;
  /** One sweep; returns the ids of the sagas it marked. */
  sweep(): Promise<string[]>;
}

export function createStuckSweeper(deps: {
  pool: Pool;
  graceMs: number;
  /** The grace past an announced deadline (waiting on a participant); at most graceMs. */
  deadlineGraceMs?: number;
  intervalMs: number;
  log: Logger;
}): StuckSweeper {
  let timer: NodeJS.Timeout | undefined;
  let sweeping = false;

  function sweep(): Promise<string[]> {
    return withTransaction(deps.pool, async (client) => {
      const marked = await client.query<{ saga_id: string }>(
        `UPDATE saga_summary SET stuck = true, updated_at = now(),
           stuck_reason = format('no progress for %s s: expected %s by %s',
             round(extract(epoch FROM now() - last_progress_at))::int,
             coalesce(progress_expectation, 'the next event'),
             to_char(progress_expected_by AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
         WHERE NOT stuck AND status IN ('running', 'compensating', 'timed_out') AND paused_at IS NULL
           AND progress_expected_by < now() - make_interval(secs =>
             CASE WHEN waiting_on = 'participant' THEN $2 ELSE $1 END::double precision / 1000)
         RETURNING saga_id`,
        [deps.graceMs, Math.min(deps.graceMs, deps.deadlineGraceMs ?? deps.graceMs)],
      );
      const ids = marked.rows.map((r) => r.saga_id);
      await notifySagaChanges(client, ids);
      return ids;
    });
  }

  return {
    sweep,
    start() {
      timer ??= setInterval(async () => {
        if (sweeping) return;
        sweeping = true;
        try {
          const ids = await sweep();
          if (ids.length > 0) deps.log.warn("sagas stuck", { count: ids.length, first: ids[0] });
        } catch (error) {
          deps.log.warn("stuck sweep failed", { error });
        } finally {
          sweeping = false;
        }
      }, deps.intervalMs);
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
