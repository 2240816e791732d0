// How a caller judges an outcome: a success, a business refusal (the callee is healthy: it
// does not count against it), or a failure that counts (errors, timeouts, unavailable).
import { isBusinessStatus } from "../grpc/failure-status.ts";
import { StepFailure } from "../sagas/step-failure.ts";

export type Outcome = "success" | "business" | "failure";
export type Classifier = (error: unknown) => Exclude<Outcome, "success">;

/** The default for gRPC callers: refusals by status code (or StepFailure category) are business. */
export const defaultClassifier: Classifier = (error) => {
  if (error instanceof StepFailure) return error.category === "business" ? "business" : "failure";
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "number" && isBusinessStatus(code)) return "business";
  return "failure";
};
