// Operator actions through the API (the tRPC caller with a request's auth), over real
// Postgres, Redis and Kafka: permissions refused and audited, one act per idempotency key,
// an append-only audit log, breaker overrides announced as events, saga actions refused
// when the saga's state no longer allows them and settled by the owner's answer, and the
// what-if replay agreeing with the Redis breaker fed the same recorded outcomes.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BreakerConfigSchema } from "../../browser-safe/breaker-config.ts";
import type { Actor, Role } from "../../browser-safe/roles.ts";
import { scratchDatabase, testInfra, uniqueName, until } from "../../scripts/test/infra.ts";
import type { RequestAuth } from "../auth/request-auth.ts";
import { createBreakerStore } from "../breakers/index.ts";
import { migrate } from "../db/migrate.ts";
import { createPool, type Pool } from "../db/pool.ts";
import { createPrisma, type PrismaClient } from "../db/prisma.ts";
import {
  breakerEventDataSchemas,
  decodeBreakerEvent,
  decodeSagaEvent,
  ensureTopics,
  newTrace,
  type SagaEvent,
  sagaEvent,
  topics,
} from "../events/index.ts";
import { parseFleetManifest } from "../fleet-manifest/fleet-manifest.ts";
import { storeBatch } from "../ingest/store-batch.ts";
import { createBreakerChangeFeed } from "../live/breaker-change-feed.ts";
import { createSagaChangeFeed } from "../live/saga-change-feed.ts";
import { createLogger } from "../log.ts";
import type { Context } from "../trpc/init.ts";
import { createCaller } from "../trpc/root.ts";
import { replay, spreadCalls } from "./what-if.ts";

