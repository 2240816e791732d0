// The consumer group sampler against the real test broker and a database of its own: a group
// of the test's own with a known backlog is sampled, a second ingester finds the round taken,
// another deployment on the same database samples its own; the group's commits move and the
// estimate says the backlog is clearing; old samples are deleted; the chart's history is
// bucketed by range.
import { type Admin, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migratedStore, testInfra, uniqueName } from "../../scripts/test/infra.ts";
import { samplingScope } from "../dashboard/kafka/deployment-names.ts";
import { readGroupLagHistory, readGroupsTimeToClear } from "../dashboard/kafka/group-lag-history.ts";
import type { KafkaTarget } from "../dashboard/kafka/read-kafka.ts";
import { ensureTopics } from "../events/index.ts";
import { createLogger } from "../log.ts";
import { createConsumerGroupSampler, GROUP_LAG_KEEP_HOURS } from "./consumer-group-sampler.ts";

const store = migratedStore("group_lag");
const prefix = `${uniqueName("grouplag")}.`;
const topic = `${prefix}sagascope.work`;
const worker = `${prefix}sagascope.worker`;
const PER_PARTITION = 60;
const log = createLogger("group-lag-test", "error");

/**
 * The rounds here are a second long so the test runs quickly; Kafka's answer gets longer than a
 * round, as a broker on a busy machine may take more than a second (seen under load).
 */
const READ_DEADLINE_MS = 15_000;

let admin: Admin;
let target: KafkaTarget;

const commitAt = (offset: number) =>
  admin.setOffsets({
    groupId: worker,
    topic,
    partitions: [
      { partition: 0, offset: String(offset) },
      { partition: 1, offset: String(offset) },
    ],
  });

beforeAll(async () => {
  const { kafkaBrokers } = testInfra();
  target = { brokers: kafkaBrokers, prefix, ingestGroup: `${prefix}ingester` };
  const kafka = new Kafka({ clientId: "group-lag-test", brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  // Waits until the broker serves the new topic (a loaded one answers "does not host this topic-partition" at first).
  await ensureTopics(admin, [topic], 2);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  for (const partition of [0, 1])
    await producer.send({
      topic,
      messages: Array.from({ length: PER_PARTITION }, (_, i) => ({ partition, value: `m${i}` })),
    });
  await producer.disconnect();
  await commitAt(0);
});

afterAll(async () => {
  await admin?.deleteGroups([worker]).catch(() => undefined);
  await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin?.disconnect();
});

describe("consumer group sampler", () => {
  it("samples each group's totals once a round, however many ingesters run it", async () => {
    const sampler = (t: KafkaTarget, everyMs = 1000) =>
      createConsumerGroupSampler({
        pool: store.pool(),
        target: t,
        everyMs,
        readDeadlineMs: READ_DEADLINE_MS,
        log,
      });
    const first = await sampler(target).sampleDue();
    expect(first?.find((s) => s.groupId === worker)).toEqual({
      groupId: worker,
      committed: 0,
      logEnd: 2 * PER_PARTITION,
      lag: 2 * PER_PARTITION,
      partitions: 2,
    });
    // A second ingester of the same deployment finds the round taken. (Its round is a minute
    // long, so that however long the first one's sampling took on a busy machine, it asks
    // within the round.)
    expect(await sampler(target, 60_000).sampleDue()).toBeNull();
    // Another deployment sharing the database samples its own.
    expect(await sampler({ ...target, ingestGroup: `${prefix}other-ingester` }).sampleDue()).not.toBeNull();

    // The worker catches up by half while nothing arrives: the backlog is clearing.
    await commitAt(PER_PARTITION / 2);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const second = await sampler(target).sampleDue();
    expect(second?.find((s) => s.groupId === worker)?.lag).toBe(PER_PARTITION);
    const { groups, windowSeconds } = await readGroupsTimeToClear(store.pool(), samplingScope(target));
    expect(windowSeconds).toBe(60);
    const estimate = groups[worker];
    expect(estimate?.kind).toBe("clearing");
    if (estimate?.kind !== "clearing") return;
    expect(estimate.producePerSecond).toBe(0);
    // Half the backlog consumed between the two samples: the other half in as long again.
    const { rows } = await store
      .pool()
      .query<{ time: Date }>(
        "SELECT time FROM consumer_group_lag_sample WHERE scope = $1 AND group_id = $2 ORDER BY time",
        [samplingScope(target), worker],
      );
    const between = (rows[1]?.time.getTime() ?? 0) - (rows[0]?.time.getTime() ?? 0);
    expect(rows).toHaveLength(2);
    expect(estimate.consumePerSecond).toBeCloseTo(PER_PARTITION / (between / 1000), 6);
    expect(estimate.inMs).toBeCloseTo(between, 6);
  });

  it("keeps a day of samples and charts them in buckets of the range", async () => {
    const scope = samplingScope(target);
    const pool = store.pool();
    await pool.query(
      `INSERT INTO consumer_group_lag_sample (scope, group_id, time, committed, log_end, lag, partitions)
       VALUES ($1, $2, now() - make_interval(hours => $3 + 1), 0, 5, 5, 1),
              ($1, $2, now() - make_interval(hours => $3 - 1), 0, 7, 7, 1),
              ($1, $2, now() - interval '3 hours', 0, 9, 9, 1)`,
      [scope, worker, GROUP_LAG_KEEP_HOURS],
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await createConsumerGroupSampler({
      pool,
      target,
      everyMs: 1000,
      readDeadlineMs: READ_DEADLINE_MS,
      log,
    }).sampleDue();
    const lags = async (range: "15m" | "6h" | "24h") =>
      (await readGroupLagHistory(pool, scope, worker, range)).points.map((p) => p.lag);
    // The day-old sample is gone; each chart starts at its range and ends with the newest sample.
    // (The recent samples, seconds apart, fall in one bucket or a few: the last of each stands.)
    const recent = await lags("15m");
    expect(recent.at(-1)).toBe(PER_PARTITION);
    expect(recent.every((lag) => lag === 2 * PER_PARTITION || lag === PER_PARTITION)).toBe(true);
    const sixHours = await lags("6h");
    expect([sixHours[0], sixHours.at(-1)]).toEqual([9, PER_PARTITION]);
    expect(sixHours).not.toContain(7);
    const day = await lags("24h");
    expect(day.slice(0, 2)).toEqual([7, 9]);
    expect(day).not.toContain(5);
    const history = await readGroupLagHistory(pool, scope, worker, "24h");
    expect(history.bucketSeconds).toBe(720);
  });
});
