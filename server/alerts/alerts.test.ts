// Alerts end to end against a real Postgres and webhook receivers started here: a breaker
// opens and closes, a saga goes stuck and then ends; each webhook (generic JSON, Slack's
// payload, the Alertmanager webhook shape) gets exactly one firing and one resolved message
// per alert, none while the condition merely holds or within the hold time; a receiver that
// fails is retried with backoff until it takes the message, each attempt recorded; a second
// evaluator waits while the first holds the lock, and takes over when it stops.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase, testInfra, uniqueName, until } from "../../scripts/test/infra.ts";
import { createBreakerStore } from "../breakers/index.ts";
import { migrate } from "../db/migrate.ts";
import { createPool, type Pool } from "../db/pool.ts";
import { createPrisma, type PrismaClient } from "../db/prisma.ts";
import { breakerEvent, ensureTopics, newTrace, sagaEvent } from "../events/index.ts";
import { storeBatch } from "../ingest/store-batch.ts";
import { insertBreakerEvents } from "../ingest/store-breaker-events.ts";
import { createLogger } from "../log.ts";
import { type AlertEvaluator, createAlertEvaluator } from "./alert-evaluator.ts";
import { AlertFileSchema, type AlertRule, loadRules, readAlertFile, syncFileRules } from "./alert-rules.ts";
import { observe } from "./observe-conditions.ts";
import { parseWebhooks } from "./webhooks.ts";

const log = createLogger("alerts-test", "error");
/** A deployment of its own on the test cluster: its topics and groups are the only ones it sees. */
const kafkaTarget = {
  brokers: testInfra().kafkaBrokers,
  prefix: `${uniqueName("alerts")}.`,
  ingestGroup: uniqueName("alerts-ingest"),
};
const redis = new Redis(testInfra().redisUrl);
let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let prisma: PrismaClient;
let receiver: Server;
let base: string;
const got: { path: string; body: Record<string, unknown> }[] = [];
let flakyFailures = 2;
const evaluators: AlertEvaluator[] = [];

