// One Kafka batch, from its messages to its rows: decoded by kind, stored in one transaction,
// and, when the database refuses the data, stored message by message with the refused ones
// quarantined.
import type { KafkaMessage } from "kafkajs";
import type { Pool } from "../db/pool.ts";
import {
  decodeBreakerEvent,
  decodeProjectionEvent,
  decodeSagaEvent,
  headersAsText,
  type ProjectionEvent,
} from "../events/index.ts";
import type { Logger } from "../log.ts";
import {
  type BatchOutcome,
  type DeadLetter,
  deadLetterOf,
  type IncomingBatch,
  type IncomingEvent,
  type RawMessage,
  storeBatch,
} from "./store-batch.ts";
import type { IncomingBreakerEvent } from "./store-breaker-events.ts";

/** The part of a Kafka message the store reads. */
export type ConsumedMessage = Pick<KafkaMessage, "key" | "value" | "headers" | "offset">;

/** One topic-partition's messages, as kafkajs hands them over. */
export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
}

/** The topics whose messages are not saga events. */
export interface SpecialTopics {
  deadLetterTopic?: string | undefined;
  breakerTopic?: string | undefined;
  projectionTopic?: string | undefined;
}

/**
 * The data was refused, not the connection: SQLSTATE class 22 (bad encoding, out of range…),
 * or a unique violation (23505). Every insert of a batch's store takes ON CONFLICT but
 * saga_event's, whose key (id, time) an event of another source can share with a stored one;
 * and since the batch is then stored message by message, only a message whose own store is
 * refused again is quarantined.
 */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "23505" || (typeof code === "string" && code.startsWith("22"));
}

/** A participant's report of a message it parked: the original bytes, where they came from, and why. */
export function reportedDeadLetter(
  message: Pick<KafkaMessage, "key" | "value" | "headers">,
  own: DeadLetter["position"],
): DeadLetter {
  const headers = headersAsText(message.headers);
  const origin = /^([A-Za-z0-9._-]+)\/(\d+)\/(\d+)$/.exec(headers["sagascope-origin"] ?? "");
  const base64 = headers["sagascope-encoding"] === "base64";
  const bytes = (b: Buffer | null) => (b && base64 ? Buffer.from(b.toString("utf8"), "base64") : b);
  const {
    "sagascope-origin": _o,
    "sagascope-encoding": _e,
    "sagascope-reason": reason,
    ...original
  } = headers;
  return {
    position: origin
      ? { topic: origin[1] as string, partition: Number(origin[2]), offset: Number(origin[3]) }
      : own,
    key: bytes(message.key),
    value: bytes(message.value),
    headers: original,
    reason: reason ?? "reported as a dead letter without a reason",
  };
}

/** The message's bytes for a dead letter; its headers as text only when a letter needs them (rarely). */
function keptForQuarantine(message: ConsumedMessage): RawMessage {
  return {
    key: message.key,
    value: message.value,
    get headers() {
      return headersAsText(message.headers);
    },
  };
}

/** Decodes a batch's messages and sorts them by kind; an unreadable one becomes a dead letter. */
export function splitBatch(batch: ConsumedBatch, special: SpecialTopics = {}): IncomingBatch {
  const projectionEvents: ProjectionEvent[] = [];
  const events: IncomingEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  const breakerEvents: IncomingBreakerEvent[] = [];
  for (const message of batch.messages) {
    const position = { topic: batch.topic, partition: batch.partition, offset: Number(message.offset) };
    if (batch.topic === special.deadLetterTopic) {
      deadLetters.push(reportedDeadLetter(message, position));
    } else if (batch.topic === special.projectionTopic) {
      const checkpoint = decodeProjectionEvent(message);
      if (checkpoint.ok) projectionEvents.push(checkpoint.event);
      else deadLetters.push(deadLetterOf(message, position, checkpoint.reason));
    } else if (batch.topic === special.breakerTopic) {
      const decoded = decodeBreakerEvent(message);
      if (decoded.ok) breakerEvents.push({ event: decoded.event, position });
      else deadLetters.push(deadLetterOf(message, position, decoded.reason));
    } else {
      const decoded = decodeSagaEvent(message);
      if (decoded.ok) events.push({ event: decoded.event, position, raw: keptForQuarantine(message) });
      else deadLetters.push(deadLetterOf(message, position, decoded.reason));
    }
  }
  return { events, deadLetters, breakerEvents, projectionEvents };
}

/**
 * Decodes and stores a batch; returns what each transaction stored (one, or one per message
 * when the database refused the batch's data: a single bad message never stalls its partition).
 */
export async function storeKafkaBatch(
  pool: Pool,
  batch: ConsumedBatch,
  special: SpecialTopics,
  log: Logger,
): Promise<BatchOutcome[]> {
  const incoming = splitBatch(batch, special);
  try {
    return [await storeBatch(pool, incoming)];
  } catch (error) {
    if (!isDataError(error)) throw error;
    log.warn("the database refused a batch; storing it message by message", { error });
    return storeOneByOne(pool, incoming, log);
  }
}

async function storeOneByOne(pool: Pool, incoming: IncomingBatch, log: Logger): Promise<BatchOutcome[]> {
  const { events, ...others } = incoming;
  const outcomes = [await storeBatch(pool, others)];
  for (const item of events) {
    try {
      outcomes.push(await storeBatch(pool, { events: [item] }));
    } catch (error) {
      if (!isDataError(error)) throw error;
      const letter: DeadLetter = {
        position: item.position,
        key: item.raw?.key ?? null,
        value: item.raw?.value ?? null,
        headers: item.raw?.headers ?? {},
        reason: `the database refused it: ${(error as Error).message}`,
      };
      log.warn("quarantined a message", { offset: item.position.offset, reason: letter.reason });
      outcomes.push(await storeBatch(pool, { deadLetters: [letter] }));
    }
  }
  return outcomes;
}
