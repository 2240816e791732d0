// The breakers' control channel: what an operator decided for a pair (a forced state and its
// expiry, the thresholds), published on a compacted topic keyed by the pair, so that a
// breaker of any library, in any language, obeys it without reaching into Sagascope's Redis.
// Each message carries the whole decision: compaction keeps only a pair's newest.
import { randomUUID } from "node:crypto";
import type { KafkaMessage, Message } from "kafkajs";
import { z } from "zod";
import { issues, readCloudEvent } from "./cloudevent-read.ts";
import { formatTraceparent, newTrace } from "./trace-context.ts";

export const BREAKER_CONTROL_TYPE = "io.sagascope.breaker.control";

const name = z.string().min(1).max(200);

export const BreakerControlSchema = z.looseObject({
  pair: name.describe('The pair id, "caller→callee" or "caller→callee/operation"; also the Kafka key'),
  caller: name,
  callee: name,
  operation: name.optional(),
  forced: z
    .enum(["open", "closed", "disabled"])
    .nullable()
    .describe(
      "open: refuse every call; closed or disabled: let every call through; null: the breaker decides",
    ),
  forcedUntil: z.iso
    .datetime({ offset: true })
    .nullable()
    .describe("When the forced state ends by itself; null: until an operator clears it"),
  thresholds: z
    .object({
      failureRate: z.number().gt(0).max(1).describe("Opens at this share of failures (0–1)"),
      minimumCalls: z.number().int().min(1).describe("Calls needed before it may open"),
      openMs: z.number().int().min(1).describe("How long it stays open before a trial call"),
    })
    .optional()
    .describe(
      "The pair's thresholds as the operator set them; absent when the decision leaves them to the breaker",
    ),
  version: z
    .number()
    .int()
    .min(0)
    .describe("When the decision was made (ms since the epoch): a breaker applies only a newer one"),
  requestedBy: name.describe("Who decided"),
  reason: z.string().max(2000),
});
export type BreakerControl = z.infer<typeof BreakerControlSchema>;

export function encodeBreakerControl(control: BreakerControl, source: string): Message {
  const data = BreakerControlSchema.parse(control);
  return {
    key: data.pair,
    value: JSON.stringify(data),
    headers: {
      ce_specversion: "1.0",
      ce_id: randomUUID(),
      ce_source: source,
      ce_type: BREAKER_CONTROL_TYPE,
      ce_time: new Date(data.version).toISOString(),
      ce_subject: data.pair,
      "content-type": "application/json",
      traceparent: formatTraceparent(newTrace()),
    },
  };
}

export function decodeBreakerControl(
  message: Pick<KafkaMessage, "key" | "value" | "headers">,
  now: number = Date.now(),
): { ok: true; control: BreakerControl } | { ok: false; reason: string } {
  const read = readCloudEvent(message, now);
  if (!read.ok) return read;
  const { type, json, key } = read.envelope;
  if (type !== BREAKER_CONTROL_TYPE) return { ok: false, reason: `unknown event type "${type}"` };
  const data = BreakerControlSchema.safeParse(json);
  if (!data.success) return { ok: false, reason: `data does not match ${type}: ${issues(data.error)}` };
  if (key !== data.data.pair)
    return { ok: false, reason: `message key "${key ?? ""}" must be the pair "${data.data.pair}"` };
  return { ok: true, control: data.data };
}
