// Metrics as Prometheus sees them: a real Prometheus (Debian's package) scrapes an ingester's
// and the dashboard's /metrics while a small workload (sagas that complete, compensate and
// run, a breaker that opens, a bad message, a projection checkpoint, an audited action)
// goes through the real broker and store. Every metric docs/monitoring's Grafana dashboard
// and alert rules use exists in the scrape; the rules load and evaluate; promtool accepts the
// rules and lints the scrape; the figures are the workload's; no saga or trace id is a label.
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { collectDefaultMetrics, Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, scratchDatabase, testInfra, uniqueName, until } from "../../scripts/test/infra.ts";
import { prometheusTools, type RunningPrometheus, startPrometheus } from "../../scripts/test/prometheus.ts";
import { appendAudit, newActionId } from "../audit/audit-log.ts";
import { createBreakerStore } from "../breakers/index.ts";
import { migrate } from "../db/migrate.ts";
import { createPool, type Pool } from "../db/pool.ts";
import { createPrisma, type PrismaClient } from "../db/prisma.ts";
import {
  breakerEvent,
  encodeBreakerEvent,
  encodeProjectionCheckpoint,
  encodeSagaEvent,
  ensureTopics,
  newTrace,
  type SagaEvent,
  sagaEvent,
  topics,
} from "../events/index.ts";
import { createIngestMetrics } from "../ingest/ingest-metrics.ts";
import { createIngester, type Ingester } from "../ingest/ingester.ts";
import { createLogger } from "../log.ts";
import { registerDashboardMetrics } from "./dashboard-metrics.ts";
import { type MetricsServer, startMetricsServer } from "./metrics-server.ts";
import { postgresCheck } from "./readiness.ts";

const log = createLogger("metrics-test", "error");
const prefix = `${uniqueName("metrics")}.`;
const names = topics(prefix);
const groupId = `${prefix}ingester`;
const kafka = new Kafka({
  clientId: "metrics-test",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
const redis = new Redis(testInfra().redisUrl);
const SAGA_TYPE = "metrics-transfer";
const PAIR = "metrics-payments→ledger";
let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let prisma: PrismaClient;
let producer: Producer;
let ingester: Ingester;
let servers: MetricsServer[] = [];
let prometheus: RunningPrometheus;
const sagaIds: string[] = [];
const traceIds: string[] = [];

function saga(outcome: "completed" | "compensated" | "running"): SagaEvent[] {
  const sagaId = `${outcome}-${randomUUID()}`;
  const trace = newTrace();
  sagaIds.push(sagaId);
  traceIds.push(trace.traceId);
  const o = { source: "/test/metrics", trace };
  const base = { sagaId, sagaType: SAGA_TYPE, mode: "orchestrated" as const };
  const debit = { ...base, step: "debit", stepIndex: 0, service: "bank-a" };
  const started = [
    sagaEvent("io.sagascope.saga.started", { ...base, steps: [{ name: "debit", service: "bank-a" }] }, o),
    sagaEvent("io.sagascope.saga.step.started", debit, o),
  ];
  if (outcome === "running") return started;
  if (outcome === "completed")
    return [
      ...started,
      sagaEvent("io.sagascope.saga.step.succeeded", { ...debit, durationMs: 4 }, o),
      sagaEvent("io.sagascope.saga.completed", { ...base, durationMs: 1500 }, o),
    ];
  return [
    ...started,
    sagaEvent(
      "io.sagascope.saga.step.failed",
      { ...debit, durationMs: 3, error: { category: "business", message: "declined" }, willRetry: false },
      o,
    ),
    sagaEvent(
      "io.sagascope.saga.aborted",
      { ...base, durationMs: 20, reason: "declined", failedStep: "debit", compensated: true },
      o,
    ),
  ];
}

/** Every metric name a PromQL expression of the dashboard or the rules names. */
function metricNamesUsed(): string[] {
  const dashboard = JSON.parse(readFileSync("docs/monitoring/grafana-dashboard.json", "utf8")) as {
    panels: { targets: { expr: string }[] }[];
  };
  const rules = readFileSync("docs/monitoring/alert-rules.yml", "utf8");
  const exprs = [...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)), rules];
  const found = exprs.flatMap((e) => e.match(/\b(?:sagascope|process|nodejs)_[a-z0-9_]+\b/g) ?? []);
  return [...new Set(found)].sort();
}

