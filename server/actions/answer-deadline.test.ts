// Commands to a saga that nobody answers are settled at their deadline, on a database of the
// test's own: a retry-step with nothing parked is refused, a compensation that never ends has
// failed, a retry-from nobody re-drove has failed, an answer that arrived meanwhile settles its
// command; an orchestrated saga's command keeps waiting for its orchestrator where its start
// declared the command among its controls, and is settled where it did not; an action ends once.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Actor } from "../../browser-safe/roles.ts";
import { migratedStore } from "../../scripts/test/infra.ts";
import { actionHistory } from "../audit/audit-log.ts";
import { type ControlAction, newTrace, sagaEvent } from "../events/index.ts";
import { storeBatch } from "../ingest/store-batch.ts";
import { settleUnanswered } from "./answer-deadline.ts";
import { performAction, settleAction } from "./perform-action.ts";

const store = migratedStore("answers", 4);
const operator: Actor = { id: "op", email: "op@example.test", name: "op", role: "operator", via: "session" };
const DEADLINE_MS = 60_000;
let offset = 0;

async function saga(sagaId: string, mode: "choreographed" | "orchestrated", controls?: ControlAction[]) {
  const started = sagaEvent(
    "io.sagascope.saga.started",
    {
      sagaId,
      sagaType: "checkout",
      mode,
      steps: [{ name: "reserve", service: "stock" }],
      ...(controls ? { controls } : {}),
    },
    { source: "/test", trace: newTrace() },
  );
  await storeBatch(store.pool(), {
    events: [started].map((event) => ({
      event,
      position: { topic: "answers", partition: 0, offset: offset++ },
    })),
  });
}

/** An action sent and now pending, as the router leaves it. */
async function pending(action: "retry-step" | "compensate" | "retry-from" | "pause", sagaId: string) {
  const status = await performAction(
    store.pool(),
    operator,
    {
      action: `saga.${action}`,
      permission: "saga.act",
      target: sagaId,
      params: {},
      idempotencyKey: randomUUID(),
    },
    async () => ({ phase: "pending", message: "sent to the saga's participants" }),
  );
  return status.actionId;
}

const last = async (actionId: string) => (await actionHistory(store.pool(), actionId)).at(-1);

describe("the answer deadline of a saga's commands", () => {
  it("settles what nobody answered, with what the silence means; an answer settles its own command", async () => {
    const [quiet, endless, answered, orchestrated, unperformed, foreign] = [
      "quiet",
      "endless",
      "answered",
      "orch",
      "unperformed",
      "foreign",
    ].map((n) => `${n}-${randomUUID().slice(0, 8)}`) as [string, string, string, string, string, string];
    await saga(quiet, "choreographed");
    await saga(endless, "choreographed");
    await saga(unperformed, "choreographed");
    await saga(answered, "choreographed");
    await saga(orchestrated, "orchestrated", ["compensate", "retry-step", "pause", "resume"]);
    // An orchestrator of another runtime that declared nothing, asked to pause: it never answers.
    await saga(foreign, "orchestrated");
    const retry = await pending("retry-step", quiet);
    const compensate = await pending("compensate", endless);
    const rerun = await pending("retry-from", unperformed);
    const withAnswer = await pending("retry-step", answered);
    const waitsForOrchestrator = await pending("retry-step", orchestrated);
    const unanswerable = await pending("pause", foreign);
    // One participant did answer this one (it found something parked): storing the answer settles it.
    await storeBatch(store.pool(), {
      events: [
        {
          event: sagaEvent(
            "io.sagascope.control.result",
            {
              sagaId: answered,
              sagaType: "checkout",
              mode: "choreographed",
              commandId: withAnswer,
              action: "retry-step",
              outcome: "done",
              message: "stock handled 1 parked message(s) again",
              handledBy: "stock",
            },
            { source: "/test", trace: newTrace() },
          ),
          position: { topic: "answers", partition: 0, offset: offset++ },
        },
      ],
    });

    expect(await settleUnanswered(store.pool(), DEADLINE_MS)).toEqual([]);
    const later = new Date(Date.now() + DEADLINE_MS + 1000);
    const settled = await settleUnanswered(store.pool(), DEADLINE_MS, later);
    expect(settled.map((s) => [s.sagaId, s.phase]).sort()).toEqual(
      [
        [quiet, "refused"],
        [endless, "failed"],
        [unperformed, "failed"],
        [foreign, "failed"],
      ].sort(),
    );
    expect(await last(rerun)).toMatchObject({
      phase: "failed",
      message: expect.stringContaining("no participant handled the step's trigger again within 60 s"),
    });
    expect(await last(retry)).toMatchObject({
      phase: "refused",
      message: expect.stringContaining("nothing to retry: no participant had a parked message"),
    });
    expect(await last(compensate)).toMatchObject({
      phase: "failed",
      message: expect.stringContaining("did not finish compensating it within 60 s"),
    });
    expect(await last(withAnswer)).toMatchObject({
      phase: "done",
      message: "stock handled 1 parked message(s) again (stock)",
    });
    expect(await last(waitsForOrchestrator)).toMatchObject({ phase: "pending" });
    expect(await last(unanswerable)).toMatchObject({
      phase: "failed",
      message:
        "no answer from the saga's orchestrator within 60 s: it may be down (it acts on the command when back), or its runtime does not answer pause (a runtime declares the commands it answers in its saga.started event's controls)",
    });
    // Swept again: nothing left to settle.
    expect(await settleUnanswered(store.pool(), DEADLINE_MS, later)).toEqual([]);
  });

  it("records one end of an action, however many settle it at once", async () => {
    const sagaId = `race-${randomUUID().slice(0, 8)}`;
    await saga(sagaId, "choreographed");
    const actionId = await pending("compensate", sagaId);
    await Promise.all([
      settleAction(store.pool(), actionId, "done", "compensated"),
      settleAction(store.pool(), actionId, "failed", "no answer"),
      settleAction(store.pool(), actionId, "refused", "no answer"),
    ]);
    const ends = (await actionHistory(store.pool(), actionId)).filter((h) =>
      ["done", "failed", "refused"].includes(h.phase),
    );
    expect(ends).toHaveLength(1);
  });
});
