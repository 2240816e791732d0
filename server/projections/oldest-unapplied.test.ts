// The peek consumer that dates a projector's oldest waiting change, when its group cannot be
// joined at start. kafkajs does not restart a consumer whose join fails with an error it
// deems final (no coordinator for the group yet on a fresh broker, or, as here, a group held
// by a consumer of another protocol); the probe must neither hang its process's start nor
// stay down, and must answer once the group can be joined.
import { AssignerProtocol, type Consumer, Kafka, logLevel, type PartitionAssigner } from "kafkajs";
import { afterEach, describe, expect, it } from "vitest";
import { testInfra, uniqueName, until } from "../../scripts/test/infra.ts";
import { ensureTopics } from "../events/topics.ts";
import type { Logger, LogLevel } from "../log.ts";
import { createOldestUnappliedProbe, type OldestUnappliedProbe, recordTime } from "./oldest-unapplied.ts";

const kafka = new Kafka({
  clientId: "peek-test",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});

/** Assigns every partition to the first member, under a protocol name kafkajs never offers. */
const anotherToolsAssigner: PartitionAssigner = () => ({
  name: "another-tools-assigner",
  version: 1,
  async assign({ members, topics }) {
    return members.map(({ memberId }, i) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment: i === 0 ? Object.fromEntries(topics.map((t) => [t, [0]])) : {},
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: "another-tools-assigner",
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
});

/** A logger that keeps its lines (and prints nothing). */
function keptLogger(lines: string[], component = "peek"): Logger {
  const keep = (level: LogLevel) => (message: string) => lines.push(`${level} ${component}: ${message}`);
  return {
    debug: keep("debug"),
    info: keep("info"),
    warn: keep("warn"),
    error: keep("error"),
    child: (sub) => keptLogger(lines, `${component}/${sub}`),
  };
}

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
    const holder: Consumer = kafka.consumer({ groupId, partitionAssigners: [anotherToolsAssigner] });
    cleanups.push(() => holder.disconnect());
    const holderJoined = new Promise((r) => holder.on(holder.events.GROUP_JOIN, r));
    await holder.connect();
    await holder.subscribe({ topics: [topic] });
    await holder.run({ autoCommit: false, eachMessage: async () => {} });
    await holderJoined;

    const lines: string[] = [];
    const probe: OldestUnappliedProbe = createOldestUnappliedProbe(
      kafka,
      groupId,
      [topic],
      keptLogger(lines),
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

    await holder.disconnect();
    const answered = await until(
      "the probe to answer once the group is free",
      async () => (await probe.probe([position], 2000)).get(`${topic}/0`),
      60_000,
    );
    expect(answered.getTime()).toBe(sentAt);
    expect(lines.some((l) => l.includes("consumer running again after a crash"))).toBe(true);
  }, 90_000);
});
