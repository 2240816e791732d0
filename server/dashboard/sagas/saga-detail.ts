// One saga: its summary, every stored event in order, and the timeline built from them.
import {
  type Allowance,
  type CompensationStep,
  compensationPlan,
  type SagaAction,
  sagaActionsAllowed,
} from "../../actions/saga-allowance.ts";
import type { Pool } from "../../db/pool.ts";
import type { PrismaClient } from "../../db/prisma.ts";
import { AppError } from "../../errors.ts";
import { SUMMARY_COLUMNS, type SummaryRecord, toListItem } from "./list-sagas.ts";
import { orderSagaEvents } from "./order-saga-events.ts";
import { type SagaBreakerDecisions, sagaBreakerDecisions } from "./saga-breakers.ts";
import type { SagaEventView, SagaListItem } from "./saga-dto.ts";
import { buildTimeline, type SagaTimeline } from "./saga-timeline.ts";

/** A saga page shows at most this many events: the newest. */
export const MAX_DETAIL_EVENTS = 5000;

export interface SagaDetail {
  summary: SagaListItem;
  events: SagaEventView[];
  /** True when the saga has more events than the page shows. */
  truncated: boolean;
  timeline: SagaTimeline;
  breakers: SagaBreakerDecisions;
  /** What an operator may do with it now, and what a compensation would revert. */
  actions: { allowed: Record<SagaAction, Allowance>; plan: CompensationStep[] };
}

export async function getSagaDetail(
  db: { prisma: PrismaClient; pool: Pick<Pool, "query"> },
  sagaId: string,
): Promise<SagaDetail> {
  const { prisma, pool } = db;
  const [summaryRows, rows] = await Promise.all([
    pool.query<SummaryRecord>(`SELECT ${SUMMARY_COLUMNS} FROM saga_summary WHERE saga_id = $1`, [sagaId]),
    prisma.sagaEvent.findMany({
      where: { sagaId },
      orderBy: [{ time: "desc" }, { kafkaOffset: "desc" }],
      take: MAX_DETAIL_EVENTS,
    }),
  ]);
  const summary = summaryRows.rows[0];
  if (!summary) throw new AppError("NOT_FOUND", `no saga ${sagaId} has been seen`);
  const events: SagaEventView[] = orderSagaEvents(
    rows.map((r) => ({
      id: r.id,
      type: r.type,
      time: r.time,
      source: r.source,
      step: r.step,
      stepIndex: r.stepIndex,
      service: r.service,
      traceId: r.traceId,
      spanId: r.spanId,
      data: r.data,
      extensions: (r.extensions as Record<string, unknown> | null) ?? null,
      kafka: { topic: r.kafkaTopic, partition: r.kafkaPartition, offset: Number(r.kafkaOffset) },
    })),
  );
  const item = toListItem(summary);
  return {
    summary: item,
    events,
    truncated: summary.eventCount > events.length,
    timeline: buildTimeline(events),
    breakers: await sagaBreakerDecisions(pool, item, events),
    actions: { allowed: sagaActionsAllowed(item), plan: compensationPlan(events) },
  };
}
