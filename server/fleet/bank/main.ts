// `FLEET_BANK=bank-a npm run fleet:bank`: one demo bank as its own process, a gRPC service
// over its own schema of the fleet's database.

import { Redis } from "ioredis";
import { callWithPolicy } from "../../breakers/index.ts";
import { createPool } from "../../db/pool.ts";
import { connectWhenKafkaIs, createKafka, createProducer } from "../../events/kafka-client.ts";
import { createFaultControl } from "../../fault-switches/fault-control.ts";
import { noFaults } from "../../fault-switches/faults.ts";
import { createLogger } from "../../log.ts";
import { postgresCheck, redisCheck } from "../../metrics/readiness.ts";
import { observeFrom, runProcess } from "../../process-edge.ts";
import { changeTopic } from "../../projections/change-events.ts";
import { StepFailure } from "../../sagas/index.ts";
import { createOutboxRelay } from "../../sagas/outbox/outbox-relay.ts";
import { createFleetBreakers } from "../fleet-breakers.ts";
import { fleetEnv } from "../fleet-env.ts";
import { createScreeningClient } from "../screening/screening-grpc.ts";
import { openingAccounts } from "../transfer/transfer-world.ts";
import { type CreditCheck, createBankGrpcServer } from "./bank-grpc-server.ts";
import { createBankStore } from "./bank-store.ts";

const config = fleetEnv();
const bank = config.FLEET_BANK;
const log = createLogger(bank ?? "bank", config.SAGASCOPE_LOG_LEVEL);

await runProcess(
  bank ?? "bank",
  log,
  async () => {
    if (!bank) throw new Error("set FLEET_BANK to bank-a or bank-b");
    const address = bank === "bank-a" ? config.FLEET_BANK_A_ADDRESS : config.FLEET_BANK_B_ADDRESS;
    const pool = createPool(config.FLEET_DATABASE_URL, 10);
    // Every change of an account is published on the bank's own change topic, through its outbox.
    const kafka = createKafka(`sagascope-${bank}`, config.KAFKA_BROKERS, log);
    const producer = createProducer(kafka);
    const changes = changeTopic(config.SAGASCOPE_TOPIC_PREFIX, bank);
    const store = createBankStore(pool, bank.replace("-", "_"), { topic: changes, source: `/fleet/${bank}` });
    const relay = createOutboxRelay({
      databaseUrl: config.FLEET_DATABASE_URL,
      outbox: store.outbox,
      producer,
      name: `${bank}-changes`,
      log,
    });
    let stopping = false;
    let connecting: Promise<boolean> | undefined;
    const redis = new Redis(config.REDIS_URL, { lazyConnect: true });
    const subscriber = new Redis(config.REDIS_URL, { lazyConnect: true });
    const control = createFaultControl({
      redis,
      subscriber,
      namespace: config.SAGASCOPE_TOPIC_PREFIX,
      service: bank,
      log,
      defaults: {
        ...noFaults(),
        errorRate: config.FLEET_BANK_ERROR_RATE,
        latencyMs: config.FLEET_BANK_LATENCY_MS,
      },
      // An injected crash is a crash: no draining, no goodbye.
      onCrash: () => process.exit(70),
    });
    // Bank B screens every credit, through its breaker to the screening service: when the
    // breaker is open, or screening takes longer than its budget, the screening is dropped
    // (the credit is booked unscreened, for a later review).
    const screening =
      bank === "bank-b" && config.FLEET_BANK_B_SCREENING
        ? (() => {
            const breakers = createFleetBreakers(config, kafka, bank, log);
            const client = createScreeningClient(
              config.FLEET_SCREENING_ADDRESS,
              config.FLEET_SCREENING_DEADLINE_MS,
            );
            const breaker = breakers.registry.breaker({ caller: bank, callee: "screening" });
            let unscreened = 0;
            const check: CreditCheck = async (credit, traceparent) => {
              const verdict = await callWithPolicy(
                breaker,
                () => client.screen({ ...credit, ...(traceparent ? { traceparent } : {}) }),
                "drop",
                () => "unscreened" as const,
                { timeoutMs: config.FLEET_SCREENING_BUDGET_MS },
              );
              if (verdict === "flagged")
                throw StepFailure.business(
                  `credit to ${credit.account} flagged by sanctions screening`,
                  "SANCTIONED",
                );
              if (verdict === "unscreened" && ++unscreened % 100 === 1)
                log.warn("screening dropped: breaker open; credits booked unscreened", { unscreened });
            };
            return { breakers, client, check };
          })()
        : undefined;
    const server = createBankGrpcServer(store, control.faults, log, screening?.check);
    return {
      readiness: [postgresCheck(pool), redisCheck(redis)],
      async start() {
        await store.init(openingAccounts(bank));
        await Promise.all([redis.connect(), subscriber.connect()]);
        await control.start();
        await screening?.breakers.start();
        connecting = connectWhenKafkaIs(kafka, producer, [changes], log, () => stopping).then((ok) => {
          if (ok) relay.start();
          return ok;
        });
        await server.start(address);
        log.info("serving", { address, ...control.faults() });
      },
      async stop() {
        await server.stop();
        stopping = true;
        if (await connecting) await relay.stop();
        await producer.disconnect().catch(() => {});
        await screening?.breakers.stop();
        screening?.client.close();
        await control.stop();
        redis.disconnect();
        subscriber.disconnect();
        await pool.end();
      },
    };
  },
  observeFrom(config),
);
