// One ingester in a process of its own, for bench:ingest's "one process vs two": a JavaScript
// thread per process, as in a deployment that runs several ingesters. Driven over IPC by the
// bench: "go" starts it (so that several start together), "stop" stops it; it reports its
// counters every 50 ms. Started by fork() from scripts/bench/ingest.ts and ingest-load.ts.
import { z } from "zod";
import { createPool } from "../../server/db/pool.ts";
import { createKafka } from "../../server/events/kafka-client.ts";
import { createIngester, PARTITIONS_AT_ONCE } from "../../server/ingest/ingester.ts";
import { createLogger } from "../../server/log.ts";

const Setup = z.object({
  databaseUrl: z.string().min(1),
  brokers: z.array(z.string().min(1)).min(1),
  topic: z.string().min(1),
  groupId: z.string().min(1),
  partitionsAtOnce: z.number().int().min(1).max(32).default(PARTITIONS_AT_ONCE),
});

const setup = Setup.parse(JSON.parse(process.argv[2] ?? "{}"));
// The process's name in /proc, so that the bench's CPU split counts the ingesters apart.
process.title = "bench-ingester";
const log = createLogger("bench-ingester", "error");
const pool = createPool(setup.databaseUrl, setup.partitionsAtOnce + 2);
const ingester = createIngester({
  kafka: createKafka("bench-ingester", setup.brokers, log),
  pool,
  topics: [setup.topic],
  groupId: setup.groupId,
  log,
  partitionsAtOnce: setup.partitionsAtOnce,
});
const report = setInterval(() => process.send?.({ counters: ingester.counters() }), 50);

process.on("message", (message: unknown) => {
  if (message === "go")
    ingester.start().catch((error: unknown) => {
      console.error(`bench ingester failed: ${(error as Error).message}`);
      process.exit(1);
    });
  if (message === "stop")
    void (async () => {
      await ingester.stop();
      clearInterval(report);
      process.send?.({ counters: ingester.counters() });
      await pool.end();
      process.disconnect();
    })();
});
process.send?.("ready");
