// CloudEvents 1.0 over Kafka, in either mode of the Kafka protocol binding: binary (the
// attributes as `ce_*` headers, the JSON `data` as the value) or structured (the whole event
// as one JSON object, content-type application/cloudevents+json). The trace comes from W3C
// `traceparent` or the CloudEvents `ce_traceparent`, or is derived from the saga id.
import { createHash, randomUUID } from "node:crypto";
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
/** Limits outside the value: a message beyond any of them is quarantined with the limit named. */
export const MESSAGE_LIMITS = {
  /** The key is the saga id. */
  keyBytes: 1024,
  headers: 64,
  headerNameBytes: 256,
  headerValueBytes: 8 * 1024,
  /** Every header's name and value together. */
  headerBytes: 32 * 1024,
} as const;
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
  /**
   * The CloudEvent's other attributes, kept as sent: extensions (tracestate, a producer's
   * own), and subject when it is not the saga id. Absent when there are none.
   */
  extensions?: Record<string, unknown>;
}

/** Binary mode: the attributes as `ce_*` headers. */
const HeaderAttributesSchema = z.object({
  ce_specversion: z.literal("1.0", { error: "ce_specversion must be 1.0" }),
  ce_id: z.string().min(1).max(200),
  ce_source: z.string().min(1).max(500),
  ce_type: z.string().min(1).max(200),
  ce_time: z.iso.datetime({ offset: true, error: "ce_time must be an RFC 3339 timestamp" }),
  "content-type": z
    .string()
    .refine((v) => v.startsWith("application/json"), "content-type must be application/json")
    .optional(),
});

/** Structured mode: the whole event as one JSON object (CloudEvents JSON format). */
const StructuredEventSchema = z
  .object({
    specversion: z.literal("1.0", { error: "specversion must be 1.0" }),
    id: z.string().min(1).max(200),
    source: z.string().min(1).max(500),
    type: z.string().min(1).max(200),
    time: z.iso.datetime({ offset: true, error: "time must be an RFC 3339 timestamp" }),
    datacontenttype: z
      .string()
      .refine((v) => v.startsWith("application/json"), "datacontenttype must be application/json")
      .optional(),
    data: z.unknown().optional(),
    data_base64: z.base64({ error: "data_base64 must be base64" }).optional(),
    traceparent: z.string().max(100).optional(),
    tracestate: z.string().max(512).optional(),
  })
  .refine(
    (e) => !(e.data !== undefined && e.data_base64 !== undefined),
    "data and data_base64 cannot both be set",
  )
  .refine(
    (e) => e.data !== undefined || e.data_base64 !== undefined,
    "the event has no data (data or data_base64)",
  );

/** application/cloudevents+json, with or without parameters (charset…). */
const STRUCTURED = /^application\/cloudevents\+json\s*(;|$)/i;
const BATCHED = /^application\/cloudevents-batch\+json\s*(;|$)/i;

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
  /** The producer's trace context; absent when it sent none (see derivedTrace). */
  trace: TraceContext | undefined;
  /** The parsed JSON data, not yet checked against the type's schema. */
  json: unknown;
  key: string | undefined;
  /** Attributes beyond those the contract reads (see SagaEvent.extensions), subject included. */
  attributes: Record<string, unknown>;
}

/** Attributes the contract reads itself; every other one is kept as an extension. */
const READ_ATTRIBUTES = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "datacontenttype",
  "data",
  "data_base64",
  "traceparent",
]);

/** Binary mode's other attributes: every `ce_` header the contract does not read, and W3C `tracestate`. */
function binaryAttributes(headers: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith("ce_")) continue;
    const attribute = name.slice(3);
    if (!READ_ATTRIBUTES.has(attribute)) out[attribute] = value;
  }
  if (headers.tracestate !== undefined && out.tracestate === undefined) out.tracestate = headers.tracestate;
  return out;
}

/** Structured mode's other attributes: every member of the event the contract does not read. */
function structuredAttributes(event: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).filter(([name]) => !READ_ATTRIBUTES.has(name)));
}

