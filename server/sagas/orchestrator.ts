// Runs one orchestrated saga in memory: the saga machine's moves, one after the other,
// each action or compensation under its timeout. Every event is awaited through `emit`
// in order, so the saga's events keep their order. (The durable engine runs the same
// machine with its state in Postgres.)
import { newTrace, type SagaEvent, type TraceContext } from "../events/index.ts";
import type { SagaDefinition, StepContext } from "./definition.ts";
import {
  beginMove,
  completeMove,
  type Move,
  type MoveOutcome,
  nextMove,
  type SagaState,
  startSaga,
} from "./saga-machine.ts";
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

function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StepFailure("timeout", `${what} took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Performs one move: the step's action or its compensation, under the step's timeout. */
export async function performMove<Input extends Record<string, unknown>>(
  definition: SagaDefinition<Input>,
  state: SagaState,
  move: Move,
  traceparent: string,
): Promise<MoveOutcome> {
  const step = definition.steps[move.stepIndex];
  if (!step) return { ok: false, failure: { category: "business", message: `no step ${move.stepIndex}` } };
  const context: StepContext<Input> = {
    sagaId: state.sagaId,
    input: state.input as Input,
    attempt: move.attempt,
    traceparent,
  };
  try {
    if (move.kind === "step") {
      const output = await withTimeout(step.action(context), step.timeoutMs, step.name);
      return output ? { ok: true, output } : { ok: true };
    }
    await withTimeout(
      step.compensate?.(context) ?? Promise.resolve(),
      step.timeoutMs,
      `${step.name} compensation`,
    );
    return { ok: true };
  } catch (error) {
    return { ok: false, failure: asFailure(error) };
  }
}

export function outcomeOf(state: SagaState): SagaOutcome | undefined {
  const failedStep = state.failedStep ?? "?";
  const reason = state.reason ?? "aborted";
  if (state.phase === "completed") return { status: "completed" };
  if (state.phase === "compensated") return { status: "compensated", failedStep, reason };
  if (state.phase === "failed") return { status: "failed", failedStep, reason };
  return undefined;
}

export async function runSaga<Input extends Record<string, unknown>>(
  definition: SagaDefinition<Input>,
  run: SagaRun<Input>,
  deps: OrchestratorDeps,
): Promise<SagaOutcome> {
  const sleep = deps.sleep ?? defaultSleep;
  const ctx = () => ({ source: deps.source, now: Date.now() });
  const emitAll = async (events: SagaEvent[]) => {
    for (const event of events) await deps.emit(event);
  };
  let { state, events } = startSaga(definition, { ...run, trace: run.trace ?? newTrace() }, ctx());
  await emitAll(events);
  for (let move = nextMove(state); move; move = nextMove(state)) {
    const begun = beginMove(definition, state, move, ctx());
    await emitAll(begun.events);
    const outcome = await performMove(definition, begun.state, move, begun.traceparent);
    const done = completeMove(definition, begun.state, move, outcome, ctx());
    await emitAll(done.events);
    state = done.state;
    if (done.delayMs > 0) await sleep(done.delayMs);
  }
  return outcomeOf(state) as SagaOutcome;
}
