// Alert rules: what to watch, how long it must hold before it fires (`forSeconds`) and be gone
// before it resolves (`holdSeconds`: no flapping), and how loud it is. They come from the
// alerts file (SAGASCOPE_ALERT_RULES_FILE, JSON, kept in step at every start of the process
// that evaluates them) and are stored in Postgres, where the alerts page reads them.
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Pool } from "../db/pool.ts";

export const MAX_ALERT_RULES = 200;

const base = {
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, "lower-case letters, digits, '.', '_' or '-'"),
  severity: z.enum(["info", "warning", "critical"]).default("warning"),
  forSeconds: z.number().int().min(0).max(86_400).default(0),
  holdSeconds: z.number().int().min(0).max(86_400).default(60),
};

export const AlertRuleSchema = z.discriminatedUnion("kind", [
  z.object({
    ...base,
    kind: z.literal("stuck_sagas"),
    /** Per saga type; only this type when given. */
    params: z.object({
      sagaType: z.string().min(1).max(200).optional(),
      atLeast: z.number().int().min(1).default(1),
    }),
  }),
  z.object({
    ...base,
    kind: z.literal("breaker_open"),
    /** Open, half-open or forced by an operator; only this pair when given. */
    params: z.object({ pair: z.string().min(1).max(400).optional() }).default({}),
  }),
  z.object({
    ...base,
    kind: z.literal("projection_lag"),
    params: z.object({
      projection: z.string().min(1).max(200).optional(),
      seconds: z.number().positive().max(86_400),
    }),
  }),
  z.object({
    ...base,
    kind: z.literal("consumer_lag"),
    /**
     * Messages a consumer group of this deployment has not consumed yet (all its partitions);
     * only this group when given. Lag in seconds is the projection_lag rule's, for a group
     * declared as a projection.
     */
    params: z.object({
      group: z.string().min(1).max(255).optional(),
      messages: z.number().int().min(1).max(1_000_000_000_000),
    }),
  }),
  z.object({
    ...base,
    kind: z.literal("dead_letters"),
    /** New letters within the window. */
    params: z.object({
      atLeast: z.number().int().min(1).default(1),
      windowSeconds: z.number().int().min(10).max(86_400).default(300),
    }),
  }),
  z.object({
    ...base,
    kind: z.literal("saga_failure_rate"),
    params: z.object({
      sagaType: z.string().min(1).max(200).optional(),
      /** Share of ended sagas that compensated or failed (0–1). */
      rate: z.number().gt(0).max(1),
      windowSeconds: z.number().int().min(10).max(86_400).default(600),
      minimumSagas: z.number().int().min(1).default(10),
    }),
  }),
]);
export type AlertRule = z.infer<typeof AlertRuleSchema>;

export const AlertFileSchema = z
  .object({ rules: z.array(AlertRuleSchema).max(MAX_ALERT_RULES) })
  .refine((f) => new Set(f.rules.map((r) => r.id)).size === f.rules.length, "two rules have the same id");

export function readAlertFile(path: string): AlertRule[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`the alerts file ${path} cannot be read as JSON: ${(error as Error).message}`);
  }
  const parsed = AlertFileSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(
      `the alerts file ${path}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  return parsed.data.rules;
}

type Db = Pick<Pool, "query">;

/** The file's rules replace the earlier file's; an admin's stay. */
export async function syncFileRules(db: Db, rules: AlertRule[]): Promise<void> {
  await db.query(
    `WITH wanted AS (SELECT * FROM json_to_recordset($1::json)
       AS w(id text, kind text, params jsonb, severity text, "forSeconds" int, "holdSeconds" int)),
     gone AS (DELETE FROM alert_rule WHERE origin = 'file' AND id NOT IN (SELECT id FROM wanted))
     INSERT INTO alert_rule (id, kind, params, severity, for_seconds, hold_seconds, origin, updated_by)
     SELECT id, kind, params, severity, "forSeconds", "holdSeconds", 'file', 'alerts file' FROM wanted
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, params = excluded.params, severity = excluded.severity,
       for_seconds = excluded.for_seconds, hold_seconds = excluded.hold_seconds, origin = 'file',
       updated_by = 'alerts file', updated_at = now()`,
    [JSON.stringify(rules)],
  );
}

export interface StoredRule {
  rule: AlertRule;
  silencedUntil: Date | null;
}

export async function loadRules(db: Db): Promise<StoredRule[]> {
  const { rows } = await db.query<{
    id: string;
    kind: string;
    params: unknown;
    severity: string;
    for_seconds: number;
    hold_seconds: number;
    silenced_until: Date | null;
  }>("SELECT * FROM alert_rule ORDER BY id");
  return rows.flatMap((r) => {
    const parsed = AlertRuleSchema.safeParse({
      id: r.id,
      kind: r.kind,
      params: r.params,
      severity: r.severity,
      forSeconds: r.for_seconds,
      holdSeconds: r.hold_seconds,
    });
    return parsed.success ? [{ rule: parsed.data, silencedUntil: r.silenced_until }] : [];
  });
}
