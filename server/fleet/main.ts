// `npm run fleet`: the demo fleet. Today one process hosts the transfer orchestrator and
// both banks (in-process calls through the participant interface); each bank keeps its
// own schema in the fleet's own database. Transfers run continuously at SAGASCOPE_DEMO_RATE.
import { createPool } from "../db/pool.ts";
import { env } from "../env.ts";
import { ensureTopics, topics } from "../events/index.ts";
import { createKafka, createProducer } from "../events/kafka-client.ts";
import { createLogger } from "../log.ts";
import { runProcess } from "../process-edge.ts";
import { createKafkaEventSink } from "../sagas/index.ts";
import { createLoadGenerator } from "./load-generator.ts";
import { createTransferWorld } from "./transfer/transfer-world.ts";

const config = env();
const log = createLogger("fleet", config.SAGASCOPE_LOG_LEVEL);

await runProcess("fleet", log, async () => {
  const pool = createPool(config.FLEET_DATABASE_URL, 10);
  const kafka = createKafka("sagascope-fleet", config.KAFKA_BROKERS, log);
  const topic = topics(config.SAGASCOPE_TOPIC_PREFIX).sagaEvents;
  const producer = createProducer(kafka);
  const world = createTransferWorld(pool, { emit: createKafkaEventSink(producer, topic) });
  // A light transient fault on bank B, so that retries show up in the demo.
  world.faults["bank-b"].errorRate = 0.05;
  const outcomes = { completed: 0, compensated: 0, failed: 0, errors: 0 };
  const load = createLoadGenerator({
    ratePerSecond: config.SAGASCOPE_DEMO_RATE,
    maxInFlight: 50,
    startOne: async () => {
      const { outcome } = await world.runRandomTransfer(config.SAGASCOPE_DEMO_FAILURE_RATE);
      outcomes[outcome.status] += 1;
    },
    onError: (error) => {
      outcomes.errors += 1;
      log.error("transfer saga stopped without an outcome", { error });
    },
  });
  let reporter: NodeJS.Timeout | undefined;
  return {
    async start() {
      await world.init();
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, [topic]);
      await admin.disconnect();
      await producer.connect();
      load.start();
      log.info("running inter-bank transfers", { rate: config.SAGASCOPE_DEMO_RATE, topic });
      reporter = setInterval(async () => {
        log.info("transfers", {
          ...outcomes,
          ...load.stats(),
          total: await world.totalBalance().catch(() => "?"),
        });
      }, 10_000);
    },
    async stop() {
      clearInterval(reporter);
      await load.stop();
      await producer.disconnect();
      await pool.end();
    },
  };
});
