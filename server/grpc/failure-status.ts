// Step failures across gRPC: a participant's StepFailure becomes a status code (plus its
// category and code in trailing metadata), and the caller turns the status back into a
// StepFailure, so business refusals are never retried and outages are.
import * as grpc from "@grpc/grpc-js";
import { StepFailure } from "../sagas/step-failure.ts";

const CATEGORY = "sagascope-failure-category";
const CODE = "sagascope-failure-code";

const BUSINESS_STATUSES = new Set<grpc.status>([
  grpc.status.FAILED_PRECONDITION,
  grpc.status.NOT_FOUND,
  grpc.status.ALREADY_EXISTS,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.OUT_OF_RANGE,
  grpc.status.PERMISSION_DENIED,
  grpc.status.UNAUTHENTICATED,
]);

/** A status that means the callee answered properly, with a refusal (not an outage). */
export const isBusinessStatus = (code: number) => BUSINESS_STATUSES.has(code as grpc.status);

/** Server side: what to send back for an error thrown by a handler. */
export function toServiceError(error: unknown): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (error instanceof StepFailure) {
    metadata.set(CATEGORY, error.category);
    if (error.code) metadata.set(CODE, error.code);
    const code =
      error.category === "business"
        ? grpc.status.FAILED_PRECONDITION
        : error.category === "timeout"
          ? grpc.status.DEADLINE_EXCEEDED
          : grpc.status.UNAVAILABLE;
    return { code, details: error.message, metadata };
  }
  metadata.set(CATEGORY, "transient");
  return {
    code: grpc.status.INTERNAL,
    details: error instanceof Error ? error.message : String(error),
    metadata,
  };
}

/** Client side: a failed call as the StepFailure the saga runtime understands. */
export function fromServiceError(error: grpc.ServiceError): StepFailure {
  const category = error.metadata?.get(CATEGORY)[0]?.toString();
  const code = error.metadata?.get(CODE)[0]?.toString();
  const message = error.details || error.message;
  if (category === "business" || (!category && BUSINESS_STATUSES.has(error.code))) {
    return new StepFailure("business", message, code);
  }
  if (error.code === grpc.status.DEADLINE_EXCEEDED)
    return new StepFailure("timeout", message, code ?? "DEADLINE_EXCEEDED");
  return new StepFailure("transient", message, code ?? grpc.status[error.code]);
}
