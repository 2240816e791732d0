// Bulk saga actions as background operations: an operator previews what a filter of the saga
// list would touch, then starts an operation that snapshots the matching sagas (up to the
// cap) and is worked through in the background at a set rate (bulk-operation-runner.ts), one
// audited command per saga as for a single saga. Its starter or an admin suspends, resumes
// or cancels it; every change of state is an audited action too.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Actor } from "../../browser-safe/roles.ts";
import type { SagaFilter } from "../../browser-safe/saga-filter.ts";
import type { SagaListItem } from "../dashboard/sagas/saga-dto.ts";
import type { Pool } from "../db/pool.ts";
import { isRareService } from "../db/rare-service.ts";
import { cannotMatch, filterClause, rareServiceSagas } from "../db/saga-filter-sql.ts";
import { withTransaction } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import type { ControlAction } from "../events/index.ts";
import { sagaActionsAllowed } from "../saga-rules/saga-allowance.ts";
import { checkViewQuery, sagaFilterOfQuery } from "../views/view-query.ts";
import { type ActionStatus, performAction } from "./perform-action.ts";

export const OPERATION_ACTIONS = ["compensate", "retry-step", "mark-resolved", "pause", "resume"] as const;
export type OperationAction = (typeof OPERATION_ACTIONS)[number];
export type OperationState = "running" | "suspended" | "cancelled" | "done" | "failed";

/** Sagas a preview judges (each is judged again when its turn comes). */
export const PREVIEW_JUDGED = 500;
const PREVIEW_SAMPLE = 20;

type Db = Pick<Pool, "query">;

/** What a saga's command and its allowance need, from saga_summary. */
export const TARGET_COLUMNS = `saga_id AS "sagaId", saga_type AS "sagaType", mode, status, stuck,
  failed_step AS "failedStep", current_step AS "currentStep", paused_by AS "pausedBy", paused_at AS "pausedAt"`;
export interface TargetFacts {
  sagaId: string;
  sagaType: string;
  mode: "orchestrated" | "choreographed";
  status: SagaListItem["status"];
  stuck: boolean;
  failedStep: string | null;
  currentStep: string | null;
  pausedBy: string | null;
  pausedAt: Date | null;
}

/** The saga list's URL query, checked as the list reads it; refused with the reason otherwise. */
export function filterOfQuery(query: string): { filter: SagaFilter; query: string } {
  const checked = checkViewQuery("sagas", query);
  if (!checked.ok) throw new AppError("BAD_REQUEST", checked.problem);
  return { filter: sagaFilterOfQuery(checked.query), query: checked.query };
}

