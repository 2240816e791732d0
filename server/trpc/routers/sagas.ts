// Saga views: the list, one saga, and live change notifications (server-sent events).
import "server-only";
import { z } from "zod";
import { SagaFilterSchema } from "../../../browser-safe/saga-filter.ts";
import { listSagas, listSagaVocabulary } from "../../dashboard/sagas/list-sagas.ts";
import {
  EVENT_PAGE_SIZE,
  getSagaDetail,
  getSagaEventPage,
  MAX_DETAIL_EVENTS,
} from "../../dashboard/sagas/saga-detail.ts";
import { publicProcedure, router } from "../init.ts";
import { whileSignedIn } from "../live-session.ts";

export const sagasRouter = router({
  list: publicProcedure
    .input(
      z.object({
        limit: z.number().int().min(1).max(200).default(50),
        cursor: z.string().max(500).nullish(),
        filter: SagaFilterSchema.default({}),
      }),
    )
    .query(({ ctx, input }) =>
      listSagas(ctx.pool, { ...input.filter, limit: input.limit, cursor: input.cursor ?? undefined }),
    ),

  /** The saga types, services and steps seen so far (the list's filter choices). */
  vocabulary: publicProcedure.query(({ ctx }) => listSagaVocabulary(ctx.pool)),

  byId: publicProcedure
    .input(z.object({ sagaId: z.string().min(1).max(200) }))
    .query(({ ctx, input }) => getSagaDetail(ctx, input.sagaId)),

  /** Further pages of a saga's events table (the first comes with byId); `cursor` is the offset. */
  events: publicProcedure
    .input(
      z.object({
        sagaId: z.string().min(1).max(200),
        cursor: z.number().int().min(0).max(MAX_DETAIL_EVENTS).nullish(),
        limit: z.number().int().min(1).max(EVENT_PAGE_SIZE).default(EVENT_PAGE_SIZE),
      }),
    )
    .query(({ ctx, input }) =>
      getSagaEventPage(ctx, input.sagaId, input.cursor ?? EVENT_PAGE_SIZE, input.limit),
    ),

  /** Saga ids that changed; with `sagaId`, only changes of that saga. */
  onChange: publicProcedure
    .input(z.object({ sagaId: z.string().min(1).max(200).optional() }).optional())
    .subscription(async function* ({ ctx, input, signal }) {
      for await (const change of whileSignedIn(ctx.auth, signal, (s) => ctx.sagaChanges.stream(s))) {
        const wanted = input?.sagaId;
        if (!wanted || change.sagaIds === "*" || change.sagaIds.includes(wanted)) yield change;
      }
    }),
});
