// One saga: its summary, every stored event in order, and the timeline built from them.
import {
  type Allowance,
  type CompensationStep,
  compensationPlan,
  type SagaAction,
  sagaActionsAllowed,
} from "../../actions/saga-allowance.ts";
import type { Pool } from "../../db/pool.ts";
import { AppError } from "../../errors.ts";
import { EVENT_COLUMNS, type EventRow, toEventView } from "./event-row.ts";
import { type FoldedTimeline, foldTimeline } from "./fold-timeline.ts";
import { SUMMARY_COLUMNS, type SummaryRecord, toListItem } from "./list-sagas.ts";
import { orderSagaEvents } from "./order-saga-events.ts";
import { type SagaBreakerDecisions, sagaBreakerDecisions } from "./saga-breakers.ts";
import type { SagaEventView, SagaListItem } from "./saga-dto.ts";
import { buildTimeline } from "./saga-timeline.ts";

/** A saga page reads at most this many events: the newest. */
export const MAX_DETAIL_EVENTS = 5000;
/** Events sent with the page, and at most per further page: a saga of thousands opens quickly. */
export const EVENT_PAGE_SIZE = 200;

export interface SagaDetail {
  summary: SagaListItem;
  /** The first page of its events, in the saga's order; `eventsRead` says how many there are. */
  events: SagaEventView[];
  /** The events read (at most MAX_DETAIL_EVENTS); the rest of the table comes by sagaEvents. */
  eventsRead: number;
  /** True when the saga has more events than the page reads. */
  truncated: boolean;
  /** The steps its start declared (name and service), for the actions' step choices. */
  steps: { name: string; service: string }[];
  /** One row per attempt; long runs of one step's attempts folded (fold-timeline.ts). */
  timeline: FoldedTimeline;
  breakers: SagaBreakerDecisions;
  /** What an operator may do with it now, and what a compensation would revert. */
  actions: { allowed: Record<SagaAction, Allowance>; plan: CompensationStep[] };
}

type Db = { pool: Pick<Pool, "query"> };

/**
 * The saga's newest events (at most MAX_DETAIL_EVENTS), in its own order. Through the pool,
 * not Prisma: a long saga's page reads thousands of rows, and the driver's rows cost a third less.
 */
async function readSagaEvents(pool: Pick<Pool, "query">, sagaId: string): Promise<SagaEventView[]> {
  const { rows } = await pool.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM saga_event
     WHERE saga_id = $1 ORDER BY time DESC, kafka_offset DESC LIMIT ${MAX_DETAIL_EVENTS}`,
    [sagaId],
  );
  return orderSagaEvents(rows.map(toEventView));
}

function declaredSteps(events: SagaEventView[]): { name: string; service: string }[] {
  const started = events.find((e) => e.type === "io.sagascope.saga.started")?.data as
    | { steps?: { name: string; service: string }[] }
    | undefined;
  return started?.steps ?? [];
}

export async function getSagaDetail(db: Db, sagaId: string): Promise<SagaDetail> {
  const { pool } = db;
  const [summaryRows, events] = await Promise.all([
    pool.query<SummaryRecord>(`SELECT ${SUMMARY_COLUMNS} FROM saga_summary WHERE saga_id = $1`, [sagaId]),
    readSagaEvents(pool, sagaId),
  ]);
  const summary = summaryRows.rows[0];
  if (!summary) throw new AppError("NOT_FOUND", `no saga ${sagaId} has been seen`);
  const item = toListItem(summary);
  return {
    summary: item,
    events: events.slice(0, EVENT_PAGE_SIZE),
    eventsRead: events.length,
    truncated: summary.eventCount > events.length,
    steps: declaredSteps(events),
    timeline: foldTimeline(buildTimeline(events)),
    breakers: await sagaBreakerDecisions(pool, item, events),
    actions: { allowed: sagaActionsAllowed(item), plan: compensationPlan(events) },
  };
}

/** A further page of a saga's events table: from `offset` in the saga's order. */
export async function getSagaEventPage(
  db: Db,
  sagaId: string,
  offset: number,
  limit: number,
): Promise<{ events: SagaEventView[]; eventsRead: number; nextOffset: number | null }> {
  const events = await readSagaEvents(db.pool, sagaId);
  if (events.length === 0) throw new AppError("NOT_FOUND", `no saga ${sagaId} has been seen`);
  const page = events.slice(offset, offset + limit);
  return {
    events: page,
    eventsRead: events.length,
    nextOffset: offset + limit < events.length ? offset + limit : null,
  };
}
