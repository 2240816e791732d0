// Bulk operations through the API as each role would use them, run by the background runner
// against real Postgres and Kafka: the preview, refusals (a stale count, a bad filter, past
// the cap, a viewer), the commands really sent at the operation's rate, suspend / resume /
// cancel by the starter or an admin only, a lease that keeps a second runner out until the
// first is gone, a re-run after a crash that sends nothing twice, and an operation stopped
// when its starter loses the right to act.
import { randomUUID } from "node:crypto";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../../browser-safe/roles.ts";
import { migratedStore, testInfra, uniqueName, until } from "../../../scripts/test/infra.ts";
import {
  MAX_SLICE,
  type RunnerDeps,
  runOperationRound,
  sliceAt,
} from "../../actions/bulk-operation-runner.ts";
import type { RequestAuth } from "../../auth/request-auth.ts";
import {
  type ControlAction,
  decodeSagaEvent,
  ensureTopics,
  newTrace,
  sagaEvent,
  topics,
} from "../../events/index.ts";
import { storeBatch } from "../../ingest/store-batch.ts";
import { createLogger } from "../../log.ts";
import type { Context } from "../init.ts";
import { createCaller } from "../root.ts";

const store = migratedStore("operations", 6);
const log = createLogger("test", "error");
const prefix = `${uniqueName("ops")}.`;
const kafka = new Kafka({
  clientId: "operations-test",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
let producer: Producer;
const users: Record<string, { id: string; role: Role }> = {};
const key = () => randomUUID();
let offset = 0;

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topics(prefix).control]).finally(() => admin.disconnect());
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (const [name, role] of [
    ["ada", "operator"],
    ["bob", "operator"],
    ["cy", "admin"],
    ["dee", "viewer"],
  ] as const) {
    const { rows } = await store
      .pool()
      .query<{ id: string }>(
        "INSERT INTO app_user (email, name, role, password_hash) VALUES ($1, $2, $3, 'x') RETURNING id::text",
        [`${name}@example.test`, name, role],
      );
    users[name] = { id: rows[0]?.id as string, role };
  }
}, 60_000);

afterAll(async () => {
  await producer?.disconnect();
});

const auth = (name: string): RequestAuth => {
  const user = users[name] as { id: string; role: Role };
  return {
    actor: { id: user.id, email: `${name}@example.test`, name, role: user.role, via: "session" },
    csrf: "token",
    safeForActions: true,
    problem: null,
    stillSignedIn: async () => true,
  };
};
const as = (name: string, limits = { operationCap: 20, operationRate: 50 }) =>
  createCaller({
    pool: store.pool(),
    auth: auth(name),
    actions: {
      producer: async () => producer,
      topicPrefix: prefix,
      mode: "production",
      bulkCap: 200,
      ...limits,
    },
  } as unknown as Context);

const runner = (owner: string): RunnerDeps => ({
  pool: store.pool(),
  producer: async () => producer,
  topicPrefix: prefix,
  log,
  owner,
});

/** `completed` sagas, then (newer, so first in the list) `running` ones, all of one new type. */
async function seed(
  running: number,
  completed: number,
  /** The commands the i-th saga's runtime declared it answers, if it declared any. */
  declared: (i: number) => ControlAction[] | undefined = () => undefined,
): Promise<{ type: string; runningIds: string[] }> {
  const type = uniqueName("ops-type");
  const runningIds: string[] = [];
  const events = [];
  for (let i = 0; i < running + completed; i++) {
    const ref = { sagaId: `${type}-${i}`, sagaType: type, mode: "orchestrated" as const };
    const trace = newTrace();
    events.push(
      sagaEvent(
        "io.sagascope.saga.started",
        {
          ...ref,
          steps: [{ name: "debit", service: "bank" }],
          ...(declared(i) ? { controls: declared(i) } : {}),
        },
        {
          source: "/test",
          trace,
        },
      ),
    );
    if (i >= completed) runningIds.push(ref.sagaId);
    else
      events.push(
        sagaEvent("io.sagascope.saga.completed", { ...ref, durationMs: 3 }, { source: "/test", trace }),
      );
  }
  await storeBatch(store.pool(), {
    events: events.map((event) => ({
      event,
      position: { topic: "ops-test", partition: 0, offset: offset++ },
    })),
  });
  return { type, runningIds };
}

