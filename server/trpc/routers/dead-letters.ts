// Quarantined messages: what the ingester refused, and why; counts per kind of reason; the
// preview of a bulk replay or discard (the actions themselves are in the actions router).
import "server-only";
import { z } from "zod";
import { DEAD_LETTER_STATES } from "../../../browser-safe/dead-letter-states.ts";
import { DeadLetterFilterSchema, previewDeadLetters } from "../../actions/dead-letter-actions.ts";
import { countOpenByReason, listDeadLetters } from "../../dashboard/dead-letters/list-dead-letters.ts";
import { DEFAULT_BULK_CAP } from "../../env.ts";
import { publicProcedure, router } from "../init.ts";

export const deadLettersRouter = router({
  list: publicProcedure
    .input(
      z.object({
        limit: z.number().int().min(1).max(200).default(50),
        cursor: z
          .string()
          .regex(/^\d{1,19}$/, "cursor must be a dead letter id")
          .nullish(),
        state: z.enum(DEAD_LETTER_STATES).default("all"),
        reason: z.string().trim().max(200).optional(),
      }),
    )
    .query(({ ctx, input }) =>
      listDeadLetters(ctx.prisma, {
        limit: input.limit,
        cursor: input.cursor ?? undefined,
        state: input.state,
        ...(input.reason ? { reason: input.reason } : {}),
      }),
    ),
  /** Open letters by kind of reason. */
  reasons: publicProcedure.query(({ ctx }) => countOpenByReason(ctx.pool)),
  /** What a bulk replay or discard with this filter would touch, against the cap. */
  preview: publicProcedure
    .input(DeadLetterFilterSchema)
    .query(({ ctx, input }) => previewDeadLetters(ctx.pool, input, ctx.actions?.bulkCap ?? DEFAULT_BULK_CAP)),
});
