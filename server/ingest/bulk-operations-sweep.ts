// Runs the bulk operations (server/actions/bulk-operation-runner.ts) in the ingester: a round
// as soon as the last one ended while one is waiting, otherwise one a second. Several
// ingesters share the work by lease; an operation survives any process's restart.
import { hostname } from "node:os";
import type { Kafka } from "kafkajs";
import { runOperationRound } from "../actions/bulk-operation-runner.ts";
import type { Pool } from "../db/pool.ts";
import { lazyProducer } from "../events/kafka-client.ts";
import type { Logger } from "../log.ts";
import { createPeriodic, type Periodic } from "../periodic.ts";

export function createBulkOperationSweep(deps: {
  pool: Pool;
  kafka: Kafka;
  topicPrefix: string;
  log: Logger;
}): Periodic & { stop(): Promise<void> } {
  const producer = lazyProducer(() => deps.kafka);
  const owner = `${hostname()}:${process.pid}`;
  let idle = true;
  const periodic = createPeriodic(
    // Pacing is within a round; between rounds only a short pause when work is waiting.
    50,
    async () => {
      if (idle) await new Promise((r) => setTimeout(r, 950));
      const handled = await runOperationRound({
        pool: deps.pool,
        producer: producer.connected,
        topicPrefix: deps.topicPrefix,
        log: deps.log,
        owner,
      });
      idle = handled === undefined;
    },
    (error) => deps.log.warn("bulk operation round failed", { error: String(error) }),
  );
  return {
    start: () => periodic.start(),
    async stop() {
      await periodic.stop();
      await (await producer.connectedIfAny())?.disconnect();
    },
  };
}