const log = createLogger("test", "error");
const prefix = `${uniqueName("actions")}.`;
const kafka = new Kafka({
  clientId: "actions-test",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
const redis = new Redis(testInfra().redisUrl);
const breakerStore = createBreakerStore(redis, prefix);
let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let prisma: PrismaClient;
let producer: Producer;
let closeFeeds: () => Promise<void>;
let base: Context;

const actor = (role: Role): Actor => ({
  id: role,
  email: `${role}@example.test`,
  name: role,
  role,
  via: "session",
});
const auth = (role: Role, safe = true): RequestAuth => ({
  actor: actor(role),
  csrf: "token",
  safeForActions: safe,
  problem: null,
  stillSignedIn: async () => true,
});
const as = (role: Role, safe = true) => createCaller({ ...base, auth: auth(role, safe) });
const key = () => randomUUID();
let offset = 0;

beforeAll(async () => {
  db = await scratchDatabase("actions");
  await migrate(db.url);
  pool = createPool(db.url);
  prisma = createPrisma(db.url);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, Object.values(topics(prefix))).finally(() => admin.disconnect());
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const sagaChanges = createSagaChangeFeed(db.url, log);
  const breakerChanges = createBreakerChangeFeed(testInfra().redisUrl, breakerStore.channel, log, {
    tickMs: 60_000,
  });
  closeFeeds = async () => {
    await sagaChanges.close();
    await breakerChanges.close();
  };
  base = {
    prisma,
    pool,
    sagaChanges,
    breakerStore,
    breakerChanges,
    actions: {
      producer: async () => producer,
      topicPrefix: prefix,
      mode: "demo",
      bulkCap: 4,
      operationCap: 4,
      operationRate: 10,
      redis,
    },
  };
}, 60_000);

afterAll(async () => {
  await closeFeeds?.();
  await producer?.disconnect();
  await prisma?.$disconnect();
  await pool?.end();
  await db?.drop();
  redis.disconnect();
});

async function auditOf(target: string) {
  return (
    await pool.query("SELECT actor, action, phase, message FROM audit_entry WHERE target = $1 ORDER BY id", [
      target,
    ])
  ).rows;
}

async function storeSaga(sagaId: string, finished: boolean) {
  const ref = { sagaId, sagaType: "interbank-transfer", mode: "orchestrated" as const };
  const opts = { source: "/test", trace: newTrace() };
  const step = { ...ref, step: "debit", stepIndex: 0, service: "bank-a", attempt: 1 };
  const events = [
    sagaEvent("io.sagascope.saga.started", { ...ref, steps: [{ name: "debit", service: "bank-a" }] }, opts),
    sagaEvent("io.sagascope.saga.step.started", step, opts),
    sagaEvent("io.sagascope.saga.step.succeeded", { ...step, durationMs: 3 }, opts),
    ...(finished ? [sagaEvent("io.sagascope.saga.completed", { ...ref, durationMs: 5 }, opts)] : []),
  ];
  await storeBatch(pool, {
    events: events.map((event) => ({ event, position: { topic: "t", partition: 0, offset: offset++ } })),
  });
}

describe("operator actions", () => {
  it("refuses a viewer and audits the refusal; refuses a request without the CSRF token", async () => {
    const pair = `transfers→${uniqueName("bank")}`;
    await expect(
      as("viewer").actions.breaker({ pair, op: "force-open", idempotencyKey: key() }),
    ).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "refused: the viewer role may not breaker.force-open",
    });
    expect(await auditOf(pair)).toEqual([
      expect.objectContaining({ actor: "viewer@example.test", phase: "denied" }),
    ]);
    await expect(
      as("operator", false).actions.breaker({ pair, op: "force-open", idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("CSRF") });
    await expect(
      as("operator").actions.breakerConfig({
        pair,
        thresholds: {
          failureRate: 0.5,
          minimumCalls: 10,
          windowMs: 10_000,
          openMs: 5000,
          halfOpenPermits: 3,
        },
        idempotencyKey: key(),
      }),
    ).rejects.toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("operator role may not") });
  });

  it("offers fault switches for what the fleet's manifest declares: a fleet of its own, and a service it does not declare refused and audited", async () => {
    const fleet = parseFleetManifest(
      JSON.stringify({ version: 1, faultSwitches: ["billing", "mailer"] }),
      "test",
    );
    const operator = createCaller({ ...base, fleet, auth: auth("operator") });
    const state = await operator.actions.faultsState();
    expect(state.services.map((s) => s.service)).toEqual(["billing", "mailer", "projector"]);

    const done = await operator.actions.faults({ service: "mailer", latencyMs: 250, idempotencyKey: key() });
    expect(done).toMatchObject({ phase: "done" });
    const after = await operator.actions.faultsState();
    expect(after.services.find((s) => s.service === "mailer")?.latencyMs).toBe(250);

    await expect(
      operator.actions.faults({ service: "bank-a", errorRate: 1, idempotencyKey: key() }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "bank-a has no fault switches: the fleet's manifest declares billing, mailer, projector",
    });
    expect(await auditOf("bank-a")).toEqual([
      expect.objectContaining({
        actor: "operator@example.test",
        action: "fleet.faults",
        phase: "denied",
        message: "bank-a has no fault switches: the fleet's manifest declares billing, mailer, projector",
      }),
    ]);
    await operator.actions.faults({ service: "mailer", clear: true, idempotencyKey: key() });
  });

  it("forces a breaker open once per idempotency key, announces it as an event, and audits it", async () => {
    const pair = `transfers→${uniqueName("bank")}`;
    const events: ReturnType<typeof decodeBreakerEvent>[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName("actions-events") });
    await consumer.connect();
    await consumer.subscribe({ topic: topics(prefix).breakerEvents, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void events.push(decodeBreakerEvent(message)) });
    try {
      const idempotencyKey = key();
      const first = await as("operator").actions.breaker({
        pair,
        op: "force-open",
        forMinutes: 5,
        idempotencyKey,
      });
      const again = await as("operator").actions.breaker({
        pair,
        op: "force-open",
        forMinutes: 5,
        idempotencyKey,
      });
      expect(first).toMatchObject({ phase: "done", replayed: false });
      expect(again).toMatchObject({ phase: "done", replayed: true, actionId: first.actionId });
      expect((await breakerStore.readState(pair)).forced).toBe("open");
      expect((await auditOf(pair)).map((a) => a.phase)).toEqual(["requested", "done"]);
      const announced = await until(
        "the override's state_changed event",
        () =>
          events.find(
            (e) =>
              e.ok && e.event.type === "io.sagascope.breaker.state_changed" && e.event.data.pair === pair,
          ),
        20_000,
      );
      expect(announced.ok && announced.event.data).toMatchObject({
        from: "closed",
        to: "open",
        forced: "open",
      });

      await as("operator").actions.breaker({ pair, op: "clear", idempotencyKey: key() });
      expect((await breakerStore.readState(pair)).forced).toBeNull();
    } finally {
      await consumer.disconnect();
    }
  }, 60_000);

  it("scopes an idempotency key to its sender and action: another user's same key acts on its own", async () => {
    const idempotencyKey = key();
    const mine = `transfers→${uniqueName("bank")}`;
    const theirs = `transfers→${uniqueName("bank")}`;
    const first = await as("operator").actions.breaker({
      pair: mine,
      op: "force-open",
      forMinutes: 5,
      idempotencyKey,
    });
    const other = await as("admin").actions.breaker({
      pair: theirs,
      op: "force-open",
      forMinutes: 5,
      idempotencyKey,
    });
    expect(first).toMatchObject({ phase: "done", replayed: false, target: mine });
    expect(other).toMatchObject({ phase: "done", replayed: false, target: theirs });
    expect(other.actionId).not.toBe(first.actionId);
    expect((await breakerStore.readState(theirs)).forced).toBe("open");
    // The same sender, the same key, another action: not a replay of the first either.
    const clear = await as("operator").actions.breaker({ pair: mine, op: "clear", idempotencyKey });
    expect(clear).toMatchObject({ phase: "done", replayed: false, action: "breaker.clear" });
  });

  it("keeps the audit log append-only", async () => {
    await as("operator").actions.breaker({
      pair: `a→${uniqueName("b")}`,
      op: "reset",
      idempotencyKey: key(),
    });
    await expect(pool.query("UPDATE audit_entry SET message = 'edited'")).rejects.toThrow(/append-only/);
    await expect(pool.query("DELETE FROM audit_entry")).rejects.toThrow(/append-only/);
  });

  it("validates thresholds with clear messages, and an admin's valid change reaches the breaker's config", async () => {
    const pair = `transfers→${uniqueName("bank")}`;
    await expect(
      as("admin").actions.breakerConfig({
        pair,
        thresholds: { failureRate: 1.5, minimumCalls: 0, windowMs: 10_000, openMs: 5000, halfOpenPermits: 3 },
        idempotencyKey: key(),
      }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringContaining("a failure rate of 100% at most"),
    });
    const done = await as("admin").actions.breakerConfig({
      pair,
      thresholds: { failureRate: 0.2, minimumCalls: 4, windowMs: 20_000, openMs: 2000, halfOpenPermits: 1 },
      idempotencyKey: key(),
    });
    expect(done.phase).toBe("done");
    expect(await breakerStore.readConfig(pair)).toMatchObject({
      failureRate: 0.2,
      minimumCalls: 4,
      openMs: 2000,
    });
  });

  it("refuses to compensate a completed saga with the reason, and settles a sent command by its result", async () => {
    const completed = `saga-${randomUUID()}`;
    const running = `saga-${randomUUID()}`;
    await storeSaga(completed, true);
    await storeSaga(running, false);
    const refused = await as("operator").actions.saga({
      sagaId: completed,
      action: "compensate",
      idempotencyKey: key(),
    });
    expect(refused).toMatchObject({
      phase: "refused",
      message: "the saga completed; a completed saga is not compensated",
    });

    const options = (await as("viewer").sagas.byId({ sagaId: running })).actions;
    expect(options.allowed.compensate.allowed).toBe(true);
    expect(options.plan).toEqual([{ step: "debit", stepIndex: 0, service: "bank-a", certainty: "landed" }]);
    const sent = await as("operator").actions.saga({
      sagaId: running,
      action: "compensate",
      idempotencyKey: key(),
    });
    expect(sent.phase).toBe("pending");
    // The owner's answer, as the ingester stores it.
    const result = sagaEvent(
      "io.sagascope.control.result",
      {
        sagaId: running,
        sagaType: "interbank-transfer",
        mode: "orchestrated",
        commandId: sent.actionId,
        action: "compensate",
        outcome: "done",
        message: "compensating debit (in that order)",
        handledBy: "orchestrator-1",
      },
      { source: "/test", trace: newTrace() },
    );
    await storeBatch(pool, {
      events: [{ event: result, position: { topic: "t", partition: 0, offset: offset++ } }],
    });
    // Settled where the answer is stored, before any web process reads the action's status.
    const audit = await pool.query<{ phase: string; message: string }>(
      "SELECT phase, message FROM audit_entry WHERE action_id = $1 ORDER BY id",
      [sent.actionId],
    );
    expect(audit.rows.map((r) => r.phase)).toEqual(["requested", "pending", "done"]);
    expect(audit.rows[2]?.message).toBe("compensating debit (in that order) (orchestrator-1)");
    // A second answer to the same command changes nothing.
    await storeBatch(pool, {
      events: [
        {
          event: sagaEvent(
            "io.sagascope.control.result",
            { ...result.data, outcome: "refused", message: "late" },
            {
              source: "/test",
              trace: newTrace(),
            },
          ),
          position: { topic: "t", partition: 0, offset: offset++ },
        },
      ],
    });
    const settled = await as("viewer").actions.status({ actionId: sent.actionId });
    expect(settled).toMatchObject({
      phase: "done",
      message: "compensating debit (in that order) (orchestrator-1)",
    });
    await expect(
      as("operator").actions.saga({ sagaId: running, action: "mark-resolved", idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("needs a reason") });
  });

  it("edit then retry: operators are denied and audited; an admin's edit is sent as retry-step with the input, the replaced input kept beside it", async () => {
    const sagaId = `saga-${randomUUID()}`;
    await storeSaga(sagaId, false);
    const edit = (role: Role) =>
      as(role).actions.saga({ sagaId, action: "retry-edited", input: { amount: 5 }, idempotencyKey: key() });
    await expect(edit("operator")).rejects.toMatchObject({ code: "FORBIDDEN" });
    // Refused as sent, before anything is read: an unknown saga is no different.
    await expect(
      as("operator").actions.saga({
        sagaId: `nobody-${randomUUID()}`,
        action: "retry-edited",
        input: { amount: 5 },
        idempotencyKey: key(),
      }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await auditOf(sagaId)).toEqual([
      expect.objectContaining({ action: "saga.retry-edited", phase: "denied" }),
    ]);
    await expect(
      as("admin").actions.saga({ sagaId, action: "retry-step", input: { amount: 5 }, idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("only there") });
    await expect(
      as("admin").actions.saga({
        sagaId,
        action: "retry-edited",
        input: { blob: "x".repeat(20_000) },
        idempotencyKey: key(),
      }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("16384 bytes") });

    const commands: SagaEvent[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName("edit-commands") });
    await consumer.connect();
    await consumer.subscribe({ topic: topics(prefix).control, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const decoded = decodeSagaEvent(message);
        if (decoded.ok) commands.push(decoded.event);
      },
    });
    try {
      const sent = await edit("admin");
      expect(sent.phase).toBe("pending");
      const command = await until("the command", () =>
        commands.find((c) => c.type === "io.sagascope.control.command" && c.data.sagaId === sagaId),
      );
      expect(command.data).toMatchObject({
        action: "retry-step",
        input: { amount: 5 },
        commandId: sent.actionId,
      });
      const requested = await pool.query(
        "SELECT params FROM audit_entry WHERE action_id = $1 AND phase = 'requested'",
        [sent.actionId],
      );
      // The stored saga started with no input: what the edit replaces is recorded as none.
      expect(requested.rows[0].params).toMatchObject({ input: { amount: 5 }, replacedInput: null });
    } finally {
      await consumer.disconnect();
    }
  });

  it("replays recorded outcomes against proposed thresholds as the Redis breaker does with the same calls", async () => {
    const t0 = Date.now() - 600_000;
    // Ten-second windows of a fleet that fails a lot for a minute, then recovers.
    const windows = Array.from({ length: 30 }, (_, i) => ({
      start: new Date(t0 + i * 10_000),
      end: new Date(t0 + (i + 1) * 10_000),
      calls: 20,
      failures: i >= 5 && i < 11 ? 12 : 1,
    }));
    const config = BreakerConfigSchema.parse({
      failureRate: 0.4,
      minimumCalls: 10,
      windowMs: 10_000,
      openMs: 5000,
      halfOpenPermits: 2,
    });
    const calls = spreadCalls(windows);
    const predicted = replay(calls, config, t0);
    expect(predicted.transitions.length).toBeGreaterThanOrEqual(2);

    const pair = `replay→${uniqueName("svc")}`;
    await breakerStore.setConfig(pair, config);
    const seen: string[] = [];
    for (const call of calls) {
      const s = await breakerStore.readState(pair);
      if (s.state === "open" && call.at < s.openUntil) continue;
      if (s.state !== "closed") {
        const trial = await breakerStore.acquireTrial(pair, config, call.at);
        if (trial.transition) seen.push(`${trial.transition.from}→${trial.transition.to}@${call.at}`);
        if (!trial.granted) continue;
        const reported = await breakerStore.reportTrial(pair, config, call.ok, call.at);
        if (reported.transition)
          seen.push(`${reported.transition.from}→${reported.transition.to}@${call.at}`);
        continue;
      }
      const step = await breakerStore.record(pair, config, {
        calls: 1,
        failures: call.ok ? 0 : 1,
        now: call.at,
      });
      if (step.transition) seen.push(`${step.transition.from}→${step.transition.to}@${call.at}`);
    }
    expect(seen).toEqual(predicted.transitions.map((t) => `${t.from}→${t.to}@${t.at}`));
  }, 60_000);
});

