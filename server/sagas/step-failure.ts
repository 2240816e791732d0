// How a step tells the runtime what kind of failure it had: business failures are
// expected and compensated at once; transient ones are retried first.
import type { Failure } from "../events/index.ts";

export class StepFailure extends Error {
  override name = "StepFailure";
  constructor(
    readonly category: Failure["category"],
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }

  static business(message: string, code?: string) {
    return new StepFailure("business", message, code);
  }

  static transient(message: string, code?: string) {
    return new StepFailure("transient", message, code);
  }
}

/** Any thrown value as a contract failure; unknown errors count as transient. */
export function asFailure(error: unknown): Failure {
  if (error instanceof StepFailure) {
    return { category: error.category, message: error.message, ...(error.code ? { code: error.code } : {}) };
  }
  return { category: "transient", message: error instanceof Error ? error.message : String(error) };
}
