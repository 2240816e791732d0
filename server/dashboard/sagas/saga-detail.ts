// One saga: its summary, the first page of its events in order, and the timeline, compensation
// plan and breaker decisions outlined from all of them.

import type { Pool } from "../../db/pool.ts";
import { AppError } from "../../errors.ts";
import type { ControlAction } from "../../events/index.ts";
import { orderSagaEvents } from "../../saga-rules/order-saga-events.ts";
import {
  type Allowance,
  type CompensationStep,
  compensationPlan,
  type SagaAction,
  sagaActionsAllowed,
} from "../../saga-rules/saga-allowance.ts";
import { EVENT_COLUMNS, type EventRow, toEventView } from "./event-row.ts";
import { type FoldedTimeline, foldTimeline } from "./fold-timeline.ts";
import { SUMMARY_COLUMNS, type SummaryRecord, toListItem } from "./list-sagas.ts";
import { createOutlineCache, type OutlineCache, type SagaOutlineDigest } from "./outline-cache.ts";
import { breakerRejections, type SagaBreakerDecisions, sagaBreakerDecisions } from "./saga-breakers.ts";
import type { SagaEventOutline, SagaEventView, SagaListItem } from "./saga-dto.ts";
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
  /** The commands its runtime answers, when its start declared them (others are refused at once). */
  controls: ControlAction[] | null;
  /** The input it started with, and the one it goes on with (the newest operator's edit, if any). */
  input: { original: Record<string, unknown> | null; current: Record<string, unknown> | null };
  /** One row per attempt; long runs of one step's attempts folded (fold-timeline.ts). */
  timeline: FoldedTimeline;
  breakers: SagaBreakerDecisions;
  /** What an operator may do with it now, and what a compensation would revert. */
  actions: { allowed: Record<SagaAction, Allowance>; plan: CompensationStep[] };
}

type Db = { pool: Pick<Pool, "query"> };

/** Every column an outline needs; the payload only as far as the outline reads it. */
const OUTLINE_COLUMNS = `id, type, time, step, step_index, service, kafka_topic, kafka_partition, kafka_offset,
  CASE WHEN type = 'io.sagascope.saga.started' THEN jsonb_build_object('steps', data->'steps', 'input', data->'input',
         'controls', data->'controls')
       WHEN type = 'io.sagascope.control.result' THEN jsonb_build_object('action', data->'action',
         'outcome', data->'outcome', 'requestedBy', data->'requestedBy', 'handledBy', data->'handledBy',
         'input', data->'input')
       ELSE jsonb_build_object('attempt', data->'attempt', 'error', data->'error') END AS data`;

type OutlineRow = Pick<
  EventRow,
  | "id"
  | "type"
  | "time"
  | "step"
  | "step_index"
  | "service"
  | "data"
  | "kafka_topic"
  | "kafka_partition"
  | "kafka_offset"
>;

/**
 * The outline of the saga's newest events (at most MAX_DETAIL_EVENTS), in its own order. The
 * payloads stay in the database: a long saga's page outlines thousands of events but shows
 * one page of them whole (readWhole). Through the pool, not Prisma: the driver's rows cost less.
 */
async function readOutline(pool: Pick<Pool, "query">, sagaId: string): Promise<SagaEventOutline[]> {
  const { rows } = await pool.query<OutlineRow>(
    `SELECT ${OUTLINE_COLUMNS} FROM saga_event
     WHERE saga_id = $1 ORDER BY time DESC, kafka_offset DESC LIMIT ${MAX_DETAIL_EVENTS}`,
    [sagaId],
  );
  return orderSagaEvents(
    rows.map((r) => ({
      id: r.id,
      type: r.type,
      time: r.time,
      step: r.step,
      stepIndex: r.step_index,
      service: r.service,
      data: r.data,
      kafka: { topic: r.kafka_topic, partition: r.kafka_partition, offset: Number(r.kafka_offset) },
    })),
  );
}

const kafkaKey = (k: SagaEventView["kafka"]) => `${k.topic}\u0000${k.partition}\u0000${k.offset}`;

