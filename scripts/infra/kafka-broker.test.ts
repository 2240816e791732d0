// Proves the local broker works with the project's Kafka client: a real produce and
// consume round trip with headers, on a topic of its own, and a listener on loopback only.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Kafka, logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import { ensureTopics } from "../../server/events/topics.ts";
import { testInfra, uniqueName } from "../test/infra.ts";
import { newClusterId } from "./kafka-broker.ts";

const require = createRequire(import.meta.url);

/** Local addresses listening on `port`, read from the kernel's socket tables. */
function listenersOn(port: number): string[] {
  const found: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== "0A") continue; // 0A = LISTEN
      const [addr, hexPort] = local.split(":");
      if (Number.parseInt(hexPort ?? "", 16) === port && addr) found.push(addr);
    }
  }
  return found;
}

describe("local Kafka broker", () => {
  it("is reached by kafkajs 2.2.4 for a produce/consume round trip", async () => {
    expect(require("kafkajs/package.json").version).toBe("2.2.4");
    const { kafkaBrokers } = testInfra();
    const kafka = new Kafka({ clientId: "broker-test", brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
    const topic = uniqueName("broker-test");
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topic], 2);
    await admin.disconnect();

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: "a", value: "one", headers: { ce_id: "1" } },
        { key: "b", value: "two", headers: { ce_id: "2" } },
      ],
    });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName("broker-test-group") });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only received ${received.join(",")}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          received.push(`${message.key}=${message.value}:${message.headers?.ce_id}`);
          if (received.length === 2) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    expect(received.sort()).toEqual(["a=one:1", "b=two:2"]);
  });

  it("listens on the loopback address only", () => {
    const port = Number(testInfra().kafkaBrokers[0]?.split(":")[1]);
    const addresses = listenersOn(port);
    expect(addresses.length).toBeGreaterThan(0);
    // 0100007F is 127.0.0.1 in /proc/net/tcp; ...FFFF00000100007F is its IPv6-mapped form.
    for (const a of addresses) expect(a).toMatch(/0100007F$/);
  });

  it("formats with a cluster id kafka-storage's parser takes: never one that reads as an option", () => {
    const ids = Array.from({ length: 2000 }, newClusterId);
    // 2000 draws: about 31 would start with "-" if nothing prevented it.
    expect(ids.filter((id) => id.startsWith("-"))).toEqual([]);
    expect(ids.every((id) => /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id))).toBe(true);
  });
});