/** Sagas matching a filter, counted up to `upTo`. */
async function countMatching(db: Db, filter: SagaFilter, upTo: number): Promise<number> {
  if (await cannotMatch(db, filter)) return 0;
  const { sql, args } = filterClause(filter);
  args.push(upTo);
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM saga_summary WHERE ${sql} LIMIT $${args.length}) m`,
    args,
  );
  return rows[0]?.n ?? 0;
}

export interface OperationPreview {
  /** Sagas matching the filter, counted up to the cap + 1. */
  matching: number;
  overCap: boolean;
  cap: number;
  rate: number;
  /** The first sagas (in the list's order), judged as they stand now. */
  judged: number;
  eligible: number;
  skipped: { reason: string; count: number }[];
  sample: TargetFacts[];
}

export async function previewOperation(
  db: Db,
  query: string,
  action: OperationAction,
  limits: { cap: number; rate: number },
): Promise<OperationPreview> {
  const { filter } = filterOfQuery(query);
  const matching = await countMatching(db, filter, limits.cap + 1);
  const { sql, args } = filterClause(filter);
  // A rare service's few sagas are found through its index first, as the list finds them.
  const source =
    filter.service && (await isRareService(db, filter.service))
      ? rareServiceSagas(filter.service, args)
      : { with: "", from: "saga_summary" };
  args.push(Math.min(PREVIEW_JUDGED, matching));
  const rows =
    matching === 0
      ? []
      : (
          await db.query<TargetFacts>(
            `${source.with}SELECT ${TARGET_COLUMNS} FROM ${source.from} WHERE ${sql}
             ORDER BY started_at DESC, saga_id DESC LIMIT $${args.length}`,
            args,
          )
        ).rows;
  const skipped = new Map<string, number>();
  const eligible: TargetFacts[] = [];
  const controls = await declaredControls(
    db,
    rows.map((r) => r.sagaId),
  );
  for (const saga of rows) {
    const declared = controls.get(saga.sagaId);
    const allowance = sagaActionsAllowed(saga, declared ? { controls: declared } : {})[action];
    if (allowance.allowed) eligible.push(saga);
    else skipped.set(allowance.reason, (skipped.get(allowance.reason) ?? 0) + 1);
  }
  return {
    matching,
    overCap: matching > limits.cap,
    cap: limits.cap,
    rate: limits.rate,
    judged: rows.length,
    eligible: eligible.length,
    skipped: [...skipped].map(([reason, count]) => ({ reason, count })),
    sample: eligible.slice(0, PREVIEW_SAMPLE),
  };
}

/** The commands each saga's runtime answers, where its start declared them. */
export async function declaredControls(
  db: Pick<Pool, "query">,
  sagaIds: string[],
): Promise<Map<string, ControlAction[]>> {
  const { rows } = await db.query<{ sagaId: string; controls: ControlAction[] }>(
    `SELECT saga_id AS "sagaId", data->'controls' AS controls FROM saga_event
     WHERE saga_id = ANY($1::text[]) AND type = 'io.sagascope.saga.started' AND data ? 'controls'`,
    [sagaIds],
  );
  return new Map(rows.map((r) => [r.sagaId, r.controls]));
}

export const StartOperationSchema = z
  .object({
    /** The saga list's URL query (its filter). */
    query: z.string().max(2000),
    action: z.enum(OPERATION_ACTIONS),
    reason: z.string().trim().max(2000).optional(),
    /** The count the operator saw in the preview: a different count now refuses the start. */
    expectedCount: z.number().int().min(1),
    idempotencyKey: z.string().min(8).max(200),
  })
  .refine((a) => a.action !== "mark-resolved" || Boolean(a.reason), {
    message: "marking sagas resolved needs a reason",
    path: ["reason"],
  });
export type StartOperationInput = z.infer<typeof StartOperationSchema>;

/** The operation an audited start or change of state is about ("operation <id>"). */
export const operationTarget = (id: string) => `operation ${id}`;

/** Starts a background operation on every saga the filter matches now (the set is fixed at the start). */
export async function startOperation(
  pool: Pool,
  actor: Actor,
  input: StartOperationInput,
  limits: { cap: number; rate: number },
): Promise<ActionStatus> {
  const { filter, query } = filterOfQuery(input.query);
  const id = randomUUID();
  return performAction(
    pool,
    actor,
    {
      action: `saga.bulk-${input.action}`,
      permission: "saga.act",
      target: operationTarget(id),
      params: { query, expectedCount: input.expectedCount, reason: input.reason ?? "" },
      idempotencyKey: input.idempotencyKey,
    },
    (actionId) =>
      withTransaction(pool, async (client) => {
        // One snapshot for the count and the sagas fixed: the total is exactly what is stored.
        await client.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        const matching = await countMatching(client, filter, limits.cap + 1);
        if (matching > limits.cap)
          return {
            phase: "refused",
            message: `more than ${limits.cap} sagas match (the most one operation works through): narrow the filter`,
          };
        if (matching !== input.expectedCount)
          return {
            phase: "refused",
            message: `the set changed since the preview: ${matching} sagas match now, ${input.expectedCount} were shown; preview again`,
          };
        await client.query(
          `INSERT INTO bulk_operation (id, action, filter, filter_query, reason, started_by_id, started_by,
             started_by_via, start_action_id, state, state_message, total, rate_per_second)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'running', $10, $11, $12)`,
          [
            id,
            input.action,
            JSON.stringify(filter),
            query,
            input.reason ?? "",
            actor.id,
            actor.email,
            actor.via,
            actionId,
            `started by ${actor.email}`,
            matching,
            limits.rate,
          ],
        );
        const { sql, args } = filterClause(filter);
        args.push(id, limits.cap);
        await client.query(
          `INSERT INTO bulk_operation_target (operation_id, position, saga_id)
           SELECT $${args.length - 1}::uuid, row_number() OVER (ORDER BY started_at DESC, saga_id DESC), saga_id
           FROM (SELECT saga_id, started_at FROM saga_summary WHERE ${sql}
                 ORDER BY started_at DESC, saga_id DESC LIMIT $${args.length}) s`,
          args,
        );
        return {
          phase: "done",
          message: `started operation ${id}: ${matching} sagas, at most ${limits.rate} a second`,
        };
      }),
  );
}

export const OPERATION_CHANGES = ["suspend", "resume", "cancel"] as const;
export type OperationChange = (typeof OPERATION_CHANGES)[number];

const NEXT: Record<OperationChange, { from: OperationState[]; to: OperationState; done: string }> = {
  suspend: { from: ["running"], to: "suspended", done: "suspended" },
  resume: { from: ["suspended"], to: "running", done: "resumed" },
  cancel: { from: ["running", "suspended"], to: "cancelled", done: "cancelled" },
};

/** Suspends, resumes or cancels an operation: its starter or an admin may. */
export async function changeOperation(
  pool: Pool,
  actor: Actor,
  input: { operationId: string; change: OperationChange; idempotencyKey: string },
): Promise<ActionStatus> {
  const step = NEXT[input.change];
  return performAction(
    pool,
    actor,
    {
      action: `operation.${input.change}`,
      permission: "saga.act",
      target: operationTarget(input.operationId),
      params: {},
      idempotencyKey: input.idempotencyKey,
    },
    () =>
      withTransaction(pool, async (client) => {
        const { rows } = await client.query<{ state: OperationState; startedBy: string }>(
          `SELECT state, started_by AS "startedBy" FROM bulk_operation WHERE id = $1 FOR UPDATE`,
          [input.operationId],
        );
        const row = rows[0];
        if (!row) return { phase: "refused", message: `no operation ${input.operationId}` };
        if (row.startedBy !== actor.email && actor.role !== "admin")
          return {
            phase: "refused",
            message: `only its starter (${row.startedBy}) or an admin may ${input.change} it`,
          };
        if (!step.from.includes(row.state))
          return { phase: "refused", message: `the operation is ${row.state}: it cannot be ${step.done}` };
        await client.query(
          `UPDATE bulk_operation SET state = $2, state_message = $3, state_changed_by = $4,
             state_changed_at = now(), ended_at = CASE WHEN $2 = 'cancelled' THEN now() ELSE ended_at END
           WHERE id = $1`,
          [input.operationId, step.to, `${step.done} by ${actor.email}`, actor.email],
        );
        return { phase: "done", message: `${step.done} operation ${input.operationId}` };
      }),
  );
}
