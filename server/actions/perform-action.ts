// Every operator action goes through here: the permission is checked (a refusal is audited
// and answered FORBIDDEN), the idempotency key makes a retry or a double click act once,
// the request and its outcome are audited, and the caller learns the action's status.
import { FINAL_PHASES, type Phase } from "../../browser-safe/audit-phases.ts";
import { type Actor, can, type Permission } from "../../browser-safe/roles.ts";
import {
  type AuditEntry,
  type AuditRecord,
  actionByIdempotencyKey,
  actionHistory,
  appendAudit,
  newActionId,
} from "../audit/audit-log.ts";
import type { Pool } from "../db/pool.ts";
import { AppError } from "../errors.ts";

export interface ActionRequest {
  action: string;
  permission: Permission;
  target: string;
  params: Record<string, unknown>;
  idempotencyKey: string;
}

/** What carrying out an action says: finished, or sent and waiting for the owner's answer. */
export type Outcome =
  | { phase: "done" | "refused" | "failed"; message: string }
  | { phase: "pending"; message: string };

export interface ActionStatus {
  actionId: string;
  action: string;
  target: string;
  phase: Phase;
  message: string;
  /** True when this answer is about an earlier request with the same idempotency key. */
  replayed: boolean;
  history: AuditEntry[];
}

type Db = Pick<Pool, "query">;

export async function statusOf(db: Db, actionId: string, replayed = false): Promise<ActionStatus> {
  const history = await actionHistory(db, actionId);
  const first = history[0];
  if (!first) throw new AppError("NOT_FOUND", `no action ${actionId} is on record`);
  const last = history.findLast((h) => FINAL_PHASES.has(h.phase)) ?? history.at(-1) ?? first;
  return {
    actionId,
    action: first.action,
    target: first.target,
    phase: last.phase,
    message: last.message,
    replayed,
    history,
  };
}

/**
 * An idempotency key means "this intent of mine": it is scoped to who sends it and what it
 * asks, so one user's key never reads or blocks another's request (or another action).
 */
export const scopedKey = (actor: Actor | null, action: string, key: string) =>
  `${actor?.email ?? "anonymous"}|${action}|${key}`;

export async function performAction(
  db: Db,
  actor: Actor | null,
  request: ActionRequest,
  carryOut: (actionId: string) => Promise<Outcome>,
): Promise<ActionStatus> {
  const idempotencyKey = scopedKey(actor, request.action, request.idempotencyKey);
  const earlier = await actionByIdempotencyKey(db, idempotencyKey);
  if (earlier) {
    const status = await statusOf(db, earlier, true);
    // A refused request stays refused when sent again.
    if (status.phase === "denied") throw new AppError("FORBIDDEN", `refused: ${status.message}`);
    return status;
  }
  const record: AuditRecord = {
    actionId: newActionId(),
    actor: actor?.email ?? "anonymous",
    actorRole: actor?.role ?? "none",
    action: request.action,
    target: request.target,
    params: request.params,
    idempotencyKey,
  };
  if (!actor || !can(actor.role, request.permission)) {
    const why = `${actor ? `the ${actor.role} role` : "an anonymous visitor"} may not ${request.action}`;
    await appendAudit(db, record, "denied", why);
    throw new AppError("FORBIDDEN", `refused: ${why}`);
  }
  // Two requests with one key racing: only one row per key can be "requested".
  if (!(await appendAudit(db, record, "requested"))) {
    const winner = await actionByIdempotencyKey(db, idempotencyKey);
    if (winner) return statusOf(db, winner, true);
  }
  let outcome: Outcome;
  try {
    outcome = await carryOut(record.actionId);
  } catch (error) {
    outcome = { phase: "failed", message: error instanceof Error ? error.message : String(error) };
  }
  await appendAudit(db, record, outcome.phase, outcome.message);
  return statusOf(db, record.actionId);
}

/** Records the owner's answer to a pending action (once; a second answer is ignored). */
export async function settleAction(
  db: Db,
  actionId: string,
  phase: "done" | "refused" | "failed",
  message: string,
): Promise<void> {
  const history = await actionHistory(db, actionId);
  const first = history[0];
  if (!first || history.some((h) => FINAL_PHASES.has(h.phase))) return;
  await appendAudit(db, first, phase, message);
}
