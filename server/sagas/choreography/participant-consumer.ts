// A participant's consumer of one topic: a group with a short session (a killed member's
// partitions move on within seconds), several partitions at once, within each several keys at
// once (each key in order), and an offset resolved only once its message's handler returned
// and every earlier one's had. Resolved offsets are committed at most once a second (or every
// 100 messages), a quiet partition's within a second, and all of them before the consumer stops.
import type { EachBatchPayload, IHeaders, Kafka, KafkaMessage } from "kafkajs";
import { DEFAULT_PARTITIONS, headersAsText } from "../../events/index.ts";
import { createConsumer, runConsumer } from "../../events/kafka-client.ts";
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
/** Resolved offsets wait at most this long to be committed… */
const COMMIT_EVERY_MS = 1000;
/** …or until this many have been resolved. */
const COMMIT_EVERY_MESSAGES = 100;

/** A running consumer of one topic; `stop` commits what was handled, then leaves the group. */
export interface RunningConsumer {
  stop(): Promise<void>;
}

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
 * Joins the group and handles its messages until `consumers` no longer holds it (the
 * participant's stop takes it out and stops it); resolves once it has joined.
 */
export async function consumeTopic(
  spec: TopicConsumer,
  consumers: RunningConsumer[],
  handle: (raw: RawMessage, message: KafkaMessage) => Promise<void>,
): Promise<void> {
  // A short session: a killed participant's partitions go to its replacement within seconds.
  const consumer = createConsumer(spec.kafka, {
    groupId: spec.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: spec.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: 1000,
  });
  // kafkajs (2.2.4) with autoCommit commits after every batch it hands over, whatever the
  // interval says: about five commit requests per checkout saga, the broker's busiest request.
  // So commits are paced here, with the batch payload's own commit (the group's generation).
  let commitDue: EachBatchPayload["commitOffsetsIfNecessary"] | undefined;
  let commitAll: (() => Promise<void>) | undefined;
  const quietCommits = setInterval(() => {
    commitDue?.().catch((error: unknown) =>
      spec.log.debug("offsets not committed yet", { error: String(error), groupId: spec.groupId }),
    );
  }, COMMIT_EVERY_MS);
  quietCommits.unref();
  const running: RunningConsumer = {
    async stop() {
      clearInterval(quietCommits);
      await commitAll?.().catch((error: unknown) =>
        spec.log.warn("offsets not committed before stopping; their messages are read again", {
          error: String(error),
          groupId: spec.groupId,
        }),
      );
      await consumer.disconnect();
    },
  };
  consumers.push(running);
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await runConsumer(
    consumer,
    { topics: [spec.topic], fromBeginning: spec.fromBeginning },
    {
      // A message's offset is resolved only when its handler returned (its transaction
      // committed) and every earlier message's had, and committed by the pacing above. A crash
      // or a rebalance re-reads what was handled since the last commit (a second at most),
      // which the event ids make harmless.
      autoCommit: false,
      // Not auto-commit settings any more: the payload's commitOffsetsIfNecessary reads them.
      autoCommitInterval: COMMIT_EVERY_MS,
      autoCommitThreshold: COMMIT_EVERY_MESSAGES,
      eachBatchAutoResolve: false,
      // Partitions are independent (a saga lives in one), so several are handled at once: by
      // default as many as a topic made with the default count has, since kafkajs fetches
      // again only once every batch of a fetch was handled, and a partition left waiting for
      // a free slot holds up the next fetch of all.
      partitionsConsumedConcurrently: spec.partitionsConcurrently ?? DEFAULT_PARTITIONS,
      // So are a partition's keys (a saga is one key): a saga's message does not wait behind
      // another saga's transaction, which with one message at a time it did, for the whole fetch.
      eachBatch: async (payload) => {
        const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
        commitDue = () => payload.commitOffsetsIfNecessary();
        commitAll = () => payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
        try {
          await handleKeyOrdered(batch.messages, {
            concurrency: spec.keysConcurrently ?? DEFAULT_KEYS_CONCURRENTLY,
            handle: (message) => handle(asRaw(batch.topic, batch.partition, message), message),
            resolved: resolveOffset,
            stopped: () => !isRunning() || isStale(),
            heartbeat,
          });
        } catch (error) {
          // What was handled before the failure is kept; the failure is kafkajs's to retry.
          await commitAll().catch(() => {});
          throw error;
        }
        // Stopping: the messages in hand are done, and committed before the group is left.
        await (isRunning() ? commitDue() : commitAll());
      },
    },
    spec.log,
    () => !consumers.includes(running),
  );
  await joined;
}
