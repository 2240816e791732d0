// Domain events of a service (an order placed, a payment captured…) in the same CloudEvents
// binary envelope as the saga events, keyed by aggregate id. Each service brings the zod
// schemas of its own types; this module only wraps and checks them.
import type { KafkaMessage, Message } from "kafkajs";
import type { z } from "zod";
import { issues, readCloudEvent } from "./cloudevent-read.ts";
import { encodeCloudEvent, type NewEventOptions, newEventAttributes } from "./cloudevent-write.ts";
import { derivedTrace } from "./derived-trace.ts";
import type { TraceContext } from "./trace-context.ts";

export type DomainSchemas = Record<string, z.ZodType<Record<string, unknown>>>;

export interface DomainEvent<
  S extends DomainSchemas = DomainSchemas,
  T extends keyof S & string = keyof S & string,
> {
  id: string;
  source: string;
  type: T;
  time: Date;
  trace: TraceContext;
  /** The aggregate id: the Kafka key, so one aggregate's events stay in order. */
  key: string;
  data: z.infer<S[T]>;
}

export type DomainDecode<S extends DomainSchemas> =
  | { ok: true; event: DomainEvent<S> }
  /** `type` is set when the envelope was readable, so a consumer can tell whether the message was meant for it. */
  | { ok: false; reason: string; type?: string };

export function domainEvent<S extends DomainSchemas, T extends keyof S & string>(
  schemas: S,
  type: T,
  key: string,
  data: z.input<S[T]>,
  options: NewEventOptions,
): DomainEvent<S, T> {
  const schema = schemas[type];
  if (!schema) throw new RangeError(`unknown domain event type ${type}`);
  return {
    ...newEventAttributes(type, options),
    key,
    data: schema.parse(data) as z.infer<S[T]>,
  };
}

export function encodeDomainEvent(event: DomainEvent): Message {
  return encodeCloudEvent(event);
}

export function decodeDomainEvent<S extends DomainSchemas>(
  schemas: S,
  message: Pick<KafkaMessage, "key" | "value" | "headers">,
  now: number = Date.now(),
): DomainDecode<S> {
  const read = readCloudEvent(message, now);
  if (!read.ok) return read;
  const { id, source, type, time, trace, json, key } = read.envelope;
  const schema = Object.hasOwn(schemas, type) ? schemas[type] : undefined;
  if (!schema) return { ok: false, reason: `unknown event type "${type}"`, type };
  const data = schema.safeParse(json);
  if (!data.success) return { ok: false, reason: `data does not match ${type}: ${issues(data.error)}`, type };
  if (!key) return { ok: false, reason: "a domain event needs its aggregate id as the message key", type };
  // No trace context from the producer: one derived from the aggregate, like a saga's from its id.
  const traced = trace ?? derivedTrace(key, source, id);
  return {
    ok: true,
    event: { id, source, type, time, trace: traced, key, data: data.data } as DomainEvent<S>,
  };
}