beforeAll(async () => {
  const tools = prometheusTools((line) => console.log(`[prometheus] ${line}`));
  db = await scratchDatabase("metrics");
  await migrate(db.url, () => {});
  pool = createPool(db.url, 4);
  prisma = createPrisma(db.url);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, Object.values(names), 2).finally(() => admin.disconnect());
  producer = kafka.producer();
  await producer.connect();

  const ingestRegistry = new Registry();
  collectDefaultMetrics({ register: ingestRegistry });
  ingestRegistry.setDefaultLabels({ role: "ingester" });
  ingester = createIngester({
    kafka,
    pool,
    topics: [names.sagaEvents, names.control],
    breakerTopic: names.breakerEvents,
    projectionTopic: names.projectionEvents,
    groupId,
    log,
    metrics: createIngestMetrics(ingestRegistry),
  });
  await ingester.start();
  const webRegistry = new Registry();
  collectDefaultMetrics({ register: webRegistry });
  webRegistry.setDefaultLabels({ role: "web" });
  registerDashboardMetrics(webRegistry, {
    pool,
    prisma,
    breakerStore: createBreakerStore(redis, `${uniqueName("metrics-bk")}:`),
    kafka: { brokers: testInfra().kafkaBrokers, prefix, ingestGroup: groupId },
  });
  for (const [role, registry] of [
    ["ingester", ingestRegistry],
    ["web", webRegistry],
  ] as const)
    servers.push(
      await startMetricsServer({
        registry,
        role,
        host: "127.0.0.1",
        port: 0,
        checks: () => [postgresCheck(pool)],
        log,
      }),
    );

  await producer.send({
    topic: names.sagaEvents,
    messages: [...saga("completed"), ...saga("completed"), ...saga("compensated"), ...saga("running")].map(
      encodeSagaEvent,
    ),
  });
  // A producer's bug: a proper envelope around a value that is not JSON.
  const [wellFormed] = saga("running").map(encodeSagaEvent);
  sagaIds.pop();
  await producer.send({
    topic: names.sagaEvents,
    messages: [{ key: "broken", value: "not json at all", headers: wellFormed?.headers ?? {} }],
  });
  const ref = { pair: PAIR, caller: "metrics-payments", callee: "ledger", instance: "payments-1" };
  const now = new Date();
  await producer.send({
    topic: names.breakerEvents,
    messages: [
      encodeBreakerEvent(
        breakerEvent(
          "io.sagascope.breaker.stats",
          {
            ...ref,
            windowStart: new Date(now.getTime() - 10_000).toISOString(),
            windowEnd: now.toISOString(),
            state: "open",
            forced: null,
            calls: 8,
            successes: 5,
            business: 0,
            failures: 3,
            rejections: 2,
            trials: 0,
            latencyMs: { p50: 1, p95: 2, p99: 3, max: 4 },
          },
          { source: "/test/metrics", time: now },
        ),
      ),
      encodeBreakerEvent(
        breakerEvent(
          "io.sagascope.breaker.state_changed",
          {
            ...ref,
            from: "closed",
            to: "open",
            forced: null,
            reason: "failure rate 3/8",
            calls: 8,
            failures: 3,
            failureRateThreshold: 0.3,
            minimumCalls: 4,
          },
          { source: "/test/metrics", time: now },
        ),
      ),
    ],
  });
  await producer.send({
    topic: names.projectionEvents,
    messages: [
      encodeProjectionCheckpoint(
        {
          projection: "metrics-orders",
          generation: 1,
          groupId: `${prefix}orders-projector`,
          active: true,
          partitions: [
            {
              topic: `${prefix}orders`,
              partition: 0,
              committedOffset: 10,
              logEndOffset: 17,
              offsetLag: 7,
              newestAppliedAt: new Date(now.getTime() - 42_000).toISOString(),
              timeLagMs: 42_000,
            },
          ],
        },
        "/test/metrics",
      ),
    ],
  });
  await appendAudit(
    pool,
    {
      actionId: newActionId(),
      actor: "ops@example.test",
      actorRole: "operator",
      action: "breaker.force-open",
      target: PAIR,
      params: {},
      idempotencyKey: null,
    },
    "done",
  );
  await until("the workload stored", async () => {
    const { rows } = await pool.query<{ n: number }>(
      "SELECT (SELECT count(*) FROM saga_summary) + (SELECT count(*) FROM dead_letter) + (SELECT count(*) FROM breaker_stats) + (SELECT count(*) FROM projection_lag_sample) AS n",
    );
    return Number(rows[0]?.n) === 4 + 1 + 1 + 1;
  });
  prometheus = await startPrometheus(tools, {
    port: await freePort(),
    targets: Object.fromEntries(servers.map((s, i) => [i === 0 ? "ingester" : "web", `127.0.0.1:${s.port}`])),
    ruleFiles: [`${process.cwd()}/docs/monitoring/alert-rules.yml`],
  });
}, 180_000);