describe("the what-if replay, bounded", () => {
  it("replays only the newest calls up to the cap however many the hour recorded, and says so", async () => {
    const pair = `huge→${uniqueName("svc")}`;
    const now = Date.now();
    // An hour with 3 million recorded calls (as a forged or a very busy caller would report).
    const rows = Array.from({ length: 30 }, (_, i) => [
      `huge-${pair}-${i}`,
      pair,
      new Date(now - (30 - i) * 60_000),
      new Date(now - (29 - i) * 60_000),
    ]);
    for (const [id, p, start, end] of rows)
      await pool.query(
        `INSERT INTO breaker_stats (id, pair, caller, callee, instance, window_start, window_end, state, calls, successes,
           business, failures, rejections, trials, latency_p50, latency_p95, latency_p99, latency_max)
         VALUES ($1, $2, 'huge', 'svc', 'huge-1', $3, $4, 'closed', 100000, 90000, 0, 10000, 0, 0, 1, 1, 1, 1)`,
        [id, p, start, end],
      );
    const result = await as("admin").actions.whatIf({
      pair,
      thresholds: { failureRate: 0.5, minimumCalls: 10, windowMs: 60_000, openMs: 5000, halfOpenPermits: 1 },
    });
    expect(result.recordedCalls).toBe(3_000_000);
    expect(result.calls).toBe(200_000);
    expect(result.limitedTo).toBe(200_000);
    expect(result.windows).toBe(2);
    expect(result.from.getTime()).toBe(now - 2 * 60_000);
  }, 60_000);

  it("refuses a breaker stats window with more calls than any window can hold", () => {
    expect(() =>
      breakerEventDataSchemas["io.sagascope.breaker.stats"].parse({
        pair: "a→b",
        caller: "a",
        callee: "b",
        instance: "a-1",
        windowStart: new Date().toISOString(),
        windowEnd: new Date().toISOString(),
        state: "closed",
        forced: null,
        calls: 1_000_000_000,
        successes: 0,
        business: 0,
        failures: 0,
        rejections: 0,
        trials: 0,
        latencyMs: { p50: 0, p95: 0, p99: 0, max: 0 },
      }),
    ).toThrow(/expected number to be <=10000000/);
  });
});

