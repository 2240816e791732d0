// The choreography participant against real Kafka and Postgres: dedupe by event id, a
// poison message parked (and reported) without blocking its partition, a slow saga not
// holding up the next one on its partition, and operators' commands obeyed once each.
import { type Consumer, Kafka, logLevel, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { scratchDatabase, testInfra, uniqueName, until } from "../../../scripts/test/infra.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import {
  type ControlAction,
  decodeSagaEvent,
  domainEvent,
  encodeDomainEvent,
  encodeSagaEvent,
  ensureTopics,
  headersAsText,
  newTrace,
  type SagaEvent,
  sagaEvent,
  topics,
} from "../../events/index.ts";
import { createLogger } from "../../log.ts";
import { StepFailure } from "../step-failure.ts";
import { defineChoreography } from "./choreography.ts";
import {
  createParticipant,
  DEFAULT_KEEP_TRIGGERS_MS,
  PARKED_CODE,
  type Participant,
  type ParticipantOptions,
} from "./participant.ts";

const relay = defineChoreography({
  type: "relay-race",
  steps: [
    { name: "start", service: "owner", timeoutMs: 1000 },
    { name: "work", service: "worker", timeoutMs: 1000 },
  ],
});
const schemas = {
  "race.started": z.object({ n: z.number() }),
  "race.worked": z.object({ n: z.number() }),
  "race.work-failed": z.object({ reason: z.string() }),
};
type S = typeof schemas;

const log = createLogger("choreo-test", "error");
const prefix = `${uniqueName("choreo")}.`;
const topicNames = { ...topics(prefix), domain: `${prefix}race` };
const kafka = new Kafka({
  clientId: "choreo-test",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let producer: Producer;
let watcher: Consumer;
let owner: Participant<S>;
let worker: Participant<S>;
const seen: {
  saga: SagaEvent[];
  letters: { reason: string; origin: string; sagaId: string }[];
  domain: { id: string; raw: never }[];
} = {
  saga: [],
  letters: [],
  domain: [],
};
const rawStarted = new Map<
  string,
  { key: Buffer | null; value: Buffer | null; headers: Record<string, string> }
>();
/** Sagas whose work waits until the test lets it go. */
const held = new Map<string, Promise<void>>();
const workerGroup = uniqueName("worker");
/** What every participant of this file is made with (set once the database and broker are up). */
let common: Omit<ParticipantOptions<S>, "service" | "source" | "schema" | "groupId" | "reactions">;
/** Sagas whose work throws an unexpected error (a bug, as a poison message would cause). */
const crashing = new Set<string>();
/** Sagas the worker ends itself, as the last participant of a choreography may. */
const endsAtWorker = new Set<string>();
/** Sagas whose owner never acts on the worker's answers (as if the messages had been lost). */
const lost = new Set<string>();

beforeAll(async () => {
  db = await scratchDatabase("choreo");
  pool = createPool(db.url);
  await pool.query(
    "CREATE SCHEMA race_owner; CREATE TABLE race_owner.race (saga_id text PRIMARY KEY, status text)",
  );
  await pool.query("CREATE SCHEMA race_worker; CREATE TABLE race_worker.work (saga_id text PRIMARY KEY)");
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topicNames.sagaEvents, topicNames.control, topicNames.deadLetters], 2);
  // One partition: the poison message and the next saga are behind each other.
  await ensureTopics(admin, [topicNames.domain], 1);
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
  watcher = kafka.consumer({ groupId: uniqueName("choreo-watch") });
  await watcher.connect();
  await watcher.subscribe({
    topics: [topicNames.sagaEvents, topicNames.control, topicNames.deadLetters, topicNames.domain],
    fromBeginning: true,
  });
  await watcher.run({
    eachMessage: async ({ topic, message }) => {
      const headers = headersAsText(message.headers);
      if (topic === topicNames.deadLetters)
        seen.letters.push({
          reason: headers["sagascope-reason"] ?? "",
          origin: headers["sagascope-origin"] ?? "",
          // A letter carries the parked message's key in base64.
          sagaId: Buffer.from(message.key?.toString() ?? "", "base64").toString(),
        });
      else if (topic === topicNames.domain) {
        if (headers.ce_type === "race.started")
          rawStarted.set(message.key?.toString() ?? "", { key: message.key, value: message.value, headers });
      } else {
        const decoded = decodeSagaEvent(message);
        if (decoded.ok) seen.saga.push(decoded.event);
      }
    },
  });
  common = {
    choreography: relay,
    schemas,
    pool,
    databaseUrl: db.url,
    kafka,
    producer,
    topics: topicNames,
    log,
    retry: { attempts: 2, backoffMs: 10 },
    poisonAttempts: 3,
  };
  owner = createParticipant<S>({
    ...common,
    service: "owner",
    source: "/test/owner",
    schema: "race_owner",
    groupId: uniqueName("owner"),
    owner: true,
    reactions: {
      "race.worked": {
        handle: async ({ tx, sagaId, saga }) => {
          if (lost.has(sagaId)) return;
          await tx.query("UPDATE race_owner.race SET status = 'done' WHERE saga_id = $1", [sagaId]);
          saga.completed(1);
        },
      },
      "race.work-failed": {
        step: "start",
        kind: "compensation",
        handle: async ({ tx, sagaId, saga, event }) => {
          if (lost.has(sagaId)) return;
          await tx.query("UPDATE race_owner.race SET status = 'cancelled' WHERE saga_id = $1", [sagaId]);
          saga.aborted({
            durationMs: 1,
            reason: String(event.data.reason),
            failedStep: "work",
            compensated: true,
          });
        },
      },
    },
  });
  worker = createParticipant<S>({
    ...common,
    service: "worker",
    source: "/test/worker",
    schema: "race_worker",
    groupId: workerGroup,
    reactions: {
      "race.started": {
        step: "work",
        handle: async ({ tx, sagaId, event, publish, saga }) => {
          if (crashing.has(sagaId)) throw new TypeError("cannot read properties of undefined");
          await held.get(sagaId);
          // The last step of a saga may end it where it runs, without handing it back.
          if (endsAtWorker.has(sagaId)) return saga.completed(1);
          if (event.data.n < 0) throw StepFailure.business("negative work is refused");
          // Idempotent per saga, as retry-from needs: work done before is not done twice.
          await tx.query("INSERT INTO race_worker.work (saga_id) VALUES ($1) ON CONFLICT DO NOTHING", [
            sagaId,
          ]);
          publish("race.worked", { n: event.data.n });
        },
        onFailure: async ({ publish }, failure) => publish("race.work-failed", { reason: failure.message }),
      },
    },
  });
  await owner.start();
  await worker.start();
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await owner?.stop();
  await watcher?.disconnect();
  await producer?.disconnect();
  await pool?.end();
  await db?.drop();
});

