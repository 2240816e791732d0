// Saga views: the list, one saga, and live change notifications (server-sent events).
import { z } from "zod";
import { listSagas, listSagaTypes } from "../../dashboard/sagas/list-sagas.ts";
import { getSagaDetail } from "../../dashboard/sagas/saga-detail.ts";
import { publicProcedure, router } from "../init.ts";

const SagaStatusSchema = z.enum([
  "running",
  "compensating",
  "completed",
  "compensated",
  "failed",
  "timed_out",
  "resolved",
]);

export const sagasRouter = router({
  list: publicProcedure
    .input(
      z.object({
        limit: z.number().int().min(1).max(200).default(50),
        cursor: z.string().max(500).nullish(),
        status: SagaStatusSchema.optional(),
        stuck: z.boolean().optional(),
        sagaType: z.string().min(1).max(200).optional(),
        mode: z.enum(["orchestrated", "choreographed"]).optional(),
        search: z.string().max(200).optional(),
      }),
    )
    .query(({ ctx, input }) =>
      listSagas(ctx.prisma, {
        limit: input.limit,
        cursor: input.cursor ?? undefined,
        status: input.status,
        stuck: input.stuck,
        sagaType: input.sagaType,
        mode: input.mode,
        search: input.search,
      }),
    ),

  types: publicProcedure.query(({ ctx }) => listSagaTypes(ctx.prisma)),

  byId: publicProcedure
    .input(z.object({ sagaId: z.string().min(1).max(200) }))
    .query(({ ctx, input }) => getSagaDetail(ctx.prisma, input.sagaId)),

  /** Saga ids that changed; with `sagaId`, only changes of that saga. */
  onChange: publicProcedure
    .input(z.object({ sagaId: z.string().min(1).max(200).optional() }).optional())
    .subscription(async function* ({ ctx, input, signal }) {
      for await (const change of ctx.sagaChanges.stream(signal)) {
        const wanted = input?.sagaId;
        if (!wanted || change.sagaIds === "*" || change.sagaIds.includes(wanted)) yield change;
      }
    }),
});
