// One trace: every stored event of every service that carried this trace id, in order,
// whichever sagas they belong to. For a choreographed saga this is the only whole picture:
// no orchestrator holds it, each participant published its own part.

import type { Pool } from "../../db/pool.ts";
import { AppError } from "../../errors.ts";
import { orderSagaEvents } from "../../saga-rules/order-saga-events.ts";
import { EVENT_COLUMNS, type EventRow, toEventView } from "../sagas/event-row.ts";
import type { SagaEventView } from "../sagas/saga-dto.ts";
import { buildTimeline, type TimelineBar } from "../sagas/saga-timeline.ts";

/** A trace page shows at most this many events: the first ones. */
export const MAX_TRACE_EVENTS = 10_000;

export interface TraceSaga {
  sagaId: string;
  sagaType: string;
  mode: string;
  status: string;
}

export interface TraceEventView extends SagaEventView {
  sagaId: string;
  /** Milliseconds since the trace's first event. */
  offsetMs: number;
}

export interface TraceView {
  traceId: string;
  start: Date;
  end: Date;
  sagas: TraceSaga[];
  /** Every service (event source for events that name none) in order of first appearance. */
  services: string[];
  events: TraceEventView[];
  /** Step and compensation attempts, per service lane. */
  bars: (TimelineBar & { sagaId: string })[];
  truncated: boolean;
}

const TRACE_ID = /^[0-9a-f]{32}$/;

export function normalizeTraceId(text: string): string {
  const id = text.trim().toLowerCase();
  if (!TRACE_ID.test(id)) throw new AppError("BAD_REQUEST", "a trace id is 32 hexadecimal characters");
  return id;
}

/** The lane an event belongs in: the step's service, or who published it. */
export function laneOf(e: Pick<SagaEventView, "service" | "source">): string {
  return e.service ?? e.source.replace(/^\//, "");
}

export async function readTrace(db: Pick<Pool, "query">, traceIdText: string): Promise<TraceView> {
  const traceId = normalizeTraceId(traceIdText);
  const [events, sagas] = await Promise.all([
    db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM saga_event WHERE trace_id = $1::bpchar
       ORDER BY time, kafka_topic, kafka_partition, kafka_offset LIMIT $2`,
      [traceId, MAX_TRACE_EVENTS + 1],
    ),
    db.query<TraceSaga>(
      `SELECT saga_id AS "sagaId", saga_type AS "sagaType", mode, status
       FROM saga_summary WHERE trace_id = $1::bpchar ORDER BY started_at LIMIT 100`,
      [traceId],
    ),
  ]);
  if (events.rows.length === 0)
    throw new AppError("NOT_FOUND", `no event of trace ${traceId} has been stored`);
  const views = events.rows
    .slice(0, MAX_TRACE_EVENTS)
    .map((r) => ({ sagaId: r.saga_id, view: toEventView(r) }));
  // Each saga's own order comes from its partition; across sagas, time decides.
  const bySaga = new Map<string, SagaEventView[]>();
  for (const { sagaId, view } of views) bySaga.set(sagaId, [...(bySaga.get(sagaId) ?? []), view]);
  const sagaOf = new Map(views.map(({ sagaId, view }) => [view.id, sagaId]));
  const ordered = mergeByTime([...bySaga.values()].map(orderSagaEvents));
  const start = ordered[0]?.time ?? new Date(0);
  const end = ordered.at(-1)?.time ?? start;
  const services: string[] = [];
  for (const e of ordered) if (!services.includes(laneOf(e))) services.push(laneOf(e));
  const bars = [...bySaga.entries()].flatMap(([sagaId, list]) =>
    buildTimeline(list).bars.map((bar) => ({ ...bar, sagaId })),
  );
  return {
    traceId,
    start,
    end,
    sagas: sagas.rows,
    services,
    events: ordered.map((e) => ({
      ...e,
      sagaId: sagaOf.get(e.id) ?? "",
      offsetMs: e.time.getTime() - start.getTime(),
    })),
    bars,
    truncated: events.rows.length > MAX_TRACE_EVENTS,
  };
}

/** Merges lists each already in order into one, by time (stable: ties keep list order). */
export function mergeByTime(lists: SagaEventView[][]): SagaEventView[] {
  const heads = lists.map(() => 0);
  const out: SagaEventView[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const candidate = lists[i]?.[heads[i] as number];
      if (!candidate) continue;
      const current = best >= 0 ? lists[best]?.[heads[best] as number] : undefined;
      if (!current || candidate.time < current.time) best = i;
    }
    if (best < 0) return out;
    out.push(lists[best]?.[heads[best] as number] as SagaEventView);
    heads[best] = (heads[best] as number) + 1;
  }
}
