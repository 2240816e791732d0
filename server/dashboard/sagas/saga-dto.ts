// What the dashboard shows of sagas: plain data, no database types.
import type { SagaSummaryState } from "../../ingest/fold-saga-summary.ts";

export interface SagaListItem extends SagaSummaryState {
  /** From start to end; null while the saga runs. */
  durationMs: number | null;
  /** The trace id was derived from the saga id: its producer sent no trace context. */
  traceDerived: boolean;
}

export interface SagaEventView {
  id: string;
  type: string;
  time: Date;
  source: string;
  step: string | null;
  stepIndex: number | null;
  service: string | null;
  traceId: string;
  spanId: string | null;
  data: unknown;
  /** The CloudEvent's other attributes as its producer sent them (tracestate, extensions); null if none. */
  extensions: Record<string, unknown> | null;
  kafka: { topic: string; partition: number; offset: number };
}

/**
 * What the timeline, the compensation plan and the breaker rejections read of an event: no
 * payload beyond the attempt and the error (and a start's declared steps), so that a saga of
 * thousands of events is outlined without reading them whole.
 */
export type SagaEventOutline = Pick<
  SagaEventView,
  "id" | "type" | "time" | "step" | "stepIndex" | "service" | "data" | "kafka"
>;
