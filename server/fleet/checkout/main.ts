// `FLEET_CHECKOUT_SERVICE=payment npm run fleet:checkout`: one checkout service as its own
// process, a choreography participant over its own schema of the fleet's database. The
// order service also places orders at FLEET_CHECKOUT_RATE (default: the demo rate).
import { Redis } from "ioredis";
import { createPool } from "../../db/pool.ts";
import { ensureTopics, topics } from "../../events/index.ts";
import { createKafka, createProducer } from "../../events/kafka-client.ts";
import { createFaultControl } from "../../fault-switches/fault-control.ts";
import { noFaults } from "../../fault-switches/faults.ts";
import { createLogger } from "../../log.ts";
import { kafkaCheck, postgresCheck, redisCheck } from "../../metrics/readiness.ts";
import { observeFrom, runProcess } from "../../process-edge.ts";
import { changeTopic } from "../../projections/change-events.ts";
import { fleetEnv } from "../fleet-env.ts";
import { createLoadGenerator } from "../load-generator.ts";
import { createCheckoutParticipant } from "./checkout-participant.ts";
import { checkoutTopic, randomOrder } from "./checkout-saga.ts";
import { createGuard } from "./guard.ts";
import { placeOrder } from "./order-service.ts";

const config = fleetEnv();
const service = config.FLEET_CHECKOUT_SERVICE;
const log = createLogger(service ?? "checkout", config.SAGASCOPE_LOG_LEVEL);

await runProcess(
  service ?? "checkout",
  log,
  async () => {
    if (!service) throw new Error("set FLEET_CHECKOUT_SERVICE to order, payment, inventory or shipping");
    const prefix = config.SAGASCOPE_TOPIC_PREFIX;
    const kafka = createKafka(`sagascope-checkout-${service}`, config.KAFKA_BROKERS, log);
    const producer = createProducer(kafka);
    const pool = createPool(config.FLEET_DATABASE_URL, 8);
    const redis = new Redis(config.REDIS_URL, { lazyConnect: true });
    const subscriber = new Redis(config.REDIS_URL, { lazyConnect: true });
    const faults = createFaultControl({
      redis,
      subscriber,
      namespace: prefix,
      service,
      log,
      defaults: { ...noFaults(), errorRate: config.FLEET_CHECKOUT_ERROR_RATE },
      // An injected crash is a crash: no draining, no goodbye.
      onCrash: () => process.exit(70),
    });
    const { participant, init, changes } = createCheckoutParticipant(service, {
      pool,
      databaseUrl: config.FLEET_DATABASE_URL,
      kafka,
      producer,
      topicPrefix: prefix,
      guard: createGuard(service, faults.faults),
      log,
    });
    const rate = config.FLEET_CHECKOUT_RATE ?? config.SAGASCOPE_DEMO_RATE;
    let placed = 0;
    const load =
      service === "order" && rate > 0
        ? createLoadGenerator({
            ratePerSecond: rate,
            maxInFlight: 16,
            startOne: async () => {
              if (config.FLEET_CHECKOUT_LIMIT && placed >= config.FLEET_CHECKOUT_LIMIT) return;
              placed += 1;
              await placeOrder(participant, randomOrder(config.SAGASCOPE_DEMO_FAILURE_RATE), changes);
            },
            onError: (error) => log.error("could not place an order", { error }),
          })
        : undefined;
    let reporter: NodeJS.Timeout | undefined;
    return {
      readiness: [postgresCheck(pool), redisCheck(redis), kafkaCheck(kafka)],
      async start() {
        const admin = kafka.admin();
        await admin.connect();
        const contract = topics(prefix);
        await ensureTopics(admin, [
          checkoutTopic(prefix),
          changeTopic(prefix, service),
          contract.sagaEvents,
          contract.control,
          contract.deadLetters,
        ]);
        await admin.disconnect();
        await Promise.all([redis.connect(), subscriber.connect(), producer.connect()]);
        await faults.start();
        await init();
        await participant.start();
        load?.start();
        log.info("reacting", { topic: checkoutTopic(prefix), ...(load ? { rate } : {}), ...faults.faults() });
        reporter = setInterval(() => log.info("checkout", { placed, ...participant.stats() }), 10_000);
      },
      async stop() {
        clearInterval(reporter);
        await load?.stop();
        await participant.stop();
        await faults.stop();
        await producer.disconnect();
        redis.disconnect();
        subscriber.disconnect();
        await pool.end();
      },
    };
  },
  observeFrom(config),
);
