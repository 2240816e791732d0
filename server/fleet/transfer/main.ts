// `npm run fleet:transfers`: the transfer orchestrator. Starts transfers at
// SAGASCOPE_DEMO_RATE and runs each as a saga over the banks' gRPC services.
import { env } from "../../env.ts";
import { ensureTopics, topics } from "../../events/index.ts";
import { createKafka, createProducer } from "../../events/kafka-client.ts";
import { createLogger } from "../../log.ts";
import { runProcess } from "../../process-edge.ts";
import { createKafkaEventSink } from "../../sagas/index.ts";
import { createBankGrpcClient } from "../bank/bank-grpc-client.ts";
import { createLoadGenerator } from "../load-generator.ts";
import { createTransferWorld } from "./transfer-world.ts";

const config = env();
const log = createLogger("transfers", config.SAGASCOPE_LOG_LEVEL);

await runProcess("transfers", log, async () => {
  const kafka = createKafka("sagascope-transfers", config.KAFKA_BROKERS, log);
  const topic = topics(config.SAGASCOPE_TOPIC_PREFIX).sagaEvents;
  const producer = createProducer(kafka);
  const bankA = createBankGrpcClient(config.FLEET_BANK_A_ADDRESS, config.FLEET_STEP_TIMEOUT_MS);
  const bankB = createBankGrpcClient(config.FLEET_BANK_B_ADDRESS, config.FLEET_STEP_TIMEOUT_MS);
  const world = createTransferWorld({
    bankA,
    bankB,
    emit: createKafkaEventSink(producer, topic),
    stepTimeoutMs: config.FLEET_STEP_TIMEOUT_MS,
  });
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
  const total = async () => (await bankA.totalBalance()) + (await bankB.totalBalance());
  return {
    async start() {
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, [topic]);
      await admin.disconnect();
      await producer.connect();
      load.start();
      log.info("running inter-bank transfers", { rate: config.SAGASCOPE_DEMO_RATE, topic });
      reporter = setInterval(async () => {
        log.info("transfers", { ...outcomes, ...load.stats(), total: await total().catch(() => "?") });
      }, 10_000);
    },
    async stop() {
      clearInterval(reporter);
      await load.stop();
      await producer.disconnect();
      bankA.close();
      bankB.close();
    },
  };
});
