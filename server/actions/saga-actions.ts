// Operator actions on sagas: what a saga's state allows (checked before sending, so an
// action that no longer applies is refused with the reason), the compensation plan shown
// before compensating, and sending the control command to the saga's owner, whose
// control.result (stored by the ingester) settles the action.
import type { Producer } from "kafkajs";
import { z } from "zod";
import { orderSagaEvents } from "../dashboard/sagas/order-saga-events.ts";
import type { SagaEventView, SagaListItem } from "../dashboard/sagas/saga-dto.ts";
import type { Pool } from "../db/pool.ts";
import { encodeSagaEvent, newTrace, sagaEvent, topics } from "../events/index.ts";
import { type Outcome, settleAction } from "./perform-action.ts";

export const SAGA_ACTIONS = ["compensate", "retry-step", "retry-from", "mark-resolved"] as const;
export type SagaAction = (typeof SAGA_ACTIONS)[number];

export const SagaActionInputSchema = z
  .object({
    sagaId: z.string().min(1).max(200),
    action: z.enum(SAGA_ACTIONS),
    fromStep: z.number().int().min(0).max(10_000).optional(),
    reason: z.string().trim().max(2000).optional(),
    idempotencyKey: z.string().min(8, "an idempotency key of 8 characters at least").max(200),
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

export interface Allowance {
  allowed: boolean;
  /** Why not, in words, when not. */
  reason: string;
}

type SummaryFacts = Pick<SagaListItem, "status" | "mode" | "stuck" | "failedStep" | "currentStep">;

/** What the saga's state allows now (its owner checks again when the command arrives). */
export function sagaActionsAllowed(s: SummaryFacts): Record<SagaAction, Allowance> {
  const yes: Allowance = { allowed: true, reason: "" };
  const no = (reason: string): Allowance => ({ allowed: false, reason });
  const ended = `the saga has already ended (${s.status})`;
  const moving = s.status === "running" || s.status === "timed_out";
  return {
    compensate:
      s.status === "compensating"
        ? no("the saga is already compensating")
        : s.status === "completed"
          ? no("the saga completed; a completed saga is not compensated")
          : s.status === "failed"
            ? no("the saga ended with a failed compensation: retry it or mark it resolved")
            : moving
              ? yes
              : no(ended),
    "retry-step":
      moving || s.status === "compensating" || s.status === "failed" ? yes : no(`nothing to retry: ${ended}`),
    "retry-from":
      s.mode !== "orchestrated"
        ? no("retry-from needs an orchestrator; in a choreographed saga no one holds the whole sequence")
        : moving
          ? yes
          : no(`retry-from applies to a saga still moving forward; it is ${s.status}`),
    "mark-resolved": ["completed", "compensated", "resolved"].includes(s.status) ? no(ended) : yes,
  };
}

export interface CompensationStep {
  step: string;
  stepIndex: number;
  service: string;
  /** landed: it succeeded; maybe: it was under way and may have landed. */
  certainty: "landed" | "maybe";
}

/**
 * The steps a compensation would revert, in the order it would revert them: the landed
 * steps not yet compensated, newest first, and before them a step still under way.
 */
export function compensationPlan(events: SagaEventView[]): CompensationStep[] {
  const landed = new Map<number, CompensationStep>();
  let underWay: CompensationStep | undefined;
  for (const e of orderSagaEvents(events)) {
    if (e.step === null || e.stepIndex === null) continue;
    const entry = { step: e.step, stepIndex: e.stepIndex, service: e.service ?? "?" };
    if (e.type === "io.sagascope.saga.step.started") underWay = { ...entry, certainty: "maybe" };
    else if (e.type === "io.sagascope.saga.step.succeeded") {
      landed.set(e.stepIndex, { ...entry, certainty: "landed" });
      if (underWay?.stepIndex === e.stepIndex) underWay = undefined;
    } else if (e.type === "io.sagascope.saga.step.failed") {
      if (underWay?.stepIndex === e.stepIndex) underWay = undefined;
    } else if (e.type === "io.sagascope.saga.compensation.succeeded") landed.delete(e.stepIndex);
  }
  const newestFirst = [...landed.values()].sort((a, b) => b.stepIndex - a.stepIndex);
  return underWay ? [underWay, ...newestFirst] : newestFirst;
}

export interface CommandTarget {
  sagaId: string;
  sagaType: string;
  mode: "orchestrated" | "choreographed";
}

/** Sends the control command (its id is the action's id) on the control topic. */
export async function sendControlCommand(
  producer: Producer,
  topicPrefix: string,
  target: CommandTarget,
  command: {
    actionId: string;
    action: SagaAction;
    fromStep?: number | undefined;
    reason?: string | undefined;
  },
  requestedBy: string,
): Promise<Outcome> {
  const event = sagaEvent(
    "io.sagascope.control.command",
    {
      ...target,
      commandId: command.actionId,
      action: command.action,
      ...(command.fromStep !== undefined ? { fromStep: command.fromStep } : {}),
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
