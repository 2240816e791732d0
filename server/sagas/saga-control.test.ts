// Each control command against each saga phase: what it does, or why it is refused.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { newTrace } from "../events/index.ts";
import { defineSaga } from "./definition.ts";
import { applyControl, type ControlRequest, controlResultEvent } from "./saga-control.ts";
import { nextMove, type SagaState, startSaga } from "./saga-machine.ts";

const saga = defineSaga<{ n: number; m?: number }>({
  type: "control-test",
  steps: ["a", "b", "c"].map((name) => ({
    name,
    service: `svc-${name}`,
    timeoutMs: 100,
    retry: { attempts: 3, backoffMs: 10 },
    action: async () => undefined,
    compensate: async () => {},
  })),
  compensationRetry: { attempts: 2, backoffMs: 10 },
  input: z.object({ n: z.number().int().positive(), m: z.number().optional() }).strict(),
});
const ctx = { source: "/t", now: 5_000 };
const base = startSaga(
  saga,
  { sagaId: "c-1", input: { n: 1 }, trace: newTrace() },
  { ...ctx, now: 1_000 },
).state;
const at = (patch: Partial<SagaState>): SagaState => ({ ...base, ...patch });
const ask = (action: ControlRequest["action"], extra: Partial<ControlRequest> = {}) => ({
  commandId: "cmd-1",
  action,
  requestedBy: "alice",
  ...extra,
});

