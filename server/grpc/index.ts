// gRPC helpers any Sagascope-watched Node service can use: proto loading, trace context
// in metadata, and step failures mapped to and from status codes.
export { fromServiceError, toServiceError } from "./failure-status.ts";
export { loadProto } from "./load-proto.ts";
export { traceMetadata, traceparentOf } from "./trace-metadata.ts";
export { callUnary } from "./unary.ts";
