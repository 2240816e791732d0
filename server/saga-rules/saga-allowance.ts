// What a saga's state allows an operator to do now (checked before a command is sent, so an
// action that no longer applies is refused with the reason; the owner checks again), and
// what a compensation would revert. Pure: the saga page and the API use the same answers.

import { firstRerunnableStep } from "../../browser-safe/retry-from.ts";
import type { SagaEventOutline, SagaListItem } from "../dashboard/sagas/saga-dto.ts";
import { type ControlAction, describePause } from "../events/index.ts";
import { orderSagaEvents } from "./order-saga-events.ts";

export const SAGA_ACTIONS = [
  "compensate",
  "retry-step",
  "retry-from",
  "mark-resolved",
  "pause",
  "resume",
  "retry-edited",
] as const;
export type SagaAction = (typeof SAGA_ACTIONS)[number];

export interface Allowance {
  allowed: boolean;
  /** Why not, in words, when not. */
  reason: string;
}

/** What an action on a saga is judged by: its summary's state. */
export type SummaryFacts = Pick<
  SagaListItem,
  "status" | "mode" | "stuck" | "failedStep" | "currentStep" | "pausedBy" | "pausedAt"
>;

/** What the saga's start declared, when read: its steps, and the commands its runtime answers. */
export interface StartDeclared {
  steps?: number;
  controls?: readonly ControlAction[];
}

/** The contract's command an action sends (an edited retry is a retry-step carrying the input). */
export const commandOf = (action: SagaAction): ControlAction =>
  action === "retry-edited" ? "retry-step" : action;

/**
 * What the saga's state allows now (its owner checks again when the command arrives). What
 * its start declared, when known, rules out a retry-from with no step to start from, and a
 * command its runtime does not answer.
 */
export function sagaActionsAllowed(
  s: SummaryFacts,
  declared: StartDeclared = {},
): Record<SagaAction, Allowance> {
  const byState = allowedByState(s, declared.steps);
  const { controls } = declared;
  if (!controls) return byState;
  const answered = controls.length ? `it answers ${controls.join(", ")}` : "it answers no command";
  const unanswered = (action: SagaAction): Allowance => ({
    allowed: false,
    reason: `the saga's runtime does not answer ${commandOf(action)}: ${answered}, as its start declared`,
  });
  return Object.fromEntries(
    SAGA_ACTIONS.map((a) => [a, controls.includes(commandOf(a)) ? byState[a] : unanswered(a)]),
  ) as Record<SagaAction, Allowance>;
}

function allowedByState(s: SummaryFacts, declaredSteps?: number): Record<SagaAction, Allowance> {
  const yes: Allowance = { allowed: true, reason: "" };
  const no = (reason: string): Allowance => ({ allowed: false, reason });
  const ended = `the saga has already ended (${s.status})`;
  const moving = s.status === "running" || s.status === "timed_out";
  const unfinished = moving || s.status === "compensating";
  const paused = s.pausedAt ? describePause({ by: s.pausedBy ?? "an operator", since: s.pausedAt }) : "";
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
    "retry-step": paused
      ? no(`${paused}: resume it first`)
      : unfinished || s.status === "failed"
        ? yes
        : no(`nothing to retry: ${ended}`),
    "retry-from": paused
      ? no(`${paused}: resume it first`)
      : !moving
        ? no(`retry-from applies to a saga still moving forward; it is ${s.status}`)
        : declaredSteps !== undefined && declaredSteps <= firstRerunnableStep(s.mode)
          ? no(
              s.mode === "choreographed"
                ? "a choreographed saga is retried from its second step on, and this one has a single step"
                : "its start declared no step to retry from",
            )
          : yes,
    "mark-resolved": ["completed", "compensated", "resolved"].includes(s.status) ? no(ended) : yes,
    "retry-edited":
      s.mode !== "orchestrated"
        ? no(
            "a choreographed saga's input travels in its messages: edit its parked message on the dead-letters page and replay it",
          )
        : paused
          ? no(`${paused}: resume it first`)
          : unfinished || s.status === "failed"
            ? yes
            : no(`nothing to retry: ${ended}`),
    pause: paused ? no(`${paused} already`) : unfinished ? yes : no(`nothing to pause: ${ended}`),
    resume: paused ? yes : no("the saga is not paused"),
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
export function compensationPlan(events: SagaEventOutline[]): CompensationStep[] {
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