beforeAll(async () => {
  db = await scratchDatabase("alerts");
  await migrate(db.url, () => {});
  pool = createPool(db.url, 6);
  prisma = createPrisma(db.url);
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/flaky" && flakyFailures > 0) {
        flakyFailures -= 1;
        res.writeHead(503);
        return res.end("busy");
      }
      got.push({ path: req.url ?? "", body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(200);
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const rules = AlertFileSchema.parse({
    rules: [
      { id: "breaker-open", kind: "breaker_open", severity: "critical", holdSeconds: 1 },
      { id: "stuck", kind: "stuck_sagas", params: {}, holdSeconds: 1 },
    ],
  }).rules;
  await syncFileRules(pool, rules);
});

afterAll(async () => {
  for (const e of evaluators) await e.stop();
  await prisma?.$disconnect();
  await pool?.end();
  await db?.drop();
  redis.disconnect();
  await new Promise((resolve) => receiver.close(resolve));
});

function evaluator() {
  const e = createAlertEvaluator({
    databaseUrl: db.url,
    sources: {
      pool,
      prisma,
      breakerStore: createBreakerStore(redis, `${uniqueName("alerts-bk")}:`),
      kafka: kafkaTarget,
    },
    webhooks: parseWebhooks(
      `hook=generic:${base}/generic; chat=slack:${base}/slack am=alertmanager:${base}/am;flaky=generic:${base}/flaky`,
    ),
    dashboardUrl: "http://sagascope.example.test",
    everyMs: 60_000,
    log,
  });
  evaluators.push(e);
  return e;
}

async function breakerChange(pair: string, from: "closed" | "open", to: "closed" | "open", at: Date) {
  const client = await pool.connect();
  try {
    await insertBreakerEvents(client, [
      {
        event: breakerEvent(
          "io.sagascope.breaker.state_changed",
          {
            pair,
            caller: "payments",
            callee: pair.split("→")[1] as string,
            instance: "payments-1",
            from,
            to,
            forced: null,
            reason: "test",
            calls: 6,
            failures: 4,
            failureRateThreshold: 0.5,
            minimumCalls: 4,
          },
          { source: "/test", time: at },
        ),
        position: { topic: "t", partition: 0, offset: 0 },
      },
    ]);
  } finally {
    client.release();
  }
}

describe("alerts to webhooks", () => {
  it("a breaker that opens and closes: one firing and one resolved per webhook, in each shape", async () => {
    const e = evaluator();
    const pair = `payments→${uniqueName("ledger")}`;
    const t0 = Date.now();
    await breakerChange(pair, "closed", "open", new Date(t0 - 1000));
    expect(await e.tick(new Date(t0))).toEqual({ leader: true });
    await e.tick(new Date(t0 + 500)); // still open: nothing new
    await breakerChange(pair, "open", "closed", new Date(t0 + 600));
    await e.tick(new Date(t0 + 700)); // gone, within the hold: nothing yet
    await e.tick(new Date(t0 + 2000)); // gone for longer than the hold: resolved
    const fromHooks = got.filter((m) => m.path !== "/flaky" && JSON.stringify(m.body).includes(pair));
    expect(fromHooks.map((m) => m.path).sort()).toEqual([
      "/am",
      "/am",
      "/generic",
      "/generic",
      "/slack",
      "/slack",
    ]);
    const generic = fromHooks.filter((m) => m.path === "/generic").map((m) => m.body);
    expect(generic).toEqual([
      expect.objectContaining({
        status: "firing",
        rule: "breaker-open",
        severity: "critical",
        subject: pair,
        summary: `breaker ${pair} open`,
      }),
      expect.objectContaining({ status: "resolved", rule: "breaker-open", subject: pair }),
    ]);
    expect(generic[0]?.url).toBe(`http://sagascope.example.test/breakers?pair=${encodeURIComponent(pair)}`);
    const am = fromHooks
      .filter((m) => m.path === "/am")
      .map(
        (m) =>
          m.body as {
            version: string;
            status: string;
            alerts: { labels: Record<string, string>; status: string }[];
          },
      );
    expect(am.map((b) => [b.version, b.status, b.alerts[0]?.status, b.alerts[0]?.labels.alertname])).toEqual([
      ["4", "firing", "firing", "breaker-open"],
      ["4", "resolved", "resolved", "breaker-open"],
    ]);
    const slack = fromHooks.filter((m) => m.path === "/slack").map((m) => String(m.body.text));
    expect(slack[0]).toMatch(/FIRING\* \[critical\] breaker-open: breaker payments→.* open/);
    expect(slack[1]).toMatch(/RESOLVED/);
  });

  it("a receiver that fails is retried with backoff until it takes the message; each attempt recorded", async () => {
    const e = evaluators[0] as AlertEvaluator;
    await until(
      "the flaky webhook took both messages",
      async () => {
        await e.tick();
        return got.filter((m) => m.path === "/flaky").length >= 2;
      },
      30_000,
    );
    const { rows } = await pool.query<{
      event: string;
      status: string;
      attempts: number;
      last_error: string | null;
    }>("SELECT event, status, attempts, last_error FROM alert_delivery WHERE receiver = 'flaky' ORDER BY id");
    expect(rows.map((r) => r.status)).toEqual(["sent", "sent"]);
    expect(rows.reduce((n, r) => n + r.attempts, 0)).toBe(4); // two 503s, then each taken
  });

  it("a saga that goes stuck and then ends: fired once, resolved once; only the lock holder evaluates", async () => {
    const first = evaluators[0] as AlertEvaluator;
    const second = evaluator();
    expect(await second.tick()).toEqual({ leader: false });
    const sagaType = uniqueName("stuck-type");
    const sagaId = `stuck-${randomUUID()}`;
    const o = { source: "/test", trace: newTrace() };
    const ref = { sagaId, sagaType, mode: "orchestrated" as const };
    const position = (offset: number) => ({ topic: "t", partition: 0, offset });
    await storeBatch(pool, {
      events: [
        {
          event: sagaEvent("io.sagascope.saga.started", { ...ref, steps: [{ name: "a", service: "s" }] }, o),
          position: position(1),
        },
      ],
    });
    await pool.query("UPDATE saga_summary SET stuck = true, stuck_reason = 'test' WHERE saga_id = $1", [
      sagaId,
    ]);
    const t0 = Date.now();
    await first.tick(new Date(t0));
    await first.tick(new Date(t0 + 300));
    await first.stop();
    // The first one stopped: the second takes the lock, and carries the same alert on.
    expect(await second.tick(new Date(t0 + 400))).toEqual({ leader: true });
    await storeBatch(pool, {
      events: [
        {
          event: sagaEvent("io.sagascope.saga.completed", { ...ref, durationMs: 5 }, o),
          position: position(2),
        },
      ],
    });
    await second.tick(new Date(t0 + 600));
    await second.tick(new Date(t0 + 2000));
    const toGeneric = got
      .filter((m) => m.path === "/generic" && m.body.subject === sagaType)
      .map((m) => m.body);
    expect(toGeneric.map((b) => [b.status, b.summary])).toEqual([
      ["firing", `1 ${sagaType} saga stuck`],
      ["resolved", `stuck sagas: ${sagaType} is fine again`],
    ]);
    expect(toGeneric[0]?.url).toBe(
      `http://sagascope.example.test/sagas?type=${encodeURIComponent(sagaType)}&stuck=1`,
    );
  });
});

describe("the alerts file", () => {
  it("docs/monitoring/alerts.example.json is a valid file; a broken one is refused with the reason", async () => {
    const rules = readAlertFile("docs/monitoring/alerts.example.json");
    expect(rules.map((r) => r.kind).sort()).toEqual([
      "breaker_open",
      "consumer_lag",
      "dead_letters",
      "projection_lag",
      "saga_failure_rate",
      "stuck_sagas",
    ]);
    const scratch = await scratchDatabase("alertsfile");
    const other = createPool(scratch.url, 1);
    try {
      await migrate(scratch.url, () => {});
      await syncFileRules(other, rules);
      expect((await loadRules(other)).map((r) => r.rule.id).sort()).toEqual(rules.map((r) => r.id).sort());
    } finally {
      await other.end();
      await scratch.drop();
    }
    expect(() =>
      AlertFileSchema.parse({ rules: [{ id: "Bad Id", kind: "stuck_sagas", params: {} }] }),
    ).toThrow(/lower-case letters/);
  });
});

describe("the projection lag rule", () => {
  it("says behind only when changes wait, however long ago an idle source last changed", async () => {
    const rule = AlertFileSchema.parse({
      rules: [{ id: "lag", kind: "projection_lag", params: { seconds: 60 } }],
    }).rules[0] as AlertRule;
    const sample = (projection: string, offsetLag: number) =>
      pool.query(
        `INSERT INTO projection_lag_sample (checkpoint_id, topic, partition, time, projection, generation, active,
           committed_offset, log_end_offset, offset_lag, newest_applied_at, time_lag_ms)
         VALUES ($1, 't', 0, now(), $2, 1, true, 10, $3, $4, now() - interval '10 minutes', 600000)`,
        [randomUUID(), projection, 10 + offsetLag, offsetLag],
      );
    await sample("idle-view", 0);
    await sample("stalled-view", 3);
    const seen = await observe(rule, {
      pool,
      prisma,
      breakerStore: createBreakerStore(redis, `${uniqueName("lag-bk")}:`),
      kafka: kafkaTarget,
    });
    expect(seen.map((o) => [o.subject, o.value])).toEqual([["stalled-view", 600]]);
  });
});

describe("the consumer lag rule", () => {
  it("names each group of the deployment at least that many messages behind, with its Kafka page", async () => {
    const kafka = new Kafka({
      clientId: "alerts-test",
      brokers: kafkaTarget.brokers,
      logLevel: logLevel.NOTHING,
    });
    const topic = `${kafkaTarget.prefix}sagascope.saga-events`;
    const admin = kafka.admin();
    const producer = kafka.producer();
    const behind = uniqueName("billing-view");
    const current = uniqueName("audit-view");
    try {
      await admin.connect();
      await ensureTopics(admin, [topic], 1);
      await producer.connect();
      await producer.send({ topic, messages: Array.from({ length: 12 }, (_, i) => ({ value: `m${i}` })) });
      // One group read 2 of the 12 messages, the other all of them.
      await admin.setOffsets({ groupId: behind, topic, partitions: [{ partition: 0, offset: "2" }] });
      await admin.setOffsets({ groupId: current, topic, partitions: [{ partition: 0, offset: "12" }] });
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
    const rules = AlertFileSchema.parse({
      rules: [
        { id: "any-group", kind: "consumer_lag", params: { messages: 10 } },
        { id: "one-group", kind: "consumer_lag", params: { group: current, messages: 1 } },
        { id: "too-high", kind: "consumer_lag", params: { messages: 11 } },
      ],
    }).rules as AlertRule[];
    const sources = {
      pool,
      prisma,
      breakerStore: createBreakerStore(redis, `${uniqueName("lag-bk")}:`),
      kafka: kafkaTarget,
    };
    const [any, one, tooHigh] = await Promise.all(rules.map((rule) => observe(rule, sources)));
    expect(any).toEqual([
      {
        subject: behind,
        value: 10,
        summary: `consumer group ${behind} is 10 messages behind`,
        path: `/kafka?group=${encodeURIComponent(behind)}`,
      },
    ]);
    expect(one).toEqual([]);
    expect(tooHigh).toEqual([]);
    expect(() =>
      AlertFileSchema.parse({ rules: [{ id: "no-threshold", kind: "consumer_lag", params: {} }] }),
    ).toThrow(/messages/);
  });
});
