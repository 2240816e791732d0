// The event contract shared by every process: CloudEvents reading and writing, saga event schemas, topics, keys.
export * from "./breaker-control.ts";
export * from "./breaker-events.ts";
export * from "./cloudevent-limits.ts";
export * from "./cloudevent-read.ts";
export * from "./cloudevent-write.ts";
export * from "./control-events.ts";
export * from "./derived-trace.ts";
export * from "./domain-event.ts";
export * from "./projection-events.ts";
export * from "./saga-event-codec.ts";
export * from "./saga-events.ts";
export * from "./step-of.ts";
export * from "./topics.ts";
export * from "./trace-context.ts";
