// Sends to Kafka that arrive while one is in flight leave together, in one request, when it
// returns: a bulk operation acting on a slice of sagas at once sends its commands in a few
// requests instead of one each, with no added wait when only one is sent at a time.
import type { Producer, ProducerRecord, RecordMetadata } from "kafkajs";

/** The part of a producer an action sends with. */
export type Sender = Pick<Producer, "send">;

/** The most messages one request carries; more wait for the next. */
export const MAX_COALESCED = 500;

interface Waiting {
  record: ProducerRecord;
  resolve: (metadata: RecordMetadata[]) => void;
  reject: (error: unknown) => void;
}

export function coalescedSender(producer: Pick<Producer, "sendBatch">): Sender {
  const waiting: Waiting[] = [];
  let inFlight = false;

  async function drain() {
    inFlight = true;
    try {
      while (waiting.length > 0) {
        const batch: Waiting[] = [];
        let messages = 0;
        while (
          waiting.length > 0 &&
          (batch.length === 0 || messages + (waiting[0]?.record.messages.length ?? 0) <= MAX_COALESCED)
        ) {
          const next = waiting.shift() as Waiting;
          messages += next.record.messages.length;
          batch.push(next);
        }
        try {
          const metadata = await producer.sendBatch({
            // Acknowledged by every in-sync replica, as a single send is by default.
            acks: -1,
            topicMessages: batch.map((w) => ({ topic: w.record.topic, messages: w.record.messages })),
          });
          for (const w of batch) w.resolve(metadata.filter((m) => m.topicName === w.record.topic));
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      inFlight = false;
    }
  }

  return {
    send(record) {
      return new Promise<RecordMetadata[]>((resolve, reject) => {
        waiting.push({ record, resolve, reject });
        if (!inFlight) void drain();
      });
    },
  };
}
