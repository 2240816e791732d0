// What a caller does with a call its breaker refused: each call site picks one.
// - compensate: the saga step fails as a business failure, so the saga compensates now
//   instead of retrying against a callee known to be down;
// - queue: the step fails as a transient failure, so the saga runtime keeps it and tries
//   again after its backoff (the saga waits in its store until the breaker lets it through);
// - drop: the call is skipped and the caller goes on without it (`fallback` says with what);
//   with a time limit, a call slower than that is given up the same way (and counts as a failure).
import { StepFailure } from "../sagas/step-failure.ts";
import { type Breaker, BreakerOpenError, BreakerTimeoutError } from "./circuit-breaker.ts";

export type RejectionPolicy = "compensate" | "queue" | "drop";
export const BREAKER_OPEN_CODE = "BREAKER_OPEN";

export async function callWithPolicy<T>(
  breaker: Breaker,
  work: () => Promise<T>,
  policy: RejectionPolicy,
  fallback?: (rejection: BreakerOpenError | BreakerTimeoutError) => T,
  options?: { timeoutMs?: number },
): Promise<T> {
  try {
    return await breaker.call(work, options);
  } catch (error) {
    if (error instanceof BreakerTimeoutError && policy === "drop" && fallback) return fallback(error);
    if (!(error instanceof BreakerOpenError)) throw error;
    if (policy === "compensate") throw StepFailure.business(error.message, BREAKER_OPEN_CODE);
    if (policy === "queue") throw new StepFailure("transient", error.message, BREAKER_OPEN_CODE);
    if (!fallback) throw error;
    return fallback(error);
  }
}
