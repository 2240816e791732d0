// What a saga's state allows: here, where a retry-from may start.
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
    const single = sagaActionsAllowed(running("choreographed"), 1)["retry-from"];
    expect(single).toEqual({
      allowed: false,
      reason: "a choreographed saga is retried from its second step on, and this one has a single step",
    });
    expect(sagaActionsAllowed(running("choreographed"), 2)["retry-from"].allowed).toBe(true);
    expect(sagaActionsAllowed(running("orchestrated"), 1)["retry-from"].allowed).toBe(true);
    expect(sagaActionsAllowed(running("orchestrated"), 0)["retry-from"].allowed).toBe(false);
    // Steps not read (a bulk operation's facts): judged by the state alone, as before.
    expect(sagaActionsAllowed(running("choreographed"))["retry-from"].allowed).toBe(true);
  });
});
