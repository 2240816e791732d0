// CloudEvents 1.0 in Kafka binary mode: attributes travel as `ce_*` headers, the JSON
// `data` is the message value, the W3C `traceparent` header carries the trace.
import { randomUUID } from "node:crypto";
import type { IHeaders, KafkaMessage, Message } from "kafkajs";
import { z } from "zod";
import {
  isSagaEventType,
  type SagaEventData,
  type SagaEventDataInput,
  type SagaEventType,
  sagaEventDataSchemas,
} from "./saga-events.ts";
import { sagaEventKey } from "./topics.ts";
import { formatTraceparent, parseTraceparent, type TraceContext } from "./trace-context.ts";

/** Messages above this size are quarantined, not parsed: a saga event is small. */
export const MAX_EVENT_BYTES = 256 * 1024;
/** Events stamped further ahead than this are refused: they would land outside every partition. */
export const MAX_CLOCK_SKEW_MS = 24 * 3600_000;

const NUL = "\u0000";
/** Postgres text and jsonb cannot hold NUL, raw or as the JSON escape \u0000. */
const hasNul = (text: string) => text.includes(NUL) || /\\u0000/i.test(text);

export interface SagaEvent<T extends SagaEventType = SagaEventType> {
  id: string;
  source: string;
  type: T;
  time: Date;
  trace: TraceContext;
  data: SagaEventData<T>;
}

const AttributesSchema = z.object({
  ce_specversion: z.literal("1.0", { error: "ce_specversion must be 1.0" }),
  ce_id: z.string().min(1).max(200),
  ce_source: z.string().min(1).max(500),
  ce_type: z.string().min(1).max(200),
  ce_time: z.iso.datetime({ offset: true, error: "ce_time must be an RFC 3339 timestamp" }),
  traceparent: z.string({ error: "traceparent header is required" }),
  "content-type": z
    .string()
    .refine((v) => v.startsWith("application/json"), "content-type must be application/json")
    .optional(),
});

export type DecodeResult = { ok: true; event: SagaEvent } | { ok: false; reason: string };

function headerText(value: IHeaders[string]): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

export function headersAsText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const text = headerText(v);
    if (text !== undefined) out[k] = text;
  }
  return out;
}

export interface CloudEventEnvelope {
  id: string;
  source: string;
  type: string;
  time: Date;
  trace: TraceContext;
  /** The parsed JSON value, not yet checked against the type's schema. */
  json: unknown;
  key: string | undefined;
}

/**
 * Checks what every CloudEvent on our topics must have (size, headers, trace, clock, JSON),
 * before a type's own schema is applied. Never throws; says why when it rejects.
 */
export function readCloudEvent(
  message: Pick<KafkaMessage, "key" | "value" | "headers">,
  now: number = Date.now(),
): { ok: true; envelope: CloudEventEnvelope } | { ok: false; reason: string } {
  const size = message.value?.length ?? 0;
  if (size > MAX_EVENT_BYTES)
    return { ok: false, reason: `payload too large: ${size} bytes > ${MAX_EVENT_BYTES}` };
  const headers = headersAsText(message.headers);
  if (Object.entries(headers).some(([k, v]) => hasNul(k) || hasNul(v))) {
    return { ok: false, reason: "a header contains a NUL character" };
  }
  const attributes = AttributesSchema.safeParse(headers);
  if (!attributes.success)
    return { ok: false, reason: `invalid CloudEvents headers: ${issues(attributes.error)}` };
  const a = attributes.data;
  const trace = parseTraceparent(a.traceparent);
  if (!trace) return { ok: false, reason: `invalid traceparent "${a.traceparent}"` };
  const time = new Date(a.ce_time);
  if (time.getTime() > now + MAX_CLOCK_SKEW_MS) {
    return { ok: false, reason: `ce_time ${a.ce_time} is more than 24 h in the future` };
  }
  const text = message.value?.toString("utf8") ?? "";
  if (hasNul(text)) return { ok: false, reason: "value contains a NUL character (\\u0000)" };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `value is not JSON: ${(error as Error).message}` };
  }
  return {
    ok: true,
    envelope: {
      id: a.ce_id,
      source: a.ce_source,
      type: a.ce_type,
      time,
      trace,
      json,
      key: message.key?.toString("utf8"),
    },
  };
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
  const { id, source, time, trace } = read.envelope;
  return { ok: true, event: { id, source, type, time, trace, data: data.data } };
}

export function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
}

/** Builds a valid event (validating `data`, so a producer bug fails at the producer). */
export function sagaEvent<T extends SagaEventType>(
  type: T,
  data: SagaEventDataInput<T>,
  options: { source: string; trace: TraceContext; id?: string; time?: Date },
): SagaEvent<T> {
  return {
    id: options.id ?? randomUUID(),
    source: options.source,
    type,
    time: options.time ?? new Date(),
    trace: options.trace,
    data: sagaEventDataSchemas[type].parse(data) as SagaEventData<T>,
  };
}

export function encodeSagaEvent(event: SagaEvent): Message {
  return {
    key: sagaEventKey(event.data.sagaId),
    value: JSON.stringify(event.data),
    headers: {
      ce_specversion: "1.0",
      ce_id: event.id,
      ce_source: event.source,
      ce_type: event.type,
      ce_time: event.time.toISOString(),
      ce_subject: event.data.sagaId,
      "content-type": "application/json",
      traceparent: formatTraceparent(event.trace),
    },
  };
}
