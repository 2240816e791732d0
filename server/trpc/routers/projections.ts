// The read side of the fleet's projection: the order view with its freshness, and the lag.
import { z } from "zod";
import { readProjection } from "../../dashboard/projections/read-projections.ts";
import { publicProcedure, router } from "../init.ts";

export const projectionsRouter = router({
  overview: publicProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).default(50) }).optional())
    .query(({ ctx, input }) => readProjection(ctx.pool, ctx.prisma, input?.limit ?? 50)),
});
