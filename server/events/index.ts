// The event contract shared by every process: envelope, saga event schemas, topics, keys.
export * from "./breaker-control.ts";
export * from "./breaker-events.ts";
export * from "./control-events.ts";
export * from "./domain-event.ts";
export * from "./envelope.ts";
export * from "./projection-events.ts";
export * from "./saga-events.ts";
export * from "./step-of.ts";
export * from "./topics.ts";
export * from "./trace-context.ts";
