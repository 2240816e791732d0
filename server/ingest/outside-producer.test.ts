// The contract as an outsider uses it: the console-producer example of docs/events.md,
// run with Kafka's own tool (not our code), must be stored by the ingester.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it, vi } from "vitest";
import { testInfra, uniqueName } from "../../scripts/test/infra.ts";
import { createPool } from "../db/pool.ts";
import { ensureTopics } from "../events/index.ts";
import { createLogger } from "../log.ts";
import { createIngester } from "./ingester.ts";

const pool = createPool(testInfra().databaseUrl);
afterAll(() => pool.end());

/** The shell example between the markers in docs/events.md. */
function documentedExample(): string {
  const doc = readFileSync("docs/events.md", "utf8");
  const block = /<!-- example:console-producer -->\s*```sh\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error("docs/events.md lost its console-producer example");
  return block;
}

describe("docs/events.md", () => {
  it("its console-producer example, run with Kafka's own tool, is ingested", async () => {
    const { kafkaBrokers } = testInfra();
    const topic = `${uniqueName("docs")}.sagascope.saga-events`;
    const kafka = new Kafka({ clientId: "docs-test", brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topic], 3);
    await admin.disconnect();

    const script = documentedExample()
      .replace("--bootstrap-server 127.0.0.1:9092", `--bootstrap-server ${kafkaBrokers.join(",")}`)
      .replace("--topic sagascope.saga-events", `--topic ${topic}`)
      .replace("npm run kafka:tool --", "node_modules/.bin/tsx scripts/infra/kafka-tool.ts");
    const run = spawnSync("sh", ["-c", script], { encoding: "utf8", timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);

    const ingester = createIngester({
      kafka,
      pool,
      topics: [topic],
      groupId: uniqueName("group"),
      log: createLogger("docs-test", "error"),
    });
    await ingester.start();
    try {
      // Stored now, or already by an earlier run on the same database (the example's id is fixed).
      const { counters } = ingester;
      await vi.waitFor(
        () => expect(counters().inserted + counters().duplicates + counters().deadLettered).toBe(1),
        {
          timeout: 30_000,
        },
      );
      expect(counters().deadLettered).toBe(0);
      const row = await pool.query(
        "SELECT saga_id, type, trace_id, source FROM saga_event WHERE id = 'doc-1'",
      );
      expect(row.rows).toEqual([
        {
          saga_id: "order-42",
          type: "io.sagascope.saga.started",
          trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
          source: "/docs/example",
        },
      ]);
    } finally {
      await ingester.stop();
    }
  });
});
