// Writes one consumed batch to Postgres in a single transaction: new events, dead
// letters, folded saga summaries, and a notification for live views. Idempotent: a
// replayed batch inserts nothing twice and folds nothing twice.

import type { KafkaMessage } from "kafkajs";
import type { WaitingOn } from "../../browser-safe/waiting-on.ts";
import type { Pool, PoolClient } from "../db/pool.ts";
import { arrayLiteral, prepareStagingTables, type StagingTable, stageRows } from "../db/staging-table.ts";
import { type Boundaries, withBoundaries } from "../db/transaction.ts";
import { type BreakerEvent, headersAsText, type ProjectionEvent, type SagaEvent } from "../events/index.ts";
import { foldSagaEvents, type SagaSummaryState } from "./fold-saga-summary.ts";
import type { SagaTransition } from "./ingest-metrics.ts";
import { settleOperatorActions } from "./settle-operator-actions.ts";
import { type IncomingBreakerEvent, insertBreakerEvents } from "./store-breaker-events.ts";
import { insertProjectionEvents } from "./store-projection-events.ts";
import { insertSagaEvents, STAGED_SAGA_EVENTS } from "./store-saga-events.ts";

export const SAGA_CHANGES_CHANNEL = "sagascope_saga_changes";

export interface KafkaPosition {
  topic: string;
  partition: number;
  offset: number;
}

/** A Kafka message as it came, kept for quarantine. */
export interface RawMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface IncomingEvent {
  event: SagaEvent;
  position: KafkaPosition;
  /** The message it was decoded from; absent for events made in process (tests, replays). */
  raw?: RawMessage;
}

export interface DeadLetter extends RawMessage {
  position: KafkaPosition;
  reason: string;
  /** The stored event whose source + id this message reused with another body. */
  collidesWith?: { source: string; id: string };
}

/** A message as it came, quarantined at its position with the reason. */
export function deadLetterOf(
  message: Pick<KafkaMessage, "key" | "value" | "headers">,
  position: KafkaPosition,
  reason: string,
): DeadLetter {
  return {
    position,
    key: message.key,
    value: message.value,
    headers: headersAsText(message.headers),
    reason,
  };
}

export interface BatchOutcome {
  inserted: number;
  duplicates: number;
  deadLettered: number;
  sagasChanged: string[];
  /** The saga events stored now (a redelivered one is not). */
  storedSagaEvents: IncomingEvent[];
  /** Sagas the batch started or moved to another status (for the metrics). */
  sagaTransitions: SagaTransition[];
  /** Breaker stats windows new to the store (a redelivered one is not). */
  newBreakerWindows: BreakerEvent[];
  /** The reasons of the letters new to the store. */
  deadLetterReasons: string[];
}

/** What one Kafka batch brings, sorted by kind: each kind is stored its own way. */
export interface IncomingBatch {
  /** Saga and control events (a saga's history). */
  events: IncomingEvent[];
  /** Messages to quarantine: unreadable, refused by the contract, or reported by a participant. */
  deadLetters: DeadLetter[];
  breakerEvents: IncomingBreakerEvent[];
  projectionEvents: ProjectionEvent[];
}

/**
 * Stores a batch in one transaction; a kind it does not bring is left out. A saga batch without
 * copies or operators' answers takes two round trips, each one message: BEGIN, the events'
 * COPY, the identity claim, and the locks and summaries of the batch's sagas; then the filters'
 * words, the live views' notification, the summaries' COPY, their upsert, and COMMIT. The fold
 * runs between the two.
 */