/** The events at these positions whole, in this order: a page of the events table. */
async function readWhole(
  pool: Pick<Pool, "query">,
  sagaId: string,
  positions: SagaEventView["kafka"][],
): Promise<SagaEventView[]> {
  if (positions.length === 0) return [];
  const { rows } = await pool.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM saga_event WHERE saga_id = $1 AND kafka_offset = ANY($2::bigint[])`,
    [sagaId, positions.map((k) => k.offset)],
  );
  const byKey = new Map(rows.map(toEventView).map((e) => [kafkaKey(e.kafka), e]));
  return positions.flatMap((k) => byKey.get(kafkaKey(k)) ?? []);
}

type StartOutline = {
  steps?: { name: string; service: string }[] | null;
  controls?: ControlAction[] | null;
  input?: Record<string, unknown> | null;
};
const startOf = (events: SagaEventOutline[]) =>
  events.find((e) => e.type === "io.sagascope.saga.started")?.data as StartOutline | undefined;

/** Only long sagas are kept: a short one is outlined in a millisecond or two. */
const CACHED_FROM_EVENTS = EVENT_PAGE_SIZE;
/** One cache per pool (per database), so that two stores in one process never share entries. */
const caches = new WeakMap<object, OutlineCache>();

/** What the page derives from all the saga's events: kept while the saga does not change. */
async function digestOf(pool: Pick<Pool, "query">, summary: SagaListItem): Promise<SagaOutlineDigest> {
  const cache = caches.get(pool) ?? createOutlineCache();
  caches.set(pool, cache);
  const cached = cache.get(summary.sagaId, summary);
  if (cached) return cached;
  const events = await readOutline(pool, summary.sagaId);
  const start = startOf(events);
  const digest: SagaOutlineDigest = {
    eventsRead: events.length,
    steps: start?.steps ?? [],
    controls: start?.controls ?? null,
    originalInput: start?.input ?? null,
    timeline: foldTimeline(buildTimeline(events)),
    rejections: breakerRejections(events),
    plan: compensationPlan(events),
    order: events.map((e) => e.kafka),
  };
  if (events.length >= CACHED_FROM_EVENTS) cache.set(summary.sagaId, summary, digest);
  return digest;
}

async function readSummary(pool: Pick<Pool, "query">, sagaId: string): Promise<SagaListItem> {
  const { rows } = await pool.query<SummaryRecord>(
    `SELECT ${SUMMARY_COLUMNS} FROM saga_summary WHERE saga_id = $1`,
    [sagaId],
  );
  const summary = rows[0];
  if (!summary) throw new AppError("NOT_FOUND", `no saga ${sagaId} has been seen`);
  return toListItem(summary);
}

export async function getSagaDetail(db: Db, sagaId: string): Promise<SagaDetail> {
  const { pool } = db;
  const summary = await readSummary(pool, sagaId);
  const digest = await digestOf(pool, summary);
  const [events, breakers] = await Promise.all([
    readWhole(pool, sagaId, digest.order.slice(0, EVENT_PAGE_SIZE)),
    sagaBreakerDecisions(pool, summary, digest.rejections),
  ]);
  return {
    summary,
    events,
    eventsRead: digest.eventsRead,
    truncated: summary.eventCount > digest.eventsRead,
    steps: digest.steps,
    controls: digest.controls,
    input: {
      original: digest.originalInput,
      current: digest.timeline.edits.at(-1)?.input ?? digest.originalInput,
    },
    timeline: digest.timeline,
    breakers,
    actions: {
      allowed: sagaActionsAllowed(summary, {
        steps: digest.steps.length,
        ...(digest.controls ? { controls: digest.controls } : {}),
      }),
      plan: digest.plan,
    },
  };
}

/** A further page of a saga's events table: from `offset` in the saga's order. */
export async function getSagaEventPage(
  db: Db,
  sagaId: string,
  offset: number,
  limit: number,
): Promise<{ events: SagaEventView[]; eventsRead: number; nextOffset: number | null }> {
  const digest = await digestOf(db.pool, await readSummary(db.pool, sagaId));
  return {
    events: await readWhole(db.pool, sagaId, digest.order.slice(offset, offset + limit)),
    eventsRead: digest.eventsRead,
    nextOffset: offset + limit < digest.eventsRead ? offset + limit : null,
  };
}
