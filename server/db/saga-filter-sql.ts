// The saga list's filter as SQL over saga_summary, in one place for everything that selects
// sagas by it: the list and its count, saved views' counts, bulk operations' targets.
import { type SagaFilter, timeWindow } from "../dashboard/sagas/saga-filter.ts";
import type { Pool } from "./pool.ts";

type Db = Pick<Pool, "query">;

/** The WHERE clause of a filter and its parameters (shared by the list and its count). */
export function filterClause(filter: SagaFilter, now = Date.now()): { sql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const arg = (value: unknown) => {
    args.push(value);
    return `$${args.length}`;
  };
  if (filter.status) where.push(`status = ${arg(filter.status)}::saga_status`);
  if (filter.stuck !== undefined) where.push(`stuck = ${arg(filter.stuck)}`);
  if (filter.waitingOn) where.push(`waiting_on = ${arg(filter.waitingOn)}`);
  if (filter.sagaType) where.push(`saga_type = ${arg(filter.sagaType)}`);
  if (filter.mode) where.push(`mode = ${arg(filter.mode)}::saga_mode`);
  if (filter.service) where.push(`services @> ARRAY[${arg(filter.service)}]::text[]`);
  if (filter.step) where.push(`coalesce(current_step, failed_step) = ${arg(filter.step)}`);
  const window = timeWindow(filter, now);
  if (window.from) where.push(`started_at >= ${arg(window.from)}`);
  if (window.to) where.push(`started_at < ${arg(window.to)}`);
  const search = filter.search?.trim();
  if (search) {
    // trace_id is char(32): compared as such, or its index is not used.
    const trace = /^[0-9a-fA-F]{32}$/.test(search)
      ? ` OR trace_id = ${arg(search.toLowerCase())}::bpchar`
      : "";
    const text = arg(search);
    where.push(`(saga_id = ${text} OR business_key = ${text}${trace})`);
  }
  return { sql: where.length ? where.join(" AND ") : "true", args };
}

/** A type and a service that never met: nothing can match, and proving it by query would read every saga. */
export async function cannotMatch(db: Db, filter: SagaFilter): Promise<boolean> {
  if (!filter.sagaType || !filter.service) return false;
  const met = await db.query("SELECT 1 FROM saga_vocabulary WHERE kind = 'type_service' AND value = $1", [
    `${filter.sagaType}/${filter.service}`,
  ]);
  return met.rows.length === 0;
}
