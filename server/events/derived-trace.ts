// The trace context of an event whose producer sent none, derived so that every event of one
// saga (or aggregate) shares a trace id whoever sent it.
import { createHash } from "node:crypto";
import type { TraceContext } from "./trace-context.ts";

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
