// The audit log: every operator action and refusal, newest first, filterable.
import "server-only";
import { z } from "zod";
import { AuditFilterSchema, listAudit } from "../../audit/audit-log.ts";
import { publicProcedure, router } from "../init.ts";

export const auditRouter = router({
  list: publicProcedure
    .input(
      z.object({
        filter: AuditFilterSchema.default({}),
        limit: z.number().int().min(1).max(500).default(100),
        cursor: z.number().int().positive().nullish(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const items = await listAudit(ctx.pool, input.filter, {
        limit: input.limit,
        beforeId: input.cursor ?? undefined,
      });
      return { items, nextCursor: items.length === input.limit ? (items.at(-1)?.id ?? null) : null };
    }),
});