describe("dead letters an operator acts on", () => {
  /** Quarantines `value` as the ingester would have, at a fresh offset of `topic`. */
  async function quarantine(topic: string, reason: string, value: string, key = "k"): Promise<string> {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO dead_letter (kafka_topic, kafka_partition, kafka_offset, key, value, headers, reason)
       VALUES ($1, 0, $2, $3, $4, $5, $6) RETURNING id::text`,
      [
        topic,
        offset++,
        Buffer.from(key),
        Buffer.from(value),
        { ce_id: key, "content-type": "application/json" },
        reason,
      ],
    );
    return rows[0]?.id as string;
  }

  it("lists letters with a preview of their first 4 KiB: a large value never leaves the database whole", async () => {
    const reason = uniqueName("large value");
    const large = `{"blob":"${"x".repeat(1_000_000)}"}`;
    await quarantine(topics(prefix).sagaEvents, reason, large);
    const { items } = await as("viewer").deadLetters.list({ state: "open", reason, limit: 10 });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ valueBytes: large.length, valueEncoding: "utf8" });
    expect(items[0]?.valuePreview).toBe(large.slice(0, 4096));
  });

  it("replays a letter to its topic, byte for byte, once; audited", async () => {
    const topic = topics(prefix).sagaEvents;
    const marker = uniqueName("replayed");
    const id = await quarantine(topic, 'unknown event type "x"', JSON.stringify({ marker }), marker);
    const received: { key: string; value: string; headers: Record<string, string> }[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName("replay-watch") });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) =>
        void received.push({
          key: String(message.key),
          value: String(message.value),
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        }),
    });
    try {
      const done = await as("operator").actions.deadLetter({ op: "replay", id, idempotencyKey: key() });
      expect(done).toMatchObject({
        phase: "done",
        message: expect.stringMatching(/^1 dead letter\(s\) replayed/),
      });
      const sent = await until("the replayed message on its topic", () =>
        received.find((m) => m.key === marker),
      );
      expect(sent).toEqual({
        key: marker,
        value: JSON.stringify({ marker }),
        headers: { ce_id: marker, "content-type": "application/json" },
      });
      const { rows } = await pool.query(
        "SELECT resolution, resolved_by, resolution_note FROM dead_letter WHERE id = $1",
        [id],
      );
      expect(rows[0]).toMatchObject({
        resolution: "replayed",
        resolved_by: "operator@example.test",
        resolution_note: expect.stringMatching(
          new RegExp(`^replayed to ${topic.replaceAll(".", "\\.")}/\\d+/\\d+$`),
        ),
      });
      expect((await auditOf(`dead-letter:${id}`)).map((a) => a.phase)).toEqual(["requested", "done"]);
      // A second replay of the same letter is refused with who did it first.
      const again = await as("operator").actions.deadLetter({ op: "replay", id, idempotencyKey: key() });
      expect(again).toMatchObject({
        phase: "failed",
        message: `dead letter ${id} was already replayed by operator@example.test`,
      });
    } finally {
      await consumer.disconnect();
    }
  }, 60_000);

  it("edit then replay: operators are denied; an edit that still breaks the contract is refused and nothing sent; a good one is sent once, the original kept beside it", async () => {
    const topic = topics(prefix).sagaEvents;
    const sagaId = uniqueName("typo");
    const started = {
      sagaId,
      sagaType: "outside",
      mode: "orchestrate",
      steps: [{ name: "post", service: "ledger" }],
    };
    const original = JSON.stringify(started);
    const id = await quarantine(topic, "data does not match io.sagascope.saga.started", original, sagaId);
    const headers = {
      ce_specversion: "1.0",
      ce_id: `e-${sagaId}`,
      ce_source: "/outside",
      ce_type: "io.sagascope.saga.started",
      ce_time: new Date().toISOString(),
      "content-type": "application/json",
    };
    const edit = (value: unknown) => ({
      id,
      key: sagaId,
      value: JSON.stringify(value),
      headers,
      note: "mode typo",
      idempotencyKey: key(),
    });
    await expect(as("operator").actions.deadLetterEdit(edit(started))).rejects.toThrow(
      "refused: the operator role may not dead-letter.edit-replay",
    );
    const stillBad = await as("admin").actions.deadLetterEdit(edit({ ...started, mode: "orchestrating" }));
    expect(stillBad).toMatchObject({
      phase: "refused",
      message: expect.stringMatching(
        /^the edit still breaks the contract: data does not match io\.sagascope\.saga\.started.*nothing was sent$/,
      ),
    });
    const tooMany = await as("admin")
      .actions.deadLetterEdit({
        ...edit(started),
        headers: { ...headers, ...Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`x-${i}`, "1"])) },
      })
      .catch((error: Error) => error.message);
    expect(tooMany).toMatch(/at most 64 headers/);

    const received: { key: string; value: string }[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName("edit-watch") });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) =>
        void received.push({ key: String(message.key), value: String(message.value) }),
    });
    try {
      const fixed = { ...started, mode: "orchestrated" };
      const done = await as("admin").actions.deadLetterEdit(edit(fixed));
      expect(done).toMatchObject({
        phase: "done",
        message: expect.stringMatching(/^dead letter \d+ replayed with an edit to /),
      });
      await until("the edit on its topic", () => received.find((m) => m.key === sagaId));
      expect(received.filter((m) => m.key === sagaId)).toEqual([
        { key: sagaId, value: JSON.stringify(fixed) },
      ]);
      const { rows } = await pool.query(
        "SELECT resolution, resolved_by, value, edited_value, edited_headers FROM dead_letter WHERE id = $1",
        [id],
      );
      expect(rows[0]).toMatchObject({
        resolution: "replayed-edited",
        resolved_by: "admin@example.test",
        edited_headers: headers,
      });
      expect(String(rows[0].value)).toBe(original);
      expect(String(rows[0].edited_value)).toBe(JSON.stringify(fixed));
      const again = await as("admin").actions.deadLetterEdit(edit(fixed));
      expect(again).toMatchObject({
        phase: "refused",
        message: `dead letter ${id} was already replayed-edited by admin@example.test`,
      });
      expect((await auditOf(`dead-letter:${id}`)).map((a) => a.phase)).toEqual([
        "denied",
        "requested",
        "refused",
        "requested",
        "done",
        "requested",
        "refused",
      ]);
    } finally {
      await consumer.disconnect();
    }
  }, 60_000);

  it("discards with a reason only; a viewer is refused and audited; a bulk discard is previewed, capped and refused if the set changed", async () => {
    const reason = uniqueName("bad producer");
    const topic = topics(prefix).sagaEvents;
    await expect(
      as("operator").actions.deadLetter({ op: "discard", id: "1", idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("say why") });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await quarantine(topic, `${reason}: #${i}`, "{}"));
    await expect(
      as("viewer").actions.deadLetter({
        op: "discard",
        id: ids[0] as string,
        note: "noise",
        idempotencyKey: key(),
      }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect((await auditOf(`dead-letter:${ids[0]}`)).map((a) => a.phase)).toEqual(["denied"]);

    // Five match, the cap is four: refused before anything changes.
    const filter = { reason };
    expect(await as("viewer").deadLetters.preview(filter)).toMatchObject({ count: 5, cap: 4 });
    const over = await as("operator").actions.deadLetter({
      op: "discard",
      filter,
      note: "noise",
      idempotencyKey: key(),
    });
    expect(over).toMatchObject({
      phase: "failed",
      message: "5 open dead letters match; at most 4 can be acted on at once",
    });
    for (const id of ids.slice(0, 2))
      await as("operator").actions.deadLetter({
        op: "discard",
        id: id as string,
        note: "looked at it",
        idempotencyKey: key(),
      });
    // The operator previewed 3; one more arrives before the click: refused, preview again.
    expect(await as("viewer").deadLetters.preview(filter)).toMatchObject({ count: 3 });
    await quarantine(topic, `${reason}: late`, "{}");
    const changed = await as("operator").actions.deadLetter({
      op: "discard",
      filter,
      note: "noise",
      expectedCount: 3,
      idempotencyKey: key(),
    });
    expect(changed).toMatchObject({
      phase: "failed",
      message: expect.stringContaining("the set changed since the preview"),
    });
    const bulk = await as("operator").actions.deadLetter({
      op: "discard",
      filter,
      note: "the producer was fixed; these are noise",
      expectedCount: 4,
      idempotencyKey: key(),
    });
    expect(bulk).toMatchObject({
      phase: "done",
      message: expect.stringMatching(/^4 dead letter\(s\) discarded/),
    });
    expect(await as("viewer").deadLetters.preview(filter)).toMatchObject({ count: 0 });
    const listed = await as("viewer").deadLetters.list({ state: "resolved", reason });
    expect(listed.items).toHaveLength(6);
    expect(listed.items.every((l) => l.resolution?.what === "discarded")).toBe(true);
    const kinds = await as("viewer").deadLetters.reasons();
    expect(kinds.find((k) => k.kind === reason)).toBeUndefined();
  });
});
