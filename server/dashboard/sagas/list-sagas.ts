// The saga list: newest first, filtered (see saga-filter.ts), paginated by keyset cursor
// so that a page costs the same at the millionth row as at the first. Plain SQL, so that
// each filter meets the index planned for it (docs/dashboard-performance.md).

import type { SagaFilter } from "../../../browser-safe/saga-filter.ts";
import type { Pool } from "../../db/pool.ts";
import { isRareService } from "../../db/rare-service.ts";
import { cannotMatch, filterClause, rareServiceSagas } from "../../db/saga-filter-sql.ts";
import { isDerivedTrace } from "../../events/derived-trace.ts";
import { decodeCursor, encodeCursor } from "./saga-cursor.ts";
import type { SagaListItem } from "./saga-dto.ts";

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
  waiting_on AS "waitingOn", services, paused_by AS "pausedBy", paused_at AS "pausedAt"`;

export type SummaryRecord = Omit<SagaListItem, "durationMs">;

export async function listSagas(db: Db, input: ListSagasInput): Promise<SagaPage> {
  if (await cannotMatch(db, input)) return { items: [], nextCursor: null };
  return readSagaPage(db, input, { rareServiceFirst: await isRareService(db, input.service) });
}

/** One page, read from saga_summary or from a rare service's sagas first: the same rows either way. */
export async function readSagaPage(
  db: Db,
  input: ListSagasInput,
  plan: { rareServiceFirst: boolean },
): Promise<SagaPage> {
  const { sql, args } = filterClause(input);
  const source =
    plan.rareServiceFirst && input.service
      ? rareServiceSagas(input.service, args)
      : { with: "", from: "saga_summary" };
  let keyset = "";
  if (input.cursor) {
    const cursor = decodeCursor(input.cursor);
    args.push(cursor.startedAt, cursor.sagaId);
    keyset = ` AND (started_at, saga_id) < ($${args.length - 1}, $${args.length})`;
  }
  args.push(input.limit + 1);
  const { rows } = await db.query<SummaryRecord>(
    `${source.with}SELECT ${SUMMARY_COLUMNS} FROM ${source.from} WHERE ${sql}${keyset}
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
    "SELECT kind, value FROM saga_vocabulary WHERE kind IN ('saga_type', 'service', 'step') ORDER BY kind, value LIMIT 3000",
  );
  const of = (kind: string) => rows.filter((r) => r.kind === kind).map((r) => r.value);
  return { sagaTypes: of("saga_type"), services: of("service"), steps: of("step") };
}