const status = async (sagaId: string) =>
  (await pool.query("SELECT status FROM race_owner.race WHERE saga_id = $1", [sagaId])).rows[0]?.status as
    | string
    | undefined;
const sagaTypes = (sagaId: string) => seen.saga.filter((e) => e.data.sagaId === sagaId).map((e) => e.type);

function race(sagaId: string, n = 1) {
  return owner.begin(
    { sagaId, step: "start", businessKey: sagaId, input: { n } },
    async ({ tx, publish }) => {
      await tx.query("INSERT INTO race_owner.race (saga_id, status) VALUES ($1, 'running')", [sagaId]);
      publish("race.started", { n });
    },
  );
}

async function command(
  sagaId: string,
  action: ControlAction,
  extra: { reason?: string; fromStep?: number; requestedBy?: string; input?: Record<string, unknown> } = {},
  time = new Date(),
) {
  const commandId = uniqueName("cmd");
  const event = () =>
    sagaEvent(
      "io.sagascope.control.command",
      { sagaId, sagaType: relay.type, mode: "choreographed", commandId, action, ...extra },
      { source: "/test/operator", trace: newTrace(), time },
    );
  await producer.send({
    topic: topicNames.control,
    messages: [encodeSagaEvent(event()), encodeSagaEvent(event())],
  });
  return commandId;
}
const resultsOf = (commandId: string) =>
  seen.saga.filter(
    (e): e is SagaEvent<"io.sagascope.control.result"> =>
      e.type === "io.sagascope.control.result" && e.data.commandId === commandId,
  );

/** The first answer to a command, once one has come. */
const firstAnswer = async (commandId: string, what: string) =>
  (await until(what, () => (resultsOf(commandId).length ? resultsOf(commandId) : undefined)))[0];

