// The durable orchestrator obeys control commands from the control topic (real Kafka and
// Postgres): each command, published twice with one command id, acts once, and its
// outcome comes back as a control.result event on the topic.
import { randomUUID } from "node:crypto";
import { type Consumer, Kafka, logLevel, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { scratchDatabase, testInfra, uniqueName, until } from "../../../scripts/test/infra.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import {
  type ControlAction,
  decodeSagaEvent,
  encodeSagaEvent,
  ensureTopics,
  newTrace,
  type SagaEvent,
  sagaEvent,
  topics,
} from "../../events/index.ts";
import { createLogger } from "../../log.ts";
import { defineSaga } from "../definition.ts";
import { startSaga } from "../saga-machine.ts";
import { StepFailure } from "../step-failure.ts";
import { createDurableOrchestrator, type DurableOrchestrator } from "./durable-orchestrator.ts";

type Input = { n: number };
const calls = new Map<string, number>();
const count = (key: string) => calls.set(key, (calls.get(key) ?? 0) + 1);
const calledTimes = (key: string) => calls.get(key) ?? 0;
/** Sagas whose charge fails transiently, fails as a business refusal, or whose refund fails. */
const chargeFails = new Set<string>();
const chargeRefused = new Set<string>();
const releaseFails = new Set<string>();
/** The input each charge ran with, by saga. */
const chargedWith = new Map<string, Input>();
/** Sagas whose reserve waits for the test to let it finish. */
const reserveGates = new Map<string, Promise<void>>();

const saga = defineSaga<Input>({
  type: "control-drill",
  steps: [
    {
      name: "reserve",
      service: "stock",
      timeoutMs: 1000,
      retry: { attempts: 3, backoffMs: 20 },
      action: async ({ sagaId }) => {
        count(`${sagaId}:reserve`);
        await reserveGates.get(sagaId);
        return undefined;
      },
      compensate: async ({ sagaId }) => {
        count(`${sagaId}:release`);
        if (releaseFails.has(sagaId)) throw new StepFailure("transient", "stock service down");
      },
    },
    {
      name: "charge",
      service: "payments",
      timeoutMs: 1000,
      // A long backoff: a failing charge leaves the saga waiting, as a stuck one does.
      retry: { attempts: 3, backoffMs: 60_000 },
      action: async ({ sagaId, input }) => {
        count(`${sagaId}:charge`);
        chargedWith.set(sagaId, input);
        if (chargeRefused.has(sagaId)) throw new StepFailure("business", "card declined");
        if (chargeFails.has(sagaId)) throw new StepFailure("transient", "payments unavailable");
        return undefined;
      },
      compensate: async ({ sagaId }) => {
        count(`${sagaId}:refund`);
      },
    },
  ],
  compensationRetry: { attempts: 2, backoffMs: 20 },
  input: z.object({ n: z.number().int().positive() }).strict(),
  // The charge refuses before it takes anything, so its figure may change after a failed try.
  editableOnceLanded: ["n"],
});

const log = createLogger("control-test", "error");
const prefix = `${uniqueName("control")}.`;
const topicNames = topics(prefix);
const kafka = new Kafka({
  clientId: "control-test",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let producer: Producer;
let watcher: Consumer;
let orchestrator: DurableOrchestrator<Input>;
const results: SagaEvent<"io.sagascope.control.result">[] = [];

beforeAll(async () => {
  db = await scratchDatabase("control");
  pool = createPool(db.url);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topicNames.sagaEvents, topicNames.control], 3);
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
  watcher = kafka.consumer({ groupId: uniqueName("control-watch") });
  await watcher.connect();
  await watcher.subscribe({ topics: [topicNames.control], fromBeginning: true });
  await watcher.run({
    eachMessage: async ({ message }) => {
      const decoded = decodeSagaEvent(message);
      if (decoded.ok && decoded.event.type === "io.sagascope.control.result")
        results.push(decoded.event as SagaEvent<"io.sagascope.control.result">);
    },
  });
  orchestrator = createDurableOrchestrator({
    pool,
    databaseUrl: db.url,
    schema: "control_drill",
    definition: saga,
    source: "/test/control",
    owner: "control-test-1",
    producer,
    kafka,
    topics: topicNames,
    log,
    pollMs: 20,
  });
  await orchestrator.start();
}, 60_000);

afterAll(async () => {
  await orchestrator?.stop();
  await watcher?.disconnect();
  await producer?.disconnect();
  await pool?.end();
  await db?.drop();
});

const phaseOf = async (sagaId: string) =>
  (await pool.query("SELECT phase FROM control_drill.saga_instance WHERE saga_id = $1", [sagaId])).rows[0]
    ?.phase as string | undefined;

