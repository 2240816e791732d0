// How every event this project produces is written: CloudEvents 1.0 in binary mode of the
// Kafka protocol binding (the attributes as `ce_*` headers, the JSON data as the value, the
// trace context as W3C `traceparent`). One place, so every producer writes the same headers.
import { randomUUID } from "node:crypto";
import type { Message } from "kafkajs";
import { formatTraceparent, type TraceContext } from "./trace-context.ts";

export interface OutgoingCloudEvent {
  id: string;
  source: string;
  type: string;
  time: Date;
  /** The Kafka message key: the saga id, the aggregate id or the breaker pair. */
  key: string;
  /** The CloudEvents subject; the key when not given. */
  subject?: string;
  trace: TraceContext;
  data: unknown;
  /** Other attributes, each sent as its own `ce_` header (JSON when it is not a string). */
  extensions?: Record<string, unknown>;
}

/** How an event is made: its source and trace, a new id and the time now unless given. */
export interface NewEventOptions {
  source: string;
  trace: TraceContext;
  id?: string;
  time?: Date;
}

/** The attributes every event this project makes starts with. */
export function newEventAttributes<T extends string>(type: T, options: NewEventOptions) {
  return {
    id: options.id ?? randomUUID(),
    source: options.source,
    type,
    time: options.time ?? new Date(),
    trace: options.trace,
  };
}

export function encodeCloudEvent(event: OutgoingCloudEvent): Message {
  const headers: Record<string, string> = {
    ce_specversion: "1.0",
    ce_id: event.id,
    ce_source: event.source,
    ce_type: event.type,
    ce_time: event.time.toISOString(),
    ce_subject: event.subject ?? event.key,
    "content-type": "application/json",
    traceparent: formatTraceparent(event.trace),
  };
  for (const [name, value] of Object.entries(event.extensions ?? {}))
    headers[`ce_${name}`] = typeof value === "string" ? value : JSON.stringify(value);
  return { key: event.key, value: JSON.stringify(event.data), headers };
}
