// The circuit breaker's public entry: what any Node service (the demo fleet included) imports.
export {
  type BreakerConfig,
  BreakerConfigSchema,
  type BreakerPair,
  DEFAULT_BREAKER_CONFIG,
  FORCED_STATES,
  type ForcedState,
  pairId,
  parsePairId,
} from "../../browser-safe/breaker-config.ts";
export { createBreakerEventPublisher } from "./breaker-event-publisher.ts";
export type { BreakerSnapshot, BreakerStateName } from "./breaker-machine.ts";
export { type BreakerStore, createBreakerStore } from "./breaker-store.ts";
export {
  type Breaker,
  BreakerOpenError,
  type BreakerRegistry,
  BreakerTimeoutError,
  createBreakerRegistry,
  type PairStats,
} from "./circuit-breaker.ts";
export { type Classifier, defaultClassifier, type Outcome } from "./classify.ts";
export { BREAKER_OPEN_CODE, callWithPolicy, type RejectionPolicy } from "./rejection-policy.ts";
