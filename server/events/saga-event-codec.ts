// Saga events on the wire: built valid at the producer, written as CloudEvents, and read back
// with every check the contract makes (see cloudevent-read.ts) plus the saga event's own.
import type { KafkaMessage, Message } from "kafkajs";
import { issues, readCloudEvent } from "./cloudevent-read.ts";
import { encodeCloudEvent, type NewEventOptions, newEventAttributes } from "./cloudevent-write.ts";
import { derivedTrace } from "./derived-trace.ts";
import {
  isSagaEventType,
  type SagaEventData,
  type SagaEventDataInput,
  type SagaEventType,
  sagaEventDataSchemas,
} from "./saga-events.ts";
import { sagaEventKey } from "./topics.ts";
import type { TraceContext } from "./trace-context.ts";

export interface SagaEvent<T extends SagaEventType = SagaEventType> {
  id: string;
  source: string;
  type: T;
  time: Date;
  trace: TraceContext;
  data: SagaEventData<T>;
  /**
   * The CloudEvent's other attributes, kept as sent: extensions (tracestate, a producer's
   * own), and subject when it is not the saga id. Absent when there are none.
   */
  extensions?: Record<string, unknown>;
}

export type DecodeResult = { ok: true; event: SagaEvent } | { ok: false; reason: string };

/** Builds a valid event (validating `data`, so a producer bug fails at the producer). */
export function sagaEvent<T extends SagaEventType>(
  type: T,
  data: SagaEventDataInput<T>,
  options: NewEventOptions,
): SagaEvent<T> {
  return {
    ...newEventAttributes(type, options),
    data: sagaEventDataSchemas[type].parse(data) as SagaEventData<T>,
  };
}

export function encodeSagaEvent(event: SagaEvent): Message {
  const { sagaId } = event.data;
  return encodeCloudEvent({ ...event, key: sagaEventKey(sagaId), subject: sagaId });
}

/** Decodes and validates one Kafka message; never throws, says why when it rejects. */
export function decodeSagaEvent(
  message: Pick<KafkaMessage, "key" | "value" | "headers">,
  now: number = Date.now(),
): DecodeResult {
  const read = readCloudEvent(message, now);
  if (!read.ok) return read;
  const { type, key, json } = read.envelope;
  if (!isSagaEventType(type)) return { ok: false, reason: `unknown event type "${type}"` };
  const data = sagaEventDataSchemas[type].safeParse(json);
  if (!data.success) return { ok: false, reason: `data does not match ${type}: ${issues(data.error)}` };
  if (key !== sagaEventKey(data.data.sagaId)) {
    return { ok: false, reason: `message key "${key ?? ""}" must be the saga id "${data.data.sagaId}"` };
  }
  const { id, source, time } = read.envelope;
  const trace = read.envelope.trace ?? derivedTrace(data.data.sagaId, source, id);
  const { subject, ...others } = read.envelope.attributes;
  const extensions = subject === undefined || subject === data.data.sagaId ? others : { subject, ...others };
  const event: SagaEvent = { id, source, type, time, trace, data: data.data };
  if (Object.keys(extensions).length > 0) event.extensions = extensions;
  return { ok: true, event };
}
