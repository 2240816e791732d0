// Control commands an operator sends to a saga's owner, and the owner's answer. They travel
// on the control topic keyed by saga id, so one saga's commands stay in order.
import { z } from "zod";
import { name, SagaRef } from "./saga-ref.ts";

export const ControlActionSchema = z
  .enum(["compensate", "retry-step", "retry-from", "mark-resolved", "pause", "resume"])
  .describe(
    "compensate: revert the landed steps now; retry-step: try the failed or waiting step (or failed compensations) again now; retry-from: re-run from step `fromStep`; mark-resolved: stop driving the saga, an operator has handled it; pause: start no new step or compensation of the saga (what is in flight finishes) until resume; resume: go on where the saga stopped",
  );
export type ControlAction = z.infer<typeof ControlActionSchema>;

/** How an answer or a refusal names a saga's pause, in every runtime and on the dashboard. */
export const describePause = (pause: { by: string; since: Date }) =>
  `the saga is paused (by ${pause.by} since ${pause.since.toISOString()})`;

const commandId = name.describe("Idempotency key: a command published twice with one id acts once");

/** The largest edited input a command carries, as JSON. */
export const EDITED_INPUT_MAX_BYTES = 16_384;
const editedInput = z.record(z.string(), z.unknown()).check((ctx) => {
  if (Buffer.byteLength(JSON.stringify(ctx.value)) > EDITED_INPUT_MAX_BYTES)
    ctx.issues.push({
      code: "custom",
      message: `an edited input is ${EDITED_INPUT_MAX_BYTES} bytes of JSON at most`,
      input: ctx.value,
    });
});

export const controlEventSchemas = {
  "io.sagascope.control.command": SagaRef.extend({
    commandId,
    action: ControlActionSchema,
    fromStep: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .optional()
      .describe("retry-from only: the index of the first step to run again"),
    reason: z.string().max(2000).optional().describe("Why; required for mark-resolved"),
    requestedBy: name.optional().describe("Who asked, as the operator's identity"),
    input: editedInput
      .optional()
      .describe(
        "retry-step only: the saga's input to use from now on (an operator's edit), checked by the owner against the saga's input schema where it has one",
      ),
  }).check((ctx) => {
    const d = ctx.value as { action: ControlAction; fromStep?: number; reason?: string; input?: unknown };
    if (d.input !== undefined && d.action !== "retry-step")
      ctx.issues.push({
        code: "custom",
        message: "only retry-step takes an input",
        input: d,
        path: ["input"],
      });
    if (d.action === "retry-from" && d.fromStep === undefined)
      ctx.issues.push({ code: "custom", message: "retry-from needs fromStep", input: d, path: ["fromStep"] });
    if (d.action === "mark-resolved" && !d.reason?.trim())
      ctx.issues.push({
        code: "custom",
        message: "mark-resolved needs a reason",
        input: d,
        path: ["reason"],
      });
  }),
  "io.sagascope.control.result": SagaRef.extend({
    commandId,
    action: ControlActionSchema,
    outcome: z
      .enum(["done", "refused"])
      .describe("refused: the saga's state does not allow it (see message)"),
    message: z.string().max(4000).describe("What was done, or why it was refused"),
    handledBy: name.describe("The service that obeyed or refused"),
    requestedBy: name
      .optional()
      .describe("Who asked, copied from the command (the dashboard shows who paused a saga)"),
    input: editedInput
      .optional()
      .describe("The saga's input from now on, when the command changed it (retry-step with an edit)"),
  }),
};
