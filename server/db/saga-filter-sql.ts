// The saga list's filter as SQL over saga_summary, in one place for everything that selects
// sagas by it: the list and its count, saved views' counts, bulk operations' targets.
import { type SagaFilter, timeWindow } from "../../browser-safe/saga-filter.ts";
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

/**
 * The sagas a statement reads instead of saga_summary when its service is rare (see
 * rare-service.ts): that service's sagas alone, found through the GIN index, for the statement
 * to filter, order and page as it would the table. MATERIALIZED, or the planner folds it back
 * into a walk of the list's order. Pushes its parameter after those already in `args`.
 */
export function rareServiceSagas(service: string, args: unknown[]): { with: string; from: string } {
  args.push(service);
  return {
    with: `WITH rare_service_saga AS MATERIALIZED (
      SELECT * FROM saga_summary WHERE services @> ARRAY[$${args.length}]::text[]) `,
    from: "rare_service_saga",
  };
}

/**
 * Filters that never meet (a type and a service it never involved, a type and the other mode,
 * a mode and a service only the other mode's types involve): nothing can match, and proving
 * it by query would read every saga. Decided from the vocabulary the ingester keeps.
 */
export async function cannotMatch(db: Db, filter: SagaFilter): Promise<boolean> {
  const { sagaType, mode, service } = filter;
  if (!service && !(sagaType && mode)) return false;
  if (!sagaType && !mode) return false;
  // The types the filter allows that have the service and the mode it asks for: none, no match.
  const { rows } = await db.query(
    `SELECT 1 FROM saga_vocabulary t
     WHERE t.kind = 'saga_type' AND ($1::text IS NULL OR t.value = $1)
       AND ($2::text IS NULL OR EXISTS (
         SELECT 1 FROM saga_vocabulary m WHERE m.kind = 'type_mode' AND m.value = t.value || '/' || $2))
       AND ($3::text IS NULL OR EXISTS (
         SELECT 1 FROM saga_vocabulary s WHERE s.kind = 'type_service' AND s.value = t.value || '/' || $3))
     LIMIT 1`,
    [sagaType ?? null, mode ?? null, service ?? null],
  );
  return rows.length === 0;
}