async function startWaiting(sagaId: string) {
  chargeFails.add(sagaId);
  await orchestrator.startSaga({ sagaId, input: { n: 1 } });
  // The first charge failed and the saga waits a minute for its retry.
  await until("the first charge", () => calledTimes(`${sagaId}:charge`) === 1);
  await until("the failed charge to be saved", async () => {
    const r = await pool.query("SELECT state FROM control_drill.saga_instance WHERE saga_id = $1", [sagaId]);
    return r.rows[0]?.state.attempt === 2 && !r.rows[0]?.state.move;
  });
}

/** Publishes one command twice (two messages, one command id), as a retrying client would. */
async function command(
  sagaId: string,
  action: ControlAction,
  extra: { fromStep?: number; reason?: string; input?: Record<string, unknown> } = {},
) {
  const commandId = randomUUID();
  const event = () =>
    sagaEvent(
      "io.sagascope.control.command",
      { sagaId, sagaType: saga.type, mode: "orchestrated", commandId, action, requestedBy: "test", ...extra },
      { source: "/test/operator", trace: newTrace() },
    );
  await producer.send({ topic: topicNames.control, messages: [encodeSagaEvent(event())] });
  await producer.send({ topic: topicNames.control, messages: [encodeSagaEvent(event())] });
  return until(`the result of ${action}`, () => results.find((r) => r.data.commandId === commandId));
}

const resultsOf = (sagaId: string) => results.filter((r) => r.data.sagaId === sagaId);

