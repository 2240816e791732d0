// The W3C traceparent travels in gRPC metadata under its standard name.
import * as grpc from "@grpc/grpc-js";

export function traceMetadata(traceparent: string | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (traceparent) metadata.set("traceparent", traceparent);
  return metadata;
}

export function traceparentOf(metadata: grpc.Metadata): string | undefined {
  return metadata.get("traceparent")[0]?.toString();
}
