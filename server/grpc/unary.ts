// A unary gRPC call as a promise, with a deadline, the trace context, and failures as StepFailures.
import type * as grpc from "@grpc/grpc-js";
import { fromServiceError } from "./failure-status.ts";
import { traceMetadata } from "./trace-metadata.ts";

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: Res) => void,
) => grpc.ClientUnaryCall;

export function callUnary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  { traceparent, deadlineMs }: { traceparent?: string; deadlineMs: number },
): Promise<Res> {
  const metadata = traceMetadata(traceparent);
  // A participant that is still starting (or restarting) is waited for, up to the deadline.
  metadata.setOptions({ waitForReady: true });
  return new Promise((resolve, reject) => {
    method(request, metadata, { deadline: new Date(Date.now() + deadlineMs) }, (error, response) => {
      if (error) reject(fromServiceError(error));
      else resolve(response as Res);
    });
  });
}