async function operation(id: string) {
  const { rows } = await store
    .pool()
    .query(
      'SELECT state, state_message AS "stateMessage", total, sent, skipped, failed FROM bulk_operation WHERE id = $1',
      [id],
    );
  return rows[0];
}

const idOf = (target: string) => target.replace(/^operation /, "");

describe("bulk operations", () => {
  it("previews, refuses a bad filter, a stale count, more than the cap and a viewer, then starts", async () => {
    const { type } = await seed(8, 2);
    const query = `type=${type}`;
    const preview = await as("ada").operations.preview({ query, action: "compensate" });
    expect(preview).toMatchObject({
      matching: 10,
      overCap: false,
      judged: 10,
      eligible: 8,
      cap: 20,
      rate: 50,
    });
    expect(preview.skipped).toEqual([
      { reason: "the saga completed; a completed saga is not compensated", count: 2 },
    ]);

    await expect(
      as("ada").operations.preview({ query: `${query}&colour=red`, action: "compensate" }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringContaining("not a filter of the sagas page"),
    });
    const stale = await as("ada").operations.start({
      query,
      action: "compensate",
      expectedCount: 9,
      idempotencyKey: key(),
    });
    expect(stale).toMatchObject({
      phase: "refused",
      message: expect.stringContaining("the set changed since the preview: 10 sagas match now, 9 were shown"),
    });
    const tight = await as("ada", { operationCap: 5, operationRate: 50 }).operations.start({
      query,
      action: "compensate",
      expectedCount: 10,
      idempotencyKey: key(),
    });
    expect(tight).toMatchObject({
      phase: "refused",
      message: expect.stringContaining("more than 5 sagas match"),
    });
    await expect(
      as("dee").operations.start({ query, action: "compensate", expectedCount: 10, idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    const denied = await store.pool().query("SELECT phase FROM audit_entry WHERE actor = 'dee@example.test'");
    expect(denied.rows.map((r) => r.phase)).toEqual(["denied"]);

    const started = await as("ada").operations.start({
      query,
      action: "compensate",
      expectedCount: 10,
      idempotencyKey: key(),
    });
    expect(started).toMatchObject({
      phase: "done",
      message: expect.stringContaining("10 sagas, at most 50 a second"),
    });
    expect(await operation(idOf(started.target))).toMatchObject({ state: "running", total: 10, sent: 0 });
    await store
      .pool()
      .query("UPDATE bulk_operation SET state = 'cancelled' WHERE id = $1", [idOf(started.target)]);
  });

  it("sends each saga's command at the operation's rate; suspend, resume and cancel by its starter or an admin; a lease keeps a second runner out", async () => {
    const { type, runningIds } = await seed(8, 2);
    const slow = { operationCap: 20, operationRate: 4 };
    const started = await as("ada", slow).operations.start({
      query: `type=${type}`,
      action: "compensate",
      expectedCount: 10,
      idempotencyKey: key(),
    });
    const id = idOf(started.target);

    // One round is one second's worth at 4 a second, paced: four sagas, 250 ms apart.
    const began = Date.now();
    const first = runOperationRound(runner("a"));
    await new Promise((r) => setTimeout(r, 50));
    expect(await runOperationRound(runner("b"))).toBeUndefined();
    expect(await first).toBe(4);
    expect(Date.now() - began).toBeGreaterThanOrEqual(3 * 250 - 20);
    expect(await operation(id)).toMatchObject({ state: "running", sent: 4, skipped: 0 });

    expect(
      await as("bob").operations.change({ operationId: id, change: "suspend", idempotencyKey: key() }),
    ).toMatchObject({
      phase: "refused",
      message: "only its starter (ada@example.test) or an admin may suspend it",
    });
    expect(
      await as("ada").operations.change({ operationId: id, change: "suspend", idempotencyKey: key() }),
    ).toMatchObject({ phase: "done" });
    expect(await runOperationRound(runner("a"))).toBeUndefined();
    expect(await operation(id)).toMatchObject({
      state: "suspended",
      stateMessage: "suspended by ada@example.test",
      sent: 4,
    });
    expect(
      await as("ada").operations.change({ operationId: id, change: "suspend", idempotencyKey: key() }),
    ).toMatchObject({
      phase: "refused",
      message: "the operation is suspended: it cannot be suspended",
    });
    expect(
      await as("cy").operations.change({ operationId: id, change: "resume", idempotencyKey: key() }),
    ).toMatchObject({ phase: "done" });

    // A runner that claimed it and vanished: nobody else works on it until its lease runs out.
    await store
      .pool()
      .query(
        "UPDATE bulk_operation SET lease_owner = 'gone', lease_until = now() + interval '1 hour' WHERE id = $1",
        [id],
      );
    expect(await runOperationRound(runner("a"))).toBeUndefined();
    await store
      .pool()
      .query("UPDATE bulk_operation SET lease_until = now() - interval '1 second' WHERE id = $1", [id]);
    expect(await runOperationRound(runner("a"))).toBe(4);
    expect(await operation(id)).toMatchObject({ state: "running", sent: 8, skipped: 0 });

    // The last two completed meanwhile, as the list showed: skipped with the reason, and the operation ends.
    expect(await runOperationRound(runner("a"))).toBe(2);
    expect(await runOperationRound(runner("a"))).toBe(0);
    expect(await operation(id)).toMatchObject({
      state: "done",
      sent: 8,
      skipped: 2,
      failed: 0,
      stateMessage: "every saga handled",
    });

    // Each running saga got one audited command, really sent on the control topic.
    const audit = await store
      .pool()
      .query<{ target: string; phase: string }>(
        "SELECT target, phase FROM audit_entry WHERE action = 'saga.compensate' AND params->>'bulk' = $1 ORDER BY id",
        [id],
      );
    expect(new Set(audit.rows.map((r) => r.target))).toEqual(new Set(runningIds));
    expect(audit.rows.filter((r) => r.phase === "pending")).toHaveLength(8);
    const consumer = kafka.consumer({ groupId: uniqueName("ops-control") });
    await consumer.connect();
    await consumer.subscribe({ topics: [topics(prefix).control], fromBeginning: true });
    const commanded = new Set<string>();
    await consumer.run({
      eachMessage: async ({ message }) => {
        const decoded = decodeSagaEvent(message);
        if (decoded.ok && "sagaId" in decoded.event.data) commanded.add(String(decoded.event.data.sagaId));
      },
    });
    try {
      await until("the eight commands on the control topic", () => runningIds.every((s) => commanded.has(s)));
    } finally {
      await consumer.disconnect();
    }

    const detail = await as("dee").operations.detail({ operationId: id });
    expect(detail.reasons).toEqual([
      { state: "skipped", message: "the saga completed; a completed saga is not compensated", count: 2 },
    ]);
    const listed = (await as("dee").operations.list()).find((o) => o.id === id);
    expect(listed).toMatchObject({
      total: 10,
      sent: 8,
      skipped: 2,
      pending: 0,
      state: "done",
      startedBy: "ada@example.test",
    });
    expect(
      await as("ada").operations.change({ operationId: id, change: "cancel", idempotencyKey: key() }),
    ).toMatchObject({
      phase: "refused",
      message: "the operation is done: it cannot be cancelled",
    });
  });

  it("run again after a crash, sends nothing twice; cancelled, leaves the rest pending", async () => {
    const { type, runningIds } = await seed(6, 0);
    const started = await as("ada", { operationCap: 20, operationRate: 2 }).operations.start({
      query: `type=${type}`,
      action: "retry-step",
      expectedCount: 6,
      idempotencyKey: key(),
    });
    const id = idOf(started.target);
    expect(await runOperationRound(runner("a"))).toBe(2);
    // As if the runner died after sending the first saga's command and before recording it.
    await store
      .pool()
      .query("UPDATE bulk_operation_target SET state = 'pending' WHERE operation_id = $1 AND position = 1", [
        id,
      ]);
    await store.pool().query("UPDATE bulk_operation SET sent = sent - 1 WHERE id = $1", [id]);
    expect(await runOperationRound(runner("b"))).toBe(2);
    const first = runningIds.at(-1) as string;
    const entries = await store
      .pool()
      .query("SELECT phase FROM audit_entry WHERE action = 'saga.retry-step' AND target = $1 ORDER BY id", [
        first,
      ]);
    expect(entries.rows.map((r) => r.phase)).toEqual(["requested", "pending"]);
    expect(
      await as("cy").operations.change({ operationId: id, change: "cancel", idempotencyKey: key() }),
    ).toMatchObject({ phase: "done" });
    expect(await runOperationRound(runner("a"))).toBeUndefined();
    expect(await operation(id)).toMatchObject({ state: "cancelled", sent: 3, skipped: 0 });
    const pending = await store
      .pool()
      .query(
        "SELECT count(*)::int AS n FROM bulk_operation_target WHERE operation_id = $1 AND state = 'pending'",
        [id],
      );
    expect(pending.rows[0].n).toBe(3);
  });

  it("at a high rate acts on a slice of sagas at once, each audited once; skips a saga whose runtime does not answer the action", async () => {
    expect([1, 50, 100, 101, 1000, 5000].map(sliceAt)).toEqual([1, 1, 1, 2, 10, MAX_SLICE]);
    const { type } = await seed(120, 0, (i) => (i < 3 ? ["retry-step"] : undefined));
    const unanswered =
      "the saga's runtime does not answer compensate: it answers retry-step, as its start declared";
    const preview = await as("ada", { operationCap: 200, operationRate: 5000 }).operations.preview({
      query: `type=${type}`,
      action: "compensate",
    });
    expect(preview).toMatchObject({
      matching: 120,
      eligible: 117,
      skipped: [{ reason: unanswered, count: 3 }],
    });
    const started = await as("ada", { operationCap: 200, operationRate: 5000 }).operations.start({
      query: `type=${type}`,
      action: "compensate",
      expectedCount: 120,
      idempotencyKey: key(),
    });
    const id = idOf(started.target);
    expect(await runOperationRound(runner("a"))).toBe(120);
    expect(await operation(id)).toMatchObject({ state: "running", sent: 117, skipped: 3, failed: 0 });
    const skipped = await store
      .pool()
      .query(
        "SELECT DISTINCT message FROM bulk_operation_target WHERE operation_id = $1 AND state = 'skipped'",
        [id],
      );
    expect(skipped.rows.map((r) => r.message)).toEqual([unanswered]);
    const audited = await store.pool().query(
      `SELECT count(*)::int AS pending, count(DISTINCT target)::int AS sagas FROM audit_entry
         WHERE action = 'saga.compensate' AND phase = 'pending' AND params->>'bulk' = $1`,
      [id],
    );
    expect(audited.rows[0]).toEqual({ pending: 117, sagas: 117 });
    // Sent together in a few requests, each saga's command is on the control topic once.
    const consumer = kafka.consumer({ groupId: uniqueName("ops-control-fast") });
    await consumer.connect();
    await consumer.subscribe({ topics: [topics(prefix).control], fromBeginning: true });
    const commands: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        const decoded = decodeSagaEvent(message);
        if (decoded.ok && decoded.event.type === "io.sagascope.control.command") {
          const sagaId = String(decoded.event.data.sagaId);
          if (sagaId.startsWith(`${type}-`)) commands.push(sagaId);
        }
      },
    });
    try {
      await until("the 117 commands on the control topic", () => commands.length >= 117);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await consumer.disconnect();
    }
    expect(commands).toHaveLength(117);
    expect(new Set(commands).size).toBe(117);
    expect(await runOperationRound(runner("a"))).toBe(0);
    expect(await operation(id)).toMatchObject({ state: "done", sent: 117, skipped: 3 });
  });

  it("stops an operation whose starter may no longer act on sagas", async () => {
    const { type } = await seed(3, 0);
    const started = await as("bob").operations.start({
      query: `type=${type}`,
      action: "compensate",
      expectedCount: 3,
      idempotencyKey: key(),
    });
    await store.pool().query("UPDATE app_user SET role = 'viewer' WHERE email = 'bob@example.test'");
    try {
      expect(await runOperationRound(runner("a"))).toBe(0);
      expect(await operation(idOf(started.target))).toMatchObject({
        state: "failed",
        sent: 0,
        stateMessage: "stopped: its starter bob@example.test may no longer act on sagas (now viewer)",
      });
    } finally {
      await store.pool().query("UPDATE app_user SET role = 'operator' WHERE email = 'bob@example.test'");
    }
  });
});
