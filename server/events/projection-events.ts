// A projector's checkpoint: where it stands on every partition it reads (committed offset
// against the log end, and how old the newest change it applied is). Keyed by projection.
import { randomUUID } from "node:crypto";
import type { KafkaMessage, Message } from "kafkajs";
import { z } from "zod";
import { issues, readCloudEvent } from "./cloudevent-read.ts";
import { formatTraceparent, newTrace } from "./trace-context.ts";

export const projectionEventDataSchemas = {
  "io.sagascope.projection.checkpoint": z.looseObject({
    projection: z.string().min(1).max(200).describe("The projection's name; also the Kafka key"),
    generation: z.number().int().min(1).describe("The read model generation the projector builds"),
    groupId: z.string().min(1).max(300),
    active: z.boolean().describe("Whether this generation is the one the read side serves"),
    partitions: z
      .array(
        z.object({
          topic: z.string().min(1).max(300),
          partition: z.number().int().min(0),
          committedOffset: z.number().int().min(0),
          logEndOffset: z.number().int().min(0),
          offsetLag: z.number().int().min(0),
          newestAppliedAt: z.iso.datetime({ offset: true }).nullable(),
          timeLagMs: z
            .number()
            .min(0)
            .nullable()
            .describe("Now minus the occurred-at of the newest applied change"),
          oldestUnappliedAgeMs: z
            .number()
            .min(0)
            .nullable()
            .optional()
            .describe("How old the oldest change not applied yet is; null when none is waiting"),
        }),
      )
      .max(10_000),
  }),
} as const;

export type ProjectionCheckpoint = z.infer<
  (typeof projectionEventDataSchemas)["io.sagascope.projection.checkpoint"]
>;
export interface ProjectionEvent {
  id: string;
  source: string;
  type: "io.sagascope.projection.checkpoint";
  time: Date;
  data: ProjectionCheckpoint;
}

export function encodeProjectionCheckpoint(
  data: ProjectionCheckpoint,
  source: string,
  time = new Date(),
): Message {
  const parsed = projectionEventDataSchemas["io.sagascope.projection.checkpoint"].parse(data);
  return {
    key: parsed.projection,
    value: JSON.stringify(parsed),
    headers: {
      ce_specversion: "1.0",
      ce_id: randomUUID(),
      ce_source: source,
      ce_type: "io.sagascope.projection.checkpoint",
      ce_time: time.toISOString(),
      ce_subject: parsed.projection,
      "content-type": "application/json",
      traceparent: formatTraceparent(newTrace()),
    },
  };
}

export function decodeProjectionEvent(
  message: Pick<KafkaMessage, "key" | "value" | "headers">,
  now = Date.now(),
): { ok: true; event: ProjectionEvent } | { ok: false; reason: string } {
  const read = readCloudEvent(message, now);
  if (!read.ok) return read;
  const { id, source, type, time, json, key } = read.envelope;
  if (type !== "io.sagascope.projection.checkpoint")
    return { ok: false, reason: `unknown event type "${type}"` };
  const data = projectionEventDataSchemas[type].safeParse(json);
  if (!data.success) return { ok: false, reason: `data does not match ${type}: ${issues(data.error)}` };
  if (key !== data.data.projection)
    return {
      ok: false,
      reason: `message key "${key ?? ""}" must be the projection "${data.data.projection}"`,
    };
  return { ok: true, event: { id, source, type, time, data: data.data } };
}