describe("choreography participant", () => {
  it("runs a saga across two participants, and tells the whole story in contract events", async () => {
    await race("r-1");
    await until("r-1 done", async () => (await status("r-1")) === "done");
    await until("the completed event", () => sagaTypes("r-1").includes("io.sagascope.saga.completed"));
    expect(sagaTypes("r-1")).toEqual([
      "io.sagascope.saga.started",
      "io.sagascope.saga.step.started",
      "io.sagascope.saga.step.succeeded",
      "io.sagascope.saga.step.started",
      "io.sagascope.saga.step.succeeded",
      "io.sagascope.saga.completed",
    ]);
    const traces = new Set(seen.saga.filter((e) => e.data.sagaId === "r-1").map((e) => e.trace.traceId));
    expect(traces.size).toBe(1);
    // Handing the saga on, the owner announces the next step and its deadline; the last step announces none.
    const succeeded = seen.saga.filter(
      (e): e is SagaEvent<"io.sagascope.saga.step.succeeded"> =>
        e.data.sagaId === "r-1" && e.type === "io.sagascope.saga.step.succeeded",
    );
    expect(succeeded.map((e) => e.data.next)).toEqual([
      { step: "work", service: "worker", timeoutMs: 1000 },
      undefined,
    ]);
  });

  it("handles a message delivered twice once (dedupe by event id)", async () => {
    const before = worker.stats();
    const raw = await until("r-1's started message", () => rawStarted.get("r-1"));
    await producer.send({
      topic: topicNames.domain,
      messages: [{ key: raw.key, value: raw.value, headers: raw.headers }],
    });
    await until("the duplicate", () => worker.stats().duplicates > before.duplicates);
    expect(worker.stats().handled).toBe(before.handled);
    expect(
      (await pool.query("SELECT count(*)::int AS n FROM race_worker.work WHERE saga_id = 'r-1'")).rows[0].n,
    ).toBe(1);
  });

  it("handles a message in its step's statements and two more: BEGIN with the claim and the mark, the step's trigger and COMMIT with the outbox; the owner ends a saga in one more", async () => {
    // Watch every connection of the pool (five): the worker's transaction takes one of them.
    const clients = await Promise.all(Array.from({ length: 5 }, () => pool.connect()));
    const spies = clients.map((c) => vi.spyOn(c, "query"));
    for (const c of clients) c.release();
    try {
      await race("r-count");
      await until("r-count done", async () => (await status("r-count")) === "done");
      const sent = spies.map((spy) =>
        spy.mock.calls.map(([q]) =>
          (typeof q === "string" ? q : ((q as { text?: string }).text ?? "")).trim(),
        ),
      );
      // A participant's transaction for the saga: from its claim to its COMMIT, on one connection.
      const transactionOf = (schema: string) =>
        sent
          .map((statements) => {
            const from = statements.findIndex(
              (q) => q.includes(`"${schema}".processed_event`) && q.includes("'r-count'"),
            );
            const to = statements.findIndex((q, i) => i >= from && /; COMMIT$/.test(q));
            return from < 0 || to < 0 ? undefined : statements.slice(from, to + 1);
          })
          .find((t) => t !== undefined);
      // The owner ends the saga: its mark and the commands waiting for the end in one message,
      // the saga's triggers dropped with the outbox's rows and COMMIT.
      expect(transactionOf("race_owner")).toEqual([
        expect.stringMatching(/^BEGIN; WITH claimed AS [\s\S]*"race_owner".saga_mark/),
        expect.stringMatching(/^UPDATE race_owner\.race /),
        expect.stringMatching(
          /^INSERT INTO "race_owner"\.saga_mark [\s\S]*;\s*DELETE FROM "race_owner"\.pending_command [\s\S]*RETURNING/,
        ),
        expect.stringMatching(
          /^DELETE FROM "race_owner"\.step_trigger [\s\S]*;\nWITH added AS \(INSERT INTO "race_owner"\.outbox [\s\S]*; COMMIT$/,
        ),
      ]);
      expect(transactionOf("race_worker")).toEqual([
        expect.stringMatching(/^BEGIN; WITH claimed AS [\s\S]*"race_worker".saga_mark/),
        expect.stringMatching(/^INSERT INTO race_worker\.work /),
        expect.stringMatching(
          /^INSERT INTO "race_worker"\.step_trigger [\s\S]*;\nWITH added AS \(INSERT INTO "race_worker"\.outbox [\s\S]*; COMMIT$/,
        ),
      ]);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it("a business refusal travels back as a failure event and the owner compensates", async () => {
    await race("r-refused", -1);
    await until("r-refused cancelled", async () => (await status("r-refused")) === "cancelled");
    await until("the aborted event", () => sagaTypes("r-refused").includes("io.sagascope.saga.aborted"));
    expect(sagaTypes("r-refused")).toContain("io.sagascope.saga.compensation.succeeded");
  });

  it("a slow saga does not hold up the next saga on its partition, nor is its offset committed", async () => {
    let letGo!: () => void;
    held.set("k-slow", new Promise<void>((resolve) => (letGo = resolve)));
    const started = (sagaId: string) =>
      encodeDomainEvent(
        domainEvent(schemas, "race.started", sagaId, { n: 1 }, { source: "/test/owner", trace: newTrace() }),
      );
    const worked = async (sagaId: string) =>
      (await pool.query("SELECT 1 FROM race_worker.work WHERE saga_id = $1", [sagaId])).rowCount === 1;
    try {
      // One send, one partition: both messages come in one fetch, k-fast's behind k-slow's.
      const [sent] = await producer.send({
        topic: topicNames.domain,
        messages: [started("k-slow"), started("k-fast")],
      });
      const slowOffset = Number(sent?.baseOffset);
      await until("k-fast worked while k-slow's work waits", () => worked("k-fast"));
      expect(await worked("k-slow")).toBe(false);
      const committed = async () => {
        const admin = kafka.admin();
        await admin.connect();
        try {
          const [topic] = await admin.fetchOffsets({ groupId: workerGroup, topics: [topicNames.domain] });
          return Number(topic?.partitions[0]?.offset ?? -1);
        } finally {
          await admin.disconnect();
        }
      };
      // Resolved offsets are committed every second: two seconds let any commit happen.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(await committed()).toBeLessThanOrEqual(slowOffset);
      letGo();
      await until("k-slow worked", () => worked("k-slow"));
      await until("the offset committed past both", async () => (await committed()) > slowOffset + 1);
    } finally {
      letGo();
      held.delete("k-slow");
    }
  });

  it("refuses keysConcurrently below one key when the participant is made", () => {
    expect(() =>
      createParticipant<S>({
        ...common,
        service: "worker",
        source: "/test/worker",
        schema: "race_worker",
        groupId: uniqueName("refused"),
        reactions: {},
        keysConcurrently: 0,
      }),
    ).toThrow("keysConcurrently must be a whole number ≥ 1, got 0");
  });

  it("parks a poison message after its tries, reports it, and the partition moves on", async () => {
    crashing.add("r-poison");
    await race("r-poison");
    await race("r-after");
    await until("the saga behind the poison one", async () => (await status("r-after")) === "done");
    // A partition's keys are handled at once, so the saga behind may end before the poison
    // message's last try: what matters is that it did not wait for the parking.
    const parked = await until("the poison message parked", async () => {
      const rows = (await pool.query("SELECT reason, saga_id FROM race_worker.parked_message")).rows;
      return rows.length > 0 ? rows : undefined;
    });
    expect(parked).toEqual([
      { saga_id: "r-poison", reason: expect.stringMatching(/failed 3 times: cannot read/) },
    ]);
    await until("the dead-letter report", () => seen.letters.length > 0);
    expect(seen.letters[0]?.reason).toMatch(/^parked by worker: handling failed 3 times/);
    expect(seen.letters[0]?.origin).toMatch(new RegExp(`^${topicNames.domain}/0/\\d+$`));
    expect(seen.letters[0]?.sagaId).toBe("r-poison");
    const failed = await until("the saga's failed step", () =>
      seen.saga.find((e) => e.data.sagaId === "r-poison" && e.type === "io.sagascope.saga.step.failed"),
    );
    expect(failed.data).toMatchObject({ step: "work", willRetry: false, error: { code: PARKED_CODE } });
    expect(await status("r-poison")).toBe("running");
  });

  it("parks a malformed message at once", async () => {
    const raw = await until("a started message", () => rawStarted.get("r-after"));
    const before = worker.stats().parked;
    await producer.send({
      topic: topicNames.domain,
      messages: [{ key: "r-bad", value: "{not json", headers: { ...raw.headers, ce_id: "bad-1" } }],
    });
    await until("parked", () => worker.stats().parked > before);
    const reasons = (await pool.query("SELECT reason FROM race_worker.parked_message WHERE saga_id IS NULL"))
      .rows;
    expect(reasons[0]?.reason).toMatch(/value is not JSON/);
  });

  it("retry-step, published twice, handles the parked message again once", async () => {
    crashing.delete("r-poison");
    const commandId = await command("r-poison", "retry-step");
    await until("r-poison done", async () => (await status("r-poison")) === "done");
    await until("the result", () => resultsOf(commandId).length > 0);
    await new Promise((r) => setTimeout(r, 500));
    expect(resultsOf(commandId)).toHaveLength(1);
    expect(resultsOf(commandId)[0]?.data).toMatchObject({ outcome: "done", handledBy: "worker" });
    expect(worker.stats().redriven).toBe(1);
  });

  it("compensate, published twice, fails the parked step so the earlier ones compensate, once", async () => {
    crashing.add("r-cancel");
    await race("r-cancel");
    await until("r-cancel parked", async () =>
      (await pool.query("SELECT 1 FROM race_worker.parked_message WHERE saga_id = 'r-cancel'")).rowCount === 1
        ? true
        : undefined,
    );
    const commandId = await command("r-cancel", "compensate", { reason: "stuck" });
    await until("r-cancel cancelled", async () => (await status("r-cancel")) === "cancelled");
    const result = await firstAnswer(commandId, "the result");
    expect(result?.data).toMatchObject({
      outcome: "done",
      handledBy: "owner",
      message: "the saga ended compensated",
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(resultsOf(commandId)).toHaveLength(1);
    expect(sagaTypes("r-cancel").filter((t) => t === "io.sagascope.saga.aborted")).toHaveLength(1);
  });

  it("refuses what a choreographed saga's state no longer allows", async () => {
    const from = await command("r-1", "retry-from", { fromStep: 1 });
    const late = await command("r-1", "compensate");
    await until("both answers", () => resultsOf(from).length > 0 && resultsOf(late).length > 0);
    expect(resultsOf(from)[0]?.data).toMatchObject({
      outcome: "refused",
      handledBy: "owner",
      message: "retry-from applies to a saga still moving forward: the saga has already ended (completed)",
    });
    expect(resultsOf(late)[0]?.data).toMatchObject({
      outcome: "refused",
      message: expect.stringMatching(/ended \(completed\)/),
    });
  });

  it("retry-from: the participant that performed the step handles its trigger again, once, and the saga goes on", async () => {
    lost.add("r-lost");
    await race("r-lost", 7);
    await until("the worker's answer", () =>
      seen.saga.some((e) => e.data.sagaId === "r-lost" && e.type === "io.sagascope.saga.step.succeeded"),
    );
    await until("r-lost worked", async () =>
      (await pool.query("SELECT 1 FROM race_worker.work WHERE saga_id = 'r-lost'")).rowCount === 1
        ? true
        : undefined,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await status("r-lost")).toBe("running");

    const first = await command("r-lost", "retry-from", { fromStep: 0 });
    const beyond = await command("r-lost", "retry-from", { fromStep: 7 });
    await until("the refusals", () => resultsOf(first).length > 0 && resultsOf(beyond).length > 0);
    expect(resultsOf(first)[0]?.data).toMatchObject({
      outcome: "refused",
      handledBy: "owner",
      message:
        "step 0 (start) is started by the application, not by a message: there is no trigger to handle again",
    });
    expect(resultsOf(beyond)[0]?.data.message).toBe("step 7 does not exist (the saga has 2 steps)");

    lost.delete("r-lost");
    const redriven = worker.stats().redriven;
    const again = await command("r-lost", "retry-from", { fromStep: 1 });
    await until("r-lost done", async () => (await status("r-lost")) === "done");
    const answer = await firstAnswer(again, "the worker's answer");
    expect(answer?.data).toMatchObject({
      outcome: "done",
      handledBy: "worker",
      message: "worker handled the trigger of step 1 (work) again; the saga goes on from there",
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(resultsOf(again)).toHaveLength(1);
    expect(worker.stats().redriven).toBe(redriven + 1);
    // The step ran twice with the same trigger; its work stands once.
    const worked = seen.saga.filter(
      (e) =>
        e.data.sagaId === "r-lost" && e.type === "io.sagascope.saga.step.succeeded" && e.data.step === "work",
    );
    expect(worked).toHaveLength(2);
    expect((await pool.query("SELECT 1 FROM race_worker.work WHERE saga_id = 'r-lost'")).rowCount).toBe(1);
    expect(sagaTypes("r-lost").filter((t) => t === "io.sagascope.saga.completed")).toHaveLength(1);
  });

  it("retry-from is refused by the participant where the saga already failed, and when it comes too late", async () => {
    // The worker refuses the step for good; the owner never hears of it, so it still relays.
    lost.add("r-failed");
    await race("r-failed", -1);
    await until("the worker's failure", async () =>
      (
        await pool.query(
          "SELECT 1 FROM race_worker.saga_mark WHERE saga_id = 'r-failed' AND failed_at IS NOT NULL",
        )
      ).rowCount === 1
        ? true
        : undefined,
    );
    const failed = await command("r-failed", "retry-from", { fromStep: 1 });
    const refused = await firstAnswer(failed, "the worker's answer");
    expect(refused?.data).toMatchObject({
      outcome: "refused",
      handledBy: "worker",
      message: "retry-from applies to a saga still moving forward: it is being compensated",
    });

    // A saga still waiting, asked ten minutes ago (the worker was down, say): not acted on late.
    lost.add("r-late");
    await race("r-late");
    await until("r-late worked", async () =>
      (await pool.query("SELECT 1 FROM race_worker.work WHERE saga_id = 'r-late'")).rowCount === 1
        ? true
        : undefined,
    );
    const redriven = worker.stats().redriven;
    const late = await command("r-late", "retry-from", { fromStep: 1 }, new Date(Date.now() - 600_000));
    const answer = await firstAnswer(late, "the worker's answer");
    expect(answer?.data).toMatchObject({ outcome: "refused", handledBy: "worker" });
    expect(answer?.data.message).toMatch(
      /^the command reached worker \d+ s after it was sent, past its 120 s: not acted on late$/,
    );
    expect(worker.stats().redriven).toBe(redriven);
  });

  it("retry-from a step its participant never performed is refused, saying so", async () => {
    crashing.add("r-unreached");
    await race("r-unreached");
    await until("r-unreached parked", async () =>
      (await pool.query("SELECT 1 FROM race_worker.parked_message WHERE saga_id = 'r-unreached'"))
        .rowCount === 1
        ? true
        : undefined,
    );
    const from = await command("r-unreached", "retry-from", { fromStep: 1 });
    const answer = await firstAnswer(from, "the worker's answer");
    expect(answer?.data).toMatchObject({
      outcome: "refused",
      handledBy: "worker",
      message:
        "worker has not performed step 1 (work) of this saga: it was not reached (a message of the saga is parked here: retry the step instead)",
    });
  });

  it("keeps a step's trigger while its saga may need it: dropped where the saga ends, pruned when old", async () => {
    const kept = async (sagaId: string) =>
      (await pool.query("SELECT 1 FROM race_worker.step_trigger WHERE saga_id = $1", [sagaId])).rowCount;
    endsAtWorker.add("r-ends-here");
    await race("r-ends-here");
    await until("r-ends-here completed", () =>
      sagaTypes("r-ends-here").includes("io.sagascope.saga.completed"),
    );
    expect(await kept("r-ends-here")).toBe(0);
    // r-1 ended at the owner: the worker, which never saw the end, still keeps its trigger.
    expect(await kept("r-1")).toBe(1);
    expect(worker.store.keepTriggersMs).toBe(DEFAULT_KEEP_TRIGGERS_MS);
    expect(await worker.store.pruneTriggers()).toBe(0);
    // Once older than the participant keeps them, triggers go, a batch at a time; newer ones stay.
    await pool.query(
      "UPDATE race_worker.step_trigger SET handled_at = now() - interval '8 days' WHERE saga_id <> 'r-lost'",
    );
    const old = Number(
      (await pool.query("SELECT count(*) FROM race_worker.step_trigger WHERE saga_id <> 'r-lost'")).rows[0]
        .count,
    );
    expect(old).toBeGreaterThanOrEqual(2);
    expect(await worker.store.pruneTriggers(1)).toBe(old);
    expect(await kept("r-1")).toBe(0);
    expect(await kept("r-lost")).toBe(1);
    // r-late still waits at its owner: a retry-from of its pruned step is refused as one never reached.
    const from = await command("r-late", "retry-from", { fromStep: 1 });
    const answer = await firstAnswer(from, "the worker's answer");
    expect(answer?.data).toMatchObject({
      outcome: "refused",
      handledBy: "worker",
      message:
        "worker has not performed step 1 (work) of this saga: it was not reached, or its trigger was pruned (kept 7 d)",
    });
  });

  it("pause: every participant holds the saga's next messages, without reporting them; resume handles them", async () => {
    const pause = await command("r-pause", "pause", { requestedBy: "alice" });
    const paused = await firstAnswer(pause, "the owner's answer");
    expect(paused?.data).toMatchObject({ outcome: "done", handledBy: "owner", requestedBy: "alice" });
    expect(paused?.data.message).toMatch(/^paused by alice; each participant holds/);
    await until("the worker to know", async () =>
      (
        await pool.query(
          "SELECT 1 FROM race_worker.saga_mark WHERE saga_id = 'r-pause' AND paused_at IS NOT NULL",
        )
      ).rowCount === 1
        ? true
        : undefined,
    );
    await race("r-pause");
    const held = await until("the worker to hold race.started", async () => {
      const r = await pool.query(
        "SELECT reason, held FROM race_worker.parked_message WHERE saga_id = 'r-pause'",
      );
      return r.rows[0];
    });
    expect(held).toEqual({
      held: true,
      reason: expect.stringMatching(/^held: the saga is paused \(by alice since /),
    });
    const sagaOnly = () => sagaTypes("r-pause").filter((t) => t.startsWith("io.sagascope.saga."));
    await until("the owner's first step", () => sagaOnly().length >= 3);
    await new Promise((r) => setTimeout(r, 300));
    expect(await status("r-pause")).toBe("running");
    // The owner's first step only: the worker's step neither started nor failed.
    expect(sagaOnly()).toEqual([
      "io.sagascope.saga.started",
      "io.sagascope.saga.step.started",
      "io.sagascope.saga.step.succeeded",
    ]);
    expect(seen.letters.filter((l) => l.sagaId === "r-pause")).toEqual([]);
    const retry = await command("r-pause", "retry-step");
    await until("refused", () => resultsOf(retry).length > 0);
    expect(resultsOf(retry)[0]?.data.message).toMatch(/resume it first/);

    const resume = await command("r-pause", "resume", { requestedBy: "bob" });
    await until("r-pause done", async () => (await status("r-pause")) === "done");
    await until("the owner's answer", () => resultsOf(resume).length > 0);
    expect(resultsOf(resume)[0]?.data).toMatchObject({
      outcome: "done",
      message: expect.stringMatching(/^resumed by bob/),
    });
    const workDone = await pool.query(
      "SELECT count(*)::int AS n FROM race_worker.work WHERE saga_id = 'r-pause'",
    );
    expect(workDone.rows[0].n).toBe(1);
    const again = await command("r-pause", "resume");
    await until("refused", () => resultsOf(again).length > 0);
    expect(resultsOf(again)[0]?.data.message).toMatch(/not paused|ended/);
  });

  it("a resume cut short by a crash is finished when the participant starts again", async () => {
    const pause = await command("r-cut", "pause", { requestedBy: "alice" });
    await until("the owner's answer", () => resultsOf(pause).length > 0);
    await until("the worker to know", async () =>
      (
        await pool.query(
          "SELECT 1 FROM race_worker.saga_mark WHERE saga_id = 'r-cut' AND paused_at IS NOT NULL",
        )
      ).rowCount === 1
        ? true
        : undefined,
    );
    await race("r-cut");
    await until("held", async () =>
      (await pool.query("SELECT 1 FROM race_worker.parked_message WHERE saga_id = 'r-cut' AND held"))
        .rowCount === 1
        ? true
        : undefined,
    );
    // As a resume leaves it when the worker dies after committing it, before handling what it
    // held (the owner handled the resume in full).
    await worker.stop();
    const resume = await command("r-cut", "resume");
    await until("the owner's answer", () => resultsOf(resume).length > 0);
    await pool.query(
      "UPDATE race_worker.saga_mark SET paused_at = NULL, paused_by = NULL WHERE saga_id = 'r-cut'",
    );
    await worker.start();
    await until("r-cut done", async () => (await status("r-cut")) === "done");
  });

  it("refuses a retry with an edited input: a choreographed saga's input travels in its messages", async () => {
    const edit = await command("r-1", "retry-step", { input: { n: 2 } });
    await until("the answer", () => resultsOf(edit).length > 0);
    expect(resultsOf(edit)[0]?.data).toMatchObject({
      outcome: "refused",
      message: expect.stringMatching(/edit its parked message on the dead-letters page/),
    });
  });

  it("mark-resolved: the owner confirms, and the participants leave the saga alone", async () => {
    crashing.add("r-resolve");
    await race("r-resolve");
    await until("r-resolve parked", async () =>
      (await pool.query("SELECT 1 FROM race_worker.parked_message WHERE saga_id = 'r-resolve'")).rowCount ===
      1
        ? true
        : undefined,
    );
    const commandId = await command("r-resolve", "mark-resolved", { reason: "done by hand" });
    const result = await firstAnswer(commandId, "the result");
    expect(result?.data).toMatchObject({ outcome: "done", handledBy: "owner" });
    crashing.delete("r-resolve");
    const retry = await command("r-resolve", "retry-step");
    await until("refused", () => resultsOf(retry).length > 0);
    expect(resultsOf(retry)[0]?.data.outcome).toBe("refused");
    expect(await status("r-resolve")).toBe("running");
  });

  it("an idle participant stops promptly: its consumers' fetches are not held for kafkajs's default 5 s", async () => {
    const idler = createParticipant<S>({
      ...common,
      service: "idler",
      source: "/test/idler",
      schema: "race_idler",
      groupId: uniqueName("idler"),
      reactions: {},
    });
    await idler.start();
    try {
      // Nothing to read: both consumers are waiting on the broker for a fetch to return.
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      const began = performance.now();
      await idler.stop();
      // Each consumer's disconnect waits for its fetch in flight: with kafkajs's default wait
      // this took 5.0 s every time; a fetch held half a second leaves ample room on a busy machine.
      expect(performance.now() - began).toBeLessThan(3000);
    }
  });

  it("commits handled offsets about once a second, a quiet topic's last ones soon after, and the rest when it stops", async () => {
    // The participant's consumers, made through a client that counts their commit requests.
    let commits = 0;
    const counting = new Kafka({
      clientId: "choreo-test-pacer",
      brokers: testInfra().kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const makeConsumer = counting.consumer.bind(counting);
    counting.consumer = (config) => {
      const c = makeConsumer(config);
      c.on(c.events.REQUEST, ({ payload }) => {
        if (payload.apiName === "OffsetCommit") commits += 1;
      });
      return c;
    };
    const groupId = uniqueName("pacer");
    let handled = 0;
    let stopped = false;
    const pacer = createParticipant<S>({
      ...common,
      kafka: counting,
      service: "pacer",
      source: "/test/pacer",
      schema: "race_pacer",
      groupId,
      reactions: {
        "race.worked": {
          handle: async () => {
            handled += 1;
          },
        },
      },
    });
    const admin = kafka.admin();
    await admin.connect();
    const behind = async () => {
      const ends = await admin.fetchTopicOffsets(topicNames.domain);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topicNames.domain] });
      return ends.reduce((n, end) => {
        const at = Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
        return n + Number(end.offset) - Math.max(at, 0);
      }, 0);
    };
    const worked = (n: number) =>
      encodeDomainEvent(
        domainEvent(
          schemas,
          "race.worked",
          uniqueName(`paced-${n}`),
          { n },
          { source: "/test/worker", trace: newTrace() },
        ),
      );
    try {
      await pacer.start();
      // The topic's history first, then a burst of 300 in 30 sends: many small batches.
      await until("the history read", async () => ((await behind()) === 0 ? true : undefined));
      const before = handled;
      commits = 0;
      const began = performance.now();
      for (let i = 0; i < 30; i += 1) {
        await producer.send({
          topic: topicNames.domain,
          messages: Array.from({ length: 10 }, (_, j) => worked(i * 10 + j)),
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await until("the burst handled", () => (handled - before >= 300 ? true : undefined));
      const seconds = (performance.now() - began) / 1000;
      // Quiet now: the last offsets are committed within a second or so, not left as lag.
      await until("every offset committed", async () => ((await behind()) === 0 ? true : undefined));
      // Once a second or every 100 messages (kafkajs alone commits after every batch).
      expect(commits).toBeLessThanOrEqual(Math.ceil(seconds) + 300 / 100 + 3);
      // Stopping right after handling commits what was handled.
      const last = handled;
      await producer.send({ topic: topicNames.domain, messages: [worked(-1), worked(-2)] });
      await until("two more handled", () => (handled - last >= 2 ? true : undefined));
      stopped = true;
      await pacer.stop();
      expect(await behind()).toBe(0);
    } finally {
      if (!stopped) await pacer.stop();
      await admin.disconnect();
    }
  });
});
