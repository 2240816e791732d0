// `npm run ingest`: the ingester as its own process.

import { Redis } from "ioredis";
import { createAlertEvaluator } from "../alerts/alert-evaluator.ts";
import { readAlertFile, syncFileRules } from "../alerts/alert-rules.ts";
import { parseWebhooks } from "../alerts/webhooks.ts";
import { createBreakerStore } from "../breakers/index.ts";
import { migrate } from "../db/migrate.ts";
import { createPool } from "../db/pool.ts";
import { createPrisma } from "../db/prisma.ts";
import { EnvError, env } from "../env.ts";
import { topics } from "../events/index.ts";
import { createKafka } from "../events/kafka-client.ts";
import { createLogger } from "../log.ts";
import { kafkaCheck, postgresCheck } from "../metrics/readiness.ts";
import { processRegistry } from "../metrics/registry.ts";
import { observeFrom, runProcess } from "../process-edge.ts";
import { parseDeclarations, syncConfigDeclarations } from "../projections/declared-projections.ts";
import {
  createOtlpExporter,
  createSagaTraceExporter,
  otlpTracesUrl,
  samplerFrom,
} from "../telemetry/saga-trace-exporter.ts";
import { createAnswerDeadline } from "./answer-deadline-sweep.ts";
import { createBulkOperationSweep } from "./bulk-operations-sweep.ts";
import { createConsumerGroupSampler } from "./consumer-group-sampler.ts";
import { createDeclaredProjectionSampler } from "./declared-projection-sampler.ts";
import { createEventRetention } from "./event-retention.ts";
import { createIngestMetrics } from "./ingest-metrics.ts";
import { createIngester, PARTITIONS_AT_ONCE } from "./ingester.ts";
import { createStuckSweeper } from "./stuck-sweeper.ts";

const config = env();
const log = createLogger("ingester", config.SAGASCOPE_LOG_LEVEL);
const topicNames = topics(config.SAGASCOPE_TOPIC_PREFIX);

function declaredInConfig() {
  try {
    return parseDeclarations(config.SAGASCOPE_PROJECTIONS);
  } catch (error) {
    throw new EnvError(`invalid configuration: SAGASCOPE_PROJECTIONS: ${(error as Error).message}`);
  }
}
const declarations = declaredInConfig();

function alertsInConfig() {
  try {
    return {
      rules: config.SAGASCOPE_ALERT_RULES_FILE ? readAlertFile(config.SAGASCOPE_ALERT_RULES_FILE) : undefined,
      webhooks: parseWebhooks(config.SAGASCOPE_ALERT_WEBHOOKS),
    };
  } catch (error) {
    throw new EnvError(`invalid alerts configuration: ${(error as Error).message}`);
  }
}
const alerting = alertsInConfig();

function samplerInConfig() {
  try {
    return samplerFrom(config);
  } catch (error) {
    throw new EnvError(`invalid configuration: ${(error as Error).message}`);
  }
}
const sampler = samplerInConfig();

