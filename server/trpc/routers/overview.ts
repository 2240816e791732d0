// The overview: sagas per minute, in flight and stuck, durations, breakers, projection lag, ingest rate.
import "server-only";
import { readOverview } from "../../dashboard/overview/read-overview.ts";
import { env } from "../../env.ts";
import { publicProcedure, router } from "../init.ts";

export const overviewRouter = router({
  get: publicProcedure.query(({ ctx }) =>
    readOverview(ctx.pool, ctx.breakerStore, env().SAGASCOPE_RETENTION_MONTHS),
  ),
});
