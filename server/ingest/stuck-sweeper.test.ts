// Stuck detection on a real database: an attempt that overran its timeout (plus grace)
// is marked with a reason; the saga's next event clears it; ended sagas are never marked.
import { afterAll, describe, expect, it } from "vitest";
import { testInfra, uniqueName } from "../../scripts/test/infra.ts";
import { createPool } from "../db/pool.ts";
import { newTrace, type SagaEvent, sagaEvent } from "../events/index.ts";
import { createLogger } from "../log.ts";
import { storeBatch } from "./store-batch.ts";
import { createStuckSweeper } from "./stuck-sweeper.ts";

const pool = createPool(testInfra().databaseUrl);
afterAll(() => pool.end());
let offset = 0;
const store = (events: SagaEvent[]) =>
  storeBatch(pool, {
    events: events.map((event) => ({
      event,
      position: { topic: "stuck-test", partition: 0, offset: offset++ },
    })),
  });
const summary = async (sagaId: string) =>
  (await pool.query("SELECT stuck, stuck_reason, status FROM saga_summary WHERE saga_id = $1", [sagaId]))
    .rows[0];

/** A sweeper with the given graces, swept by hand (its timer is never started). */
const sweeperWith = (graces: { graceMs: number; deadlineGraceMs?: number }) =>
  createStuckSweeper({ pool, ...graces, intervalMs: 1000, log: createLogger("t", "error") });

describe("stuck sweeper", () => {
  it("marks an overdue saga with what it waits for, and the next event clears the mark", async () => {
    const sweeper = sweeperWith({ graceMs: 200 });
    const o = { source: "/test", trace: newTrace() };
    const base = { sagaType: "stuck-test", mode: "orchestrated" as const };
    const stuckId = uniqueName("stuck");
    const doneId = uniqueName("done");
    const longAgo = new Date(Date.now() - 5_000);
    const debit = {
      ...base,
      sagaId: stuckId,
      step: "debit",
      stepIndex: 0,
      service: "bank-a",
      timeoutMs: 100,
    };
    await store([
      sagaEvent(
        "io.sagascope.saga.started",
        { ...base, sagaId: stuckId, steps: [{ name: "debit", service: "bank-a" }] },
        { ...o, time: longAgo },
      ),
      sagaEvent("io.sagascope.saga.step.started", debit, { ...o, time: longAgo }),
      sagaEvent(
        "io.sagascope.saga.started",
        { ...base, sagaId: doneId, steps: [{ name: "debit", service: "bank-a" }] },
        { ...o, time: longAgo },
      ),
      sagaEvent(
        "io.sagascope.saga.completed",
        { ...base, sagaId: doneId, durationMs: 3 },
        { ...o, time: longAgo },
      ),
    ]);

    const marked = await sweeper.sweep();
    expect(marked).toContain(stuckId);
    expect(marked).not.toContain(doneId);
    expect(await summary(stuckId)).toMatchObject({
      stuck: true,
      stuck_reason: expect.stringMatching(
        /^no progress for \d+ s: expected step debit \(bank-a, attempt 1\) to finish within 100 ms by /,
      ),
    });
    expect(await sweeper.sweep()).not.toContain(stuckId);

    await store([sagaEvent("io.sagascope.saga.step.succeeded", { ...debit, durationMs: 5000 }, o)]);
    expect(await summary(stuckId)).toMatchObject({ stuck: false, stuck_reason: null });
    // A fresh event sets a fresh deadline: nothing is overdue now.
    expect(await sweeper.sweep()).not.toContain(stuckId);
  });

  it("never marks a paused saga, however long it waits; its resume sets a fresh deadline", async () => {
    const sweeper = sweeperWith({ graceMs: 200 });
    const o = { source: "/test", trace: newTrace() };
    const sagaId = uniqueName("paused");
    const ref = { sagaId, sagaType: "stuck-test", mode: "orchestrated" as const };
    const longAgo = (ms: number) => ({ ...o, time: new Date(Date.now() - ms) });
    const result = (action: "pause" | "resume", ago: number) =>
      sagaEvent(
        "io.sagascope.control.result",
        {
          ...ref,
          commandId: uniqueName(action),
          action,
          outcome: "done",
          message: "m",
          handledBy: "o",
          requestedBy: "alice",
        },
        longAgo(ago),
      );
    await store([
      sagaEvent(
        "io.sagascope.saga.started",
        { ...ref, steps: [{ name: "debit", service: "bank-a" }] },
        longAgo(9_000),
      ),
      sagaEvent(
        "io.sagascope.saga.step.started",
        { ...ref, step: "debit", stepIndex: 0, service: "bank-a", timeoutMs: 100 },
        longAgo(9_000),
      ),
      result("pause", 8_000),
    ]);
    expect(await sweeper.sweep()).not.toContain(sagaId);
    const paused = await pool.query(
      "SELECT stuck, waiting_on, paused_by FROM saga_summary WHERE saga_id = $1",
      [sagaId],
    );
    expect(paused.rows[0]).toEqual({ stuck: false, waiting_on: "paused", paused_by: "alice" });
    // Even with a deadline long past (a summary folded before it was paused, say), not stuck.
    await pool.query(
      "UPDATE saga_summary SET progress_expected_by = now() - interval '1 hour' WHERE saga_id = $1",
      [sagaId],
    );
    expect(await sweeper.sweep()).not.toContain(sagaId);

    // Resumed 5 s ago and nothing since: overdue from the resume on.
    await store([result("resume", 5_000)]);
    expect(await sweeper.sweep()).toContain(sagaId);
    expect(await summary(sagaId)).toMatchObject({
      stuck: true,
      stuck_reason: expect.stringMatching(/expected the next move after the resume/),
    });
  });

  it("trusts an announced deadline: late past it by the short grace; a silent saga only by the long one", async () => {
    const sweeper = sweeperWith({ graceMs: 60_000, deadlineGraceMs: 200 });
    const o = { source: "/test", trace: newTrace() };
    const ref = (sagaId: string) => ({ sagaId, sagaType: "stuck-test", mode: "choreographed" as const });
    const step = { step: "pay", stepIndex: 0, service: "payment", durationMs: 3 };
    const announced = uniqueName("announced");
    const silent = uniqueName("silent");
    const threeSecondsAgo = { ...o, time: new Date(Date.now() - 3000) };
    await store([
      sagaEvent(
        "io.sagascope.saga.step.succeeded",
        { ...ref(announced), ...step, next: { step: "ship", service: "shipping", timeoutMs: 1000 } },
        threeSecondsAgo,
      ),
      sagaEvent("io.sagascope.saga.step.succeeded", { ...ref(silent), ...step }, threeSecondsAgo),
    ]);
    const marked = await sweeper.sweep();
    expect(marked).toContain(announced);
    expect(marked).not.toContain(silent);
    expect(await summary(announced)).toMatchObject({
      stuck: true,
      stuck_reason: expect.stringMatching(
        /expected step ship \(shipping\) to answer within 1000 ms of pay's success/,
      ),
    });
  });
});
