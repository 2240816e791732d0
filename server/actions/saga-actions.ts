// Operator actions on sagas: their input, and sending the control command to the saga's
// owner, whose control.result (stored by the ingester) settles the action. What a saga's
// state allows and what a compensation reverts are in saga-allowance.ts.
import { z } from "zod";
import { can } from "../../browser-safe/roles.ts";
import type { SagaDetail } from "../dashboard/sagas/saga-detail.ts";
import type { Pool } from "../db/pool.ts";
import { EDITED_INPUT_MAX_BYTES } from "../events/control-events.ts";
import { type ControlAction, encodeSagaEvent, newTrace, sagaEvent, topics } from "../events/index.ts";
import {
  commandOf,
  SAGA_ACTIONS,
  type SagaAction,
  type SummaryFacts,
  sagaActionsAllowed,
} from "../saga-rules/saga-allowance.ts";
import type { Acting } from "./acting.ts";
import type { Sender } from "./coalesced-sender.ts";
import { type ActionStatus, type Outcome, performAction, settleAction } from "./perform-action.ts";

export const SagaActionInputSchema = z
  .object({
    sagaId: z.string().min(1).max(200),
    action: z.enum(SAGA_ACTIONS),
    fromStep: z.number().int().min(0).max(10_000).optional(),
    reason: z.string().trim().max(2000).optional(),
    idempotencyKey: z.string().min(8, "an idempotency key of 8 characters at least").max(200),
    /** retry-edited only: the saga's input to retry with. */
    input: z
      .record(z.string(), z.unknown())
      .refine((i) => Buffer.byteLength(JSON.stringify(i)) <= EDITED_INPUT_MAX_BYTES, {
        message: `an edited input is ${EDITED_INPUT_MAX_BYTES} bytes of JSON at most`,
      })
      .optional(),
  })
  .refine((a) => (a.action === "retry-edited") === (a.input !== undefined), {
    message: "an edited input goes with retry-edited, and only there",
    path: ["input"],
  })
  .refine((a) => a.action !== "mark-resolved" || Boolean(a.reason), {
    message: "marking a saga resolved needs a reason",
    path: ["reason"],
  })
  .refine((a) => a.action !== "retry-from" || a.fromStep !== undefined, {
    message: "retry from which step? (fromStep)",
    path: ["fromStep"],
  });
export type SagaActionInput = z.infer<typeof SagaActionInputSchema>;

export interface CommandTarget {
  sagaId: string;
  sagaType: string;
  mode: "orchestrated" | "choreographed";
}

/** Sends the control command (its id is the action's id) on the control topic. */
export async function sendControlCommand(
  producer: Sender,
  topicPrefix: string,
  target: CommandTarget,
  command: {
    actionId: string;
    action: SagaAction;
    fromStep?: number | undefined;
    reason?: string | undefined;
    input?: Record<string, unknown> | undefined;
  },
  requestedBy: string,
): Promise<Outcome> {
  // An edited retry is the contract's retry-step carrying the input.
  const action: ControlAction = commandOf(command.action);
  const event = sagaEvent(
    "io.sagascope.control.command",
    {
      ...target,
      commandId: command.actionId,
      action,
      ...(command.fromStep !== undefined ? { fromStep: command.fromStep } : {}),
      ...(command.input ? { input: command.input } : {}),
      ...(command.reason ? { reason: command.reason } : {}),
      requestedBy,
    },
    { source: "/sagascope/dashboard", trace: newTrace() },
  );
  await producer.send({ topic: topics(topicPrefix).control, messages: [encodeSagaEvent(event)] });
  return {
    phase: "pending",
    message: `sent to the saga's ${target.mode === "orchestrated" ? "orchestrator" : "participants"}`,
  };
}

/** Settles a pending saga action from the owner's stored answer, if it has arrived. */
export async function settleFromResult(
  db: Pick<Pool, "query">,
  actionId: string,
  sagaId: string,
): Promise<boolean> {
  const { rows } = await db.query<{
    data: { outcome: "done" | "refused"; message: string; handledBy: string };
  }>(
    `SELECT data FROM saga_event WHERE saga_id = $1 AND type = 'io.sagascope.control.result'
       AND data->>'commandId' = $2 LIMIT 1`,
    [sagaId, actionId],
  );
  const result = rows[0]?.data;
  if (!result) return false;
  await settleAction(db, actionId, result.outcome, `${result.message} (${result.handledBy})`);
  return true;
}

/**
 * What an action checks the saga against: its state, and (for an edit) the input it goes on
 * with. The dashboard's detail of the saga, or a bulk operation's facts of its targets.
 */
export interface SagaFacts {
  summary: CommandTarget & SummaryFacts;
  input?: Pick<SagaDetail["input"], "current">;
  /** The steps its start declared, when read. */
  steps?: readonly unknown[];
  /** The commands its runtime answers, when its start declared them and they were read. */
  controls?: readonly ControlAction[] | null;
}
export type ReadSaga = (sagaId: string) => Promise<SagaFacts>;

/** Who acts on a saga, and where its command goes. */
export type SagaActing = Pick<Acting, "pool" | "actor" | "topicPrefix"> & { producer: () => Promise<Sender> };

/**
 * An operator's command for one saga, checked against its state, sent to its owner: the one
 * way a saga is acted on, alone or as one target of a bulk operation (`bulk`: its id, kept
 * with the action's parameters on the audit log).
 */
export async function actOnSaga(
  a: SagaActing,
  input: SagaActionInput,
  readSaga: ReadSaga,
  bulk?: string,
): Promise<ActionStatus> {
  // An edit keeps the input it replaces beside it on the audit log (the saga page shows both),
  // read only for an actor allowed to edit: anyone else is refused (and audited) as sent.
  const before =
    input.input && can(a.actor.role, "saga.edit")
      ? await readSaga(input.sagaId).catch(() => undefined)
      : undefined;
  const replaced = before?.input?.current;
  return performAction(
    a.pool,
    a.actor,
    {
      action: `saga.${input.action}`,
      permission: input.action === "retry-edited" ? "saga.edit" : "saga.act",
      target: input.sagaId,
      params: {
        ...(input.fromStep !== undefined ? { fromStep: input.fromStep } : {}),
        ...(input.input ? { input: input.input, replacedInput: replaced ?? null } : {}),
        reason: input.reason ?? "",
        ...(bulk ? { bulk } : {}),
      },
      idempotencyKey: input.idempotencyKey,
    },
    async (actionId) => {
      // Read once: an edit's detail was read just before, for the input it replaces.
      const detail = before ?? (await readSaga(input.sagaId));
      const allowance = sagaActionsAllowed(detail.summary, {
        ...(detail.steps ? { steps: detail.steps.length } : {}),
        ...(detail.controls ? { controls: detail.controls } : {}),
      })[input.action];
      if (!allowance.allowed) return { phase: "refused", message: allowance.reason };
      return sendControlCommand(
        await a.producer(),
        a.topicPrefix,
        detail.summary,
        {
          actionId,
          action: input.action,
          fromStep: input.fromStep,
          reason: input.reason,
          input: input.input,
        },
        a.actor.email,
      );
    },
  );
}
