// Bulk operations: the preview of a filter of the saga list, starting one (it runs in the
// background), the list with progress, one's details, and suspend / resume / cancel. Every
// mutation goes through performAction (permission, idempotency, audit).
import "server-only";
import { z } from "zod";
import {
  changeOperation,
  OPERATION_ACTIONS,
  OPERATION_CHANGES,
  previewOperation,
  StartOperationSchema,
  startOperation,
} from "../../actions/bulk-operations.ts";
import { listOperations, operationDetail } from "../../dashboard/operations/read-operations.ts";
import { DEFAULT_OPERATION_CAP, DEFAULT_OPERATION_RATE } from "../../env.ts";
import { actionProcedure, publicProcedure, router } from "../init.ts";

/** The limits the web process was configured with (each operation keeps the rate it started with). */
const limitsOf = (actions: { operationCap: number; operationRate: number } | undefined) => ({
  cap: actions?.operationCap ?? DEFAULT_OPERATION_CAP,
  rate: actions?.operationRate ?? DEFAULT_OPERATION_RATE,
});

export const operationsRouter = router({
  preview: publicProcedure
    .input(z.object({ query: z.string().max(2000), action: z.enum(OPERATION_ACTIONS) }))
    .query(({ ctx, input }) => previewOperation(ctx.pool, input.query, input.action, limitsOf(ctx.actions))),

  start: actionProcedure
    .input(StartOperationSchema)
    .mutation(({ ctx, input }) => startOperation(ctx.pool, ctx.actor, input, limitsOf(ctx.actions))),

  list: publicProcedure.query(({ ctx }) => listOperations(ctx.pool)),

  detail: publicProcedure
    .input(z.object({ operationId: z.uuid() }))
    .query(({ ctx, input }) => operationDetail(ctx.pool, input.operationId)),

  change: actionProcedure
    .input(
      z.object({
        operationId: z.uuid(),
        change: z.enum(OPERATION_CHANGES),
        idempotencyKey: z.string().min(8).max(200),
      }),
    )
    .mutation(({ ctx, input }) => changeOperation(ctx.pool, ctx.actor, input)),
});