describe("applyControl", () => {
  it.each([
    // [what, state, request, expected phase or refusal text]
    ["compensate at step c reverts b then a", at({ cursor: 2 }), ask("compensate"), { toCompensate: [1, 0] }],
    [
      "compensate a step that may have landed reverts it too",
      at({ cursor: 1, attempt: 2 }),
      ask("compensate"),
      { toCompensate: [1, 0] },
    ],
    [
      "compensate an interrupted move reverts it too",
      at({ cursor: 1, move: { spanId: "0000000000000001", startedAt: 1 } }),
      ask("compensate"),
      { toCompensate: [1, 0] },
    ],
    [
      "compensate before anything landed ends compensated",
      at({ cursor: 0 }),
      ask("compensate"),
      { phase: "compensated" },
    ],
    [
      "retry-step while waiting resets the budget",
      at({ cursor: 1, attempt: 3 }),
      ask("retry-step"),
      { attempt: 1, cursor: 1 },
    ],
    [
      "retry-step after a given-up compensation compensates it again",
      at({ phase: "failed", failedCompensations: [0], compensationFailed: true }),
      ask("retry-step"),
      { phase: "compensating", toCompensate: [0], compensationFailed: false },
    ],
    [
      "retry-from an earlier step",
      at({ cursor: 2, attempt: 2 }),
      ask("retry-from", { fromStep: 0 }),
      { cursor: 0, attempt: 1 },
    ],
    [
      "mark-resolved stops the saga",
      at({ phase: "compensating", toCompensate: [0] }),
      ask("mark-resolved", { reason: "fixed by hand" }),
      { phase: "resolved" },
    ],
    [
      "pause a saga moving forward",
      at({ cursor: 1, attempt: 2 }),
      ask("pause"),
      { paused: { by: "alice", since: 5_000 }, cursor: 1, attempt: 2 },
    ],
    [
      "pause a compensating saga",
      at({ phase: "compensating", toCompensate: [0] }),
      ask("pause"),
      { phase: "compensating", paused: { by: "alice" } },
    ],
    [
      "compensate a paused saga: it stays paused",
      at({ cursor: 2, paused: { by: "bob", since: 1 } }),
      ask("compensate"),
      { phase: "compensating", toCompensate: [1, 0], paused: { by: "bob" } },
    ],
  ] as const)("%s", (_what, state, request, expected) => {
    const decision = applyControl(saga, state, request, ctx);
    expect(decision.outcome).toBe("done");
    if (decision.outcome !== "done") return;
    expect(decision.state).toMatchObject(expected);
    expect(decision.state.move).toBeUndefined();
    expect(decision.message.length).toBeGreaterThan(0);
  });

  it.each([
    ["compensate a completed saga", at({ phase: "completed" }), ask("compensate"), /completed/],
    ["compensate twice", at({ phase: "compensating" }), ask("compensate"), /already compensating/],
    ["compensate after a failed compensation", at({ phase: "failed" }), ask("compensate"), /retry-step/],
    ["retry-step of a compensated saga", at({ phase: "compensated" }), ask("retry-step"), /nothing to retry/],
    [
      "retry-from a step not reached",
      at({ cursor: 1 }),
      ask("retry-from", { fromStep: 2 }),
      /has not been reached/,
    ],
    [
      "retry-from a step that does not exist",
      at({ cursor: 1 }),
      ask("retry-from", { fromStep: 9 }),
      /does not exist/,
    ],
    [
      "retry-from while compensating",
      at({ phase: "compensating" }),
      ask("retry-from", { fromStep: 0 }),
      /forward/,
    ],
    ["mark-resolved without a reason", at({}), ask("mark-resolved"), /needs a reason/],
    [
      "mark-resolved a completed saga",
      at({ phase: "completed" }),
      ask("mark-resolved", { reason: "x" }),
      /ended/,
    ],
    [
      "pause a paused saga",
      at({ paused: { by: "bob", since: 1 } }),
      ask("pause"),
      /paused \(by bob since .*\) already/,
    ],
    ["pause a completed saga", at({ phase: "completed" }), ask("pause"), /nothing to pause: .*completed/],
    ["resume a saga that is not paused", at({}), ask("resume"), /not paused/],
    [
      "retry-step while paused",
      at({ paused: { by: "bob", since: 1 } }),
      ask("retry-step"),
      /resume it first/,
    ],
    [
      "retry-from while paused",
      at({ cursor: 1, paused: { by: "bob", since: 1 } }),
      ask("retry-from", { fromStep: 0 }),
      /resume it first/,
    ],
  ] as const)("refuses: %s", (_what, state, request, message) => {
    const decision = applyControl(saga, state, request, ctx);
    expect(decision).toMatchObject({ outcome: "refused", message: expect.stringMatching(message) });
  });

  it("a compensated-at-once saga says so in the contract, and the machine has nothing more to do", () => {
    const decision = applyControl(
      saga,
      at({ cursor: 0 }),
      ask("compensate", { reason: "customer left" }),
      ctx,
    );
    if (decision.outcome !== "done") throw new Error("expected done");
    expect(decision.events.map((e) => e.type)).toEqual(["io.sagascope.saga.aborted"]);
    expect(decision.events[0]?.data).toMatchObject({
      reason: "compensation requested by alice: customer left",
    });
    expect(nextMove(decision.state)).toBeUndefined();
  });

  it("a paused saga has no next move; resumed, it goes on from where it stopped", () => {
    const paused = applyControl(saga, at({ cursor: 1, attempt: 2 }), ask("pause"), ctx);
    if (paused.outcome !== "done") throw new Error("expected done");
    expect(paused.message).toMatch(/^paused by alice; step b will not start until resumed/);
    expect(nextMove(paused.state)).toBeUndefined();
    const resumed = applyControl(saga, paused.state, { ...ask("resume"), requestedBy: "carol" }, ctx);
    if (resumed.outcome !== "done") throw new Error("expected done");
    expect(resumed.message).toMatch(/^resumed by carol; step b starts now/);
    expect(resumed.state.paused).toBeUndefined();
    expect(nextMove(resumed.state)).toEqual({ kind: "step", stepIndex: 1, attempt: 2 });
  });

  it("mark-resolved a paused saga ends the pause too", () => {
    const decision = applyControl(
      saga,
      at({ paused: { by: "bob", since: 1 } }),
      ask("mark-resolved", { reason: "done by hand" }),
      ctx,
    );
    if (decision.outcome !== "done") throw new Error("expected done");
    expect(decision.state.phase).toBe("resolved");
    expect(decision.state).not.toHaveProperty("paused");
  });

  it("retry-step with an edited input: once a step has landed, only the fields named editable may change", () => {
    const landed = at({ cursor: 1, attempt: 3 });
    expect(applyControl(saga, landed, ask("retry-step", { input: { n: 7 } }), ctx)).toMatchObject({
      outcome: "refused",
      message: "steps have already run with the input, so n may not change now",
    });
    // Nothing has run yet: anything that fits the schema.
    const fresh = applyControl(
      saga,
      at({ cursor: 0, attempt: 1 }),
      ask("retry-step", { input: { n: 7 } }),
      ctx,
    );
    expect(fresh).toMatchObject({ outcome: "done", state: { input: { n: 7 } } });
    const partly = { ...saga, editableOnceLanded: ["m" as const] };
    expect(applyControl(partly, landed, ask("retry-step", { input: { n: 7 } }), ctx)).toMatchObject({
      outcome: "refused",
      message: "steps have already run with the input, so n may not change now (only m may)",
    });
  });

  it("retry-step with an edited input: checked against the input schema, then the saga goes on with it", () => {
    const editable = { ...saga, editableOnceLanded: ["n" as const] };
    const waiting = at({ cursor: 1, attempt: 3 });
    const edited = applyControl(editable, waiting, ask("retry-step", { input: { n: 7 } }), ctx);
    if (edited.outcome !== "done") throw new Error("expected done");
    expect(edited.state).toMatchObject({ input: { n: 7 }, attempt: 1, cursor: 1 });
    expect(edited.message).toBe("retrying step b now with the edited input, with a fresh retry budget");
    const result = controlResultEvent(waiting, ask("retry-step", { input: { n: 7 } }), edited, {
      ...ctx,
      handledBy: "orch-1",
    });
    expect(result.data).toMatchObject({ action: "retry-step", input: { n: 7 } });

    const wrong = applyControl(editable, waiting, ask("retry-step", { input: { n: -1 } }), ctx);
    expect(wrong).toMatchObject({
      outcome: "refused",
      message: expect.stringMatching(/^the edited input does not fit control-test's input schema: n: /),
    });
    // A refusal carries no input: nothing changed.
    expect(
      controlResultEvent(waiting, ask("retry-step", { input: { n: -1 } }), wrong, { ...ctx, handledBy: "o" })
        .data,
    ).not.toHaveProperty("input");
  });

  it("copies who asked into the result, so the dashboard can say who paused", () => {
    const event = controlResultEvent(
      base,
      ask("pause"),
      { outcome: "done", message: "paused" },
      {
        ...ctx,
        handledBy: "orch-1",
      },
    );
    expect(event.data).toMatchObject({ action: "pause", requestedBy: "alice" });
  });

  it("reports its outcome as a control.result in the saga's trace", () => {
    const request = ask("retry-step");
    const event = controlResultEvent(
      base,
      request,
      { outcome: "refused", message: "no" },
      { ...ctx, handledBy: "orch-1" },
    );
    expect(event.type).toBe("io.sagascope.control.result");
    expect(event.trace.traceId).toBe(base.trace.traceId);
    expect(event.data).toMatchObject({
      sagaId: "c-1",
      commandId: "cmd-1",
      outcome: "refused",
      handledBy: "orch-1",
    });
  });
});
