// An admin declares a consumer group to be a projection (its lag then shows on the
// projections page), or forgets a declaration.
import { z } from "zod";
import {
  DeclarationSchema,
  declareProjection,
  ProjectionNameSchema,
  undeclareProjection,
} from "../projections/declared-projections.ts";
import type { Acting } from "./acting.ts";
import { type ActionStatus, performAction } from "./perform-action.ts";

const idempotencyKey = z.string().min(8).max(200);

export const ProjectionActionSchema = z.discriminatedUnion("op", [
  DeclarationSchema.extend({ op: z.literal("declare"), idempotencyKey }),
  z.object({ op: z.literal("undeclare"), name: ProjectionNameSchema, idempotencyKey }),
]);
export type ProjectionAction = z.infer<typeof ProjectionActionSchema>;

export function actOnProjection(a: Acting, input: ProjectionAction): Promise<ActionStatus> {
  return performAction(
    a.pool,
    a.actor,
    {
      action: `projection.${input.op}`,
      permission: "projection.declare",
      target: `projection:${input.name}`,
      params: input.op === "declare" ? { groupId: input.groupId, topics: input.topics } : {},
      idempotencyKey: input.idempotencyKey,
    },
    async () => {
      const outcome =
        input.op === "declare"
          ? await declareProjection(a.pool, input, a.actor.email)
          : await undeclareProjection(a.pool, input.name);
      return { phase: outcome.done ? "done" : "refused", message: outcome.message };
    },
  );
}