/** Says which limit outside the value a message breaks, if any. */
export function outsideValueProblem(
  key: Buffer | string | null | undefined,
  headers: Record<string, string>,
): string | undefined {
  const L = MESSAGE_LIMITS;
  const keyBytes = key ? Buffer.byteLength(key) : 0;
  if (keyBytes > L.keyBytes) return `key too large: ${keyBytes} bytes > ${L.keyBytes}`;
  const entries = Object.entries(headers);
  if (entries.length > L.headers) return `too many headers: ${entries.length} > ${L.headers}`;
  let total = 0;
  for (const [name, value] of entries) {
    const nameBytes = Buffer.byteLength(name);
    const valueBytes = Buffer.byteLength(value);
    if (nameBytes > L.headerNameBytes)
      return `header name too long: ${nameBytes} bytes > ${L.headerNameBytes} (${name.slice(0, 40)}…)`;
    if (valueBytes > L.headerValueBytes)
      return `header ${name} too large: ${valueBytes} bytes > ${L.headerValueBytes}`;
    total += nameBytes + valueBytes;
  }
  return total > L.headerBytes ? `headers too large: ${total} bytes in all > ${L.headerBytes}` : undefined;
}

type Read = { ok: true; envelope: CloudEventEnvelope } | { ok: false; reason: string };

/**
 * The trace context from `traceparent` (W3C, as most Kafka clients send it) or
 * `ce_traceparent` (the CloudEvents Distributed Tracing extension, as the CloudEvents SDKs
 * send it); both is fine when they agree. None at all is fine too: the caller derives one.
 */
function readTrace(
  traceparent: string | undefined,
  ceTraceparent: string | undefined,
): { ok: true; trace: TraceContext | undefined } | { ok: false; reason: string } {
  if (traceparent !== undefined && ceTraceparent !== undefined && traceparent.trim() !== ceTraceparent.trim())
    return {
      ok: false,
      reason: `traceparent "${traceparent}" and ce_traceparent "${ceTraceparent}" disagree`,
    };
  const header = traceparent ?? ceTraceparent;
  if (header === undefined) return { ok: true, trace: undefined };
  const trace = parseTraceparent(header);
  return trace ? { ok: true, trace } : { ok: false, reason: `invalid traceparent "${header}"` };
}

