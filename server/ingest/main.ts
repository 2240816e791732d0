// `npm run ingest`: the ingester as its own process.

import { migrate } from "../db/migrate.ts";
import { createPool } from "../db/pool.ts";
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
} from "../telemetry/saga-trace-exporter.ts";
import { createDeclaredProjectionSampler } from "./declared-projection-sampler.ts";
import { createIngestMetrics } from "./ingest-metrics.ts";
import { createIngester } from "./ingester.ts";
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

await runProcess(
  "ingester",
  log,
  async () => {
    await migrate(config.DATABASE_URL, (line) => log.info(line));
    const pool = createPool(config.DATABASE_URL);
    const kafka = createKafka("sagascope-ingester", config.KAFKA_BROKERS, log);
    const metrics = createIngestMetrics(processRegistry("ingester"));
    const tracesUrl = otlpTracesUrl(config);
    const traces = tracesUrl
      ? createSagaTraceExporter({
          pool,
          exporter: createOtlpExporter(tracesUrl),
          groupId: config.SAGASCOPE_INGEST_GROUP,
          log: log.child("traces"),
        })
      : undefined;
    if (tracesUrl) log.info("exporting every ended saga as a trace", { url: tracesUrl });
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
    });
    const sweeper = createStuckSweeper({
      pool,
      graceMs: config.SAGASCOPE_STUCK_GRACE_MS,
      intervalMs: config.SAGASCOPE_STUCK_SWEEP_MS,
      log,
    });
    const projectionSampler = createDeclaredProjectionSampler({
      kafka,
      pool,
      topicPrefix: config.SAGASCOPE_TOPIC_PREFIX,
      everyMs: config.SAGASCOPE_PROJECTION_SAMPLE_MS,
      source: "/sagascope/ingester",
      log: log.child("projection-lag"),
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
        await ingester.start();
        sweeper.start();
        projectionSampler.start();
        traces?.start();
      },
      stop: async () => {
        await projectionSampler.stop();
        sweeper.stop();
        await ingester.stop();
        await traces?.stop();
        await pool.end();
      },
    };
  },
  observeFrom(config),
);
