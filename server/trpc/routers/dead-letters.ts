// Quarantined messages: what the ingester refused, and why.
import { z } from "zod";
import { listDeadLetters } from "../../dashboard/dead-letters/list-dead-letters.ts";
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
      }),
    )
    .query(({ ctx, input }) =>
      listDeadLetters(ctx.prisma, { limit: input.limit, cursor: input.cursor ?? undefined }),
    ),
});
