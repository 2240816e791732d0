// `FLEET_BANK=bank-a npm run fleet:bank`: one demo bank as its own process, a gRPC service
// over its own schema of the fleet's database.

import { Redis } from "ioredis";
import { createPool } from "../../db/pool.ts";
import { env } from "../../env.ts";
import { createLogger } from "../../log.ts";
import { runProcess } from "../../process-edge.ts";
import { createFaultControl } from "../fault-control.ts";
import { noFaults } from "../faults.ts";
import { openingAccounts } from "../transfer/transfer-world.ts";
import { createBankGrpcServer } from "./bank-grpc-server.ts";
import { createBankStore } from "./bank-store.ts";

const config = env();
const bank = config.FLEET_BANK;
const log = createLogger(bank ?? "bank", config.SAGASCOPE_LOG_LEVEL);

await runProcess(bank ?? "bank", log, async () => {
  if (!bank) throw new Error("set FLEET_BANK to bank-a or bank-b");
  const address = bank === "bank-a" ? config.FLEET_BANK_A_ADDRESS : config.FLEET_BANK_B_ADDRESS;
  const pool = createPool(config.FLEET_DATABASE_URL, 10);
  const store = createBankStore(pool, bank.replace("-", "_"));
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
  const server = createBankGrpcServer(store, control.faults, log);
  return {
    async start() {
      await store.init(openingAccounts(bank));
      await Promise.all([redis.connect(), subscriber.connect()]);
      await control.start();
      await server.start(address);
      log.info("serving", { address, ...control.faults() });
    },
    async stop() {
      await server.stop();
      await control.stop();
      redis.disconnect();
      subscriber.disconnect();
      await pool.end();
    },
  };
});
