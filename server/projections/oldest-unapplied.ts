// The age of the oldest change a projector has not applied yet: the change at its committed
// offset. A peek consumer of its own (a group that never commits) seeks there, reads that
// one message per lagging partition, and pauses the partition again. For the fleet's own
// projector a change's occurred-at is its time; for any other group, the record's timestamp.
import type { Consumer, Kafka, KafkaMessage } from "kafkajs";
import { decodeChange } from "./change-events.ts";

export interface OldestUnappliedProbe {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** When the change at each position occurred (only positions answered within `timeoutMs`). */
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
  timeOf: (message: KafkaMessage) => Date = changeTime,
): OldestUnappliedProbe {
  let consumer: Consumer | undefined;
  const awaiting = new Map<string, { offset: number; resolve: (at: Date) => void }>();

  return {
    async start() {
      const c = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
      consumer = c;
      const joined = new Promise<void>((resolve) => c.on(c.events.GROUP_JOIN, () => resolve()));
      await c.connect();
      await c.subscribe({ topics, fromBeginning: false });
      await c.run({
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
      });
      await joined;
      c.pause(topics.map((topic) => ({ topic })));
    },
    async stop() {
      await consumer?.disconnect();
      consumer = undefined;
    },
    async probe(positions, timeoutMs = 2000) {
      const found = new Map<string, Date>();
      const c = consumer;
      if (!c || positions.length === 0) return found;
      const waits = positions.map(
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
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(waits), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
      for (const { topic, partition } of positions) awaiting.delete(positionKey(topic, partition));
      return found;
    },
  };
}
