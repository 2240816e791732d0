// The web app's /metrics, /healthz and /readyz (the route handlers in app/ only call these).
// /metrics carries business figures: with SAGASCOPE_METRICS_TOKEN set it asks for that bearer
// token; in production mode without one it refuses, saying how to turn it on; in demo mode it
// is open. A refusal is audited (at most once a minute per process, so that a misconfigured
// scraper does not flood the log; the count of those in between is in the message).
import { timingSafeEqual } from "node:crypto";
import { Redis } from "ioredis";
import type { Registry } from "prom-client";
import { appendAudit, newActionId } from "../audit/audit-log.ts";
import { env } from "../env.ts";
import { createKafka } from "../events/kafka-client.ts";
import { createLogger } from "../log.ts";
import { createContext } from "../trpc/context.ts";
import { registerDashboardMetrics } from "./dashboard-metrics.ts";
import { kafkaCheck, postgresCheck, type ReadinessCheck, redisCheck, runChecks } from "./readiness.ts";
import { processRegistry } from "./registry.ts";

const holder = globalThis as unknown as {
  sagascopeWebRegistry?: Registry;
  sagascopeWebChecks?: ReadinessCheck[];
  sagascopeMetricsRefusals?: { lastAuditAt: number; since: number };
};

function webRegistry(): Registry {
  if (!holder.sagascopeWebRegistry) {
    const config = env();
    const registry = processRegistry("web");
    registerDashboardMetrics(registry, {
      ...createContext(),
      kafka: {
        brokers: config.KAFKA_BROKERS,
        prefix: config.SAGASCOPE_TOPIC_PREFIX,
        ingestGroup: config.SAGASCOPE_INGEST_GROUP,
      },
    });
    holder.sagascopeWebRegistry = registry;
  }
  return holder.sagascopeWebRegistry;
}

function webChecks(): ReadinessCheck[] {
  if (!holder.sagascopeWebChecks) {
    const config = env();
    const log = createLogger("web", config.SAGASCOPE_LOG_LEVEL);
    const redis = new Redis(config.REDIS_URL, {
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => 1000,
    });
    redis.on("error", () => {});
    holder.sagascopeWebChecks = [
      postgresCheck(createContext().pool),
      redisCheck(redis),
      kafkaCheck(createKafka("sagascope-web-readiness", config.KAFKA_BROKERS, log)),
    ];
  }
  return holder.sagascopeWebChecks;
}

const text = (status: number, body: string) =>
  new Response(`${body}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

async function auditRefusal(why: string): Promise<void> {
  holder.sagascopeMetricsRefusals ??= { lastAuditAt: 0, since: 0 };
  const state = holder.sagascopeMetricsRefusals;
  state.since += 1;
  if (Date.now() - state.lastAuditAt < 60_000) return;
  const refused = state.since;
  state.lastAuditAt = Date.now();
  state.since = 0;
  await appendAudit(
    createContext().pool,
    {
      actionId: newActionId(),
      actor: "anonymous",
      actorRole: "none",
      action: "metrics.read",
      target: "/metrics",
      params: {},
      idempotencyKey: null,
    },
    "denied",
    `${why}${refused > 1 ? ` (${refused} refusals since the last entry)` : ""}`,
  ).catch(() => {});
}

export async function metricsResponse(req: Request): Promise<Response> {
  const config = env();
  const token = config.SAGASCOPE_METRICS_TOKEN;
  if (token) {
    const given = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1] ?? "";
    if (!sameSecret(given, token)) {
      await auditRefusal("no or wrong bearer token");
      return text(401, "send Authorization: Bearer <SAGASCOPE_METRICS_TOKEN>");
    }
  } else if (config.SAGASCOPE_MODE === "production") {
    await auditRefusal("SAGASCOPE_METRICS_TOKEN is not set in production mode");
    return text(403, "metrics are off: set SAGASCOPE_METRICS_TOKEN and scrape with it as a bearer token");
  }
  const registry = webRegistry();
  return new Response(await registry.metrics(), {
    headers: { "content-type": registry.contentType, "cache-control": "no-store" },
  });
}

export function healthResponse(): Response {
  return Response.json({ status: "alive", role: "web" }, { headers: { "cache-control": "no-store" } });
}

export async function readinessResponse(): Promise<Response> {
  const { ready, checks } = await runChecks(webChecks());
  return Response.json(
    { status: ready ? "ready" : "not ready", role: "web", checks },
    { status: ready ? 200 : 503, headers: { "cache-control": "no-store" } },
  );
}
