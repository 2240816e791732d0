// Refusals that never reach an action's own audit (no session, no CSRF token or origin, input
// that does not validate, the fault panel outside demo mode) go on the audit log as denied,
// so that probing is on record. Bounded per process: at most REFUSALS_ITEMIZED_PER_MINUTE are
// itemized a minute; the rest are counted, and the next itemized entry says how many.

import { appendAudit, newActionId } from "../audit/audit-log.ts";
import type { Pool } from "../db/pool.ts";

export const REFUSALS_ITEMIZED_PER_MINUTE = 120;

export interface Refusal {
  /** The signed-in user's email, or "anonymous". */
  actor: string;
  actorRole: string;
  /** What was asked: the tRPC path ("actions.breaker") or the route ("sign-in"). */
  action: string;
  target?: string;
  why: string;
}

let windowStart = 0;
let itemized = 0;
let notItemized = 0;

export async function auditRefusal(
  db: Pick<Pool, "query">,
  refusal: Refusal,
  now = Date.now(),
): Promise<void> {
  if (now - windowStart >= 60_000) {
    windowStart = now;
    itemized = 0;
  }
  if (itemized >= REFUSALS_ITEMIZED_PER_MINUTE) {
    notItemized += 1;
    return;
  }
  itemized += 1;
  const skipped = notItemized;
  notItemized = 0;
  await appendAudit(
    db,
    {
      actionId: newActionId(),
      actor: refusal.actor,
      actorRole: refusal.actorRole,
      action: refusal.action,
      target: refusal.target ?? "",
      params: {},
      idempotencyKey: null,
    },
    "denied",
    skipped > 0 ? `${refusal.why} (and ${skipped} more refusals before it, not itemized)` : refusal.why,
  );
}
