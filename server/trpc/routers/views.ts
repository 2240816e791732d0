// Saved views: named filters of the saga list and the audit log, private or shared with the
// team, with their counts; and the view a user lands on.

import "server-only";
import { performAction } from "../../actions/perform-action.ts";
import { applyViewAction, describeViewAction, ViewActionSchema } from "../../actions/view-actions.ts";
import { landingHref, listViews, VIEW_COUNT_CAP } from "../../dashboard/views/read-views.ts";
import { actionProcedure, publicProcedure, router } from "../init.ts";

export const viewsRouter = router({
  list: publicProcedure.query(({ ctx }) => {
    const actor = ctx.auth?.actor;
    return actor ? listViews(ctx.pool, actor) : { views: [], countCap: VIEW_COUNT_CAP };
  }),

  /** Where the signed-in user lands: their landing view, or null for the overview. */
  landing: publicProcedure.query(async ({ ctx }) => {
    const actor = ctx.auth?.actor;
    return { href: actor ? await landingHref(ctx.pool, actor) : null };
  }),

  act: actionProcedure.input(ViewActionSchema).mutation(async ({ ctx, input }) => {
    const described = await describeViewAction(ctx.pool, ctx.actor, input);
    return performAction(ctx.pool, ctx.actor, { ...described, idempotencyKey: input.idempotencyKey }, () =>
      applyViewAction(ctx.pool, ctx.actor, input),
    );
  }),
});
