// The orchestrated saga as a pure state machine: which move comes next (a step attempt or
// a compensation attempt), and what an outcome does to the saga and which contract events
// it produces. No I/O, so the in-memory runner and the durable engine share one behaviour
// and it is tested without servers. The state is plain JSON, so it can be persisted.
import {
  ControlActionSchema,
  childSpan,
  type Failure,
  formatTraceparent,
  type SagaEvent,
  type SagaEventDataInput,
  type SagaEventType,
  sagaEvent,
  type TraceContext,
} from "../events/index.ts";
import type { RetryPolicy, SagaDefinition } from "./definition.ts";

/** The code a breaker's rejection carries (server/breakers/rejection-policy.ts). */
export const BREAKER_REFUSED_CODE = "BREAKER_OPEN";

export type SagaPhase = "forward" | "compensating" | "completed" | "compensated" | "failed" | "resolved";

export interface SagaState {
  sagaId: string;
  sagaType: string;
  input: Record<string, unknown>;
  businessKey?: string;
  trace: TraceContext;
  phase: SagaPhase;
  /** forward: the step to run; compensating: the position in `toCompensate`. */
  cursor: number;
  attempt: number;
  /** Step indices to compensate, in the order to do it. */
  toCompensate: number[];
  failedStep?: string;
  reason?: string;
  compensationFailed: boolean;
  /** Steps whose compensation was given up, for an operator's retry. */
  failedCompensations?: number[];
  /**
   * An attempt of the current step may have landed: one timed out or failed transiently,
   * or was interrupted by a crash. Then even a later business refusal does not prove
   * the step left nothing behind, and it is compensated too.
   */
  mayHaveLanded?: boolean;
  startedAt: number;
  /** An operator paused the saga: no move starts until resumed. */
  paused?: { by: string; since: number };
  /** The span and start time of the move in progress, so its outcome events share its span. */
  move?: { spanId: string; startedAt: number };
}

export type Move =
  | { kind: "step"; stepIndex: number; attempt: number }
  | { kind: "compensation"; stepIndex: number; attempt: number };

export type MoveOutcome = { ok: true; output?: Record<string, unknown> } | { ok: false; failure: Failure };

export interface Transition {
  state: SagaState;
  events: SagaEvent[];
  /** Wait this long before the next move (a retry's backoff). */
  delayMs: number;
}

export interface MachineContext {
  source: string;
  now: number;
}

const TERMINAL: ReadonlySet<SagaPhase> = new Set(["completed", "compensated", "failed", "resolved"]);
export const isFinished = (state: SagaState) => TERMINAL.has(state.phase);

function backoff(policy: RetryPolicy, attempt: number): number {
  return Math.min(
    policy.backoffMs * (policy.backoffFactor ?? 2) ** (attempt - 1),
    policy.maxBackoffMs ?? 60_000,
  );
}

/** Builds the contract events of one saga, in the given span (the saga's own by default). */
export function emitter(state: SagaState, ctx: MachineContext, trace: TraceContext = state.trace) {
  return <T extends SagaEventType>(
    type: T,
    data: Omit<SagaEventDataInput<T>, "sagaId" | "sagaType" | "mode">,
  ) =>
    sagaEvent(
      type,
      {
        sagaId: state.sagaId,
        sagaType: state.sagaType,
        mode: "orchestrated",
        ...data,
      } as SagaEventDataInput<T>,
      { source: ctx.source, trace, time: new Date(ctx.now) },
    ) as SagaEvent;
}

export function startSaga<Input extends Record<string, unknown>>(
  definition: SagaDefinition<Input>,
  run: { sagaId: string; input: Input; businessKey?: string; trace: TraceContext },
  ctx: MachineContext,
): Transition {
  const state: SagaState = {
    sagaId: run.sagaId,
    sagaType: definition.type,
    input: run.input,
    ...(run.businessKey ? { businessKey: run.businessKey } : {}),
    trace: run.trace,
    phase: "forward",
    cursor: 0,
    attempt: 1,
    toCompensate: [],
    compensationFailed: false,
    startedAt: ctx.now,
  };
  const event = emitter(state, ctx)("io.sagascope.saga.started", {
    steps: definition.steps.map((s) => ({ name: s.name, service: s.service })),
    ...(run.businessKey ? { businessKey: run.businessKey } : {}),
    input: run.input,
    // This runtime answers every command, when it is back if it was down.
    controls: [...ControlActionSchema.options],
  });
  return { state, events: [event], delayMs: 0 };
}

export function nextMove(state: SagaState): Move | undefined {
  if (state.paused) return undefined;
  if (state.phase === "forward") return { kind: "step", stepIndex: state.cursor, attempt: state.attempt };
  if (state.phase === "compensating") {
    const stepIndex = state.toCompensate[state.cursor];
    return stepIndex === undefined ? undefined : { kind: "compensation", stepIndex, attempt: state.attempt };
  }
  return undefined;
}

