// What the dashboard shows of sagas: plain data, no database types.
import type { SagaStatus } from "../../ingest/fold-saga-summary.ts";

export interface SagaListItem {
  sagaId: string;
  sagaType: string;
  mode: "orchestrated" | "choreographed";
  status: SagaStatus;
  traceId: string;
  businessKey: string | null;
  currentStep: string | null;
  failedStep: string | null;
  failureReason: string | null;
  startedAt: Date;
  lastProgressAt: Date;
  endedAt: Date | null;
  durationMs: number | null;
  eventCount: number;
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
  kafka: { topic: string; partition: number; offset: number };
}
