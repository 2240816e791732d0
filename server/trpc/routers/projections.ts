// The read side of the fleet's projection: the order view with its freshness, the lag now
// and over time, and "has the read model seen this?".
import { z } from "zod";
import { LAG_RANGES, type LagRange, readLagHistory } from "../../dashboard/projections/lag-history.ts";
import { readProjection } from "../../dashboard/projections/read-projections.ts";
import { lookupSeen } from "../../dashboard/projections/seen-lookup.ts";
import { publicProcedure, router } from "../init.ts";

const ranges = Object.keys(LAG_RANGES) as [LagRange, ...LagRange[]];

export const projectionsRouter = router({
  overview: publicProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).default(50) }).optional())
    .query(({ ctx, input }) => readProjection(ctx.pool, ctx.prisma, input?.limit ?? 50)),

  lagHistory: publicProcedure
    .input(z.object({ range: z.enum(ranges).default("15m") }))
    .query(({ ctx, input }) => readLagHistory(ctx.pool, input.range)),

  /** For a change's event id, an aggregate id, a saga id or topic:partition:offset. */
  seen: publicProcedure
    .input(
      z.object({
        query: z
          .string()
          .trim()
          .min(1, "type an event id, saga id, aggregate id or topic:partition:offset")
          .max(300),
      }),
    )
    .query(({ ctx, input }) => lookupSeen(ctx.pool, input.query)),
});
