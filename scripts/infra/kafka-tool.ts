// `npm run kafka:tool -- <tool> [args]`: Kafka's own command-line tools from the fetched
// jars, e.g. `npm run kafka:tool -- topics --bootstrap-server 127.0.0.1:9092 --list`.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { env } from "../../server/env.ts";
import { sagascopeHome } from "./infra.ts";
import { ensureKafkaJars, LOG4J_CONFIG } from "./kafka-broker.ts";

const TOOLS: Record<string, string> = {
  topics: "org.apache.kafka.tools.TopicCommand",
  "console-producer": "kafka.tools.ConsoleProducer",
  "console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
  "consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
  "get-offsets": "org.apache.kafka.tools.GetOffsetShell",
};

const [tool, ...args] = process.argv.slice(2);
const mainClass = tool ? TOOLS[tool] : undefined;
if (!mainClass) {
  console.error(`usage: npm run kafka:tool -- <${Object.keys(TOOLS).join("|")}> [arguments of that tool]`);
  process.exit(2);
}
const libs = await ensureKafkaJars(sagascopeHome(env()));
const logs = mkdtempSync(path.join(tmpdir(), "sagascope-kafka-tool-"));
const result = spawnSync(
  "java",
  [
    `-Dlog4j.configuration=file:${LOG4J_CONFIG}`,
    `-Dkafka.logs.dir=${logs}`,
    "-cp",
    `${libs}/*`,
    mainClass,
    ...args,
  ],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