/** The move begins: its own span, and its started event. */
export function beginMove<Input>(
  definition: SagaDefinition<Input>,
  state: SagaState,
  move: Move,
  ctx: MachineContext,
): Transition & { traceparent: string } {
  const span = childSpan(state.trace);
  // A move still recorded as begun was interrupted (a crash): its attempt may have landed.
  const next: SagaState = {
    ...state,
    ...(state.move ? { mayHaveLanded: true } : {}),
    move: { spanId: span.spanId, startedAt: ctx.now },
  };
  const step = definition.steps[move.stepIndex];
  const ref = {
    step: step?.name ?? "?",
    stepIndex: move.stepIndex,
    service: step?.service ?? "?",
    attempt: move.attempt,
  };
  const type =
    move.kind === "step" ? "io.sagascope.saga.step.started" : "io.sagascope.saga.compensation.started";
  return {
    state: next,
    events: [emitter(next, ctx, span)(type, step ? { ...ref, timeoutMs: step.timeoutMs } : ref)],
    delayMs: 0,
    traceparent: formatTraceparent(span),
  };
}

/** The move ended with `outcome`: the next state, its events, and the pause before the next move. */
export function completeMove<Input>(
  definition: SagaDefinition<Input>,
  state: SagaState,
  move: Move,
  outcome: MoveOutcome,
  ctx: MachineContext,
): Transition {
  const step = definition.steps[move.stepIndex];
  if (!step) {
    // A saved saga whose step no longer exists (the definition changed): it cannot move on.
    const { move: _gone, ...rest } = state;
    return {
      state: { ...rest, phase: "failed", reason: `step ${move.stepIndex} no longer exists` },
      events: [],
      delayMs: 0,
    };
  }
  const span = state.move ? { ...state.trace, spanId: state.move.spanId } : state.trace;
  const durationMs = Math.max(0, ctx.now - (state.move?.startedAt ?? ctx.now));
  const ref = { step: step.name, stepIndex: move.stepIndex, service: step.service, attempt: move.attempt };
  const inSpan = emitter(state, ctx, span);
  const events: SagaEvent[] = [];
  const { move: _finished, ...rest } = state;
  let next: SagaState = rest;
  const delayMs = 0;

  if (move.kind === "step") {
    if (outcome.ok) {
      events.push(
        inSpan("io.sagascope.saga.step.succeeded", {
          ...ref,
          durationMs,
          ...(outcome.output ? { output: outcome.output } : {}),
        }),
      );
      next = { ...next, cursor: next.cursor + 1, attempt: 1, mayHaveLanded: false };
      if (next.cursor >= definition.steps.length) {
        next.phase = "completed";
        events.push(
          emitter(next, ctx)("io.sagascope.saga.completed", { durationMs: ctx.now - next.startedAt }),
        );
      }
      return { state: next, events, delayMs };
    }
    const { failure } = outcome;
    const willRetry = failure.category !== "business" && move.attempt < step.retry.attempts;
    if (failure.category === "timeout")
      events.push(inSpan("io.sagascope.saga.timed_out", { ...ref, timeoutMs: step.timeoutMs }));
    events.push(inSpan("io.sagascope.saga.step.failed", { ...ref, durationMs, error: failure, willRetry }));
    if (willRetry)
      return {
        state: { ...next, attempt: move.attempt + 1, mayHaveLanded: true },
        events,
        delayMs: backoff(step.retry, move.attempt),
      };
    // Only a business refusal of the only attempt proves the action did not land; after a
    // timeout, a transient error or a crash it may have, so the failed step is compensated
    // too (a compensation is safe when its action never landed).
    const landed = failure.category === "business" && !next.mayHaveLanded ? [] : [move.stepIndex];
    const earlier = Array.from({ length: move.stepIndex }, (_, i) => move.stepIndex - 1 - i);
    next = {
      ...next,
      phase: "compensating",
      cursor: 0,
      attempt: 1,
      toCompensate: [...landed, ...earlier].filter((i) => definition.steps[i]?.compensate),
      failedStep: step.name,
      reason: `${step.name} failed: ${failure.message}`,
    };
  } else if (outcome.ok) {
    events.push(inSpan("io.sagascope.saga.compensation.succeeded", { ...ref, durationMs }));
    next = { ...next, cursor: next.cursor + 1, attempt: 1 };
  } else {
    events.push(
      inSpan("io.sagascope.saga.compensation.failed", { ...ref, durationMs, error: outcome.failure }),
    );
    // A compensation its caller's breaker refused was never tried: it waits (the breaker's
    // queue policy) without spending an attempt, so a long outage cannot make it give up.
    const refusedUntried = outcome.failure.code === BREAKER_REFUSED_CODE;
    if (refusedUntried || move.attempt < definition.compensationRetry.attempts) {
      return {
        state: { ...next, attempt: refusedUntried ? move.attempt : move.attempt + 1 },
        events,
        delayMs: refusedUntried
          ? (definition.compensationRetry.maxBackoffMs ?? 60_000)
          : backoff(definition.compensationRetry, move.attempt),
      };
    }
    // Given up on this one; the others are still compensated, and the saga ends failed.
    next = {
      ...next,
      cursor: next.cursor + 1,
      attempt: 1,
      compensationFailed: true,
      failedCompensations: [...(next.failedCompensations ?? []), move.stepIndex],
    };
  }

  if (next.phase === "compensating" && next.cursor >= next.toCompensate.length) {
    next.phase = next.compensationFailed ? "failed" : "compensated";
    const reason = next.reason ?? "aborted";
    events.push(
      emitter(next, ctx)("io.sagascope.saga.aborted", {
        durationMs: ctx.now - next.startedAt,
        reason: next.compensationFailed ? `${reason}; a compensation failed` : reason,
        ...(next.failedStep ? { failedStep: next.failedStep } : {}),
        compensated: !next.compensationFailed,
      }),
    );
  }
  return { state: next, events, delayMs };
}
