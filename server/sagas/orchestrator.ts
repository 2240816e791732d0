// Runs one orchestrated saga: steps in order with timeouts and retries, then on failure
// the compensations of the completed steps in reverse order. Every move is announced as
// a contract event through `emit`, awaited in order, so the saga's events keep their order.
import {
  childSpan,
  formatTraceparent,
  newTrace,
  type SagaEvent,
  type SagaEventDataInput,
  type SagaEventType,
  sagaEvent,
  type TraceContext,
} from "../events/index.ts";
import type { RetryPolicy, SagaDefinition, StepContext, StepDefinition } from "./definition.ts";
import { asFailure, StepFailure } from "./step-failure.ts";

export interface OrchestratorDeps {
  /** Publishes one event; the saga waits for it, so a broken sink stops the saga, not its order. */
  emit(event: SagaEvent): Promise<void>;
  /** The CloudEvents source of the events, e.g. /fleet/transfer-orchestrator. */
  source: string;
  sleep?: (ms: number) => Promise<void>;
}

export interface SagaRun<Input> {
  sagaId: string;
  input: Input;
  businessKey?: string;
  trace?: TraceContext;
}

export type SagaOutcome =
  | { status: "completed" }
  | { status: "compensated"; failedStep: string; reason: string }
  | { status: "failed"; failedStep: string; reason: string };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function withTimeout<T>(work: Promise<T>, timeoutMs: number, step: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StepFailure("timeout", `${step} took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function backoff(policy: RetryPolicy, attempt: number): number {
  return policy.backoffMs * (policy.backoffFactor ?? 2) ** (attempt - 1);
}

export async function runSaga<Input extends Record<string, unknown>>(
  definition: SagaDefinition<Input>,
  run: SagaRun<Input>,
  deps: OrchestratorDeps,
): Promise<SagaOutcome> {
  const sleep = deps.sleep ?? defaultSleep;
  const root = run.trace ?? newTrace();
  const base = { sagaId: run.sagaId, sagaType: definition.type, mode: "orchestrated" as const };
  const startedAt = Date.now();
  const emit = <T extends SagaEventType>(type: T, data: SagaEventDataInput<T>, trace: TraceContext = root) =>
    deps.emit(sagaEvent(type, data, { source: deps.source, trace }));
  const context = (span: TraceContext, attempt: number): StepContext<Input> => ({
    sagaId: run.sagaId,
    input: run.input,
    attempt,
    traceparent: formatTraceparent(span),
  });

  await emit("io.sagascope.saga.started", {
    ...base,
    steps: definition.steps.map((s) => ({ name: s.name, service: s.service })),
    ...(run.businessKey ? { businessKey: run.businessKey } : {}),
    input: run.input,
  });

  const done: StepDefinition<Input>[] = [];
  for (const [stepIndex, step] of definition.steps.entries()) {
    const ref = { ...base, step: step.name, stepIndex, service: step.service };
    let failure: ReturnType<typeof asFailure> | undefined;
    for (let attempt = 1; attempt <= step.retry.attempts; attempt++) {
      const span = childSpan(root);
      const began = Date.now();
      await emit("io.sagascope.saga.step.started", { ...ref, attempt }, span);
      try {
        const output = await withTimeout(step.action(context(span, attempt)), step.timeoutMs, step.name);
        await emit(
          "io.sagascope.saga.step.succeeded",
          { ...ref, attempt, durationMs: Date.now() - began, ...(output ? { output } : {}) },
          span,
        );
        failure = undefined;
        break;
      } catch (error) {
        failure = asFailure(error);
        const willRetry = failure.category !== "business" && attempt < step.retry.attempts;
        if (failure.category === "timeout") {
          await emit("io.sagascope.saga.timed_out", { ...ref, attempt, timeoutMs: step.timeoutMs }, span);
        }
        await emit(
          "io.sagascope.saga.step.failed",
          { ...ref, attempt, durationMs: Date.now() - began, error: failure, willRetry },
          span,
        );
        if (!willRetry) break;
        await sleep(backoff(step.retry, attempt));
      }
    }
    if (failure) {
      // Only a business refusal proves the action did not land; after a timeout or a
      // transient error it may have, so the failed step is compensated too (compensations
      // are safe when their action never landed).
      if (failure.category !== "business") done.push(step);
      const reason = `${step.name} failed: ${failure.message}`;
      const compensated = await compensate(definition, done, run, deps, root, context, sleep);
      await emit("io.sagascope.saga.aborted", {
        ...base,
        durationMs: Date.now() - startedAt,
        reason: compensated ? reason : `${reason}; a compensation failed`,
        failedStep: step.name,
        compensated,
      });
      return compensated
        ? { status: "compensated", failedStep: step.name, reason }
        : { status: "failed", failedStep: step.name, reason };
    }
    done.push(step);
  }
  await emit("io.sagascope.saga.completed", { ...base, durationMs: Date.now() - startedAt });
  return { status: "completed" };
}

/** Compensates the completed steps in reverse; true when every compensation succeeded. */
async function compensate<Input extends Record<string, unknown>>(
  definition: SagaDefinition<Input>,
  done: StepDefinition<Input>[],
  run: SagaRun<Input>,
  deps: OrchestratorDeps,
  root: TraceContext,
  context: (span: TraceContext, attempt: number) => StepContext<Input>,
  sleep: (ms: number) => Promise<void>,
): Promise<boolean> {
  const base = { sagaId: run.sagaId, sagaType: definition.type, mode: "orchestrated" as const };
  let allReverted = true;
  for (const step of [...done].reverse()) {
    if (!step.compensate) continue;
    const ref = {
      ...base,
      step: step.name,
      stepIndex: definition.steps.indexOf(step),
      service: step.service,
    };
    const policy = definition.compensationRetry;
    let reverted = false;
    for (let attempt = 1; attempt <= policy.attempts && !reverted; attempt++) {
      const span = childSpan(root);
      const began = Date.now();
      await deps.emit(
        sagaEvent(
          "io.sagascope.saga.compensation.started",
          { ...ref, attempt },
          { source: deps.source, trace: span },
        ),
      );
      try {
        await withTimeout(
          step.compensate(context(span, attempt)),
          step.timeoutMs,
          `${step.name} compensation`,
        );
        await deps.emit(
          sagaEvent(
            "io.sagascope.saga.compensation.succeeded",
            { ...ref, attempt, durationMs: Date.now() - began },
            { source: deps.source, trace: span },
          ),
        );
        reverted = true;
      } catch (error) {
        await deps.emit(
          sagaEvent(
            "io.sagascope.saga.compensation.failed",
            { ...ref, attempt, durationMs: Date.now() - began, error: asFailure(error) },
            { source: deps.source, trace: span },
          ),
        );
        if (attempt < policy.attempts) await sleep(backoff(policy, attempt));
      }
    }
    allReverted &&= reverted;
  }
  return allReverted;
}
