// The audit log: one row per phase of each operator action (requested, pending, done,
// failed, refused, denied), appended, never changed (a trigger refuses updates and deletes).
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { PHASES, type Phase } from "../../browser-safe/audit-phases.ts";
import { auditConditions } from "../db/audit-filter-sql.ts";
import type { Pool } from "../db/pool.ts";

type Db = Pick<Pool, "query">;

export interface AuditRecord {
  actionId: string;
  actor: string;
  actorRole: string;
  action: string;
  target: string;
  params: Record<string, unknown>;
  idempotencyKey: string | null;
}

export interface AuditEntry extends AuditRecord {
  id: number;
  at: Date;
  phase: Phase;
  message: string;
}

export const newActionId = () => randomUUID();

/** Appends one phase; false when that phase of that action is on record already. */
export async function appendAudit(db: Db, r: AuditRecord, phase: Phase, message = ""): Promise<boolean> {
  const result = await db.query(
    `INSERT INTO audit_entry (action_id, actor, actor_role, action, target, params, idempotency_key, phase, message)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
    [
      r.actionId,
      r.actor,
      r.actorRole,
      r.action,
      r.target,
      JSON.stringify(r.params),
      r.idempotencyKey,
      phase,
      message,
    ],
  );
  return (result.rowCount ?? 0) > 0;
}

const COLUMNS = `id, action_id AS "actionId", at, actor, actor_role AS "actorRole", action, target, params,
  idempotency_key AS "idempotencyKey", phase, message`;

/** Every phase of one action, oldest first. */
export async function actionHistory(db: Db, actionId: string): Promise<AuditEntry[]> {
  return (
    await db.query<AuditEntry>(`SELECT ${COLUMNS} FROM audit_entry WHERE action_id = $1 ORDER BY id`, [
      actionId,
    ])
  ).rows;
}

/** The action first requested with this idempotency key, if any. */
export async function actionByIdempotencyKey(db: Db, key: string): Promise<string | undefined> {
  const { rows } = await db.query<{ action_id: string }>(
    "SELECT action_id FROM audit_entry WHERE idempotency_key = $1 AND phase IN ('requested', 'denied') LIMIT 1",
    [key],
  );
  return rows[0]?.action_id;
}

export const AuditFilterSchema = z.object({
  actor: z.string().trim().max(200).optional(),
  action: z.string().trim().max(100).optional(),
  target: z.string().trim().max(300).optional(),
  phase: z.enum(PHASES).optional(),
  from: z.date().optional(),
  to: z.date().optional(),
});
export type AuditFilter = z.infer<typeof AuditFilterSchema>;

/** Newest first, filtered, by keyset (id) pages. */
export async function listAudit(
  db: Db,
  filter: AuditFilter,
  page: { limit: number; beforeId?: number | undefined },
): Promise<AuditEntry[]> {
  const args: unknown[] = [];
  const arg = (v: unknown) => {
    args.push(v);
    return `$${args.length}`;
  };
  const where = auditConditions(filter, arg);
  if (page.beforeId) where.push(`id < ${arg(page.beforeId)}`);
  const { rows } = await db.query<AuditEntry>(
    `SELECT ${COLUMNS} FROM audit_entry ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY id DESC LIMIT ${arg(page.limit)}`,
    args,
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
