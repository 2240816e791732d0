// Bulk operations as their page shows them: the newest first, each with its progress and the
// rate it reached over the last ten seconds; one operation's details say why sagas were
// skipped or failed, grouped, and which it handled last.
import type { Pool } from "../../db/pool.ts";

type Db = Pick<Pool, "query">;

/** Operations listed at most (the newest). */
export const OPERATIONS_LISTED = 50;
const RATE_WINDOW_S = 10;

export interface OperationRow {
  id: string;
  action: string;
  filterQuery: string;
  reason: string;
  startedBy: string;
  state: string;
  stateMessage: string;
  stateChangedBy: string | null;
  total: number;
  sent: number;
  skipped: number;
  failed: number;
  pending: number;
  ratePerSecond: number;
  /** Sagas handled a second over the last ten seconds (running operations only). */
  recentRate: number | null;
  createdAt: Date;
  stateChangedAt: Date;
  endedAt: Date | null;
}

export async function listOperations(db: Db): Promise<OperationRow[]> {
  const { rows } = await db.query<OperationRow>(
    `SELECT o.id, o.action, o.filter_query AS "filterQuery", o.reason, o.started_by AS "startedBy", o.state,
       o.state_message AS "stateMessage", o.state_changed_by AS "stateChangedBy", o.total, o.sent, o.skipped,
       o.failed, o.total - o.sent - o.skipped - o.failed AS pending, o.rate_per_second AS "ratePerSecond",
       CASE WHEN o.state = 'running' THEN
         (SELECT count(*) FROM bulk_operation_target t
          WHERE t.operation_id = o.id AND t.state <> 'pending'
            AND t.handled_at > now() - $2 * interval '1 second')::float / $2
       END AS "recentRate",
       o.created_at AS "createdAt", o.state_changed_at AS "stateChangedAt", o.ended_at AS "endedAt"
     FROM bulk_operation o ORDER BY o.created_at DESC LIMIT $1`,
    [OPERATIONS_LISTED, RATE_WINDOW_S],
  );
  return rows;
}

export interface OperationDetail {
  reasons: { state: "skipped" | "failed"; message: string; count: number }[];
  lastHandled: { sagaId: string; state: string; message: string; handledAt: Date }[];
}

export async function operationDetail(db: Db, id: string): Promise<OperationDetail> {
  const [reasons, last] = await Promise.all([
    db.query<OperationDetail["reasons"][number]>(
      `SELECT state, coalesce(message, '') AS message, count(*)::int AS count FROM bulk_operation_target
       WHERE operation_id = $1 AND state IN ('skipped', 'failed') GROUP BY state, message ORDER BY count DESC LIMIT 20`,
      [id],
    ),
    db.query<OperationDetail["lastHandled"][number]>(
      `SELECT saga_id AS "sagaId", state, coalesce(message, '') AS message, handled_at AS "handledAt"
       FROM bulk_operation_target WHERE operation_id = $1 AND state <> 'pending'
       ORDER BY handled_at DESC, position DESC LIMIT 20`,
      [id],
    ),
  ]);
  return { reasons: reasons.rows, lastHandled: last.rows };
}
