// The Kafka page's read against the real test broker: topics of a prefix of their own with
// messages on known partitions, a consumer group that consumed part of them, and groups named
// as the ingester, a projector and a durable orchestrator name theirs; then a broker that is
// not there, and one that never answers.
import { createServer, type Server, type Socket } from "node:net";
import { type Admin, type Consumer, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, testInfra, uniqueName, until } from "../../../scripts/test/infra.ts";
import { ensureTopics } from "../../events/topics.ts";
import { type KafkaTarget, KafkaUnavailableError, readKafka } from "./read-kafka.ts";

const prefix = `${uniqueName("kafkapage")}.`;
const otherPrefix = `${uniqueName("otherdeploy")}.`;
const alpha = `${prefix}sagascope.alpha`;
const beta = `${prefix}sagascope.beta`;
const gamma = `${otherPrefix}sagascope.gamma`;
const readerGroup = `${prefix}sagascope.reader`;
const ingestGroup = `${prefix}ingester`;
const projectorGroup = `${prefix}sagascope.projector.g2`;
const orchestratorGroup = `${uniqueName("orch")}.control`;
const otherGroup = `${otherPrefix}sagascope.reader`;
const readerClientId = uniqueName("reader-client");
/** Messages produced per partition: alpha has three partitions (the last stays empty), beta one. */
const produced = { [alpha]: [5, 3, 0], [beta]: [4], [gamma]: [2] } as Record<string, number[]>;
/** What the reader group consumes and commits on alpha: offsets 0..2 of p0, all of p1, nothing of p2. */
const readUpTo = new Map([
  [0, 3],
  [1, 3],
]);

let kafka: Kafka;
let admin: Admin;
let reader: Consumer;
let target: KafkaTarget;

