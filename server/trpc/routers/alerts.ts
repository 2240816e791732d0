// The alerts page: rules, alerts firing and resolved, deliveries; and the rule actions
// (define and delete: admins; silence: operators), each through performAction.
import "server-only";
import { performAction } from "../../actions/perform-action.ts";
import { applyRuleAction, RuleActionSchema } from "../../alerts/alert-rule-actions.ts";
import { readAlerts } from "../../alerts/read-alerts.ts";
import { actionProcedure, publicProcedure, router } from "../init.ts";

export const alertsRouter = router({
  overview: publicProcedure.query(({ ctx }) => readAlerts(ctx.pool)),

  rule: actionProcedure.input(RuleActionSchema).mutation(({ ctx, input }) =>
    performAction(
      ctx.pool,
      ctx.actor,
      {
        action: `alerts.${input.op}`,
        permission: input.op === "silence" ? "alerts.silence" : "alerts.configure",
        target: `alert-rule:${input.op === "define" ? input.rule.id : input.id}`,
        params:
          input.op === "define"
            ? { rule: input.rule }
            : input.op === "silence"
              ? { minutes: input.minutes }
              : {},
        idempotencyKey: input.idempotencyKey,
      },
      async () => {
        const outcome = await applyRuleAction(ctx.pool, input, ctx.actor.email);
        return { phase: outcome.done ? "done" : "refused", message: outcome.message };
      },
    ),
  ),
});