describe("control commands to the durable orchestrator", () => {
  it("compensate now: reverts what landed, once", async () => {
    await startWaiting("s-compensate");
    const result = await command("s-compensate", "compensate", { reason: "customer gave up" });
    expect(result.data).toMatchObject({ outcome: "done", handledBy: "control-test-1" });
    expect(result.data.message).toMatch(/compensating charge, reserve/);
    await until("compensated", async () => (await phaseOf("s-compensate")) === "compensated");
    expect(calledTimes("s-compensate:refund")).toBe(1);
    expect(calledTimes("s-compensate:release")).toBe(1);
    expect(resultsOf("s-compensate")).toHaveLength(1);
  });

  it("retry the failed step: runs it again now, once", async () => {
    await startWaiting("s-retry");
    chargeFails.delete("s-retry");
    const result = await command("s-retry", "retry-step");
    expect(result.data.outcome).toBe("done");
    await until("completed", async () => (await phaseOf("s-retry")) === "completed");
    expect(calledTimes("s-retry:charge")).toBe(2);
    expect(resultsOf("s-retry")).toHaveLength(1);
  });

  it("retry from step 0: re-runs the steps from there, once", async () => {
    await startWaiting("s-from");
    chargeFails.delete("s-from");
    const result = await command("s-from", "retry-from", { fromStep: 0 });
    expect(result.data.message).toMatch(/re-running from step 0 \(reserve\)/);
    await until("completed", async () => (await phaseOf("s-from")) === "completed");
    expect(calledTimes("s-from:reserve")).toBe(2);
    expect(calledTimes("s-from:charge")).toBe(2);
  });

  it("mark resolved: the runtime stops driving the saga", async () => {
    await startWaiting("s-resolve");
    const result = await command("s-resolve", "mark-resolved", { reason: "refunded by phone" });
    expect(result.data.outcome).toBe("done");
    expect(await phaseOf("s-resolve")).toBe("resolved");
    await new Promise((r) => setTimeout(r, 300));
    expect(calledTimes("s-resolve:charge")).toBe(1);
    expect(calledTimes("s-resolve:release")).toBe(0);
    expect(resultsOf("s-resolve")).toHaveLength(1);
  });

  it("retry a given-up compensation after the operator fixed its cause", async () => {
    chargeRefused.add("s-stuck-refund");
    releaseFails.add("s-stuck-refund");
    await orchestrator.startSaga({ sagaId: "s-stuck-refund", input: { n: 1 } });
    await until("the saga to end failed", async () => (await phaseOf("s-stuck-refund")) === "failed");
    expect(calledTimes("s-stuck-refund:release")).toBe(2);
    releaseFails.delete("s-stuck-refund");
    const result = await command("s-stuck-refund", "retry-step");
    expect(result.data.message).toMatch(/retrying the failed compensation of reserve/);
    await until("compensated", async () => (await phaseOf("s-stuck-refund")) === "compensated");
    expect(calledTimes("s-stuck-refund:release")).toBe(3);
  });

  it("pause: no move starts until resume, which goes on from the step it stopped at", async () => {
    await startWaiting("s-pause");
    const paused = await command("s-pause", "pause", { reason: "payments incident" });
    expect(paused.data).toMatchObject({ outcome: "done", requestedBy: "test" });
    expect(paused.data.message).toMatch(/^paused by test: payments incident; step charge will not start/);
    // The pause made the saga due now (and unowned): only the pause keeps it from running.
    chargeFails.delete("s-pause");
    await new Promise((r) => setTimeout(r, 500));
    expect(await phaseOf("s-pause")).toBe("paused");
    expect(calledTimes("s-pause:charge")).toBe(1);
    const retry = await command("s-pause", "retry-step");
    expect(retry.data).toMatchObject({
      outcome: "refused",
      message: expect.stringMatching(/resume it first/),
    });
    const again = await command("s-pause", "pause");
    expect(again.data).toMatchObject({ outcome: "refused", message: expect.stringMatching(/already/) });

    const resumed = await command("s-pause", "resume");
    expect(resumed.data.message).toMatch(/^resumed by test; step charge starts now/);
    await until("completed", async () => (await phaseOf("s-pause")) === "completed");
    expect(calledTimes("s-pause:charge")).toBe(2);
    expect(calledTimes("s-pause:reserve")).toBe(1);
    const notPaused = await command("s-pause", "resume");
    expect(notPaused.data).toMatchObject({ outcome: "refused", message: "the saga is not paused" });
  });

  it("pause while a step is in flight: the step finishes, the next one waits for resume", async () => {
    let open = () => {};
    reserveGates.set("s-pause-flight", new Promise<void>((resolve) => (open = resolve)));
    await orchestrator.startSaga({ sagaId: "s-pause-flight", input: { n: 1 } });
    await until("reserve under way", () => calledTimes("s-pause-flight:reserve") === 1);
    // Answered at once, not after the step: a pause only decides whether the next move starts.
    const paused = await command("s-pause-flight", "pause");
    expect(paused.data.message).toMatch(
      /^paused by test; step reserve, under way, finishes, and nothing after it/,
    );
    open();
    await until("the saga to stop as paused", async () => (await phaseOf("s-pause-flight")) === "paused");
    await new Promise((r) => setTimeout(r, 300));
    expect(calledTimes("s-pause-flight:charge")).toBe(0);
    await command("s-pause-flight", "resume");
    await until("completed", async () => (await phaseOf("s-pause-flight")) === "completed");
    expect(calledTimes("s-pause-flight:reserve")).toBe(1);
    expect(calledTimes("s-pause-flight:charge")).toBe(1);
    expect(orchestrator.stats().lostOwnership).toBe(0);
  });

  it("retry with an edited input: refused when it does not fit the schema, else the step runs with it", async () => {
    await startWaiting("s-edit");
    const wrong = await command("s-edit", "retry-step", { input: { n: "seven" } });
    expect(wrong.data).toMatchObject({
      outcome: "refused",
      message: expect.stringMatching(/input schema: n: /),
    });
    expect(calledTimes("s-edit:charge")).toBe(1);
    chargeFails.delete("s-edit");
    const edited = await command("s-edit", "retry-step", { input: { n: 7 } });
    expect(edited.data).toMatchObject({ outcome: "done", input: { n: 7 } });
    await until("completed", async () => (await phaseOf("s-edit")) === "completed");
    expect(chargedWith.get("s-edit")).toEqual({ n: 7 });
    const stored = await pool.query(
      "SELECT state->'input' AS input FROM control_drill.saga_instance WHERE saga_id = $1",
      ["s-edit"],
    );
    expect(stored.rows[0].input).toEqual({ n: 7 });
  });

  it("a saga paused while its owner died mid-move is claimed by no one until resumed, then goes on", async () => {
    // As a dead instance leaves it: a move begun, its lease run out, the pause recorded in its state.
    const { state } = startSaga(
      saga,
      { sagaId: "s-orphan", input: { n: 1 }, trace: newTrace() },
      {
        source: "/test",
        now: Date.now(),
      },
    );
    const left = {
      ...state,
      move: { spanId: "0000000000000001", startedAt: Date.now() },
      paused: { by: "ops", since: 1 },
    };
    await pool.query(
      `INSERT INTO control_drill.saga_instance (saga_id, saga_type, phase, state, owner, lease_until)
       VALUES ($1, $2, 'forward', $3, 'dead-instance', now() - interval '1 second')`,
      ["s-orphan", saga.type, JSON.stringify(left)],
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(calledTimes("s-orphan:reserve")).toBe(0);
    const resumed = await command("s-orphan", "resume");
    expect(resumed.data).toMatchObject({
      outcome: "done",
      message: expect.stringMatching(/^resumed by test; step reserve starts now/),
    });
    await until("completed", async () => (await phaseOf("s-orphan")) === "completed");
    // The interrupted reserve ran again (it may have landed: its service is idempotent).
    expect(calledTimes("s-orphan:reserve")).toBe(1);
  });

  it("refuses what the saga's state no longer allows, and says why", async () => {
    const result = await command("s-retry", "compensate");
    expect(result.data).toMatchObject({ outcome: "refused", message: expect.stringMatching(/completed/) });
    const unknown = await command("s-nobody", "retry-step");
    expect(unknown.data).toMatchObject({
      outcome: "refused",
      message: expect.stringMatching(/no saga s-nobody/),
    });
    expect(calledTimes("s-retry:refund")).toBe(0);
  });
});
