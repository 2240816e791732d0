// The circuit breakers' events: every state change (with the reason and the figures that
// triggered it) and each instance's periodic stats window per pair. Keyed by the pair id
// ("caller→callee"), on the breaker events topic.
import { randomUUID } from "node:crypto";
import type { KafkaMessage, Message } from "kafkajs";
import { z } from "zod";
import { issues, readCloudEvent } from "./cloudevent-read.ts";
import { encodeCloudEvent } from "./cloudevent-write.ts";
import { newTrace } from "./trace-context.ts";

const name = z.string().min(1).max(200);
/** A count in one event: bounded, so that a forged event cannot ask the store (or a replay) for billions. */
export const MAX_WINDOW_CALLS = 10_000_000;
const count = z.number().int().min(0).max(MAX_WINDOW_CALLS);
const state = z.enum(["closed", "open", "half_open"]);
const forced = z.enum(["open", "closed", "disabled"]).nullable().describe("An operator's override, if any");
const PairRef = z.looseObject({
  pair: name.describe('The pair id, "caller→callee" or "caller→callee/operation"; also the Kafka key'),
  caller: name,
  callee: name,
  operation: name.optional(),
  instance: name.describe("The caller instance that reports it"),
});

export const breakerEventDataSchemas = {
  "io.sagascope.breaker.state_changed": PairRef.extend({
    from: state,
    to: state,
    forced,
    reason: z.string().max(2000),
    calls: count.describe("Calls in the window when it changed"),
    failures: count.describe("Of which failures that count against the callee"),
    failureRateThreshold: z.number().min(0).max(1),
    minimumCalls: z.number().int().min(1),
    openUntil: z.iso
      .datetime({ offset: true })
      .optional()
      .describe("When an open breaker lets trial calls through"),
  }),
  "io.sagascope.breaker.stats": PairRef.extend({
    windowStart: z.iso.datetime({ offset: true }),
    windowEnd: z.iso.datetime({ offset: true }),
    state,
    forced,
    calls: count,
    successes: count,
    business: count.describe("Expected refusals: they do not count against the callee"),
    failures: count.describe("Errors, timeouts, unavailable: they count"),
    rejections: count.describe("Calls refused by the breaker without reaching the callee"),
    trials: count,
    latencyMs: z.object({
      p50: z.number().min(0),
      p95: z.number().min(0),
      p99: z.number().min(0),
      max: z.number().min(0),
    }),
  }),
} as const;

export type BreakerEventType = keyof typeof breakerEventDataSchemas;
export const BREAKER_EVENT_TYPES = Object.keys(breakerEventDataSchemas) as BreakerEventType[];
export type BreakerEventData<T extends BreakerEventType = BreakerEventType> = z.infer<
  (typeof breakerEventDataSchemas)[T]
>;

export interface BreakerEvent<T extends BreakerEventType = BreakerEventType> {
  id: string;
  source: string;
  type: T;
  time: Date;
  data: BreakerEventData<T>;
}

export function breakerEvent<T extends BreakerEventType>(
  type: T,
  data: z.input<(typeof breakerEventDataSchemas)[T]>,
  options: { source: string; time?: Date },
): BreakerEvent<T> {
  return {
    id: randomUUID(),
    source: options.source,
    type,
    time: options.time ?? new Date(),
    data: breakerEventDataSchemas[type].parse(data) as BreakerEventData<T>,
  };
}

export function encodeBreakerEvent(event: BreakerEvent): Message {
  // Breaker events belong to no saga: each starts a trace of its own.
  return encodeCloudEvent({ ...event, key: event.data.pair, trace: newTrace() });
}

export function decodeBreakerEvent(
  message: Pick<KafkaMessage, "key" | "value" | "headers">,
  now: number = Date.now(),
): { ok: true; event: BreakerEvent } | { ok: false; reason: string } {
  const read = readCloudEvent(message, now);
  if (!read.ok) return read;
  const { id, source, type, time, json, key } = read.envelope;
  if (!Object.hasOwn(breakerEventDataSchemas, type))
    return { ok: false, reason: `unknown event type "${type}"` };
  const data = breakerEventDataSchemas[type as BreakerEventType].safeParse(json);
  if (!data.success) return { ok: false, reason: `data does not match ${type}: ${issues(data.error)}` };
  if (key !== data.data.pair)
    return { ok: false, reason: `message key "${key ?? ""}" must be the pair "${data.data.pair}"` };
  return { ok: true, event: { id, source, type: type as BreakerEventType, time, data: data.data } };
}
