// Bulk saga actions over a filtered set (e.g. every stuck checkout): a preview of how many
// and which sagas would be touched and which would be skipped and why, then one command per
// saga, each its own audited action. Capped; refused when the set changed since the preview.
import type { Actor } from "../auth/roles.ts";
import { listSagas } from "../dashboard/sagas/list-sagas.ts";
import type { SagaListItem } from "../dashboard/sagas/saga-dto.ts";
import type { SagaFilter } from "../dashboard/sagas/saga-filter.ts";
import type { Pool } from "../db/pool.ts";
import type { ActionDeps } from "../trpc/init.ts";
import { type ActionStatus, performAction } from "./perform-action.ts";
import { sendControlCommand } from "./saga-actions.ts";
import { type SagaAction, sagaActionsAllowed } from "./saga-allowance.ts";

type Db = Pick<Pool, "query">;

export interface BulkPreview {
  /** Sagas matching the filter, counted up to the cap + 1. */
  matching: number;
  overCap: boolean;
  cap: number;
  eligible: number;
  skipped: { reason: string; count: number }[];
  /** The first sagas that would be touched. */
  sample: Pick<SagaListItem, "sagaId" | "sagaType" | "status" | "currentStep" | "failedStep">[];
  eligibleIds: string[];
}

export async function bulkPreview(
  db: Db,
  filter: SagaFilter,
  action: SagaAction,
  cap: number,
): Promise<BulkPreview> {
  const page = await listSagas(db, { ...filter, limit: cap + 1 });
  const rows = page.items.slice(0, cap);
  const skipped = new Map<string, number>();
  const eligible: SagaListItem[] = [];
  for (const s of rows) {
    const allowance = sagaActionsAllowed(s)[action];
    if (allowance.allowed) eligible.push(s);
    else skipped.set(allowance.reason, (skipped.get(allowance.reason) ?? 0) + 1);
  }
  return {
    matching: page.items.length,
    overCap: page.items.length > cap,
    cap,
    eligible: eligible.length,
    skipped: [...skipped].map(([reason, count]) => ({ reason, count })),
    sample: eligible.slice(0, 20).map(({ sagaId, sagaType, status, currentStep, failedStep }) => ({
      sagaId,
      sagaType,
      status,
      currentStep,
      failedStep,
    })),
    eligibleIds: eligible.map((s) => s.sagaId),
  };
}

export interface BulkInput {
  filter: SagaFilter;
  action: "compensate" | "retry-step" | "mark-resolved";
  reason?: string | undefined;
  expectedCount: number;
  idempotencyKey: string;
}

export async function runBulk(
  ctx: { pool: Db; actions: ActionDeps },
  actor: Actor,
  input: BulkInput,
): Promise<ActionStatus> {
  return performAction(
    ctx.pool,
    actor,
    {
      action: `saga.bulk-${input.action}`,
      permission: "saga.act",
      target: "sagas matching a filter",
      params: { filter: input.filter, expectedCount: input.expectedCount, reason: input.reason ?? "" },
      idempotencyKey: input.idempotencyKey,
    },
    async () => {
      if (input.action === "mark-resolved" && !input.reason)
        return { phase: "refused", message: "marking sagas resolved needs a reason" };
      const preview = await bulkPreview(ctx.pool, input.filter, input.action, ctx.actions.bulkCap);
      if (preview.overCap)
        return {
          phase: "refused",
          message: `more than ${preview.cap} sagas match (the cap of one bulk action): narrow the filter`,
        };
      if (preview.eligible !== input.expectedCount)
        return {
          phase: "refused",
          message: `the set changed since the preview: ${preview.eligible} sagas now qualify, ${input.expectedCount} were shown; preview again`,
        };
      const producer = await ctx.actions.producer();
      const summaries = new Map(
        (await listSagas(ctx.pool, { ...input.filter, limit: preview.cap })).items.map((s) => [s.sagaId, s]),
      );
      let sent = 0;
      for (const sagaId of preview.eligibleIds) {
        const saga = summaries.get(sagaId);
        if (!saga) continue;
        await performAction(
          ctx.pool,
          actor,
          {
            action: `saga.${input.action}`,
            permission: "saga.act",
            target: sagaId,
            params: { reason: input.reason ?? "", bulk: input.idempotencyKey },
            idempotencyKey: `${input.idempotencyKey}:${sagaId}`,
          },
          (actionId) =>
            sendControlCommand(
              producer,
              ctx.actions.topicPrefix,
              saga,
              { actionId, action: input.action, reason: input.reason },
              actor.email,
            ),
        );
        sent += 1;
      }
      const skipped = preview.skipped.map((s) => `${s.count} skipped: ${s.reason}`).join("; ");
      return { phase: "done", message: `sent ${sent} commands${skipped ? ` (${skipped})` : ""}` };
    },
  );
}
