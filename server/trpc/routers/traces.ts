// Traces: every event of every service for one trace id.
import "server-only";
import { z } from "zod";
import { readTrace } from "../../dashboard/traces/read-trace.ts";
import { publicProcedure, router } from "../init.ts";

export const tracesRouter = router({
  byId: publicProcedure
    .input(z.object({ traceId: z.string().min(1).max(64) }))
    .query(({ ctx, input }) => readTrace(ctx.pool, input.traceId)),
});
