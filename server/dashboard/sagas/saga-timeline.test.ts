import { describe, expect, it } from "vitest";
import type { SagaEventView } from "./saga-dto.ts";
import { buildTimeline } from "./saga-timeline.ts";

let offset = 0;
const at = (ms: number) => new Date(Date.parse("2026-11-25T10:00:00Z") + ms);
function ev(
  type: string,
  ms: number,
  step: string | null,
  data: Record<string, unknown> = {},
): SagaEventView {
  return {
    id: `e${offset}`,
    type: `io.sagascope.saga.${type}`,
    time: at(ms),
    source: "/t",
    step,
    stepIndex: step === "debit" ? 0 : step === "credit" ? 1 : null,
    service: step ? `svc-${step}` : null,
    traceId: "t".repeat(32),
    spanId: null,
    data,
    extensions: null,
    kafka: { topic: "t", partition: 0, offset: offset++ },
  };
}

describe("buildTimeline", () => {
  it("draws one bar per attempt, with timeouts, retries and compensations in the order they ran", () => {
    const timeline = buildTimeline([
      ev("started", 0, null),
      ev("step.started", 10, "debit", { attempt: 1 }),
      ev("step.succeeded", 30, "debit", { attempt: 1 }),
      ev("step.started", 40, "credit", { attempt: 1 }),
      ev("timed_out", 540, "credit", { attempt: 1 }),
      ev("step.failed", 541, "credit", { attempt: 1, error: { message: "took too long" } }),
      ev("step.started", 600, "credit", { attempt: 2 }),
      ev("step.failed", 620, "credit", { attempt: 2, error: { message: "account closed" } }),
      ev("compensation.started", 630, "debit", { attempt: 1 }),
      ev("compensation.succeeded", 650, "debit", { attempt: 1 }),
      ev("aborted", 660, null),
    ]);
    expect(timeline.start).toEqual(at(0));
    expect(timeline.end).toEqual(at(660));
    expect(timeline.bars.map((b) => [b.kind, b.step, b.attempt, b.outcome, b.error])).toEqual([
      ["step", "debit", 1, "succeeded", null],
      ["step", "credit", 1, "timed_out", "took too long"],
      ["step", "credit", 2, "failed", "account closed"],
      ["compensation", "debit", 1, "succeeded", null],
    ]);
    expect(timeline.bars[1]?.end).toEqual(at(540));
  });

  it("orders by offset, so a participant with a slow clock cannot put an outcome before its start", () => {
    offset = 100;
    const started = ev("step.started", 500, "debit");
    const succeeded = ev("step.succeeded", 200, "debit"); // stamped by a clock 300 ms behind
    const timeline = buildTimeline([succeeded, started]);
    expect(timeline.bars).toMatchObject([{ step: "debit", outcome: "succeeded" }]);
    expect(timeline.start).toEqual(at(200));
  });

  it("leaves a bar open while its attempt runs, and copes with no events", () => {
    const running = buildTimeline([ev("step.started", 0, "debit")]);
    expect(running.bars).toMatchObject([{ outcome: "running", end: null, attempt: 1 }]);
    expect(buildTimeline([])).toEqual({ start: null, end: null, bars: [], pauses: [], edits: [] });
  });

  it("ends an attempt that never got its answer where the saga moved on (compensated after a crash)", () => {
    const t = buildTimeline([
      ev("step.started", 0, "debit"),
      ev("step.succeeded", 10, "debit"),
      ev("step.started", 20, "credit"),
      ev("compensation.started", 900, "debit"),
      ev("compensation.succeeded", 950, "debit"),
    ]);
    expect(t.bars.map((b) => `${b.kind}:${b.step}:${b.outcome}`)).toEqual([
      "step:debit:succeeded",
      "step:credit:interrupted",
      "compensation:debit:succeeded",
    ]);
    expect(t.bars[1]?.end).toEqual(at(900));
  });

  it("draws an operator's pauses from the owner's answers, ignoring refusals", () => {
    const result = (ms: number, action: string, outcome: string, requestedBy?: string) => ({
      ...ev("x", ms, null, { action, outcome, ...(requestedBy ? { requestedBy } : {}), handledBy: "orch-1" }),
      type: "io.sagascope.control.result",
    });
    const t = buildTimeline([
      ev("step.started", 0, "debit", { attempt: 1 }),
      result(10, "pause", "done", "alice"),
      result(20, "pause", "refused", "bob"),
      result(50, "resume", "done", "carol"),
      ev("step.succeeded", 60, "debit", { attempt: 1 }),
      result(70, "pause", "done"),
    ]);
    expect(t.pauses).toEqual([
      { by: "alice", start: at(10), end: at(50) },
      { by: "orch-1", start: at(70), end: null },
    ]);
    // A saga that ends (its last move finished while paused, or it was marked resolved) is paused no more.
    const ended = buildTimeline([result(10, "pause", "done", "alice"), ev("completed", 40, null)]);
    expect(ended.pauses).toEqual([{ by: "alice", start: at(10), end: at(40) }]);
    const resolved = buildTimeline([
      result(10, "pause", "done", "alice"),
      result(30, "mark-resolved", "done"),
    ]);
    expect(resolved.pauses).toEqual([{ by: "alice", start: at(10), end: at(30) }]);
    expect(t.bars).toHaveLength(1);
  });
});
