// The saga list: newest first, filtered (see saga-filter.ts), paginated by keyset cursor
// so that a page costs the same at the millionth row as at the first. Plain SQL, so that
// each filter meets the index planned for it (docs/dashboard-performance.md).
import type { Pool } from "../../db/pool.ts";
import { isDerivedTrace } from "../../events/envelope.ts";
import { decodeCursor, encodeCursor } from "./saga-cursor.ts";
import type { SagaListItem } from "./saga-dto.ts";
import { type SagaFilter, timeWindow } from "./saga-filter.ts";

export interface ListSagasInput extends SagaFilter {
  limit: number;
  cursor?: string | undefined;
}

export interface SagaPage {
  items: SagaListItem[];
  nextCursor: string | null;
}

type Db = Pick<Pool, "query">;

/** saga_summary's columns under the names the list item uses. */
export const SUMMARY_COLUMNS = `saga_id AS "sagaId", saga_type AS "sagaType", mode, status, trace_id AS "traceId",
  business_key AS "businessKey", current_step AS "currentStep", failed_step AS "failedStep",
  failure_reason AS "failureReason", started_at AS "startedAt", last_progress_at AS "lastProgressAt",
  ended_at AS "endedAt", event_count AS "eventCount", progress_expected_by AS "progressExpectedBy",
  progress_expectation AS "progressExpectation", stuck, stuck_reason AS "stuckReason",
  waiting_on AS "waitingOn", services`;

export type SummaryRecord = Omit<SagaListItem, "durationMs">;

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

export async function listSagas(db: Db, input: ListSagasInput): Promise<SagaPage> {
  // A type and a service that never met: nothing can match, and proving it would read every saga.
  if (input.sagaType && input.service) {
    const met = await db.query("SELECT 1 FROM saga_vocabulary WHERE kind = 'type_service' AND value = $1", [
      `${input.sagaType}/${input.service}`,
    ]);
    if (met.rows.length === 0) return { items: [], nextCursor: null };
  }
  const { sql, args } = filterClause(input);
  let keyset = "";
  if (input.cursor) {
    const cursor = decodeCursor(input.cursor);
    args.push(cursor.startedAt, cursor.sagaId);
    keyset = ` AND (started_at, saga_id) < ($${args.length - 1}, $${args.length})`;
  }
  args.push(input.limit + 1);
  const { rows } = await db.query<SummaryRecord>(
    `SELECT ${SUMMARY_COLUMNS} FROM saga_summary WHERE ${sql}${keyset}
     ORDER BY started_at DESC, saga_id DESC LIMIT $${args.length}`,
    args,
  );
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    items: page.map(toListItem),
    nextCursor: rows.length > input.limit && last ? encodeCursor(last) : null,
  };
}

export function toListItem(row: SummaryRecord): SagaListItem {
  const traceId = row.traceId.trim();
  return {
    ...row,
    traceId,
    traceDerived: isDerivedTrace(row.sagaId, traceId),
    durationMs: row.endedAt ? row.endedAt.getTime() - row.startedAt.getTime() : null,
  };
}

export interface SagaVocabulary {
  sagaTypes: string[];
  services: string[];
  steps: string[];
}

/** The saga types, services and steps seen so far: the list's filter choices. */
export async function listSagaVocabulary(db: Db): Promise<SagaVocabulary> {
  const { rows } = await db.query<{ kind: string; value: string }>(
    "SELECT kind, value FROM saga_vocabulary WHERE kind <> 'type_service' ORDER BY kind, value LIMIT 3000",
  );
  const of = (kind: string) => rows.filter((r) => r.kind === kind).map((r) => r.value);
  return { sagaTypes: of("saga_type"), services: of("service"), steps: of("step") };
}
