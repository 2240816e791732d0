// What a saga allows: where a retry-from may start, and only the commands its runtime answers.
import { describe, expect, it } from "vitest";
import { sagaActionsAllowed } from "./saga-allowance.ts";

const running = (mode: "orchestrated" | "choreographed") => ({
  status: "running" as const,
  mode,
  stuck: false,
  failedStep: null,
  currentStep: "send-welcome",
  pausedBy: null,
  pausedAt: null,
});

describe("retry-from", () => {
  it("needs a step to start from: a choreographed saga's second, an orchestrated saga's first", () => {
    const single = sagaActionsAllowed(running("choreographed"), { steps: 1 })["retry-from"];
    expect(single).toEqual({
      allowed: false,
      reason: "a choreographed saga is retried from its second step on, and this one has a single step",
    });
    expect(sagaActionsAllowed(running("choreographed"), { steps: 2 })["retry-from"].allowed).toBe(true);
    expect(sagaActionsAllowed(running("orchestrated"), { steps: 1 })["retry-from"].allowed).toBe(true);
    expect(sagaActionsAllowed(running("orchestrated"), { steps: 0 })["retry-from"].allowed).toBe(false);
    // Steps not read (a bulk operation's facts): judged by the state alone, as before.
    expect(sagaActionsAllowed(running("choreographed"))["retry-from"].allowed).toBe(true);
  });
});

describe("the commands a saga's runtime answers", () => {
  it("refuses, at once and saying so, what its start declared it does not answer", () => {
    const allowed = sagaActionsAllowed(running("orchestrated"), {
      steps: 2,
      controls: ["compensate", "retry-step"],
    });
    expect(allowed.pause).toEqual({
      allowed: false,
      reason:
        "the saga's runtime does not answer pause: it answers compensate, retry-step, as its start declared",
    });
    expect(allowed["retry-from"].allowed).toBe(false);
    expect(allowed["mark-resolved"].allowed).toBe(false);
    expect(allowed.compensate.allowed).toBe(true);
    // An edited retry is a retry-step carrying the input.
    expect(allowed["retry-edited"].allowed).toBe(true);
    // Still judged by the state where the runtime answers: nothing to resume.
    expect(sagaActionsAllowed(running("orchestrated"), { controls: ["pause", "resume"] }).resume.reason).toBe(
      "the saga is not paused",
    );
    expect(sagaActionsAllowed(running("orchestrated"), { controls: [] }).compensate.reason).toBe(
      "the saga's runtime does not answer compensate: it answers no command, as its start declared",
    );
    // Nothing declared: every command the state allows is offered.
    expect(sagaActionsAllowed(running("orchestrated")).pause.allowed).toBe(true);
  });
});
