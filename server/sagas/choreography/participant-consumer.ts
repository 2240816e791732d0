// A participant's consumer of one topic: a group with a short session (a killed member's
// partitions move on within seconds), several partitions at once, within each several keys at
// once (each key in order), and an offset resolved only once its message's handler returned
// and every earlier one's had.
import type { Consumer, IHeaders, Kafka, KafkaMessage } from "kafkajs";
import { DEFAULT_PARTITIONS, headersAsText } from "../../events/index.ts";
import { FETCH_WAIT_MS, runConsumer } from "../../events/kafka-client.ts";
import { handleKeyOrdered } from "../../events/key-ordered.ts";
import type { Logger } from "../../log.ts";
import type { RawMessage } from "./participant-types.ts";

/** Text columns cannot hold NUL; the raw bytes keep the original. */
const escapeNul = (text: string) => text.replaceAll("\u0000", "\\u0000");

const asRaw = (topic: string, partition: number, message: KafkaMessage): RawMessage => ({
  topic,
  partition,
  offset: message.offset,
  key: message.key,
  value: message.value,
  headers: Object.fromEntries(
    Object.entries(headersAsText(message.headers as IHeaders)).map(([k, v]) => [escapeNul(k), escapeNul(v)]),
  ),
});

/** Keys of one partition handled at once unless a participant says otherwise. */
const DEFAULT_KEYS_CONCURRENTLY = 8;

export interface TopicConsumer {
  kafka: Kafka;
  groupId: string;
  topic: string;
  fromBeginning: boolean;
  /** How long the group waits for a silent member before its partitions are handed on. */
  sessionTimeoutMs?: number | undefined;
  partitionsConcurrently?: number | undefined;
  keysConcurrently?: number | undefined;
  log: Logger;
}

/**
 * Joins the group and handles its messages until `consumers` no longer holds the consumer
 * (the participant's stop takes it out and disconnects it); resolves once it has joined.
 */
export async function consumeTopic(
  spec: TopicConsumer,
  consumers: Consumer[],
  handle: (raw: RawMessage, message: KafkaMessage) => Promise<void>,
): Promise<void> {
  // A short session: a killed participant's partitions go to its replacement within seconds.
  const consumer = spec.kafka.consumer({
    groupId: spec.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: spec.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: FETCH_WAIT_MS,
  });
  consumers.push(consumer);
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await runConsumer(
    consumer,
    { topics: [spec.topic], fromBeginning: spec.fromBeginning },
    {
      // A message's offset is resolved only when its handler returned (its transaction
      // committed) and every earlier message's had. kafkajs (2.2.4) commits the resolved
      // offsets after every batch it hands over, whatever the interval and threshold say
      // (those only add commits within a batch); a crash re-reads the messages of the batch
      // in hand, which the event ids make harmless.
      autoCommit: true,
      autoCommitInterval: 1000,
      autoCommitThreshold: 100,
      eachBatchAutoResolve: false,
      // Partitions are independent (a saga lives in one), so several are handled at once: by
      // default as many as a topic made with the default count has, since kafkajs fetches
      // again only once every batch of a fetch was handled, and a partition left waiting for
      // a free slot holds up the next fetch of all.
      partitionsConsumedConcurrently: spec.partitionsConcurrently ?? DEFAULT_PARTITIONS,
      // So are a partition's keys (a saga is one key): a saga's message does not wait behind
      // another saga's transaction, which with one message at a time it did, for the whole fetch.
      eachBatch: ({ batch, resolveOffset, heartbeat, isRunning, isStale }) =>
        handleKeyOrdered(batch.messages, {
          concurrency: spec.keysConcurrently ?? DEFAULT_KEYS_CONCURRENTLY,
          handle: (message) => handle(asRaw(batch.topic, batch.partition, message), message),
          resolved: resolveOffset,
          stopped: () => !isRunning() || isStale(),
          heartbeat,
        }),
    },
    spec.log,
    () => !consumers.includes(consumer),
  );
  await joined;
}
