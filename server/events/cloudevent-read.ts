// Reads CloudEvents 1.0 from Kafka, in either mode of the Kafka protocol binding: binary (the
// attributes as `ce_*` headers, the JSON `data` as the value) or structured (the whole event
// as one JSON object, content-type application/cloudevents+json). The trace comes from W3C
// `traceparent` or the CloudEvents `ce_traceparent`; each event kind's codec applies its own
// schema to what this returns.
import type { IHeaders, KafkaMessage } from "kafkajs";
import { z } from "zod";
import { hasNul, MAX_CLOCK_SKEW_MS, MAX_EVENT_BYTES, outsideValueProblem } from "./cloudevent-limits.ts";
import { parseTraceparent, type TraceContext } from "./trace-context.ts";

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

function headerText(value: IHeaders[string]): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

export function headersAsText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in headers) {
    if (!Object.hasOwn(headers, k)) continue;
    const text = headerText(headers[k]);
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
  /** Attributes beyond those the contract reads (kept as a saga event's extensions), subject included. */
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
  for (const name in headers) {
    if (!name.startsWith("ce_")) continue;
    const attribute = name.slice(3);
    if (!READ_ATTRIBUTES.has(attribute)) out[attribute] = headers[name];
  }
  if (headers.tracestate !== undefined && out.tracestate === undefined) out.tracestate = headers.tracestate;
  return out;
}

/** Structured mode's other attributes: every member of the event the contract does not read. */
function structuredAttributes(event: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).filter(([name]) => !READ_ATTRIBUTES.has(name)));
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
  // Every message is checked here, so a plain loop rather than a pair array per header.
  for (const name in headers) {
    if (hasNul(name) || hasNul(headers[name] as string))
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

export function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
}
