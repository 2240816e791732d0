// The machine's state survives being stored: a saga driven through JSON round trips at
// every move (as the durable engine does) behaves exactly like one kept in memory.
import { describe, expect, it } from "vitest";
import { newTrace } from "../events/index.ts";
import { defineSaga } from "./definition.ts";
import {
  beginMove,
  completeMove,
  type MoveOutcome,
  nextMove,
  type SagaState,
  startSaga,
} from "./saga-machine.ts";

const trace = newTrace();
const saga = defineSaga<{ n: number }>({
  type: "machine-test",
  steps: ["a", "b", "c"].map((name) => ({
    name,
    service: `svc-${name}`,
    timeoutMs: 100,
    retry: { attempts: 2, backoffMs: 10 },
    action: async () => undefined,
    compensate: async () => {},
  })),
  compensationRetry: { attempts: 2, backoffMs: 10 },
});

/** Scripted outcomes by move, e.g. "step:c:1" → failure. */
function drive(script: Record<string, MoveOutcome>, persist: (s: SagaState) => SagaState) {
  const ctx = { source: "/t", now: 1_000 };
  let { state, events } = startSaga(saga, { sagaId: "m-1", input: { n: 1 }, trace }, ctx);
  const types: string[] = events.map((e) => e.type);
  const delays: number[] = [];
  for (let move = nextMove(state); move; move = nextMove(state)) {
    ctx.now += 5;
    const begun = beginMove(saga, persist(state), move, ctx);
    ctx.now += 5;
    const outcome = script[`${move.kind}:${saga.steps[move.stepIndex]?.name}:${move.attempt}`] ?? {
      ok: true,
    };
    const done = completeMove(saga, persist(begun.state), move, outcome, ctx);
    state = persist(done.state);
    types.push(...[...begun.events, ...done.events].map((e) => e.type.replace("io.sagascope.saga.", "")));
    if (done.delayMs) delays.push(done.delayMs);
  }
  return { state, types, delays };
}

describe("saga machine", () => {
  const script: Record<string, MoveOutcome> = {
    "step:b:1": { ok: false, failure: { category: "transient", message: "flaky" } },
    "step:c:1": { ok: false, failure: { category: "timeout", message: "slow" } },
    "step:c:2": { ok: false, failure: { category: "timeout", message: "slow" } },
    "compensation:b:1": { ok: false, failure: { category: "transient", message: "db down" } },
  };

  it("behaves the same when its state is stored and read back at every move", () => {
    const inMemory = drive(script, (s) => s);
    const stored = drive(script, (s) => JSON.parse(JSON.stringify(s)) as SagaState);
    expect(stored.types).toEqual(inMemory.types);
    expect(stored.state).toEqual(inMemory.state);
  });

  it("keeps a compensation its breaker refused waiting without spending its attempts", () => {
    // Attempt 1 of b's compensation is refused by an open breaker more times than it has attempts.
    const ctx = { source: "/t", now: 1_000 };
    let { state } = startSaga(saga, { sagaId: "m-2", input: { n: 1 }, trace }, ctx);
    let refusals = 0;
    const delays: number[] = [];
    for (let move = nextMove(state); move; move = nextMove(state)) {
      ctx.now += 5;
      const begun = beginMove(saga, state, move, ctx);
      const name = saga.steps[move.stepIndex]?.name;
      const refused = move.kind === "compensation" && name === "b" && refusals < 5;
      if (refused) refusals += 1;
      const outcome: MoveOutcome =
        move.kind === "step" && name === "c"
          ? { ok: false, failure: { category: "business", message: "no" } }
          : refused
            ? { ok: false, failure: { category: "transient", code: "BREAKER_OPEN", message: "breaker open" } }
            : { ok: true };
      const done = completeMove(saga, begun.state, move, outcome, ctx);
      if (done.delayMs) delays.push(done.delayMs);
      state = done.state;
    }
    expect(refusals).toBe(5);
    expect(state.phase).toBe("compensated");
    expect(delays).toEqual([60_000, 60_000, 60_000, 60_000, 60_000]);
  });

  it("retries with backoff, compensates the timed-out step and every earlier one in reverse", () => {
    const { state, types, delays } = drive(script, (s) => s);
    expect(state).toMatchObject({ phase: "compensated", failedStep: "c", toCompensate: [2, 1, 0] });
    expect(delays).toEqual([10, 10, 10]);
    expect(types.filter((t) => t.startsWith("compensation.") || t === "aborted")).toEqual([
      "compensation.started",
      "compensation.succeeded",
      "compensation.started",
      "compensation.failed",
      "compensation.started",
      "compensation.succeeded",
      "compensation.started",
      "compensation.succeeded",
      "aborted",
    ]);
  });
});
