// `npm run fleet:transfers`: a transfer orchestrator instance. It starts transfers at
// SAGASCOPE_DEMO_RATE and runs them as durable sagas over the banks' gRPC services; any
// number of instances share the sagas (and take over a dead one's) through the
// orchestrator's own tables in the fleet database.
import { hostname } from "node:os";
import { createPool } from "../../db/pool.ts";
import { ensureTopics, topics } from "../../events/index.ts";
import { createKafka, createProducer } from "../../events/kafka-client.ts";
import { createLogger } from "../../log.ts";
import { kafkaCheck, postgresCheck } from "../../metrics/readiness.ts";
import { observeFrom, runProcess } from "../../process-edge.ts";
import { createDurableOrchestrator } from "../../sagas/durable/durable-orchestrator.ts";
import { createBankGrpcClient } from "../bank/bank-grpc-client.ts";
import { createFleetBreakers } from "../fleet-breakers.ts";
import { fleetEnv } from "../fleet-env.ts";
import { createLoadGenerator } from "../load-generator.ts";
import { guardedBank } from "./guarded-bank.ts";
import { createTransferWorld } from "./transfer-world.ts";

const config = fleetEnv();
const owner = config.FLEET_ORCHESTRATOR_ID ?? `transfers@${hostname()}:${process.pid}`;
const log = createLogger(owner, config.SAGASCOPE_LOG_LEVEL);

await runProcess(
  "transfers",
  log,
  async () => {
    const kafka = createKafka("sagascope-transfers", config.KAFKA_BROKERS, log);
    const topicNames = topics(config.SAGASCOPE_TOPIC_PREFIX);
    const producer = createProducer(kafka);
    const pool = createPool(config.FLEET_DATABASE_URL, 12);
    const bankA = createBankGrpcClient(config.FLEET_BANK_A_ADDRESS, config.FLEET_STEP_TIMEOUT_MS);
    const bankB = createBankGrpcClient(config.FLEET_BANK_B_ADDRESS, config.FLEET_STEP_TIMEOUT_MS);
    // Every call to a bank goes through the breaker of its pair, shared by the instances.
    const breakers = createFleetBreakers(config, kafka, owner, log);
    const guarded = (bank: typeof bankA, callee: string) =>
      guardedBank(bank, breakers.registry.breaker({ caller: "transfers", callee }));
    const world = createTransferWorld({
      bankA: guarded(bankA, "bank-a"),
      bankB: guarded(bankB, "bank-b"),
      stepTimeoutMs: config.FLEET_STEP_TIMEOUT_MS,
    });
    const outcomes = { completed: 0, compensated: 0, failed: 0 };
    const orchestrator = createDurableOrchestrator({
      pool,
      databaseUrl: config.FLEET_DATABASE_URL,
      schema: "transfer_orchestrator",
      definition: world.saga,
      source: "/fleet/transfers",
      owner,
      producer,
      topics: topicNames,
      kafka,
      log,
      leaseMs: config.FLEET_ORCHESTRATOR_LEASE_MS,
      onFinished: (_sagaId, outcome) => {
        outcomes[outcome.status] += 1;
      },
    });
    let started = 0;
    const load = createLoadGenerator({
      ratePerSecond: config.SAGASCOPE_DEMO_RATE,
      maxInFlight: 20,
      startOne: async () => {
        if (config.FLEET_TRANSFER_LIMIT > 0 && started >= config.FLEET_TRANSFER_LIMIT) return;
        started += 1;
        await orchestrator.startSaga(world.randomTransfer(config.SAGASCOPE_DEMO_FAILURE_RATE));
      },
      onError: (error) => log.error("could not start a transfer", { error }),
    });
    let reporter: NodeJS.Timeout | undefined;
    const total = async () => (await bankA.totalBalance()) + (await bankB.totalBalance());
    return {
      readiness: [postgresCheck(pool), kafkaCheck(kafka)],
      async start() {
        const admin = kafka.admin();
        await admin.connect();
        await ensureTopics(admin, [topicNames.sagaEvents, topicNames.control]);
        await admin.disconnect();
        await producer.connect();
        await breakers.start();
        await orchestrator.start();
        load.start();
        log.info("running inter-bank transfers", {
          rate: config.SAGASCOPE_DEMO_RATE,
          topics: topicNames,
          owner,
        });
        reporter = setInterval(async () => {
          log.info("transfers", {
            started,
            ...outcomes,
            ...orchestrator.stats(),
            total: await total().catch(() => "?"),
          });
        }, 10_000);
      },
      async stop() {
        clearInterval(reporter);
        await load.stop();
        await orchestrator.stop();
        await breakers.stop();
        await producer.disconnect();
        bankA.close();
        bankB.close();
        await pool.end();
      },
    };
  },
  observeFrom(config),
);
