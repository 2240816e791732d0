// The filtered saga list as CSV, page by page through the same keyset cursor as the list,
// so an export of many sagas never holds them all in memory. Capped, and says so.

import {
  filterFromParams,
  type SagaFilter,
  type SagaListParams,
  SagaListParamsSchema,
  SINCE_RANGES,
} from "../../../browser-safe/saga-filter.ts";
import type { Pool } from "../../db/pool.ts";
import { type CsvColumns, csvTable } from "../csv/csv.ts";
import { listSagas } from "./list-sagas.ts";
import type { SagaListItem } from "./saga-dto.ts";

export const EXPORT_CAP = 100_000;
const PAGE = 500;

const sinceMs = (since: keyof typeof SINCE_RANGES) => SINCE_RANGES[since] * 60_000;

/** The list's URL parameters (the same names the saga list page keeps in its URL). */
export const ExportQuerySchema = SagaListParamsSchema;

const COLUMNS: CsvColumns<SagaListItem> = [
  ["saga_id", (s) => s.sagaId],
  ["saga_type", (s) => s.sagaType],
  ["mode", (s) => s.mode],
  ["status", (s) => s.status],
  ["business_key", (s) => s.businessKey],
  ["trace_id", (s) => s.traceId],
  ["current_step", (s) => s.currentStep],
  ["failed_step", (s) => s.failedStep],
  ["failure_reason", (s) => s.failureReason],
  ["started_at", (s) => s.startedAt],
  ["ended_at", (s) => s.endedAt],
  ["duration_ms", (s) => s.durationMs],
  ["stuck", (s) => s.stuck],
  ["event_count", (s) => s.eventCount],
];

async function* sagaPages(pool: Pick<Pool, "query">, filter: SagaFilter): AsyncGenerator<SagaListItem[]> {
  let cursor: string | undefined;
  do {
    const page = await listSagas(pool, { ...filter, limit: PAGE, cursor });
    yield page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

export function exportSagasCsv(
  pool: Pick<Pool, "query">,
  query: SagaListParams,
  now = Date.now(),
): AsyncGenerator<string> {
  // A relative range is fixed once, so that every page of one export sees the same window.
  const filter = filterFromParams(query);
  const window = filter.since ? { since: undefined, from: new Date(now - sinceMs(filter.since)) } : {};
  return csvTable(COLUMNS, sagaPages(pool, { ...filter, ...window }), EXPORT_CAP);
}