afterAll(async () => {
  await prometheus?.stop();
  for (const s of servers) await s.close();
  servers = [];
  await ingester?.stop();
  await producer?.disconnect();
  await prisma?.$disconnect();
  await pool?.end();
  await db?.drop();
  redis.disconnect();
});

const value = async (expr: string) => Number((await prometheus.query(expr))[0]?.value[1] ?? Number.NaN);

describe("metrics, scraped by a real Prometheus", () => {
  it("has every metric the Grafana dashboard and the alert rules use", async () => {
    const used = metricNamesUsed();
    expect(used.length).toBeGreaterThan(15);
    const absent = async () => {
      const out: string[] = [];
      for (const name of used) if ((await prometheus.query(`count(${name})`)).length === 0) out.push(name);
      return out;
    };
    // Both targets scraped a few times (rates need two samples), then nothing may be absent.
    await until(
      "both targets scraped three times",
      async () => (await value("min(count_over_time(up[1m]))")) >= 3,
    );
    const missing = await absent();
    expect(missing).toEqual([]);
  });

  it("says what the workload did", async () => {
    await until(
      "the figures scraped",
      async () => (await value(`sum(sagascope_sagas_started_total{saga_type="${SAGA_TYPE}"})`)) === 4,
    );
    expect(await value(`sum(sagascope_sagas_ended_total{saga_type="${SAGA_TYPE}",status="completed"})`)).toBe(
      2,
    );
    expect(
      await value(`sum(sagascope_sagas_ended_total{saga_type="${SAGA_TYPE}",status="compensated"})`),
    ).toBe(1);
    expect(await value(`sum(sagascope_saga_duration_seconds_count{saga_type="${SAGA_TYPE}"})`)).toBe(3);
    expect(await value(`sum(sagascope_sagas_in_flight{saga_type="${SAGA_TYPE}",status="running"})`)).toBe(1);
    expect(await value(`sum(sagascope_dead_letters_total{reason="not_json"})`)).toBe(1);
    expect(await value(`sum(sagascope_dead_letters_open{reason="not_json"})`)).toBe(1);
    expect(await value(`sum(sagascope_circuitbreaker_calls_total{pair="${PAIR}",kind="failed"})`)).toBe(3);
    expect(
      await value(`sum(sagascope_circuitbreaker_calls_total{pair="${PAIR}",kind="not_permitted"})`),
    ).toBe(2);
    const states = await prometheus.query(`sagascope_circuitbreaker_state{pair="${PAIR}"}`);
    expect(Object.fromEntries(states.map((s) => [s.metric.state, s.value[1]]))).toEqual({
      closed: "0",
      open: "1",
      half_open: "0",
      forced_open: "0",
      forced_closed: "0",
      disabled: "0",
    });
    expect(await value(`sum(sagascope_projection_lag_changes{projection="metrics-orders"})`)).toBe(7);
    expect(await value(`max(sagascope_projection_lag_seconds{projection="metrics-orders"})`)).toBe(42);
    expect(
      await value(`sum(sagascope_operator_actions_total{action="breaker.force-open",outcome="done"})`),
    ).toBe(1);
    expect(await value(`min(sagascope_scrape_source_up)`)).toBe(1);
    expect(await value(`sum(sagascope_ingest_messages_total{kind="saga",outcome="stored"})`)).toBe(14);
  });

  it("loads the alert rules, evaluates each without error, and fires the breaker alert's pending state", async () => {
    const rules = await until("the rules evaluated", async () => {
      const body = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
        data: { groups: { rules: { name: string; health: string; lastError?: string; state?: string }[] }[] };
      };
      const all = body.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => r.health === "ok") ? all : undefined;
    });
    expect(rules.map((r) => r.name)).toContain("SagascopeBreakerOpen");
    // Open now, it waits out its `for` before firing.
    await until("the breaker alert pending", async () => {
      const body = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
        data: { groups: { rules: { name: string; state?: string }[] }[] };
      };
      return (
        body.data.groups.flatMap((g) => g.rules).find((r) => r.name === "SagascopeBreakerOpen")?.state ===
        "pending"
      );
    });
  });

  it("passes promtool: the rules check, and the scrape lints clean", async () => {
    const { promtool } = prometheusTools();
    const checked = spawnSync(promtool, ["check", "rules", "docs/monitoring/alert-rules.yml"], {
      encoding: "utf8",
    });
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
    for (const server of servers) {
      const scrape = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      // Ours only: prom-client's own process metrics name three gauges *_total, which promtool flags.
      const ours = scrape
        .split("\n")
        .filter((line) => /^(# (HELP|TYPE) )?sagascope_/.test(line))
        .join("\n");
      expect(ours).toContain("sagascope_");
      const lint = spawnSync(promtool, ["check", "metrics"], { input: `${ours}\n`, encoding: "utf8" });
      expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    }
  });

  it("never puts a saga id or a trace id in a label", async () => {
    for (const server of servers) {
      const scrape = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      const values = [...scrape.matchAll(/="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] as string);
      expect(values.length).toBeGreaterThan(50);
      for (const v of values) {
        expect(
          sagaIds.some((id) => v.includes(id)),
          v,
        ).toBe(false);
        expect(
          traceIds.some((id) => v.includes(id)),
          v,
        ).toBe(false);
        expect(v, "an id-like label value").not.toMatch(/[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/);
      }
    }
  });

  it("answers /healthz and /readyz as probes expect", async () => {
    const base = `http://127.0.0.1:${servers[0]?.port}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({
      status: "alive",
      role: "ingester",
    });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", checks: { postgres: { ok: true } } });
    const unreachable = createPool("postgresql://postgres@127.0.0.1:1/none", 1);
    const down = await startMetricsServer({
      registry: new Registry(),
      role: "probe-test",
      host: "127.0.0.1",
      port: 0,
      checks: () => [postgresCheck(unreachable)],
      log,
    });
    try {
      const answer = await fetch(`http://127.0.0.1:${down.port}/readyz`);
      expect(answer.status).toBe(503);
      expect(await answer.json()).toMatchObject({ status: "not ready", checks: { postgres: { ok: false } } });
    } finally {
      await down.close();
      await unreachable.end();
    }
  });
});
