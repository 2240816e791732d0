// Operator actions: saga commands (one saga; a filtered set is a bulk operation, see the
// operations router), breaker overrides and thresholds, dead letters, declared projections,
// the fleet's faults; their status (pending until the owner answers); the previews shown
// before acting. Thin: each parses its input and calls one action of server/actions, which
// goes through performAction (permission, idempotency, audit).
import "server-only";
import { z } from "zod";
import type { Acting } from "../../actions/acting.ts";
import {
  BreakerConfigInputSchema,
  BreakerOverrideSchema,
  configureBreakerAction,
  overrideBreakerAction,
  ThresholdsSchema,
} from "../../actions/breaker-actions.ts";
import { breakerWhatIf } from "../../actions/breaker-what-if.ts";
import { actOnDeadLetters, DeadLetterActionSchema } from "../../actions/dead-letter-actions.ts";
import { DeadLetterEditSchema, editAndReplayAction } from "../../actions/dead-letter-edit.ts";
import { changeFaults, FaultsInputSchema, faultsInForce } from "../../actions/fault-actions.ts";
import { statusOf } from "../../actions/perform-action.ts";
import { actOnProjection, ProjectionActionSchema } from "../../actions/projection-actions.ts";
import { actOnSaga, SagaActionInputSchema, settleFromResult } from "../../actions/saga-actions.ts";
import { getSagaDetail } from "../../dashboard/sagas/saga-detail.ts";
import { NO_MANIFEST } from "../../fleet-manifest/fleet-manifest.ts";
import { type ActionContext, actionProcedure, publicProcedure, router } from "../init.ts";

/** What an action is given, from the request's context. */
const acting = (ctx: ActionContext): Acting => ({
  pool: ctx.pool,
  actor: ctx.actor,
  ...ctx.actions,
  breakerStore: ctx.breakerStore,
  fleet: ctx.fleet ?? NO_MANIFEST,
});

export const actionsRouter = router({
  /** Replay or discard quarantined messages: one, or every open one matching a filter. */
  deadLetter: actionProcedure
    .input(DeadLetterActionSchema)
    .mutation(({ ctx, input }) => actOnDeadLetters(acting(ctx), input)),

  /** Declare a consumer group to be a projection, or forget an admin's declaration. */
  projection: actionProcedure
    .input(ProjectionActionSchema)
    .mutation(({ ctx, input }) => actOnProjection(acting(ctx), input)),

  /** Replay one quarantined message with an edit (admins); the original is kept. */
  deadLetterEdit: actionProcedure
    .input(DeadLetterEditSchema)
    .mutation(({ ctx, input }) => editAndReplayAction(acting(ctx), input)),

  saga: actionProcedure
    .input(SagaActionInputSchema)
    .mutation(({ ctx, input }) => actOnSaga(acting(ctx), input, (sagaId) => getSagaDetail(ctx, sagaId))),

  /** An action's status; a pending saga action is settled here once its owner has answered. */
  status: publicProcedure.input(z.object({ actionId: z.uuid() })).query(async ({ ctx, input }) => {
    const status = await statusOf(ctx.pool, input.actionId);
    if (status.phase === "pending" && status.action.startsWith("saga.")) {
      if (await settleFromResult(ctx.pool, input.actionId, status.target))
        return statusOf(ctx.pool, input.actionId);
    }
    return status;
  }),

  breaker: actionProcedure
    .input(BreakerOverrideSchema)
    .mutation(({ ctx, input }) => overrideBreakerAction(acting(ctx), input)),

  breakerConfig: actionProcedure
    .input(BreakerConfigInputSchema)
    .mutation(({ ctx, input }) => configureBreakerAction(acting(ctx), input)),

  /** Replays the pair's last hour of recorded outcomes against proposed thresholds. */
  whatIf: publicProcedure
    .input(z.object({ pair: z.string().min(3).max(300), thresholds: ThresholdsSchema }))
    .query(({ ctx, input }) => breakerWhatIf(ctx, input.pair, input.thresholds)),

  faults: actionProcedure
    .input(FaultsInputSchema)
    .mutation(({ ctx, input }) => changeFaults(acting(ctx), input)),

  /** The fault settings in force per service that obeys fault switches (none outside demo mode). */
  faultsState: publicProcedure.query(({ ctx }) =>
    faultsInForce(ctx.actions && { ...ctx.actions, fleet: ctx.fleet ?? NO_MANIFEST }),
  ),
});
