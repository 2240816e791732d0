// W3C Trace Context (traceparent) parsing and creation, so a saga's trace id follows it
// through Kafka headers and, later, gRPC metadata.
import { randomBytes } from "node:crypto";

export interface TraceContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/** The all-zero ids (TRACEPARENT admits lowercase hex of these lengths only). */
const ZERO_TRACE_ID = "0".repeat(32);
const ZERO_SPAN_ID = "0".repeat(16);

export function parseTraceparent(header: string): TraceContext | undefined {
  const match = TRACEPARENT.exec(header.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  // All-zero ids are invalid; version ff is forbidden by the spec.
  if (version === "ff" || traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? "01" : "00"}`;
}

export function newTrace(): TraceContext {
  return { traceId: randomBytes(16).toString("hex"), spanId: newSpanId(), sampled: true };
}

/** A child span of the same trace: every step and compensation gets its own. */
export function childSpan(parent: TraceContext): TraceContext {
  return { ...parent, spanId: newSpanId() };
}

function newSpanId(): string {
  return randomBytes(8).toString("hex");
}