function checkTime(time: Date, text: string, now: number): string | undefined {
  return time.getTime() > now + MAX_CLOCK_SKEW_MS
    ? `ce_time ${text} is more than 24 h in the future`
    : undefined;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The bytes as text, or why not: invalid UTF-8 would otherwise turn into replacement characters. */
function utf8(
  bytes: Buffer | null | undefined,
  what: string,
): { ok: true; text: string } | { ok: false; reason: string } {
  try {
    return { ok: true, text: strictUtf8.decode(bytes ?? new Uint8Array()) };
  } catch {
    return { ok: false, reason: `${what} is not valid UTF-8` };
  }
}

function parseJson(text: string, what: string): { ok: true; json: unknown } | { ok: false; reason: string } {
  if (hasNul(text)) return { ok: false, reason: `${what} contains a NUL character (\\u0000)` };
  try {
    return { ok: true, json: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: `${what} is not JSON: ${(error as Error).message}` };
  }
}

function readBinary(
  message: Pick<KafkaMessage, "key" | "value">,
  headers: Record<string, string>,
  now: number,
): Read {
  const attributes = HeaderAttributesSchema.safeParse(headers);
  if (!attributes.success)
    return { ok: false, reason: `invalid CloudEvents headers: ${issues(attributes.error)}` };
  const a = attributes.data;
  const trace = readTrace(headers.traceparent, headers.ce_traceparent);
  if (!trace.ok) return trace;
  const time = new Date(a.ce_time);
  const late = checkTime(time, a.ce_time, now);
  if (late) return { ok: false, reason: late };
  const text = utf8(message.value, "value");
  if (!text.ok) return text;
  const data = parseJson(text.text, "value");
  if (!data.ok) return data;
  return {
    ok: true,
    envelope: {
      id: a.ce_id,
      source: a.ce_source,
      type: a.ce_type,
      time,
      trace: trace.trace,
      json: data.json,
      key: message.key?.toString("utf8"),
      attributes: binaryAttributes(headers),
    },
  };
}

function readStructured(message: Pick<KafkaMessage, "key" | "value">, now: number): Read {
  const text = utf8(message.value, "structured-mode value");
  if (!text.ok) return text;
  const whole = parseJson(text.text, "structured-mode value");
  if (!whole.ok) return whole;
  const parsed = StructuredEventSchema.safeParse(whole.json);
  if (!parsed.success) return { ok: false, reason: `invalid CloudEvents JSON: ${issues(parsed.error)}` };
  const e = parsed.data;
  const trace = readTrace(e.traceparent, undefined);
  if (!trace.ok) return trace;
  const time = new Date(e.time);
  const late = checkTime(time, e.time, now);
  if (late) return { ok: false, reason: late };
  let json = e.data;
  if (e.data_base64 !== undefined) {
    const decodedText = utf8(Buffer.from(e.data_base64, "base64"), "data_base64");
    if (!decodedText.ok) return decodedText;
    const decoded = parseJson(decodedText.text, "data_base64");
    if (!decoded.ok) return decoded;
    json = decoded.json;
  }
  return {
    ok: true,
    envelope: {
      id: e.id,
      source: e.source,
      type: e.type,
      time,
      trace: trace.trace,
      json,
      key: message.key?.toString("utf8"),
      attributes: structuredAttributes(whole.json as Record<string, unknown>),
    },
  };
}

/**
 * Checks what every CloudEvent on our topics must have (size, attributes, trace, clock, JSON),
 * in either mode of the CloudEvents Kafka binding, before a type's own schema is applied.
 * Never throws; says why when it rejects.
 */
export function readCloudEvent(
  message: Pick<KafkaMessage, "key" | "value" | "headers">,
  now: number = Date.now(),
): Read {
  const size = message.value?.length ?? 0;
  if (size > MAX_EVENT_BYTES)
    return { ok: false, reason: `payload too large: ${size} bytes > ${MAX_EVENT_BYTES}` };
  const headers = headersAsText(message.headers);
  const outside = outsideValueProblem(message.key, headers);
  if (outside) return { ok: false, reason: outside };
  if (Object.entries(headers).some(([k, v]) => hasNul(k) || hasNul(v))) {
    return { ok: false, reason: "a header contains a NUL character" };
  }
  const contentType = headers["content-type"] ?? "";
  if (BATCHED.test(contentType))
    return {
      ok: false,
      reason:
        "batched CloudEvents (application/cloudevents-batch+json) are not accepted: send one event per message",
    };
  return STRUCTURED.test(contentType) ? readStructured(message, now) : readBinary(message, headers, now);
}

/**
 * The trace of an event whose producer sent no trace context: the trace id from the saga id
 * (every event of one saga shares it, whoever sent it), the span id from the event's
 * identity; not sampled. isDerivedTrace tells it apart.
 */
export function derivedTrace(sagaId: string, source: string, id: string): TraceContext {
  const hash = (text: string) => createHash("sha256").update(text).digest("hex");
  return {
    traceId: hash(`sagascope-derived-trace\n${sagaId}`).slice(0, 32),
    spanId: hash(`sagascope-derived-span\n${source}\n${id}`).slice(0, 16),
    sampled: false,
  };
}

/** True when `traceId` is the one derived from `sagaId`: its producer sent no trace context. */
export function isDerivedTrace(sagaId: string, traceId: string): boolean {
  return derivedTrace(sagaId, "", "").traceId === traceId;
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
      ...Object.fromEntries(
        Object.entries(event.extensions ?? {}).map(([name, value]) => [
          `ce_${name}`,
          typeof value === "string" ? value : JSON.stringify(value),
        ]),
      ),
    },
  };
}
