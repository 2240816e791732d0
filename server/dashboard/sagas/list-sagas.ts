// The saga list: newest first, filtered by status, type, mode, stuck or an exact id, trace
// id or business key, paginated by keyset cursor so that a
// page costs the same at the millionth row as at the first.
import type { PrismaClient } from "../../db/prisma.ts";
import type { SagaStatus } from "../../ingest/fold-saga-summary.ts";
import { decodeCursor, encodeCursor } from "./saga-cursor.ts";
import type { SagaListItem } from "./saga-dto.ts";

export interface ListSagasInput {
  limit: number;
  cursor?: string | undefined;
  status?: SagaStatus | undefined;
  stuck?: boolean | undefined;
  sagaType?: string | undefined;
  mode?: "orchestrated" | "choreographed" | undefined;
  /** A saga id, a trace id or a business key, matched exactly. */
  search?: string | undefined;
}

export interface SagaPage {
  items: SagaListItem[];
  nextCursor: string | null;
}

export async function listSagas(prisma: PrismaClient, input: ListSagasInput): Promise<SagaPage> {
  const cursor = input.cursor ? decodeCursor(input.cursor) : undefined;
  const search = input.search?.trim();
  const rows = await prisma.sagaSummary.findMany({
    where: {
      ...(input.status ? { status: input.status } : {}),
      ...(input.stuck !== undefined ? { stuck: input.stuck } : {}),
      ...(input.sagaType ? { sagaType: input.sagaType } : {}),
      ...(input.mode ? { mode: input.mode } : {}),
      AND: [
        search
          ? { OR: [{ sagaId: search }, { traceId: search.toLowerCase() }, { businessKey: search }] }
          : {},
        cursor
          ? {
              OR: [
                { startedAt: { lt: cursor.startedAt } },
                { startedAt: cursor.startedAt, sagaId: { lt: cursor.sagaId } },
              ],
            }
          : {},
      ],
    },
    orderBy: [{ startedAt: "desc" }, { sagaId: "desc" }],
    take: input.limit + 1,
  });
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    items: page.map(toListItem),
    nextCursor: rows.length > input.limit && last ? encodeCursor(last) : null,
  };
}

export function toListItem(
  row: Awaited<ReturnType<PrismaClient["sagaSummary"]["findMany"]>>[number],
): SagaListItem {
  return {
    sagaId: row.sagaId,
    sagaType: row.sagaType,
    mode: row.mode,
    status: row.status,
    traceId: row.traceId,
    businessKey: row.businessKey,
    currentStep: row.currentStep,
    failedStep: row.failedStep,
    failureReason: row.failureReason,
    startedAt: row.startedAt,
    lastProgressAt: row.lastProgressAt,
    endedAt: row.endedAt,
    durationMs: row.endedAt ? row.endedAt.getTime() - row.startedAt.getTime() : null,
    eventCount: row.eventCount,
    progressExpectedBy: row.progressExpectedBy,
    progressExpectation: row.progressExpectation,
    stuck: row.stuck,
    stuckReason: row.stuckReason,
  };
}

/** The saga types seen so far, for the list's filter. */
export async function listSagaTypes(prisma: PrismaClient): Promise<string[]> {
  const rows = await prisma.sagaSummary.findMany({
    distinct: ["sagaType"],
    select: { sagaType: true },
    take: 200,
  });
  return rows.map((r) => r.sagaType).sort();
}
