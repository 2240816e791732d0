// The saga runtime's public entry: what any Node service (the demo fleet included) imports.
export {
  defineSaga,
  type RetryPolicy,
  type SagaDefinition,
  type StepContext,
  type StepDefinition,
} from "./definition.ts";
export { createKafkaEventSink } from "./kafka-event-sink.ts";
export { type OrchestratorDeps, runSaga, type SagaOutcome, type SagaRun } from "./orchestrator.ts";
export { asFailure, StepFailure } from "./step-failure.ts";
