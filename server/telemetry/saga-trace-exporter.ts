// Exports each saga, once it has ended, as a trace over OTLP/HTTP (protobuf) with the
// OpenTelemetry SDK's exporter. The ingester hands over the events each batch stored and the
// sagas it ended; ended sagas wait in a bounded queue (a full queue drops the newest, counted)
// and are sent every second, a batch at a time. A saga whose every stored event passed
// through this process is built from those (kept trimmed, bounded); any other (stored partly
// by another ingester, or its events pushed out of the bound) is read back from the store.
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-only OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
// is set: the standard variables.
import { type Attributes, type HrTime, ROOT_CONTEXT, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import type { Pool } from "../db/pool.ts";
import { type SagaEvent, stepOf } from "../events/index.ts";
import type { Logger } from "../log.ts";
import { createPeriodic } from "../periodic.ts";
import { type SpanDescription, type StoredEventRow, sagaSpans } from "./saga-spans.ts";

/** The most ended sagas waiting to be exported; past it the newest are dropped (and counted). */
export const MAX_TRACE_QUEUE = 10_000;
/** The most events of open sagas kept in memory; past it the oldest sagas' go (read back when they end). */
export const MAX_KEPT_EVENTS = 50_000;
/** Sagas read and exported per round. */
const BATCH = 200;

/** A saga event as stored, and where it was consumed. */
export interface StoredSagaEvent {
  event: SagaEvent;
  position: { topic: string; partition: number; offset: number };
}

export interface EndedSaga {
  sagaId: string;
  traceId: string;
  /** How many events the store holds for it (its summary's count). */
  eventCount: number;
}

export interface SagaTraceExporter {
  /** Events just stored (each once: a redelivery is not among them). */
  observe(stored: StoredSagaEvent[]): void;
  /** Sagas that ended; those the sampler keeps wait to be exported. */
  enqueue(sagas: EndedSaga[]): void;
  start(): void;
  /** Exports what waits, then stops. */
  stop(): Promise<void>;
  /** One round now (tests); resolves when it was sent. */
  flush(): Promise<void>;
  counters(): {
    exported: number;
    dropped: number;
    failed: number;
    sampledOut: number;
    /** Sagas built from the events seen here, and those read back from the store. */
    fromMemory: number;
    readBack: number;
  };
}

/** What of an event's data the spans use (a step's input and output can be large). */
const SPAN_DATA_KEYS = ["attempt", "error", "mode", "reason", "compensated"] as const;

function storedRow({ event, position }: StoredSagaEvent, ingestedAt: Date): StoredEventRow {
  const d = event.data as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  for (const key of SPAN_DATA_KEYS) if (d[key] !== undefined && d[key] !== null) data[key] = d[key];
  return {
    id: event.id,
    time: event.time,
    source: event.source,
    type: event.type,
    sagaId: event.data.sagaId,
    sagaType: event.data.sagaType,
    traceId: event.trace.traceId,
    spanId: event.trace.spanId,
    ...stepOf(event),
    data,
    kafkaTopic: position.topic,
    kafkaPartition: position.partition,
    kafkaOffset: position.offset,
    ingestedAt,
  };
}

/** Where traces go, from the standard OpenTelemetry variables; undefined when tracing is off. */
export function otlpTracesUrl(env: {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
}): string | undefined {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT)
    return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, "")}/v1/traces`;
  return undefined;
}

const hr = (d: Date): HrTime => [Math.floor(d.getTime() / 1000), (d.getTime() % 1000) * 1_000_000];

/** One resource per service: spans sharing it are sent grouped, once per request. */
const resources = new Map<string, ReturnType<typeof resourceFromAttributes>>();
function resourceOf(service: string) {
  let resource = resources.get(service);
  if (!resource) {
    resource = resourceFromAttributes({ "service.name": service, "service.namespace": "sagascope" });
    if (resources.size < 1000) resources.set(service, resource);
  }
  return resource;
}

const SCOPE = { name: "sagascope", version: "1" };

function readable(s: SpanDescription): ReadableSpan {
  const durationMs = Math.max(0, s.end.getTime() - s.start.getTime());
  return {
    name: s.name,
    kind: s.kind === "consumer" ? SpanKind.CONSUMER : SpanKind.INTERNAL,
    spanContext: () => ({ traceId: s.traceId, spanId: s.spanId, traceFlags: 1 }),
    ...(s.parentSpanId
      ? { parentSpanContext: { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: 1 } }
      : {}),
    startTime: hr(s.start),
    endTime: hr(s.end),
    duration: [Math.floor(durationMs / 1000), (durationMs % 1000) * 1_000_000],
    status: s.status.ok
      ? { code: SpanStatusCode.OK }
      : { code: SpanStatusCode.ERROR, message: s.status.message },
    attributes: s.attributes as Attributes,
    links: s.links.map((l) => ({
      context: { traceId: l.traceId, spanId: l.spanId, traceFlags: 1 },
      attributes: l.attributes,
    })),
    events: [],
    ended: true,
    resource: resourceOf(s.service),
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

export function createSagaTraceExporter(deps: {
  pool: Pick<Pool, "query">;
  /** The SDK's exporter; `createOtlpExporter(url)` for OTLP/HTTP. */
  exporter: SpanExporter;
  groupId: string;
  log: Logger;
  everyMs?: number;
  /** Which sagas' traces to keep (all when absent). */
  sampler?: Sampler;
}): SagaTraceExporter {
  const queue: EndedSaga[] = [];
  const counters = { exported: 0, dropped: 0, failed: 0, sampledOut: 0, fromMemory: 0, readBack: 0 };
  /** Trimmed events of sagas not exported yet, oldest saga first (a Map keeps insertion order). */
  const kept = new Map<string, StoredEventRow[]>();
  let keptEvents = 0;
  const forget = (sagaId: string) => {
    keptEvents -= kept.get(sagaId)?.length ?? 0;
    kept.delete(sagaId);
  };
  const sampled = (traceId: string) =>
    !deps.sampler ||
    deps.sampler.shouldSample(ROOT_CONTEXT, traceId, "saga", 0, {}, []).decision ===
      SamplingDecision.RECORD_AND_SAMPLED;
  let round: Promise<void> = Promise.resolve();

  async function readBack(ids: string[]): Promise<StoredEventRow[][]> {
    if (ids.length === 0) return [];
    const { rows } = await deps.pool.query<StoredEventRow>(
      `SELECT id, time, source, type, saga_id AS "sagaId", saga_type AS "sagaType", trace_id AS "traceId",
              span_id AS "spanId", step, step_index AS "stepIndex", service,
              jsonb_strip_nulls(jsonb_build_object(${SPAN_DATA_KEYS.map((k) => `'${k}', data->'${k}'`).join(", ")})) AS data,
              kafka_topic AS "kafkaTopic",
              kafka_partition AS "kafkaPartition", kafka_offset::float8 AS "kafkaOffset", ingested_at AS "ingestedAt"
       FROM saga_event WHERE saga_id = ANY($1)`,
      [ids],
    );
    const bySaga = new Map<string, StoredEventRow[]>();
    for (const r of rows) {
      const list = bySaga.get(r.sagaId);
      if (list) list.push(r);
      else bySaga.set(r.sagaId, [r]);
    }
    return [...bySaga.values()];
  }

  async function exportSagas(sagas: EndedSaga[]): Promise<void> {
    const complete: StoredEventRow[][] = [];
    const missing: string[] = [];
    for (const saga of sagas) {
      const events = kept.get(saga.sagaId);
      if (events && events.length === saga.eventCount) complete.push(events);
      else missing.push(saga.sagaId);
      forget(saga.sagaId);
    }
    const events = [...complete, ...(await readBack(missing))];
    counters.fromMemory += complete.length;
    counters.readBack += missing.length;
    const spans = events.flatMap((list) => sagaSpans(list, { groupId: deps.groupId })).map(readable);
    if (spans.length === 0) return;
    const result = await new Promise<{ code: ExportResultCode; error?: Error }>((resolve) =>
      deps.exporter.export(spans, resolve),
    );
    if (result.code === ExportResultCode.SUCCESS) counters.exported += events.length;
    else {
      counters.failed += events.length;
      deps.log.warn("saga traces not exported", { sagas: events.length, error: result.error?.message });
    }
  }

  async function flush(): Promise<void> {
    while (queue.length > 0) {
      const sagas = queue.splice(0, BATCH);
      await exportSagas(sagas).catch((error) => {
        counters.failed += sagas.length;
        deps.log.warn("saga traces not exported", { error: String(error) });
      });
    }
  }

  const periodic = createPeriodic(
    deps.everyMs ?? 1000,
    () => (round = round.then(flush)),
    (error) => deps.log.warn("saga traces not exported", { error: String(error) }),
  );

  return {
    observe(stored) {
      const now = new Date();
      for (const item of stored) {
        if (!sampled(item.event.trace.traceId)) continue;
        const list = kept.get(item.event.data.sagaId);
        if (list) list.push(storedRow(item, now));
        else kept.set(item.event.data.sagaId, [storedRow(item, now)]);
        keptEvents += 1;
      }
      for (const oldest of kept.keys()) {
        if (keptEvents <= MAX_KEPT_EVENTS) break;
        forget(oldest);
      }
    },
    enqueue(sagas) {
      for (const saga of sagas) {
        if (!sampled(saga.traceId)) {
          counters.sampledOut += 1;
          forget(saga.sagaId);
        } else if (queue.length >= MAX_TRACE_QUEUE) {
          counters.dropped += 1;
          forget(saga.sagaId);
        } else queue.push(saga);
      }
    },
    start: () => periodic.start(),
    async stop() {
      await periodic.stop();
      await round;
      await flush();
      await deps.exporter.shutdown();
    },
    flush: () => (round = round.then(flush)),
    counters: () => ({ ...counters }),
  };
}

export const createOtlpExporter = (url: string): SpanExporter => new OTLPTraceExporter({ url });

/**
 * Which traces to keep, from the standard OTEL_TRACES_SAMPLER (always_on, the default;
 * always_off; traceidratio and the parentbased_ variants, which for a saga's root are the
 * same) and OTEL_TRACES_SAMPLER_ARG (the ratio, 0–1): the SDK's own samplers decide, by
 * trace id, so a trace kept here is kept by every service sampling at the same ratio.
 */
export function samplerFrom(env: {
  OTEL_TRACES_SAMPLER?: string | undefined;
  OTEL_TRACES_SAMPLER_ARG?: string | undefined;
}): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER ?? "always_on").replace(/^parentbased_/, "");
  if (name === "always_on") return new AlwaysOnSampler();
  if (name === "always_off") return new AlwaysOffSampler();
  if (name === "traceidratio") {
    const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? "1");
    if (!(ratio >= 0 && ratio <= 1))
      throw new Error(
        `OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, not "${env.OTEL_TRACES_SAMPLER_ARG}"`,
      );
    return new TraceIdRatioBasedSampler(ratio);
  }
  throw new Error(
    `OTEL_TRACES_SAMPLER "${env.OTEL_TRACES_SAMPLER}" is not one of always_on, always_off, traceidratio (or parentbased_ of them)`,
  );
}
