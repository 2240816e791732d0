// Exports each saga, once it has ended, as a trace over OTLP/HTTP (protobuf) with the
// OpenTelemetry SDK's exporter. The ingester hands over the ids of the sagas a stored batch
// ended; they wait in a bounded queue (a full queue drops the newest, counted) and are read
// and sent every second, a batch at a time. Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or the
// traces-only OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: the standard variables.
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
import type { Logger } from "../log.ts";
import { type SpanDescription, type StoredEventRow, sagaSpans } from "./saga-spans.ts";

/** The most ended sagas waiting to be exported; past it the newest are dropped (and counted). */
export const MAX_TRACE_QUEUE = 10_000;
/** Sagas read and exported per round. */
const BATCH = 200;

export interface SagaTraceExporter {
  /** Sagas that ended; those the sampler keeps wait to be exported. */
  enqueue(sagas: { sagaId: string; traceId: string }[]): void;
  start(): void;
  /** Exports what waits, then stops. */
  stop(): Promise<void>;
  /** One round now (tests); resolves when it was sent. */
  flush(): Promise<void>;
  counters(): { exported: number; dropped: number; failed: number; sampledOut: number };
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
  const queue: string[] = [];
  const counters = { exported: 0, dropped: 0, failed: 0, sampledOut: 0 };
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();

  async function exportSagas(ids: string[]): Promise<void> {
    const { rows } = await deps.pool.query<StoredEventRow>(
      `SELECT id, time, source, type, saga_id AS "sagaId", saga_type AS "sagaType", trace_id AS "traceId",
              span_id AS "spanId", step, step_index AS "stepIndex", service,
              -- Only what the spans say: a step's input and output can be large.
              jsonb_strip_nulls(jsonb_build_object('attempt', data->'attempt', 'error', data->'error',
                'mode', data->'mode', 'reason', data->'reason', 'compensated', data->'compensated')) AS data,
              kafka_topic AS "kafkaTopic",
              kafka_partition AS "kafkaPartition", kafka_offset::float8 AS "kafkaOffset", ingested_at AS "ingestedAt"
       FROM saga_event WHERE saga_id = ANY($1)`,
      [ids],
    );
    const bySaga = new Map<string, StoredEventRow[]>();
    for (const r of rows) bySaga.set(r.sagaId, [...(bySaga.get(r.sagaId) ?? []), r]);
    const spans = [...bySaga.values()]
      .flatMap((events) => sagaSpans(events, { groupId: deps.groupId }))
      .map(readable);
    if (spans.length === 0) return;
    const result = await new Promise<{ code: ExportResultCode; error?: Error }>((resolve) =>
      deps.exporter.export(spans, resolve),
    );
    if (result.code === ExportResultCode.SUCCESS) counters.exported += bySaga.size;
    else {
      counters.failed += bySaga.size;
      deps.log.warn("saga traces not exported", { sagas: bySaga.size, error: result.error?.message });
    }
  }

  async function flush(): Promise<void> {
    while (queue.length > 0) {
      const ids = queue.splice(0, BATCH);
      await exportSagas(ids).catch((error) => {
        counters.failed += ids.length;
        deps.log.warn("saga traces not exported", { error: String(error) });
      });
    }
  }

  function schedule() {
    timer = setTimeout(() => {
      round = flush().finally(() => {
        if (timer) schedule();
      });
    }, deps.everyMs ?? 1000);
  }

  return {
    enqueue(sagas) {
      const sampler = deps.sampler;
      const kept = sampler
        ? sagas.filter(
            (s) =>
              sampler.shouldSample(ROOT_CONTEXT, s.traceId, "saga", 0, {}, []).decision ===
              SamplingDecision.RECORD_AND_SAMPLED,
          )
        : sagas;
      counters.sampledOut += sagas.length - kept.length;
      const ids = kept.map((s) => s.sagaId);
      const room = MAX_TRACE_QUEUE - queue.length;
      queue.push(...ids.slice(0, Math.max(0, room)));
      if (ids.length > room) counters.dropped += ids.length - Math.max(0, room);
    },
    start: schedule,
    async stop() {
      clearTimeout(timer);
      timer = undefined;
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
