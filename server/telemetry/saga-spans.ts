// A saga's stored events as an OpenTelemetry trace under the saga's own trace id: the saga as
// the root span, a span per step attempt and per compensation (with status, error category,
// service and attempt), and the ingester's consumption of the event that ended it as a
// messaging span (OpenTelemetry's messaging semantic conventions). In a choreographed saga a
// step follows another service's event: its span links to the span of the step before it.
// Pure: rows in, span descriptions out (saga-trace-exporter.ts turns them into OTLP).
import { createHash } from "node:crypto";

export interface StoredEventRow {
  id: string;
  time: Date;
  source: string;
  type: string;
  sagaId: string;
  sagaType: string;
  traceId: string;
  spanId: string | null;
  step: string | null;
  stepIndex: number | null;
  service: string | null;
  data: Record<string, unknown>;
  kafkaTopic: string;
  kafkaPartition: number;
  kafkaOffset: number;
  /** When the ingester stored it. */
  ingestedAt: Date;
}

export type SpanKindName = "internal" | "consumer";

export interface SpanDescription {
  name: string;
  kind: SpanKindName;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  start: Date;
  end: Date;
  status: { ok: true } | { ok: false; message: string };
  /** The service the span's work ran in (its OTLP resource's service.name). */
  service: string;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string; attributes: Record<string, string> }[];
}

const SAGA = "io.sagascope.saga.";
const ENDS = new Set([`${SAGA}completed`, `${SAGA}aborted`]);

/** A span id of our own, stable for the same input, never all zeros. */
function derivedSpanId(seed: string): string {
  const id = createHash("sha256").update(`sagascope-span\n${seed}`).digest("hex").slice(0, 16);
  return /^0+$/.test(id) ? "0000000000000001" : id;
}

/** "/fleet/transfers" → "transfers": a producer's source as a service name. */
export function serviceOfSource(source: string): string {
  const parts = source.split(/[/:]/).filter(Boolean);
  return parts.at(-1) ?? source;
}

const attempt = (e: StoredEventRow) => (typeof e.data.attempt === "number" ? e.data.attempt : 1);
const errorOf = (e: StoredEventRow) =>
  (e.data.error ?? null) as { category?: string; message?: string; code?: string } | null;

export function sagaSpans(events: StoredEventRow[], consumer: { groupId: string }): SpanDescription[] {
  if (events.length === 0) return [];
  const ordered = [...events].sort(
    (a, b) => a.kafkaOffset - b.kafkaOffset || a.time.getTime() - b.time.getTime(),
  );
  const first = ordered[0] as StoredEventRow;
  const end = ordered.find((e) => ENDS.has(e.type)) ?? (ordered.at(-1) as StoredEventRow);
  const traceId = first.traceId;
  const used = new Set<string>();
  const spanIdFor = (e: StoredEventRow, role: string) => {
    const id = e.spanId && !used.has(e.spanId) ? e.spanId : derivedSpanId(`${e.source}\n${e.id}\n${role}`);
    used.add(id);
    return id;
  };
  const rootId = spanIdFor(first, "saga");
  const mode = String(first.data.mode ?? "orchestrated");
  const aborted = end.type === `${SAGA}aborted`;
  const compensated = aborted ? end.data.compensated !== false : false;
  const spans: SpanDescription[] = [
    {
      name: `saga ${first.sagaType}`,
      kind: "internal",
      traceId,
      spanId: rootId,
      parentSpanId: null,
      start: first.time,
      end: end.time,
      status: aborted
        ? {
            ok: false,
            message: `${compensated ? "compensated" : "failed"}: ${String(end.data.reason ?? "")}`,
          }
        : { ok: true },
      service: serviceOfSource(first.source),
      attributes: {
        "sagascope.saga.id": first.sagaId,
        "sagascope.saga.type": first.sagaType,
        "sagascope.saga.mode": mode,
        "sagascope.saga.status": aborted ? (compensated ? "compensated" : "failed") : "completed",
        "sagascope.saga.events": ordered.length,
      },
      links: [],
    },
  ];

  // Each start is closed by the next end of the same step (and attempt), or by the next event
  // of the saga when it never ended (a crash): that attempt is reported interrupted.
  let previousStep: SpanDescription | undefined;
  ordered.forEach((e, i) => {
    const compensation = e.type === `${SAGA}compensation.started`;
    if (e.type !== `${SAGA}step.started` && !compensation) return;
    const endTypes = compensation
      ? [`${SAGA}compensation.succeeded`, `${SAGA}compensation.failed`]
      : [`${SAGA}step.succeeded`, `${SAGA}step.failed`, `${SAGA}timed_out`];
    const closing = ordered
      .slice(i + 1)
      .find(
        (x) => x.step === e.step && endTypes.includes(x.type) && (compensation || attempt(x) === attempt(e)),
      );
    const next = ordered[i + 1];
    const failed = closing && !closing.type.endsWith("succeeded");
    const error = closing ? errorOf(closing) : null;
    const span: SpanDescription = {
      name: `${compensation ? "compensate" : "step"} ${e.step ?? "?"}`,
      kind: "internal",
      traceId,
      spanId: spanIdFor(e, compensation ? "compensation" : "step"),
      parentSpanId: rootId,
      start: e.time,
      end: closing?.time ?? next?.time ?? end.time,
      status: !closing
        ? { ok: false, message: "interrupted: no end of this attempt was recorded" }
        : failed
          ? { ok: false, message: error?.message ?? closing.type.slice(SAGA.length) }
          : { ok: true },
      service: e.service ?? serviceOfSource(e.source),
      attributes: {
        "sagascope.step.name": e.step ?? "",
        "sagascope.step.index": e.stepIndex ?? -1,
        "sagascope.step.attempt": attempt(e),
        "sagascope.step.compensation": compensation,
        ...(failed && error?.category ? { "error.type": error.category } : {}),
        ...(failed && closing?.type === `${SAGA}timed_out` ? { "error.type": "timeout" } : {}),
        ...(error?.code ? { "sagascope.error.code": error.code } : {}),
      },
      links:
        mode === "choreographed" && previousStep && !compensation
          ? [
              {
                traceId,
                spanId: previousStep.spanId,
                attributes: { "sagascope.link": "follows the event of the step before" },
              },
            ]
          : [],
    };
    spans.push(span);
    if (!compensation) previousStep = span;
  });

  spans.push({
    name: `process ${end.kafkaTopic}`,
    kind: "consumer",
    traceId,
    spanId: derivedSpanId(`${end.source}\n${end.id}\ningest`),
    parentSpanId: rootId,
    // From the moment the event occurred to the moment it was stored: the pipeline's delay.
    start: end.time,
    end: new Date(Math.max(end.ingestedAt.getTime(), end.time.getTime())),
    status: { ok: true },
    service: "sagascope-ingester",
    attributes: {
      "messaging.system": "kafka",
      "messaging.operation.type": "process",
      "messaging.operation.name": "process",
      "messaging.destination.name": end.kafkaTopic,
      "messaging.destination.partition.id": String(end.kafkaPartition),
      "messaging.consumer.group.name": consumer.groupId,
      "messaging.kafka.offset": end.kafkaOffset,
      "messaging.message.id": end.id,
      "messaging.kafka.message.key": end.sagaId,
    },
    links: [],
  });
  return spans;
}
