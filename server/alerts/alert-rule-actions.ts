// What an admin does with alert rules on the page: define one (or change one defined there),
// delete one; and what an operator does: silence a rule for a while (its state is still
// followed, nothing is sent) or lift the silence. Rules from the alerts file are changed in
// the file; the answer says so.
import { z } from "zod";
import type { Pool } from "../db/pool.ts";
import { AlertRuleSchema, MAX_ALERT_RULES } from "./alert-rules.ts";

export const RuleActionSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("define"), rule: AlertRuleSchema, idempotencyKey: z.string().min(8).max(200) }),
  z.object({
    op: z.literal("delete"),
    id: z.string().min(1).max(100),
    idempotencyKey: z.string().min(8).max(200),
  }),
  z.object({
    op: z.literal("silence"),
    id: z.string().min(1).max(100),
    /** 0 lifts the silence. */
    minutes: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 60),
    idempotencyKey: z.string().min(8).max(200),
  }),
]);
export type RuleAction = z.infer<typeof RuleActionSchema>;

type Db = Pick<Pool, "query">;
type Outcome = { done: boolean; message: string };

const fileOwned = (id: string) =>
  `the rule "${id}" comes from the alerts file (SAGASCOPE_ALERT_RULES_FILE); change it there`;

export async function applyRuleAction(db: Db, action: RuleAction, by: string): Promise<Outcome> {
  if (action.op === "silence") {
    const { rowCount } = await db.query(
      "UPDATE alert_rule SET silenced_until = CASE WHEN $2 = 0 THEN NULL ELSE now() + make_interval(mins => $2) END WHERE id = $1",
      [action.id, action.minutes],
    );
    if (!rowCount) return { done: false, message: `no alert rule "${action.id}"` };
    return {
      done: true,
      message:
        action.minutes === 0
          ? `${action.id} speaks again`
          : `${action.id} silenced for ${action.minutes} min by ${by}`,
    };
  }
  const existing = await db.query<{ origin: string }>("SELECT origin FROM alert_rule WHERE id = $1", [
    action.op === "define" ? action.rule.id : action.id,
  ]);
  const origin = existing.rows[0]?.origin;
  if (origin === "file")
    return { done: false, message: fileOwned(action.op === "define" ? action.rule.id : action.id) };
  if (action.op === "delete") {
    if (!origin) return { done: false, message: `no alert rule "${action.id}"` };
    await db.query("DELETE FROM alert_rule WHERE id = $1 AND origin = 'dashboard'", [action.id]);
    return { done: true, message: `${action.id} deleted` };
  }
  const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM alert_rule");
  if (!origin && (rows[0]?.n ?? 0) >= MAX_ALERT_RULES)
    return { done: false, message: `at most ${MAX_ALERT_RULES} alert rules` };
  const r = action.rule;
  await db.query(
    `INSERT INTO alert_rule (id, kind, params, severity, for_seconds, hold_seconds, origin, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, 'dashboard', $7)
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, params = excluded.params, severity = excluded.severity,
       for_seconds = excluded.for_seconds, hold_seconds = excluded.hold_seconds, updated_by = excluded.updated_by,
       updated_at = now()`,
    [r.id, r.kind, JSON.stringify(r.params), r.severity, r.forSeconds, r.holdSeconds, by],
  );
  return {
    done: true,
    message: `${r.id} ${origin ? "changed" : "defined"}: ${r.kind.replaceAll("_", " ")}, ${r.severity}`,
  };
}
