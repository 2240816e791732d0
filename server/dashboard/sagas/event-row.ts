// A saga_event row as the dashboard reads it through the pool, and the view the pages get:
// one column list and one mapping for the saga page and the trace page.
import type { SagaEventView } from "./saga-dto.ts";

export const EVENT_COLUMNS = `id, type, time, source, step, step_index, service, trace_id, span_id, saga_id, data,
  extensions, kafka_topic, kafka_partition, kafka_offset`;

export interface EventRow {
  id: string;
  type: string;
  time: Date;
  source: string;
  step: string | null;
  step_index: number | null;
  service: string | null;
  trace_id: string;
  span_id: string | null;
  saga_id: string;
  data: unknown;
  extensions: Record<string, unknown> | null;
  kafka_topic: string;
  kafka_partition: number;
  kafka_offset: number;
}

export function toEventView(r: EventRow): SagaEventView {
  return {
    id: r.id,
    type: r.type,
    time: r.time,
    source: r.source,
    step: r.step,
    stepIndex: r.step_index,
    service: r.service,
    traceId: r.trace_id,
    // char(16): a shorter span id comes back padded.
    spanId: r.span_id?.trim() ?? null,
    data: r.data,
    extensions: r.extensions,
    kafka: { topic: r.kafka_topic, partition: r.kafka_partition, offset: Number(r.kafka_offset) },
  };
}
