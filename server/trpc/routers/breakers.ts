// The breakers: every caller→callee pair's live state, one pair's history, and a live feed of their changes.
import "server-only";
import { z } from "zod";
import { parsePairId } from "../../breakers/index.ts";
import { listBreakers } from "../../dashboard/breakers/list-breakers.ts";
import { HISTORY_RANGE_KEYS, readPairHistory } from "../../dashboard/breakers/pair-history.ts";
import { publicProcedure, router } from "../init.ts";
import { whileSignedIn } from "../live-session.ts";

export const breakersRouter = router({
  list: publicProcedure.query(({ ctx }) => listBreakers(ctx.breakerStore, ctx)),

  /** One pair's state band, stats per bucket and last transitions over a range (from Postgres). */
  history: publicProcedure
    .input(
      z.object({
        pair: z
          .string()
          .max(400)
          .refine((p) => parsePairId(p) !== undefined, {
            message: 'not a breaker pair: "caller→callee" or "caller→callee/operation"',
          }),
        range: z.enum(HISTORY_RANGE_KEYS).default("1h"),
      }),
    )
    .query(({ ctx, input }) => readPairHistory(ctx.pool, input.pair, input.range)),

  /** A tick whenever a breaker changed (and every couple of seconds for the window counters). */
  onChange: publicProcedure.subscription(async function* ({ ctx, signal }) {
    yield* whileSignedIn(ctx.auth, signal, (s) => ctx.breakerChanges.stream(s));
  }),
});
