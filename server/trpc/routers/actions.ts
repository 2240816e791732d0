// Operator actions: saga commands (one saga; a filtered set is a bulk operation, see the operations router), breaker overrides and
// thresholds, the demo fleet's faults; their status (pending until the owner answers); the
// previews shown before acting. Every mutation goes through performAction (permission,
// idempotency, audit).

import { z } from "zod";
import { can } from "../../../browser-safe/roles.ts";
import { auditRefusal } from "../../actions/audit-refusal.ts";
import {
  BreakerConfigInputSchema,
  BreakerOverrideSchema,
  configureBreaker,
  isReportedOnly,
  mergedConfig,
  overrideBreaker,
  ThresholdsSchema,
} from "../../actions/breaker-actions.ts";
import {
  DeadLetterActionSchema,
  discardDeadLetters,
  replayDeadLetters,
} from "../../actions/dead-letter-actions.ts";
import { DeadLetterEditSchema, editAndReplay } from "../../actions/dead-letter-edit.ts";
import { FaultsInputSchema, faultServices, injectFaults } from "../../actions/fault-actions.ts";
import { readFaultState } from "../../actions/fault-state.ts";
import { performAction, statusOf } from "../../actions/perform-action.ts";
import { recordedWindows } from "../../actions/recorded-windows.ts";
import { SagaActionInputSchema, sendControlCommand, settleFromResult } from "../../actions/saga-actions.ts";
import { MAX_WHAT_IF_CALLS, newestWithin, replay, spreadCalls } from "../../actions/what-if.ts";
import { getSagaDetail } from "../../dashboard/sagas/saga-detail.ts";
import { AppError } from "../../errors.ts";
import { NO_MANIFEST } from "../../fleet-manifest/fleet-manifest.ts";
import {
  DeclarationSchema,
  declareProjection,
  ProjectionNameSchema,
  undeclareProjection,
} from "../../projections/declared-projections.ts";
import { sagaActionsAllowed } from "../../saga-rules/saga-allowance.ts";
import { actionProcedure, publicProcedure, router } from "../init.ts";

const WHAT_IF_MS = 3600_000;

