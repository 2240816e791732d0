// The breakers: every caller→callee pair's live state, and a live feed of their changes.
import { listBreakers } from "../../dashboard/breakers/list-breakers.ts";
import { publicProcedure, router } from "../init.ts";

export const breakersRouter = router({
  list: publicProcedure.query(({ ctx }) => listBreakers(ctx.breakerStore, ctx.prisma)),

  /** A tick whenever a breaker changed (and every couple of seconds for the window counters). */
  onChange: publicProcedure.subscription(async function* ({ ctx, signal }) {
    for await (const change of ctx.breakerChanges.stream(signal)) yield change;
  }),
});