async function committed(groupId: string, topic: string) {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map(offsets?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
}

beforeAll(async () => {
  const { kafkaBrokers } = testInfra();
  target = { brokers: kafkaBrokers, prefix, ingestGroup };
  kafka = new Kafka({ clientId: "kafka-page-test", brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  // Created as the deployment creates its own: a loaded broker answers a new topic's metadata
  // with "does not host this topic-partition" for a while, which createTopics alone does not wait out.
  await ensureTopics(admin, [alpha], 3);
  await ensureTopics(admin, [beta, gamma], 1);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  for (const [topic, counts] of Object.entries(produced))
    for (const [partition, count] of counts.entries())
      if (count > 0)
        await producer.send({
          topic,
          messages: Array.from({ length: count }, (_, i) => ({ partition, value: `m${i}` })),
        });
  await producer.disconnect();

  // Groups as the deployment's processes name theirs, with offsets set by hand (no member).
  await admin.setOffsets({ groupId: ingestGroup, topic: alpha, partitions: [{ partition: 0, offset: "5" }] });
  await admin.setOffsets({
    groupId: projectorGroup,
    topic: beta,
    partitions: [{ partition: 0, offset: "4" }],
  });
  await admin.setOffsets({
    groupId: orchestratorGroup,
    topic: beta,
    partitions: [{ partition: 0, offset: "1" }],
  });
  await admin.setOffsets({ groupId: otherGroup, topic: gamma, partitions: [{ partition: 0, offset: "0" }] });

  // A real member that reads part of alpha and commits what it read, and stays connected.
  reader = new Kafka({
    clientId: readerClientId,
    brokers: kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).consumer({
    groupId: readerGroup,
    allowAutoTopicCreation: false,
  });
  await reader.connect();
  await reader.subscribe({ topics: [alpha], fromBeginning: true });
  await reader.run({
    autoCommit: false,
    eachMessage: async ({ topic, partition, message }) => {
      const next = Number(message.offset) + 1;
      if (next <= (readUpTo.get(partition) ?? 0))
        await reader.commitOffsets([{ topic, partition, offset: String(next) }]);
    },
  });
  await until("the reader's commits", async () => {
    const c = await committed(readerGroup, alpha);
    return c.get(0) === 3 && c.get(1) === 3;
  });
});

afterAll(async () => {
  await reader?.disconnect();
  await admin
    ?.deleteGroups([readerGroup, ingestGroup, projectorGroup, orchestratorGroup, otherGroup])
    .catch(() => undefined);
  await admin?.deleteTopics({ topics: [alpha, beta, gamma] }).catch(() => undefined);
  await admin?.disconnect();
});

describe("readKafka", () => {
  it("shows the deployment's topics with their partitions, offsets and message counts", async () => {
    const view = await readKafka(target);
    expect(view.cluster.length).toBeGreaterThanOrEqual(1);
    expect(view.cluster.filter((b) => b.isController)).toHaveLength(1);
    expect(view.clusterId).not.toBe("");
    expect(view.topics.map((t) => t.name)).toEqual([alpha, beta]);
    expect(view.hiddenTopics).toBeGreaterThanOrEqual(1);
    const a = view.topics[0];
    expect(a?.messages).toBe(8);
    expect(a?.offsetsError).toBeNull();
    expect(a?.partitions.map((p) => [p.partition, p.earliestOffset, p.latestOffset, p.messages])).toEqual([
      [0, 0, 5, 5],
      [1, 0, 3, 3],
      [2, 0, 0, 0],
    ]);
    const leader = view.cluster[0]?.nodeId;
    for (const p of a?.partitions ?? []) {
      expect(p.leader).toBe(leader);
      expect(p.replicas).toEqual([leader]);
      expect(p.isr).toEqual([leader]);
    }
    expect(view.topics[1]).toMatchObject({ name: beta, messages: 4 });
  });

  it("shows a live group's state, members, assignment and exact lag per partition", async () => {
    const view = await readKafka(target);
    const group = view.groups.find((g) => g.groupId === readerGroup);
    expect(group).toMatchObject({ state: "Stable", protocolType: "consumer", totalLag: 2 });
    expect(group?.protocol).not.toBe("");
    expect(group?.members).toHaveLength(1);
    expect(group?.members[0]).toMatchObject({
      clientId: readerClientId,
      assignment: [{ topic: alpha, partitions: [0, 1, 2] }],
    });
    expect(group?.partitions).toEqual([
      { topic: alpha, partition: 0, committedOffset: 3, logEndOffset: 5, lag: 2, assignedTo: readerClientId },
      { topic: alpha, partition: 1, committedOffset: 3, logEndOffset: 3, lag: 0, assignedTo: readerClientId },
      {
        topic: alpha,
        partition: 2,
        committedOffset: null,
        logEndOffset: 0,
        lag: null,
        assignedTo: readerClientId,
      },
    ]);
  });

  it("says whose each group is, keeps the deployment's, and sorts them by lag", async () => {
    const view = await readKafka(target);
    const ours = view.groups.filter((g) =>
      [readerGroup, ingestGroup, projectorGroup, orchestratorGroup, otherGroup].includes(g.groupId),
    );
    expect(ours.map((g) => [g.groupId, g.owner.kind, g.totalLag])).toEqual([
      [orchestratorGroup, "orchestrator", 3],
      [readerGroup, "other", 2],
      [ingestGroup, "ingester", 0],
      [projectorGroup, "projector", 0],
    ]);
    expect(ours.find((g) => g.groupId === projectorGroup)?.owner.label).toBe("projector, generation 2");
    expect(ours.find((g) => g.groupId === ingestGroup)).toMatchObject({ state: "Empty", members: [] });
    const lags = view.groups.map((g) => g.totalLag);
    expect(lags).toEqual([...lags].sort((x, y) => y - x));
    expect(view.hiddenGroups).toBeGreaterThanOrEqual(1);
  });

  it("shows every topic and group on the cluster when asked", async () => {
    const view = await readKafka(target, { showAll: true });
    expect(view.showAll).toBe(true);
    expect(view.topics.map((t) => t.name)).toEqual(expect.arrayContaining([alpha, beta, gamma]));
    const other = view.groups.find((g) => g.groupId === otherGroup);
    expect(other?.partitions).toEqual([
      { topic: gamma, partition: 0, committedOffset: 0, logEndOffset: 2, lag: 2, assignedTo: null },
    ]);
  });

  it("keeps a group's commits after its last member left, and its state says so", async () => {
    await reader.disconnect();
    const group = await until("the reader group to be empty", async () => {
      const g = (await readKafka(target)).groups.find((x) => x.groupId === readerGroup);
      return g?.state === "Empty" ? g : undefined;
    });
    expect(group.members).toEqual([]);
    expect(group.totalLag).toBe(2);
    expect(group.partitions.map((p) => [p.partition, p.committedOffset, p.lag, p.assignedTo])).toEqual([
      [0, 3, 2, null],
      [1, 3, 0, null],
    ]);
  });
});

describe("readKafka without Kafka", () => {
  it("says plainly, within seconds, that nothing listens at the brokers", async () => {
    const broker = `127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const failure = await readKafka({ brokers: [broker], prefix, ingestGroup }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(failure).toBeInstanceOf(KafkaUnavailableError);
    expect((failure as KafkaUnavailableError).code).toBe("UNAVAILABLE");
    expect((failure as Error).message).toMatch(
      new RegExp(`^Kafka is unreachable at ${broker.replaceAll(".", "\\.")}: .*ECONNREFUSED`),
    );
  });

  it("gives up at its deadline when a broker accepts connections but never answers", async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    const port = await new Promise<number>((resolve) =>
      silent.listen(0, "127.0.0.1", () => resolve((silent.address() as { port: number }).port)),
    );
    try {
      const started = Date.now();
      const failure = await readKafka(
        { brokers: [`127.0.0.1:${port}`], prefix, ingestGroup },
        { deadlineMs: 1500 },
      ).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(2500);
      expect(failure).toBeInstanceOf(KafkaUnavailableError);
      expect((failure as Error).message).toBe(
        `Kafka is unreachable at 127.0.0.1:${port}: no answer within 1500 ms`,
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
