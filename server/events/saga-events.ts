// The saga event types of the contract and the zod schema of each one's `data`.
import { z } from "zod";
import { ControlActionSchema, controlEventSchemas } from "./control-events.ts";

import { name, SagaRef } from "./saga-ref.ts";

export { type SagaMode, SagaModeSchema } from "./saga-ref.ts";

const StepRef = SagaRef.extend({
  step: name.describe("Name of the step, unique within the saga type"),
  stepIndex: z.number().int().min(0).max(10_000).describe("Position of the step in the definition, from 0"),
  service: name.describe("The service that owns the step"),
  attempt: z.number().int().min(1).default(1).describe("1 for the first try, 2 for the first retry, …"),
});

export const FailureSchema = z.object({
  category: z
    .enum(["business", "transient", "timeout"])
    .describe("business: expected, compensate without retry; transient: retry, then compensate"),
  message: z.string().max(4000),
  code: z.string().max(200).optional(),
});
export type Failure = z.infer<typeof FailureSchema>;

const timeoutMs = z
  .number()
  .int()
  .positive()
  .max(86_400_000)
  .describe("How long this attempt may take; past it (and a grace period) the saga is reported stuck");
const durationMs = z.number().min(0).describe("Milliseconds the step, compensation or saga took");
const payload = z.record(z.string(), z.unknown());

export const sagaEventDataSchemas = {
  "io.sagascope.saga.started": SagaRef.extend({
    steps: z
      .array(z.object({ name, service: name }))
      .min(1)
      .describe("The planned steps, in order"),
    businessKey: z.string().max(200).optional().describe("A key operators search by, e.g. an order number"),
    input: payload.optional(),
    controls: z
      .array(ControlActionSchema)
      .max(ControlActionSchema.options.length)
      .optional()
      .describe(
        "The operators' commands the saga's runtime answers. Declared: the dashboard refuses the others at once, and an orchestrated saga's commands wait for its orchestrator however long it is down. Not declared: every command is sent, and one unanswered within the answer deadline is settled by its silence",
      ),
  }),
  "io.sagascope.saga.step.started": StepRef.extend({ timeoutMs: timeoutMs.optional() }),
  "io.sagascope.saga.step.succeeded": StepRef.extend({
    durationMs,
    output: payload.optional(),
    next: z
      .object({
        step: name,
        service: name,
        timeoutMs: timeoutMs.describe("How long the next step's owner may take to answer, from this event"),
      })
      .optional()
      .describe(
        "The step that follows and its deadline, announced by a choreography participant as it hands the saga on: a silence past it is reported at the deadline",
      ),
  }),
  "io.sagascope.saga.step.failed": StepRef.extend({
    durationMs,
    error: FailureSchema,
    willRetry: z.boolean().describe("True when the runtime will try the step again"),
  }),
  "io.sagascope.saga.compensation.started": StepRef.extend({ timeoutMs: timeoutMs.optional() }),
  "io.sagascope.saga.compensation.succeeded": StepRef.extend({ durationMs }),
  "io.sagascope.saga.compensation.failed": StepRef.extend({ durationMs, error: FailureSchema }),
  "io.sagascope.saga.completed": SagaRef.extend({ durationMs }),
  "io.sagascope.saga.aborted": SagaRef.extend({
    durationMs,
    reason: z.string().max(4000),
    failedStep: name.optional(),
    compensated: z.boolean().describe("False when a compensation failed and the saga needs an operator"),
  }),
  "io.sagascope.saga.timed_out": StepRef.extend({ timeoutMs }),
  // Commands and their results name the saga too, so they are stored in its history.
  ...controlEventSchemas,
} as const;

export type SagaEventType = keyof typeof sagaEventDataSchemas;
export const SAGA_EVENT_TYPES = Object.keys(sagaEventDataSchemas) as SagaEventType[];
export type SagaEventData<T extends SagaEventType = SagaEventType> = z.infer<
  (typeof sagaEventDataSchemas)[T]
>;
/** Data as a producer writes it (defaults such as `attempt` may be left out). */
export type SagaEventDataInput<T extends SagaEventType> = z.input<(typeof sagaEventDataSchemas)[T]>;

export function isSagaEventType(type: string): type is SagaEventType {
  return Object.hasOwn(sagaEventDataSchemas, type);
}
