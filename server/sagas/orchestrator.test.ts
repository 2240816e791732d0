import { describe, expect, it } from "vitest";
import type { SagaEvent } from "../events/index.ts";
import { defineSaga, type StepDefinition } from "./definition.ts";
import { runSaga } from "./orchestrator.ts";
import { StepFailure } from "./step-failure.ts";

type Behaviour = "ok" | "business" | "transient" | "hang";

function harness(plan: Record<string, Behaviour[]>, compensation: Record<string, Behaviour[]> = {}) {
  const calls: string[] = [];
  const next = (list: Behaviour[] | undefined): Behaviour => list?.shift() ?? "ok";
  const act = async (what: string, b: Behaviour) => {
    calls.push(what);
    if (b === "business") throw StepFailure.business(`${what} refused`);
    if (b === "transient") throw StepFailure.transient(`${what} unavailable`);
    if (b === "hang") await new Promise(() => {});
    return undefined;
  };
  const step = (name: string, service: string): StepDefinition<{ amount: number }> => ({
    name,
    service,
    timeoutMs: 50,
    retry: { attempts: 3, backoffMs: 1 },
    action: () => act(name, next(plan[name])),
    compensate: async () => {
      await act(`undo ${name}`, next(compensation[name]));
    },
  });
  const saga = defineSaga({
    type: "test-saga",
    steps: [step("reserve", "svc-a"), step("charge", "svc-b"), step("ship", "svc-c")],
    compensationRetry: { attempts: 2, backoffMs: 1 },
  });
  const events: SagaEvent[] = [];
  const run = () =>
    runSaga(
      saga,
      { sagaId: "s-1", input: { amount: 5 } },
      { source: "/test", emit: async (e) => void events.push(e) },
    );
  const types = () =>
    events.map(
      (e) => `${e.type.replace("io.sagascope.saga.", "")}${"step" in e.data ? `:${e.data.step}` : ""}`,
    );
  return { run, calls, events, types };
}

describe("orchestrated saga", () => {
  it("runs every step in order and completes, one trace for all events", async () => {
    const h = harness({});
    expect(await h.run()).toEqual({ status: "completed" });
    expect(h.calls).toEqual(["reserve", "charge", "ship"]);
    expect(h.types()).toEqual([
      "started",
      "step.started:reserve",
      "step.succeeded:reserve",
      "step.started:charge",
      "step.succeeded:charge",
      "step.started:ship",
      "step.succeeded:ship",
      "completed",
    ]);
    expect(new Set(h.events.map((e) => e.trace.traceId)).size).toBe(1);
  });

  it("compensates the completed steps in reverse order after a business failure, without retry", async () => {
    const h = harness({ ship: ["business"] });
    expect(await h.run()).toMatchObject({ status: "compensated", failedStep: "ship" });
    expect(h.calls).toEqual(["reserve", "charge", "ship", "undo charge", "undo reserve"]);
    expect(h.types().slice(-6)).toEqual([
      "step.failed:ship",
      "compensation.started:charge",
      "compensation.succeeded:charge",
      "compensation.started:reserve",
      "compensation.succeeded:reserve",
      "aborted",
    ]);
  });

  it("retries a transient failure and carries on", async () => {
    const h = harness({ charge: ["transient", "transient"] });
    expect(await h.run()).toEqual({ status: "completed" });
    const failures = h.events.filter((e) => e.type === "io.sagascope.saga.step.failed");
    expect(
      failures.map((e) => [
        ("attempt" in e.data && e.data.attempt) || 0,
        "willRetry" in e.data && e.data.willRetry,
      ]),
    ).toEqual([
      [1, true],
      [2, true],
    ]);
  });

  it("reports a timed-out step and compensates it too, since its action may have landed", async () => {
    const h = harness({ charge: ["hang", "hang", "hang"] });
    expect(await h.run()).toMatchObject({ status: "compensated", failedStep: "charge" });
    expect(h.types().filter((t) => t.startsWith("timed_out"))).toHaveLength(3);
    expect(h.calls.slice(-2)).toEqual(["undo charge", "undo reserve"]);
  });

  it("compensates a step whose transient failures ran out, but not one refused as business", async () => {
    const transient = harness({ charge: ["transient", "transient", "transient"] });
    await transient.run();
    expect(transient.calls.slice(-2)).toEqual(["undo charge", "undo reserve"]);
    const refusedAfterTimeout = harness({ charge: ["hang", "business"] });
    await refusedAfterTimeout.run();
    // The first, timed-out attempt may still land: a refusal of the retry proves nothing.
    expect(refusedAfterTimeout.calls.slice(-2)).toEqual(["undo charge", "undo reserve"]);
    const refused = harness({ charge: ["business"] });
    await refused.run();
    expect(refused.calls.slice(-1)).toEqual(["undo reserve"]);
    expect(refused.calls).not.toContain("undo charge");
  });

  it("retries a failing compensation and ends failed when it never succeeds", async () => {
    const h = harness({ ship: ["business"] }, { charge: ["transient", "transient"] });
    const outcome = await h.run();
    expect(outcome).toMatchObject({ status: "failed", failedStep: "ship" });
    const aborted = h.events.at(-1);
    expect(aborted?.data).toMatchObject({ compensated: false });
    // The other step is still compensated: one failure does not stop the rest.
    expect(h.calls).toContain("undo reserve");
  });
});
