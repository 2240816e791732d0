// The filtered saga list as CSV, page by page through the same keyset cursor as the list,
// so an export of many sagas never holds them all in memory. Capped, and says so.
import { z } from "zod";
import type { PrismaClient } from "../../db/prisma.ts";
import { listSagas } from "./list-sagas.ts";

export const EXPORT_CAP = 100_000;

/** The list's URL parameters (the same names the saga list page keeps in its URL). */
export const ExportQuerySchema = z.object({
  status: z
    .enum(["running", "compensating", "completed", "compensated", "failed", "timed_out", "resolved"])
    .optional(),
  type: z.string().min(1).max(200).optional(),
  mode: z.enum(["orchestrated", "choreographed"]).optional(),
  stuck: z.literal("1").optional(),
  q: z.string().min(1).max(200).optional(),
});

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

/** RFC 4180: quoted when needed, quotes doubled; a leading = + - @ is defused for spreadsheets. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = value instanceof Date ? value.toISOString() : String(value);
  if (/^[=+\-@]/.test(text) && Number.isNaN(Number(text))) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export async function* exportSagasCsv(
  prisma: PrismaClient,
  query: z.infer<typeof ExportQuerySchema>,
): AsyncGenerator<string> {
  yield `${COLUMNS.join(",")}\r\n`;
  let cursor: string | undefined;
  let written = 0;
  do {
    const page = await listSagas(prisma, {
      limit: 500,
      cursor,
      status: query.status,
      sagaType: query.type,
      mode: query.mode,
      stuck: query.stuck ? true : undefined,
      search: query.q,
    });
    const lines = page.items
      .slice(0, EXPORT_CAP - written)
      .map((s) =>
        [
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
        ]
          .map(csvCell)
          .join(","),
      );
    written += lines.length;
    if (lines.length > 0) yield `${lines.join("\r\n")}\r\n`;
    cursor = page.nextCursor ?? undefined;
  } while (cursor && written < EXPORT_CAP);
}