await runProcess(
  "ingester",
  log,
  async () => {
    await migrate(config.SAGASCOPE_MIGRATION_DATABASE_URL ?? config.DATABASE_URL, (line) => log.info(line));
    // Batches of several partitions at once, the stuck sweeper, the projection sampler, the
    // alert rules and the trace export share it: a connection per partition stored at once,
    // and seven for the rest.
    const partitionsAtOnce = config.SAGASCOPE_INGEST_PARTITIONS_AT_ONCE ?? PARTITIONS_AT_ONCE;
    const pool = createPool(config.DATABASE_URL, partitionsAtOnce + 7);
    const kafka = createKafka("sagascope-ingester", config.KAFKA_BROKERS, log);
    const metrics = createIngestMetrics(processRegistry("ingester"));
    const tracesUrl = otlpTracesUrl(config);
    const traces = tracesUrl
      ? createSagaTraceExporter({
          pool,
          exporter: createOtlpExporter(tracesUrl),
          groupId: config.SAGASCOPE_INGEST_GROUP,
          log: log.child("traces"),
          sampler,
        })
      : undefined;
    if (tracesUrl) log.info("exporting every ended saga as a trace", { url: tracesUrl });
    // Breaker rules read the pairs as the dashboard does: Sagascope's own from Redis.
    const redis = new Redis(config.REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
    redis.on("error", (error) => log.debug("Redis error", { error: error.message }));
    const prisma = createPrisma(config.DATABASE_URL);
    const alerts = createAlertEvaluator({
      databaseUrl: config.DATABASE_URL,
      sources: {
        pool,
        prisma,
        breakerStore: createBreakerStore(redis, config.SAGASCOPE_TOPIC_PREFIX, log),
        kafka: {
          brokers: config.KAFKA_BROKERS,
          prefix: config.SAGASCOPE_TOPIC_PREFIX,
          ingestGroup: config.SAGASCOPE_INGEST_GROUP,
        },
      },
      webhooks: alerting.webhooks,
      dashboardUrl: config.SAGASCOPE_PUBLIC_URL ?? `http://127.0.0.1:${config.PORT}`,
      everyMs: config.SAGASCOPE_ALERT_EVAL_MS,
      log: log.child("alerts"),
    });
    const ingester = createIngester({
      metrics,
      ...(traces ? { traces } : {}),
      kafka,
      pool,
      topics: [topicNames.sagaEvents, topicNames.control],
      deadLetterTopic: topicNames.deadLetters,
      breakerTopic: topicNames.breakerEvents,
      projectionTopic: topicNames.projectionEvents,
      breakerControlTopic: topicNames.breakerControl,
      groupId: config.SAGASCOPE_INGEST_GROUP,
      log,
      reportEveryMs: 10_000,
      partitionsAtOnce,
    });
    const sweeper = createStuckSweeper({
      pool,
      graceMs: config.SAGASCOPE_STUCK_GRACE_MS,
      deadlineGraceMs: config.SAGASCOPE_STUCK_DEADLINE_GRACE_MS,
      intervalMs: config.SAGASCOPE_STUCK_SWEEP_MS,
      log,
    });
    const retention =
      config.SAGASCOPE_RETENTION_MONTHS > 0
        ? createEventRetention({
            pool,
            keepMonths: config.SAGASCOPE_RETENTION_MONTHS,
            everyMs: config.SAGASCOPE_RETENTION_EVERY_MS,
            log: log.child("retention"),
          })
        : undefined;
    const projectionSampler = createDeclaredProjectionSampler({
      kafka,
      pool,
      topicPrefix: config.SAGASCOPE_TOPIC_PREFIX,
      everyMs: config.SAGASCOPE_PROJECTION_SAMPLE_MS,
      source: "/sagascope/ingester",
      log: log.child("projection-lag"),
    });
    const groupSampler = createConsumerGroupSampler({
      pool,
      target: {
        brokers: config.KAFKA_BROKERS,
        prefix: config.SAGASCOPE_TOPIC_PREFIX,
        ingestGroup: config.SAGASCOPE_INGEST_GROUP,
      },
      everyMs: config.SAGASCOPE_GROUP_SAMPLE_MS,
      log: log.child("group-lag"),
    });
    const answers = createAnswerDeadline({
      pool,
      answerWithinMs: config.SAGASCOPE_CHOREOGRAPHY_ANSWER_MS,
      log: log.child("answers"),
    });
    const operations = createBulkOperationSweep({
      pool,
      kafka,
      topicPrefix: config.SAGASCOPE_TOPIC_PREFIX,
      log: log.child("operations"),
    });
    return {
      readiness: [
        postgresCheck(pool),
        kafkaCheck(kafka),
        {
          name: "lag",
          check: async () => {
            const behind = metrics.totalLag();
            if (behind > config.SAGASCOPE_READY_MAX_LAG)
              throw new Error(
                `${behind} messages behind (more than SAGASCOPE_READY_MAX_LAG ${config.SAGASCOPE_READY_MAX_LAG})`,
              );
          },
        },
      ],
      start: async () => {
        await syncConfigDeclarations(pool, declarations);
        if (alerting.rules) await syncFileRules(pool, alerting.rules);
        await redis
          .connect()
          .catch((error) =>
            log.warn("Redis unreachable; breaker alerts wait for it", { error: String(error) }),
          );
        await ingester.start();
        sweeper.start();
        projectionSampler.start();
        groupSampler.start();
        answers.start();
        operations.start();
        traces?.start();
        alerts.start();
        retention?.start();
      },
      stop: async () => {
        await alerts.stop();
        await retention?.stop();
        await projectionSampler.stop();
        await groupSampler.stop();
        await answers.stop();
        await operations.stop();
        sweeper.stop();
        await ingester.stop();
        await traces?.stop();
        await prisma.$disconnect();
        redis.disconnect();
        await pool.end();
      },
    };
  },
  observeFrom(config),
);
