// The read side of the projections: every projection (built-in, declared, reporting) with
// its lag now and over time, the built-in order view with its freshness, and "has the read
// model seen this?".
import "server-only";
import { z } from "zod";
import { LAG_RANGES, type LagRange, readLagHistory } from "../../dashboard/projections/lag-history.ts";
import { latestLag, listProjections } from "../../dashboard/projections/projection-list.ts";
import { readProjection } from "../../dashboard/projections/read-projections.ts";
import { lookupSeen } from "../../dashboard/projections/seen-lookup.ts";
import { publicProcedure, router } from "../init.ts";

const ranges = Object.keys(LAG_RANGES) as [LagRange, ...LagRange[]];

export const projectionsRouter = router({
  overview: publicProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).default(50) }).optional())
    .query(({ ctx, input }) => readProjection(ctx.pool, ctx.prisma, input?.limit ?? 50)),

  list: publicProcedure.query(({ ctx }) => listProjections(ctx.pool)),

  /** One projection's latest checkpoint, partition by partition. */
  lag: publicProcedure
    .input(z.object({ projection: z.string().min(1).max(200) }))
    .query(({ ctx, input }) => latestLag(ctx.pool, input.projection)),

  lagHistory: publicProcedure
    .input(
      z.object({ range: z.enum(ranges).default("15m"), projection: z.string().min(1).max(200).optional() }),
    )
    .query(({ ctx, input }) => readLagHistory(ctx.pool, input.range, Date.now(), input.projection)),

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
