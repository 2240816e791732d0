// The contract events of one choreographed saga, as a participant records them while it
// does its part: each step and compensation in a span of its own under the saga's trace.
import {
  ControlActionSchema,
  childSpan,
  type Failure,
  type SagaEvent,
  type SagaEventDataInput,
  type SagaEventType,
  sagaEvent,
  type TraceContext,
} from "../../events/index.ts";
import { type Choreography, stepIndex } from "./choreography.ts";

export interface SagaRecorder {
  readonly events: SagaEvent[];
  readonly span: TraceContext;
  started(extra: { businessKey?: string; input?: Record<string, unknown> }): void;
  stepStarted(step: string, attempt: number): void;
  stepSucceeded(step: string, attempt: number, durationMs: number, output?: Record<string, unknown>): void;
  stepFailed(step: string, attempt: number, durationMs: number, error: Failure, willRetry: boolean): void;
  compensationStarted(step: string, attempt: number): void;
  compensationSucceeded(step: string, attempt: number, durationMs: number): void;
  compensationFailed(step: string, attempt: number, durationMs: number, error: Failure): void;
  completed(durationMs: number): void;
  aborted(data: { durationMs: number; reason: string; failedStep?: string; compensated: boolean }): void;
  /** Set once completed() or aborted() was recorded. */
  readonly ended: "completed" | "compensated" | "failed" | undefined;
}

export function createSagaRecorder(
  choreography: Choreography,
  ref: { sagaId: string; trace: TraceContext; source: string },
): SagaRecorder {
  const events: SagaEvent[] = [];
  // Everything this participant does for one message shares one span, a child of the trigger's.
  const span = childSpan(ref.trace);
  let ended: SagaRecorder["ended"];
  const emit = <T extends SagaEventType>(
    type: T,
    data: Omit<SagaEventDataInput<T>, "sagaId" | "sagaType" | "mode">,
  ) => {
    events.push(
      sagaEvent(
        type,
        {
          sagaId: ref.sagaId,
          sagaType: choreography.type,
          mode: "choreographed",
          ...data,
        } as SagaEventDataInput<T>,
        { source: ref.source, trace: span },
      ) as SagaEvent,
    );
  };
  const stepRef = (step: string, attempt: number) => {
    const index = stepIndex(choreography, step);
    return { step, stepIndex: index, service: choreography.steps[index]?.service ?? "?", attempt };
  };
  const timeoutOf = (step: string) => choreography.steps[stepIndex(choreography, step)]?.timeoutMs;

  return {
    events,
    span,
    get ended() {
      return ended;
    },
    started: (extra) =>
      emit("io.sagascope.saga.started", {
        steps: choreography.steps.map((s) => ({ name: s.name, service: s.service })),
        // The participants answer every command (the owner for the saga as a whole).
        controls: [...ControlActionSchema.options],
        ...extra,
      }),
    stepStarted: (step, attempt) =>
      emit("io.sagascope.saga.step.started", { ...stepRef(step, attempt), timeoutMs: timeoutOf(step) }),
    stepSucceeded: (step, attempt, durationMs, output) => {
      // Handing the saga on: the next step's owner must answer within its timeout.
      const next = choreography.steps[stepIndex(choreography, step) + 1];
      emit("io.sagascope.saga.step.succeeded", {
        ...stepRef(step, attempt),
        durationMs,
        ...(output ? { output } : {}),
        ...(next ? { next: { step: next.name, service: next.service, timeoutMs: next.timeoutMs } } : {}),
      });
    },
    stepFailed: (step, attempt, durationMs, error, willRetry) =>
      emit("io.sagascope.saga.step.failed", { ...stepRef(step, attempt), durationMs, error, willRetry }),
    compensationStarted: (step, attempt) =>
      emit("io.sagascope.saga.compensation.started", {
        ...stepRef(step, attempt),
        timeoutMs: timeoutOf(step),
      }),
    compensationSucceeded: (step, attempt, durationMs) =>
      emit("io.sagascope.saga.compensation.succeeded", { ...stepRef(step, attempt), durationMs }),
    compensationFailed: (step, attempt, durationMs, error) =>
      emit("io.sagascope.saga.compensation.failed", { ...stepRef(step, attempt), durationMs, error }),
    completed: (durationMs) => {
      ended = "completed";
      emit("io.sagascope.saga.completed", { durationMs });
    },
    aborted: (data) => {
      ended = data.compensated ? "compensated" : "failed";
      emit("io.sagascope.saga.aborted", data);
    },
  };
}
