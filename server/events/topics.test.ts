// A topic ensureTopics has just made is ready for use when it returns: every partition has a
// leader, so a producer that does not retry sends to each partition at once.
import { Kafka, logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import { testInfra, uniqueName } from "../../scripts/test/infra.ts";
import { ensureTopics } from "./topics.ts";

const kafka = new Kafka({
  clientId: "topics-test",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});

describe("ensureTopics", () => {
  it("returns once every partition of a new topic is led, and a first send to each succeeds with no retry", async () => {
    const topic = uniqueName("ensured");
    const admin = kafka.admin();
    const producer = kafka.producer({ retry: { retries: 0 } });
    await Promise.all([admin.connect(), producer.connect()]);
    try {
      await ensureTopics(admin, [topic], 6);
      const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(metadata?.partitions.map((p) => p.leader >= 0 && p.partitionErrorCode === 0)).toEqual(
        Array(6).fill(true),
      );
      const sent = await producer.send({
        topic,
        messages: Array.from({ length: 6 }, (_, partition) => ({ partition, value: `to ${partition}` })),
      });
      expect(sent.map((r) => r.errorCode)).toEqual(Array(6).fill(0));
    } finally {
      await Promise.all([admin.disconnect(), producer.disconnect()]);
    }
  });
});
