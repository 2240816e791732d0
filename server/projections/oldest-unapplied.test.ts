// The peek consumer that dates a projector's oldest waiting change, when its group cannot be
// joined at start. kafkajs does not restart a consumer whose join fails with an error it
// deems final (no coordinator for the group yet on a fresh broker, or, as here, a group held
// by a consumer of another protocol); the probe must neither hang its process's start nor
// stay down, and must answer once the group can be joined.
import { Kafka, logLevel } from "kafkajs";
import { afterEach, describe, expect, it } from "vitest";
import { holdGroup } from "../../scripts/test/group-holder.ts";
import { testInfra, uniqueName, until } from "../../scripts/test/infra.ts";
import { keptLogger } from "../../scripts/test/kept-logger.ts";
import { ensureTopics } from "../events/topics.ts";
import { createOldestUnappliedProbe, type OldestUnappliedProbe, recordTime } from "./oldest-unapplied.ts";

const kafka = new Kafka({
  clientId: "peek-test",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

describe("the oldest-unapplied probe", () => {
  it("does not hold up its start when its group cannot be joined, and answers once it can", async () => {
    const topic = uniqueName("peek-held");
    const groupId = uniqueName("peek-held-group");
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topic], 1);
    await admin.disconnect();

    // Another tool's consumer holds the group first.
    const holder = await holdGroup(kafka, groupId, [topic]);
    cleanups.push(() => holder.release());

    const lines: string[] = [];
    const probe: OldestUnappliedProbe = createOldestUnappliedProbe(
      kafka,
      groupId,
      [topic],
      keptLogger(lines, "peek"),
      recordTime,
    );
    cleanups.push(() => probe.stop());
    await probe.start();
    await until("the probe's consumer to crash on the held group", async () =>
      lines.some((l) => l.includes("kafkajs will not restart it")),
    );

    const producer = kafka.producer();
    cleanups.push(() => producer.disconnect());
    await producer.connect();
    const sentAt = Date.now() - 60_000;
    const [sent] = await producer.send({
      topic,
      messages: [{ value: "a change", timestamp: String(sentAt) }],
    });
    const position = { topic, partition: 0, offset: Number(sent?.baseOffset) };
    // Held: nothing to answer with, and the probe says so within its timeout instead of waiting.
    expect((await probe.probe([position], 500)).size).toBe(0);

    await holder.release();
    const answered = await until(
      "the probe to answer once the group is free",
      async () => (await probe.probe([position], 2000)).get(`${topic}/0`),
      60_000,
    );
    expect(answered.getTime()).toBe(sentAt);
    expect(lines.some((l) => l.includes("consumer running again after a crash"))).toBe(true);
  }, 90_000);
});
