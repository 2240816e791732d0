import { describe, expect, it } from "vitest";
import { type SagaEvent, type SagaEventDataInput, type SagaEventType, sagaEvent } from "../events/index.ts";
import { newTrace } from "../events/trace-context.ts";
import { foldSagaEvents, foldSagaSummary, type SagaSummaryState } from "./fold-saga-summary.ts";

const trace = newTrace();
const base = { sagaId: "s-1", sagaType: "interbank-transfer", mode: "orchestrated" as const };
const debit = { ...base, step: "debit", stepIndex: 0, service: "bank-a" };
const credit = { ...base, step: "credit", stepIndex: 1, service: "bank-b" };
let clock = Date.parse("2026-11-25T10:00:00Z");

function ev<T extends SagaEventType>(type: T, data: SagaEventDataInput<T>): SagaEvent {
  clock += 10;
  return sagaEvent(type, data, { source: "/test", trace, time: new Date(clock) }) as SagaEvent;
}

/**
 * Folded one event at a time and all at once (as the ingester folds a batch): every case below
 * thereby checks that both agree, and that folding leaves the summary it starts from untouched.
 */
function fold(events: SagaEvent[], from?: SagaSummaryState): SagaSummaryState {
  const before = structuredClone(from);
  const oneByOne = events.reduce<SagaSummaryState | undefined>(foldSagaSummary, from) as SagaSummaryState;
  const atOnce = foldSagaEvents(from, events);
  expect(atOnce).toEqual(oneByOne);
  expect(from).toEqual(before);
  return oneByOne;
}

const started = () =>
  ev("io.sagascope.saga.started", {
    ...base,
    businessKey: "TX-1",
    steps: [
      { name: "debit", service: "bank-a" },
      { name: "credit", service: "bank-b" },
    ],
  });