export function storeBatch(pool: Pool, batch: Partial<IncomingBatch>): Promise<BatchOutcome> {
  const { events = [], deadLetters = [], breakerEvents = [], projectionEvents = [] } = batch;
  return withBoundaries(
    pool,
    async (client, boundaries) => {
      const { fresh, reusedIds, afterRows } = await insertSagaEvents(client, events, {
        opening: boundaries.opening,
        after: lockSagasStatement(client, events),
      });
      await boundaries.begin();
      const lettered = await insertDeadLetters(client, deadLetters);
      const { newWindows } = await insertBreakerEvents(client, breakerEvents);
      await insertProjectionEvents(client, projectionEvents);
      const reusedLettered = await insertDeadLetters(client, reusedIds);
      const deadLetterReasons = [...lettered, ...reusedLettered];
      const folded = foldSummaries(afterRows as unknown as SummaryRow[], fresh);
      deferWordsAndNotification(client, boundaries, fresh, folded.ids);
      await settleOperatorActions(client, fresh);
      await writeSummaries(client, folded.rows, boundaries.closing);
      return {
        inserted: fresh.length,
        duplicates: events.length - fresh.length - reusedIds.length,
        deadLettered: deadLetterReasons.length,
        sagasChanged: folded.ids,
        storedSagaEvents: fresh,
        sagaTransitions: folded.transitions,
        newBreakerWindows: newWindows,
        deadLetterReasons,
      };
    },
    (client) => prepareStagingTables(client, [STAGED_SAGA_EVENTS, FOLDED]),
  );
}

/** Tells live views which sagas changed; Postgres delivers it only when the transaction commits. */
export async function notifySagaChanges(client: PoolClient, sagaIds: string[]): Promise<void> {
  const payload = sagaChangesPayload(sagaIds);
  if (payload !== null) await client.query("SELECT pg_notify($1, $2)", [SAGA_CHANGES_CHANNEL, payload]);
}

/** What tells live views which sagas changed; null when none did. */
function sagaChangesPayload(sagaIds: string[]): string | null {
  if (sagaIds.length === 0) return null;
  // NOTIFY payloads must stay under 8000 bytes; "*" tells listeners to refresh everything.
  const payload = JSON.stringify(sagaIds);
  return Buffer.byteLength(payload) < 7000 ? payload : "*";
}

/** Text columns cannot hold NUL; the raw bytes (bytea) keep the original anyway. */
const withoutNul = (text: string) => text.replaceAll("\u0000", "\\u0000");

