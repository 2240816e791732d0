// The step an event is about, lifted out of its data: what the store keeps in columns and
// what a trace's spans are named by (null for saga-level events).
import type { SagaEvent } from "./saga-event-codec.ts";

export function stepOf(event: Pick<SagaEvent, "data">): {
  step: string | null;
  stepIndex: number | null;
  service: string | null;
} {
  const d = event.data as Record<string, unknown>;
  return {
    step: typeof d.step === "string" ? d.step : null,
    stepIndex: typeof d.stepIndex === "number" ? d.stepIndex : null,
    service: typeof d.service === "string" ? d.service : null,
  };
}
