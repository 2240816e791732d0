// `FLEET_BANK=bank-a npm run fleet:bank`: one demo bank as its own process, a gRPC service
// over its own schema of the fleet's database.
import { createPool } from "../../db/pool.ts";
import { env } from "../../env.ts";
import { createLogger } from "../../log.ts";
import { runProcess } from "../../process-edge.ts";
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
  const faults = {
    ...noFaults(),
    errorRate: config.FLEET_BANK_ERROR_RATE,
    latencyMs: config.FLEET_BANK_LATENCY_MS,
  };
  const server = createBankGrpcServer(store, () => faults, log);
  return {
    async start() {
      await store.init(openingAccounts(bank));
      await server.start(address);
      log.info("serving", { address, errorRate: faults.errorRate });
    },
    async stop() {
      await server.stop();
      await pool.end();
    },
  };
});