/** Returns the reasons of the letters stored (a letter already on record is not stored again). */
async function insertDeadLetters(client: PoolClient, letters: DeadLetter[]): Promise<string[]> {
  const stored: string[] = [];
  for (const l of letters) {
    const headers = Object.fromEntries(
      Object.entries(l.headers).map(([k, v]) => [withoutNul(k), withoutNul(v)]),
    );
    const result = await client.query(
      `INSERT INTO dead_letter (kafka_topic, kafka_partition, kafka_offset, key, value, headers, reason,
                                event_source, event_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
      [
        l.position.topic,
        l.position.partition,
        l.position.offset,
        l.key,
        l.value,
        headers,
        withoutNul(l.reason),
        l.collidesWith?.source ?? null,
        l.collidesWith?.id ?? null,
      ],
    );
    if ((result.rowCount ?? 0) > 0) stored.push(l.reason);
  }
  return stored;
}

/** The saga types, services and steps seen, as (kind, value) pairs, sorted. */
function vocabularyOf(fresh: IncomingEvent[]): [string, string][] {
  // Keyed "kind value": no kind holds a space, so a key names one pair.
  const words = new Map<string, [string, string]>();
  const add = (kind: string, value: string) => {
    const key = `${kind} ${value}`;
    if (!words.has(key)) words.set(key, [kind, value]);
  };
  for (const { event } of fresh) {
    const d = event.data as Record<string, unknown>;
    add("saga_type", event.data.sagaType);
    add("type_mode", `${event.data.sagaType}/${event.data.mode}`);
    if (typeof d.service === "string") {
      add("service", d.service);
      add("type_service", `${event.data.sagaType}/${d.service}`);
    }
    if (typeof d.step === "string") add("step", d.step);
  }
  // Sorted, so that two ingesters adding the same words never wait on each other in a cycle.
  return [...words.values()].sort(byKindThenValue);
}

const byKindThenValue = (a: [string, string], b: [string, string]) =>
  a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1;

interface SummaryRow {
  saga_id: string;
  saga_type: string;
  mode: SagaSummaryState["mode"];
  status: SagaSummaryState["status"];
  trace_id: string;
  business_key: string | null;
  current_step: string | null;
  failed_step: string | null;
  failure_reason: string | null;
  started_at: Date;
  last_progress_at: Date;
  ended_at: Date | null;
  event_count: number;
  progress_expected_by: Date | null;
  progress_expectation: string | null;
  stuck: boolean;
  stuck_reason: string | null;
  waiting_on: WaitingOn | null;
  services: string[];
  paused_by: string | null;
  paused_at: Date | null;
}

/** A batch's folded summaries, staged for the upsert (the enums are cast there). */
const FOLDED: StagingTable<SummaryRow> = {
  name: "staging_saga_summary",
  columns: {
    saga_id: "text",
    saga_type: "text",
    mode: "text",
    status: "text",
    trace_id: "text",
    business_key: "text",
    current_step: "text",
    failed_step: "text",
    failure_reason: "text",
    started_at: "timestamptz",
    last_progress_at: "timestamptz",
    ended_at: "timestamptz",
    event_count: "int",
    progress_expected_by: "timestamptz",
    progress_expectation: "text",
    stuck: "boolean",
    stuck_reason: "text",
    waiting_on: "text",
    services: "text[]",
    paused_by: "text",
    paused_at: "timestamptz",
  },
};

interface FoldedSummaries {
  /** The sagas changed, sorted. */
  ids: string[];
  rows: SummaryRow[];
  transitions: SagaTransition[];
}

/**
 * Locks the batch's sagas and reads their summaries (sagascope_lock_sagas, migration
 * 1764478800000_lock-sagas-function.sql): sent after the identity claim in its message, so it
 * names every event's saga, a redelivered one's too (locked and read for nothing, which is
 * harmless; the fold takes only the fresh events).
 */
function lockSagasStatement(client: PoolClient, events: IncomingEvent[]): string | undefined {
  if (events.length === 0) return undefined;
  const ids = [...new Set(events.map((e) => e.event.data.sagaId))];
  return `SELECT * FROM sagascope_lock_sagas(${textArray(client, ids)})`;
}

/** A text[] value as a literal, escaped by the driver: for a statement sent without parameters. */
const textArray = (client: PoolClient, values: string[]) =>
  `${client.escapeLiteral(arrayLiteral(values))}::text[]`;

/**
 * The filters' words and the live views' notification (which Postgres delivers only when the
 * transaction commits), decided by the fresh events and sent with the transaction's last
 * message, ahead of the summaries: statements whose answers nobody reads.
 */
function deferWordsAndNotification(
  client: PoolClient,
  boundaries: Boundaries,
  fresh: IncomingEvent[],
  changed: string[],
): void {
  const words = vocabularyOf(fresh);
  // Sorted (vocabularyOf), so that two ingesters adding the same words never wait on each other in a cycle.
  if (words.length > 0)
    boundaries.defer(
      `INSERT INTO saga_vocabulary (kind, value) SELECT * FROM unnest(${textArray(
        client,
        words.map((w) => w[0]),
      )}, ${textArray(
        client,
        words.map((w) => w[1]),
      )}) ON CONFLICT DO NOTHING`,
    );
  const payload = sagaChangesPayload(changed);
  if (payload !== null)
    boundaries.defer(
      `SELECT pg_notify(${client.escapeLiteral(SAGA_CHANGES_CHANNEL)}, ${client.escapeLiteral(payload)})`,
    );
}

/** Folds the fresh events into their sagas' summaries, as read and locked with the claim. */
function foldSummaries(existing: SummaryRow[], fresh: IncomingEvent[]): FoldedSummaries {
  if (fresh.length === 0) return { ids: [], rows: [], transitions: [] };
  const bySaga = new Map<string, IncomingEvent[]>();
  for (const item of fresh) {
    const list = bySaga.get(item.event.data.sagaId) ?? [];
    list.push(item);
    bySaga.set(item.event.data.sagaId, list);
  }
  const ids = [...bySaga.keys()].sort();
  const summaries = new Map<string, SagaSummaryState>(existing.map((r) => [r.saga_id, fromRow(r)]));
  const before = new Map([...summaries].map(([id, s]) => [id, s.status]));
  for (const [sagaId, items] of bySaga) {
    // Key = saga id puts a saga in one partition, so offsets give its true order.
    items.sort((a, b) => a.position.offset - b.position.offset);
    const summary = foldSagaEvents(
      summaries.get(sagaId),
      items.map((i) => i.event),
    );
    if (summary) summaries.set(sagaId, summary);
  }
  const transitions: SagaTransition[] = [];
  for (const id of ids) {
    const s = summaries.get(id) as SagaSummaryState;
    const from = before.get(id) ?? null;
    if (from === s.status) continue;
    transitions.push({
      sagaId: s.sagaId,
      traceId: s.traceId,
      sagaType: s.sagaType,
      mode: s.mode,
      from,
      to: s.status,
      durationMs: s.endedAt ? s.endedAt.getTime() - s.startedAt.getTime() : null,
      eventCount: s.eventCount,
    });
  }
  return { ids, rows: ids.map((id) => toRow(summaries.get(id) as SagaSummaryState)), transitions };
}

/** The folded summaries staged and upserted in one message, with the deferred statements ahead and COMMIT after. */
async function writeSummaries(
  client: PoolClient,
  rows: SummaryRow[],
  closing: (sql: string) => string,
): Promise<void> {
  if (rows.length === 0) return;
  await stageRows(client, FOLDED, rows, {
    closing,
    after: `INSERT INTO saga_summary (saga_id, saga_type, mode, status, trace_id, business_key, current_step, failed_step,
                               failure_reason, started_at, last_progress_at, ended_at, event_count,
                               progress_expected_by, progress_expectation, stuck, stuck_reason, waiting_on, services,
                               paused_by, paused_at, updated_at)
     SELECT saga_id, saga_type, mode::saga_mode, status::saga_status, trace_id, business_key, current_step,
            failed_step, failure_reason, started_at, last_progress_at, ended_at, event_count,
            progress_expected_by, progress_expectation, stuck, stuck_reason, waiting_on, services,
            paused_by, paused_at, now()
     FROM ${FOLDED.name}
     ON CONFLICT (saga_id) DO UPDATE SET
       saga_type = excluded.saga_type, mode = excluded.mode, status = excluded.status,
       trace_id = excluded.trace_id, business_key = excluded.business_key,
       current_step = excluded.current_step, failed_step = excluded.failed_step,
       failure_reason = excluded.failure_reason, started_at = excluded.started_at,
       last_progress_at = excluded.last_progress_at, ended_at = excluded.ended_at,
       event_count = excluded.event_count, progress_expected_by = excluded.progress_expected_by,
       progress_expectation = excluded.progress_expectation, stuck = excluded.stuck,
       stuck_reason = excluded.stuck_reason, waiting_on = excluded.waiting_on, services = excluded.services,
       paused_by = excluded.paused_by, paused_at = excluded.paused_at, updated_at = now()`,
  });
}

function fromRow(r: SummaryRow): SagaSummaryState {
  return {
    sagaId: r.saga_id,
    sagaType: r.saga_type,
    mode: r.mode,
    status: r.status,
    traceId: r.trace_id,
    businessKey: r.business_key,
    currentStep: r.current_step,
    failedStep: r.failed_step,
    failureReason: r.failure_reason,
    startedAt: r.started_at,
    lastProgressAt: r.last_progress_at,
    endedAt: r.ended_at,
    eventCount: r.event_count,
    progressExpectedBy: r.progress_expected_by,
    progressExpectation: r.progress_expectation,
    stuck: r.stuck,
    stuckReason: r.stuck_reason,
    waitingOn: r.waiting_on,
    services: r.services,
    pausedBy: r.paused_by,
    pausedAt: r.paused_at,
  };
}

function toRow(s: SagaSummaryState): SummaryRow {
  return {
    saga_id: s.sagaId,
    saga_type: s.sagaType,
    mode: s.mode,
    status: s.status,
    trace_id: s.traceId,
    business_key: s.businessKey,
    current_step: s.currentStep,
    failed_step: s.failedStep,
    failure_reason: s.failureReason,
    started_at: s.startedAt,
    last_progress_at: s.lastProgressAt,
    ended_at: s.endedAt,
    event_count: s.eventCount,
    progress_expected_by: s.progressExpectedBy,
    progress_expectation: s.progressExpectation,
    stuck: s.stuck,
    stuck_reason: s.stuckReason,
    waiting_on: s.waitingOn,
    services: s.services,
    paused_by: s.pausedBy,
    paused_at: s.pausedAt,
  };
}
