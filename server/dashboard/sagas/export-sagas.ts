// The filtered saga list as CSV, page by page through the same keyset cursor as the list,
// so an export of many sagas never holds them all in memory. Capped, and says so.

import {
  filterFromParams,
  type SagaListParams,
  SagaListParamsSchema,
  SINCE_RANGES,
} from "../../../browser-safe/saga-filter.ts";
import type { Pool } from "../../db/pool.ts";
import { csvLine } from "../csv/csv.ts";
import { listSagas } from "./list-sagas.ts";

export const EXPORT_CAP = 100_000;

const sinceMs = (since: keyof typeof SINCE_RANGES) => SINCE_RANGES[since] * 60_000;

/** The list's URL parameters (the same names the saga list page keeps in its URL). */
export const ExportQuerySchema = SagaListParamsSchema;

const COLUMNS = [
  "saga_id",
  "saga_type",
  "mode",
  "status",
  "business_key",
  "trace_id",
  "current_step",
  "failed_step",
  "failure_reason",
  "started_at",
  "ended_at",
  "duration_ms",
  "stuck",
  "event_count",
] as const;

export async function* exportSagasCsv(
  pool: Pick<Pool, "query">,
  query: SagaListParams,
  now = Date.now(),
): AsyncGenerator<string> {
  // A relative range is fixed once, so that every page of one export sees the same window.
  const filter = filterFromParams(query);
  const window = filter.since ? { since: undefined, from: new Date(now - sinceMs(filter.since)) } : {};
  yield `${COLUMNS.join(",")}\r\n`;
  let cursor: string | undefined;
  let written = 0;
  do {
    const page = await listSagas(pool, { ...filter, ...window, limit: 500, cursor });
    const lines = page.items
      .slice(0, EXPORT_CAP - written)
      .map((s) =>
        csvLine([
          s.sagaId,
          s.sagaType,
          s.mode,
          s.status,
          s.businessKey,
          s.traceId,
          s.currentStep,
          s.failedStep,
          s.failureReason,
          s.startedAt,
          s.endedAt,
          s.durationMs,
          s.stuck,
          s.eventCount,
        ]),
      );
    written += lines.length;
    if (lines.length > 0) yield `${lines.join("\r\n")}\r\n`;
    cursor = page.nextCursor ?? undefined;
  } while (cursor && written < EXPORT_CAP);
}
