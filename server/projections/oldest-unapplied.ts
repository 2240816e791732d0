// The age of the oldest change a projector has not applied yet: the change at its committed
// offset. A peek consumer of its own (a group that never commits) seeks there, reads that
// one message per lagging partition, and pauses the partition again. For the fleet's own
// projector a change's occurred-at is its time; for any other group, the record's timestamp.
import type { Consumer, Kafka, KafkaMessage } from "kafkajs";
import { createConsumer, runConsumer } from "../events/kafka-client.ts";
import type { Logger } from "../log.ts";
import { decodeChange } from "./change-events.ts";

export interface OldestUnappliedProbe {
  /** Starts its consumer; does not wait for it to join its group (see `probe`). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * When the change at each position occurred: only positions answered within `timeoutMs`,
   * which includes waiting for the consumer to join its group.
   */
  probe(
    positions: { topic: string; partition: number; offset: number }[],
    timeoutMs?: number,
  ): Promise<Map<string, Date>>;
}

export const positionKey = (topic: string, partition: number) => `${topic}/${partition}`;

/** When a change event occurred (its record's timestamp if it is not one). */
export function changeTime(message: KafkaMessage): Date {
  const decoded = decodeChange(message);
  return decoded.ok ? new Date(decoded.event.data.occurredAt) : recordTime(message);
}

/** The record's own timestamp (the producer's create time, or the broker's append time). */
export const recordTime = (message: KafkaMessage): Date => new Date(Number(message.timestamp));

export function createOldestUnappliedProbe(
  kafka: Kafka,
  groupId: string,
  topics: string[],
  log: Logger,
  timeOf: (message: KafkaMessage) => Date = changeTime,
): OldestUnappliedProbe {
  let consumer: Consumer | undefined;
  const awaiting = new Map<string, { offset: number; resolve: (at: Date) => void }>();

  // Settled by each join, replaced by each crash (a restarted consumer joins again).
  let joined = settledLater();
  return {
    async start() {
      const c = createConsumer(kafka, { groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
      consumer = c;
      // Every join (the first, and one after a restart, whose group keeps no paused state) pauses
      // all that is not being probed. Start does not wait for it: a join that fails (a broker with
      // no coordinator for the group yet) must not hold up the process that asked, and the crash
      // is restarted by runConsumer. A probe waits for the join within its own timeout.
      c.on(c.events.GROUP_JOIN, () => {
        joined.settle();
        const idle = topics.flatMap((topic) => {
          const waiting = [...awaiting.keys()].filter((k) => k.startsWith(`${topic}/`));
          return waiting.length === 0 ? [{ topic }] : [];
        });
        if (idle.length > 0) c.pause(idle);
      });
      c.on(c.events.CRASH, () => {
        joined = settledLater();
      });
      await runConsumer(
        c,
        { topics, fromBeginning: false },
        {
          autoCommit: false,
          eachMessage: async ({ topic, partition, message }) => {
            const key = positionKey(topic, partition);
            const wanted = awaiting.get(key);
            if (!wanted || Number(message.offset) < wanted.offset) {
              if (!wanted) c.pause([{ topic, partitions: [partition] }]);
              return;
            }
            awaiting.delete(key);
            c.pause([{ topic, partitions: [partition] }]);
            wanted.resolve(timeOf(message));
          },
        },
        log,
        () => consumer !== c,
      );
    },
    async stop() {
      const c = consumer;
      consumer = undefined;
      joined = settledLater();
      await c?.disconnect();
    },
    async probe(positions, timeoutMs = 2000) {
      const found = new Map<string, Date>();
      const c = consumer;
      if (!c || positions.length === 0) return found;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timed out">((r) => (timer = setTimeout(() => r("timed out"), timeoutMs)));
      try {
        if ((await Promise.race([joined.promise, timedOut])) === "timed out" || consumer !== c) return found;
        await Promise.race([Promise.all(seekAll(c, positions, found)), timedOut]);
        return found;
      } finally {
        clearTimeout(timer);
        for (const { topic, partition } of positions) awaiting.delete(positionKey(topic, partition));
      }
    },
  };

  function seekAll(
    c: Consumer,
    positions: { topic: string; partition: number; offset: number }[],
    found: Map<string, Date>,
  ): Promise<void>[] {
    return positions.map(
      ({ topic, partition, offset }) =>
        new Promise<void>((resolve) => {
          const key = positionKey(topic, partition);
          awaiting.set(key, {
            offset,
            resolve: (at) => {
              found.set(key, at);
              resolve();
            },
          });
          c.seek({ topic, partition, offset: String(offset) });
          c.resume([{ topic, partitions: [partition] }]);
        }),
    );
  }
}

/** A promise settled from outside, once. */
function settledLater(): { promise: Promise<void>; settle: () => void } {
  let settle = () => {};
  const promise = new Promise<void>((resolve) => (settle = resolve));
  return { promise, settle };
}
