// `npm run fleet:screening`: the sanctions screening service as its own process (gRPC),
// with faults settable at run time (`npm run fleet:faults -- screening --latency-ms 3000`).
import { Redis } from "ioredis";
import { createFaultControl } from "../../fault-switches/fault-control.ts";
import { createLogger } from "../../log.ts";
import { redisCheck } from "../../metrics/readiness.ts";
import { observeFrom, runProcess } from "../../process-edge.ts";
import { fleetEnv } from "../fleet-env.ts";
import { createScreeningServer } from "./screening-grpc.ts";

const config = fleetEnv();
const log = createLogger("screening", config.SAGASCOPE_LOG_LEVEL);

await runProcess(
  "screening",
  log,
  async () => {
    const redis = new Redis(config.REDIS_URL, { lazyConnect: true });
    const subscriber = new Redis(config.REDIS_URL, { lazyConnect: true });
    const control = createFaultControl({
      redis,
      subscriber,
      namespace: config.SAGASCOPE_TOPIC_PREFIX,
      service: "screening",
      log,
      onCrash: () => process.exit(70),
    });
    const server = createScreeningServer(control.faults);
    return {
      readiness: [redisCheck(redis)],
      async start() {
        await Promise.all([redis.connect(), subscriber.connect()]);
        await control.start();
        await server.start(config.FLEET_SCREENING_ADDRESS);
        log.info("serving", { address: config.FLEET_SCREENING_ADDRESS, ...control.faults() });
      },
      async stop() {
        await server.stop();
        await control.stop();
        redis.disconnect();
        subscriber.disconnect();
      },
    };
  },
  observeFrom(config),
);