describe("foldSagaSummary", () => {
  it("follows a saga that completes", () => {
    const events = [
      started(),
      ev("io.sagascope.saga.step.started", debit),
      ev("io.sagascope.saga.step.succeeded", { ...debit, durationMs: 3 }),
      ev("io.sagascope.saga.step.started", credit),
    ];
    const running = fold(events);
    expect(running).toMatchObject({
      status: "running",
      currentStep: "credit",
      businessKey: "TX-1",
      eventCount: 4,
    });
    expect(running.startedAt).toEqual(events[0]?.time);
    const done = fold(
      [
        ev("io.sagascope.saga.step.succeeded", { ...credit, durationMs: 4 }),
        ev("io.sagascope.saga.completed", { ...base, durationMs: 50 }),
      ],
      running,
    );
    expect(done).toMatchObject({ status: "completed", currentStep: null, eventCount: 6 });
    expect(done.endedAt).toEqual(done.lastProgressAt);
  });

  it("follows a saga that fails and is compensated", () => {
    const s = fold([
      started(),
      ev("io.sagascope.saga.step.succeeded", { ...debit, durationMs: 3 }),
      ev("io.sagascope.saga.step.failed", {
        ...credit,
        durationMs: 2,
        error: { category: "transient", message: "unavailable" },
        willRetry: true,
      }),
    ]);
    expect(s).toMatchObject({ status: "running", failedStep: null });
    const failed = fold(
      [
        ev("io.sagascope.saga.step.failed", {
          ...credit,
          attempt: 2,
          durationMs: 2,
          error: { category: "business", message: "account closed" },
          willRetry: false,
        }),
        ev("io.sagascope.saga.compensation.started", debit),
      ],
      s,
    );
    expect(failed).toMatchObject({
      status: "compensating",
      failedStep: "credit",
      failureReason: "account closed",
    });
    const ended = fold(
      [
        ev("io.sagascope.saga.compensation.succeeded", { ...debit, durationMs: 1 }),
        ev("io.sagascope.saga.aborted", {
          ...base,
          durationMs: 40,
          reason: "credit failed",
          failedStep: "credit",
          compensated: true,
        }),
      ],
      failed,
    );
    expect(ended).toMatchObject({ status: "compensated", failureReason: "credit failed" });
  });

  it("keeps compensating through a failed compensation attempt and ends failed only when aborted so", () => {
    const s = fold([
      started(),
      ev("io.sagascope.saga.compensation.started", debit),
      ev("io.sagascope.saga.compensation.failed", {
        ...debit,
        durationMs: 1,
        error: { category: "transient", message: "db down" },
      }),
    ]);
    expect(s).toMatchObject({
      status: "compensating",
      failureReason: "compensation of debit failed: db down",
    });
    const ended = fold(
      [
        ev("io.sagascope.saga.aborted", {
          ...base,
          durationMs: 9,
          reason: "credit failed",
          compensated: false,
        }),
      ],
      s,
    );
    expect(ended).toMatchObject({ status: "failed", failureReason: "credit failed" });
  });

  it("records a timeout and lets the compensation that follows carry on", () => {
    const s = fold([started(), ev("io.sagascope.saga.timed_out", { ...credit, timeoutMs: 500 })]);
    expect(s).toMatchObject({
      status: "timed_out",
      failedStep: "credit",
      failureReason: "step credit timed out after 500 ms",
    });
    expect(fold([ev("io.sagascope.saga.compensation.started", debit)], s).status).toBe("compensating");
    expect(fold([ev("io.sagascope.saga.step.started", { ...credit, attempt: 2 })], s).status).toBe("running");
  });

  it("does not reopen an ended saga when a late event arrives", () => {
    const done = fold([started(), ev("io.sagascope.saga.completed", { ...base, durationMs: 5 })]);
    clock -= 1000;
    const late = fold([ev("io.sagascope.saga.step.started", credit)], done);
    expect(late).toMatchObject({ status: "completed", currentStep: null, eventCount: 3 });
    expect(late.lastProgressAt).toEqual(done.lastProgressAt);
  });

  it("knows what it waits for next, and by when, until the saga ends", () => {
    const s = fold([started(), ev("io.sagascope.saga.step.started", { ...debit, timeoutMs: 2000 })]);
    expect(s.progressExpectation).toBe("step debit (bank-a, attempt 1) to finish within 2000 ms");
    expect(s.progressExpectedBy?.getTime()).toBe(s.lastProgressAt.getTime() + 2000);
    const between = fold([ev("io.sagascope.saga.step.succeeded", { ...debit, durationMs: 1 })], {
      ...s,
      stuck: true,
    });
    expect(between).toMatchObject({
      stuck: false,
      stuckReason: null,
      progressExpectation: "the next move after step.succeeded of debit",
    });
    expect(between.progressExpectedBy).toEqual(between.lastProgressAt);
    const done = fold([ev("io.sagascope.saga.completed", { ...base, durationMs: 9 })], between);
    expect(done).toMatchObject({ progressExpectedBy: null, progressExpectation: null });
  });

  it("builds a summary even when saga.started has not been seen yet", () => {
    const s = fold([ev("io.sagascope.saga.step.started", debit)]);
    expect(s).toMatchObject({ sagaId: "s-1", status: "running", currentStep: "debit", eventCount: 1 });
    const withStart = fold([{ ...started(), time: new Date(s.startedAt.getTime() - 5) }], s);
    expect(withStart.startedAt.getTime()).toBe(s.startedAt.getTime() - 5);
    expect(withStart.businessKey).toBe("TX-1");
  });

  it("keeps control commands in the history without calling them progress, and ends a saga marked resolved", () => {
    const stuck = {
      ...fold([started(), ev("io.sagascope.saga.step.started", { ...debit, timeoutMs: 100 })]),
    };
    stuck.stuck = true;
    stuck.stuckReason = "step debit overdue";
    const command = {
      ...base,
      commandId: "c-1",
      action: "mark-resolved" as const,
      reason: "refunded by hand",
    };
    const asked = fold([ev("io.sagascope.control.command", command)], stuck);
    expect(asked).toMatchObject({ status: "running", stuck: true, lastProgressAt: stuck.lastProgressAt });
    expect(asked.eventCount).toBe(stuck.eventCount + 1);
    const refused = fold(
      [ev("io.sagascope.control.result", { ...command, outcome: "refused", message: "no", handledBy: "o" })],
      asked,
    );
    expect(refused.status).toBe("running");
    const resolved = fold(
      [ev("io.sagascope.control.result", { ...command, outcome: "done", message: "ok", handledBy: "o" })],
      refused,
    );
    expect(resolved).toMatchObject({ status: "resolved", stuck: false, progressExpectedBy: null });
    expect(resolved.endedAt).not.toBeNull();
    // A late event of the saga adds to its history but does not reopen it.
    expect(fold([ev("io.sagascope.saga.step.succeeded", { ...debit, durationMs: 1 })], resolved).status).toBe(
      "resolved",
    );
  });

  it("says what an unfinished saga waits on, from its latest event", () => {
    const failure = (attempt: number, code?: string) =>
      ev("io.sagascope.saga.step.failed", {
        ...credit,
        attempt,
        durationMs: 2,
        willRetry: true,
        error: { category: "transient", message: "no answer", ...(code ? { code } : {}) },
      });
    // One start, earlier than every event below (each event is made before its fold runs).
    const start = started();
    const waiting = (...events: SagaEvent[]) => fold([start, ...events]).waitingOn;
    // Started with a timeout: the participant has it; without one, nothing is announced.
    expect(waiting(ev("io.sagascope.saga.step.started", { ...credit, timeoutMs: 500 }))).toBe("participant");
    expect(waiting(ev("io.sagascope.saga.step.started", credit))).toBe("silent");
    expect(waiting(ev("io.sagascope.saga.step.succeeded", { ...debit, durationMs: 3 }))).toBe("silent");
    expect(waiting(ev("io.sagascope.saga.timed_out", { ...credit, timeoutMs: 500 }))).toBe("participant");
    // Retried: silent in the first backoffs, retrying repeatedly from the third attempt.
    expect(waiting(failure(2))).toBe("silent");
    expect(waiting(failure(3))).toBe("retrying");
    expect(
      waiting(
        ev("io.sagascope.saga.compensation.failed", {
          ...debit,
          attempt: 4,
          durationMs: 1,
          error: { category: "transient", message: "down" },
        }),
      ),
    ).toBe("retrying");
    // Refused by an open breaker and queued for a retry: waiting behind the breaker.
    expect(waiting(failure(1, "BREAKER_OPEN"))).toBe("breaker");
    // An older event folded after a newer one (another producer's clock, a redelivery) adds to
    // the history but does not say what the saga waits on: the newest event does.
    const earlier = ev("io.sagascope.saga.step.started", { ...credit, timeoutMs: 500 });
    const later = failure(3);
    expect(fold([start, later, earlier])).toMatchObject({ waitingOn: "retrying", eventCount: 3 });
    // A compensation given up needs an operator; other ends wait on nothing.
    const gaveUp = fold([
      started(),
      ev("io.sagascope.saga.aborted", {
        ...base,
        durationMs: 9,
        reason: "refund refused",
        compensated: false,
      }),
    ]);
    expect(gaveUp).toMatchObject({ status: "failed", waitingOn: "operator" });
    expect(
      fold([started(), ev("io.sagascope.saga.completed", { ...base, durationMs: 9 })]).waitingOn,
    ).toBeNull();
    const resolved = fold(
      [
        ev("io.sagascope.control.result", {
          ...base,
          commandId: "c-1",
          action: "mark-resolved",
          outcome: "done",
          message: "resolved",
          handledBy: "ops",
        }),
      ],
      gaveUp,
    );
    expect(resolved).toMatchObject({ status: "resolved", waitingOn: null });
  });

  it("a paused saga waits on its operator, is never due, and is due again from the resume", () => {
    const result = (action: "pause" | "resume", outcome: "done" | "refused", requestedBy?: string) =>
      ev("io.sagascope.control.result", {
        ...base,
        commandId: `c-${action}-${outcome}`,
        action,
        outcome,
        message: "m",
        handledBy: "orchestrator-1",
        ...(requestedBy ? { requestedBy } : {}),
      });
    const overdue = {
      ...fold([started(), ev("io.sagascope.saga.step.started", { ...debit, timeoutMs: 100 })]),
    };
    overdue.stuck = true;
    overdue.stuckReason = "step debit overdue";
    expect(fold([result("pause", "refused", "alice")], overdue)).toMatchObject({
      pausedAt: null,
      stuck: true,
    });

    const paused = fold([result("pause", "done", "alice")], overdue);
    expect(paused).toMatchObject({
      status: "running",
      pausedBy: "alice",
      waitingOn: "paused",
      stuck: false,
      stuckReason: null,
      progressExpectedBy: null,
    });
    expect(paused.pausedAt).toEqual(new Date(clock));
    // The step in flight when it was paused finishes: still paused, still nothing due.
    const finished = fold([ev("io.sagascope.saga.step.succeeded", { ...debit, durationMs: 5 })], paused);
    expect(finished).toMatchObject({ pausedBy: "alice", waitingOn: "paused", progressExpectedBy: null });

    const resumed = fold([result("resume", "done", "bob")], finished);
    expect(resumed).toMatchObject({
      pausedBy: null,
      pausedAt: null,
      waitingOn: "silent",
      progressExpectation: "the next move after the resume",
    });
    expect(resumed.progressExpectedBy).toEqual(new Date(clock));

    // Without who asked (another runtime may not say), the answering service stands in.
    expect(fold([result("pause", "done")], resumed).pausedBy).toBe("orchestrator-1");
    // An ended saga is not paused any more.
    const ended = fold(
      [result("pause", "done", "carol"), ev("io.sagascope.saga.completed", { ...base, durationMs: 9 })],
      resumed,
    );
    expect(ended).toMatchObject({ status: "completed", pausedBy: null, pausedAt: null, waitingOn: null });
  });

  it("a participant that hands the saga on announces the next step's deadline: waiting on that participant", () => {
    const handedOn = fold([
      started(),
      ev("io.sagascope.saga.step.succeeded", {
        ...debit,
        durationMs: 3,
        next: { step: "credit", service: "bank-b", timeoutMs: 5000 },
      }),
    ]);
    expect(handedOn).toMatchObject({
      waitingOn: "participant",
      progressExpectation: "step credit (bank-b) to answer within 5000 ms of debit's success",
    });
    expect(handedOn.progressExpectedBy).toEqual(new Date(clock + 5000));
    // Without the announcement, the next move is due at once and nothing says who owes it.
    const silent = fold([started(), ev("io.sagascope.saga.step.succeeded", { ...debit, durationMs: 3 })]);
    expect(silent).toMatchObject({ waitingOn: "silent" });
    expect(silent.progressExpectedBy).toEqual(new Date(clock));
  });
});