export const actionsRouter = router({
  /** Replay or discard quarantined messages: one, or every open one matching a filter. */
  deadLetter: actionProcedure.input(DeadLetterActionSchema).mutation(({ ctx, input }) =>
    performAction(
      ctx.pool,
      ctx.actor,
      {
        action: `dead-letter.${input.op}`,
        permission: "dead-letter.act",
        target:
          input.id !== undefined ? `dead-letter:${input.id}` : `dead-letters:${JSON.stringify(input.filter)}`,
        params: { note: input.note ?? "", expectedCount: input.expectedCount ?? null },
        idempotencyKey: input.idempotencyKey,
      },
      async () =>
        input.op === "discard"
          ? discardDeadLetters(ctx.pool, input, ctx.actor.email, ctx.actions.bulkCap)
          : replayDeadLetters(
              ctx.pool,
              await ctx.actions.producer(),
              input,
              ctx.actor.email,
              ctx.actions.bulkCap,
            ),
    ),
  ),

  /** Declare a consumer group to be a projection, or forget an admin's declaration. */
  projection: actionProcedure
    .input(
      z.discriminatedUnion("op", [
        DeclarationSchema.extend({ op: z.literal("declare"), idempotencyKey: z.string().min(8).max(200) }),
        z.object({
          op: z.literal("undeclare"),
          name: ProjectionNameSchema,
          idempotencyKey: z.string().min(8).max(200),
        }),
      ]),
    )
    .mutation(({ ctx, input }) =>
      performAction(
        ctx.pool,
        ctx.actor,
        {
          action: `projection.${input.op}`,
          permission: "projection.declare",
          target: `projection:${input.name}`,
          params: input.op === "declare" ? { groupId: input.groupId, topics: input.topics } : {},
          idempotencyKey: input.idempotencyKey,
        },
        async () => {
          const outcome =
            input.op === "declare"
              ? await declareProjection(ctx.pool, input, ctx.actor.email)
              : await undeclareProjection(ctx.pool, input.name);
          return { phase: outcome.done ? "done" : "refused", message: outcome.message };
        },
      ),
    ),

  /** Replay one quarantined message with an edit (admins); the original is kept. */
  deadLetterEdit: actionProcedure.input(DeadLetterEditSchema).mutation(({ ctx, input }) =>
    performAction(
      ctx.pool,
      ctx.actor,
      {
        action: "dead-letter.edit-replay",
        permission: "dead-letter.edit",
        target: `dead-letter:${input.id}`,
        params: { note: input.note, key: input.key, value: input.value, headers: input.headers },
        idempotencyKey: input.idempotencyKey,
      },
      async () =>
        editAndReplay(
          ctx.pool,
          await ctx.actions.producer(),
          ctx.actions.topicPrefix,
          input,
          ctx.actor.email,
        ),
    ),
  ),

  saga: actionProcedure.input(SagaActionInputSchema).mutation(async ({ ctx, input }) => {
    // An edit keeps the input it replaces beside it on the audit log (the saga page shows both),
    // read only for an actor allowed to edit: anyone else is refused (and audited) as sent.
    const before =
      input.input && ctx.actor && can(ctx.actor.role, "saga.edit")
        ? await getSagaDetail(ctx, input.sagaId).catch(() => undefined)
        : undefined;
    const replaced = before?.input.current;
    return performAction(
      ctx.pool,
      ctx.actor,
      {
        action: `saga.${input.action}`,
        permission: input.action === "retry-edited" ? "saga.edit" : "saga.act",
        target: input.sagaId,
        params: {
          ...(input.fromStep !== undefined ? { fromStep: input.fromStep } : {}),
          ...(input.input ? { input: input.input, replacedInput: replaced ?? null } : {}),
          reason: input.reason ?? "",
        },
        idempotencyKey: input.idempotencyKey,
      },
      async (actionId) => {
        // Read once: an edit's detail was read just before, for the input it replaces.
        const detail = before ?? (await getSagaDetail(ctx, input.sagaId));
        const allowance = sagaActionsAllowed(detail.summary)[input.action];
        if (!allowance.allowed) return { phase: "refused", message: allowance.reason };
        return sendControlCommand(
          await ctx.actions.producer(),
          ctx.actions.topicPrefix,
          detail.summary,
          {
            actionId,
            action: input.action,
            fromStep: input.fromStep,
            reason: input.reason,
            input: input.input,
          },
          ctx.actor.email,
        );
      },
    );
  }),

  /** An action's status; a pending saga action is settled here once its owner has answered. */
  status: publicProcedure.input(z.object({ actionId: z.uuid() })).query(async ({ ctx, input }) => {
    const status = await statusOf(ctx.pool, input.actionId);
    if (status.phase === "pending" && status.action.startsWith("saga.")) {
      if (await settleFromResult(ctx.pool, input.actionId, status.target))
        return statusOf(ctx.pool, input.actionId);
    }
    return status;
  }),

  breaker: actionProcedure.input(BreakerOverrideSchema).mutation(({ ctx, input }) =>
    performAction(
      ctx.pool,
      ctx.actor,
      {
        action: `breaker.${input.op}`,
        permission: "breaker.override",
        target: input.pair,
        params: { forMinutes: input.forMinutes ?? null, reason: input.reason ?? "" },
        idempotencyKey: input.idempotencyKey,
      },
      async () =>
        overrideBreaker(
          ctx.breakerStore,
          await ctx.actions.producer(),
          ctx.actions.topicPrefix,
          input,
          ctx.actor.email,
          await isReportedOnly(ctx.breakerStore, ctx.pool, input.pair),
        ),
    ),
  ),

  breakerConfig: actionProcedure.input(BreakerConfigInputSchema).mutation(async ({ ctx, input }) => {
    const before = await ctx.breakerStore.readConfig(input.pair);
    return performAction(
      ctx.pool,
      ctx.actor,
      {
        action: "breaker.configure",
        permission: "breaker.configure",
        target: input.pair,
        params: { before, proposed: input.thresholds },
        idempotencyKey: input.idempotencyKey,
      },
      async () => {
        if (await isReportedOnly(ctx.breakerStore, ctx.pool, input.pair))
          throw new AppError(
            "BAD_REQUEST",
            `${input.pair} keeps its thresholds in its own library; change them where its breaker is built`,
          );
        return configureBreaker(
          ctx.breakerStore,
          await ctx.actions.producer(),
          ctx.actions.topicPrefix,
          input,
          ctx.actor.email,
        );
      },
    );
  }),

  /** Replays the pair's last hour of recorded outcomes against proposed thresholds. */
  whatIf: publicProcedure
    .input(z.object({ pair: z.string().min(3).max(300), thresholds: ThresholdsSchema }))
    .query(async ({ ctx, input }) => {
      const now = Date.now();
      const current = await ctx.breakerStore.readConfig(input.pair);
      const config = mergedConfig(current, input.thresholds);
      const recorded = await recordedWindows(ctx.pool, input.pair, new Date(now - WHAT_IF_MS), new Date(now));
      // A busy pair's hour can hold millions of calls: the newest up to the cap are replayed.
      const { windows, recordedCalls, leftOut } = newestWithin(recorded);
      const calls = spreadCalls(windows);
      const from = windows[0]?.start.getTime() ?? now - WHAT_IF_MS;
      return {
        windows: windows.length,
        calls: calls.length,
        recordedCalls,
        limitedTo: leftOut ? MAX_WHAT_IF_CALLS : null,
        from: new Date(from),
        to: new Date(now),
        proposed: replay(calls, config, from),
        current: replay(calls, current, from),
      };
    }),

  faults: actionProcedure.input(FaultsInputSchema).mutation(async ({ ctx, input }) => {
    if (ctx.actions.mode !== "demo") {
      await auditRefusal(ctx.pool, {
        actor: ctx.actor.email,
        actorRole: ctx.actor.role,
        action: "fleet.faults",
        target: input.service,
        why: "the fault panel exists in demo mode only",
      });
      throw new AppError("FORBIDDEN", "the fault panel exists in demo mode only");
    }
    const offered = faultServices(ctx.fleet ?? NO_MANIFEST);
    if (!offered.includes(input.service)) {
      const why = `${input.service} has no fault switches: the fleet's manifest declares ${offered.join(", ")}`;
      await auditRefusal(ctx.pool, {
        actor: ctx.actor.email,
        actorRole: ctx.actor.role,
        action: "fleet.faults",
        target: input.service,
        why,
      });
      throw new AppError("BAD_REQUEST", why);
    }
    return performAction(
      ctx.pool,
      ctx.actor,
      {
        action: "fleet.faults",
        permission: "fleet.faults",
        target: input.service,
        params: { ...input, idempotencyKey: undefined },
        idempotencyKey: input.idempotencyKey,
      },
      () => injectFaults(ctx.actions.redis, ctx.actions.topicPrefix, input),
    );
  }),

  /** The fault settings in force per demo service (none outside demo mode). */
  faultsState: publicProcedure.query(async ({ ctx }) =>
    ctx.actions?.mode === "demo"
      ? {
          mode: "demo" as const,
          services: await readFaultState(
            ctx.actions.redis,
            ctx.actions.topicPrefix,
            faultServices(ctx.fleet ?? NO_MANIFEST),
          ),
        }
      : { mode: "production" as const, services: [] },
  ),
});
