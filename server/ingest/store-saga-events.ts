// Saga events into saga_event, once per CloudEvents identity (source + id). The identity is
// claimed in saga_event_identity (saga_event is partitioned by time and cannot hold a unique
// index without it): a redelivery with the same body is a duplicate whatever its time; the
// same identity with another body is a producer's mistake, quarantined as a dead letter that
// names the event it collides with.
import type { PoolClient } from "../db/pool.ts";
import { type StagingTable, stageRows } from "../db/staging-table.ts";
import { encodeSagaEvent, type SagaEvent, stepOf } from "../events/index.ts";
import type { DeadLetter, IncomingEvent, KafkaPosition, RawMessage } from "./store-batch.ts";

export const REUSED_ID_REASON = "duplicate id with a different body";

export interface StoredSagaEvents {
  /** The events stored now, in the batch's order (a batch's second copy of an event is not among them). */
  fresh: IncomingEvent[];
  /** Events whose source + id was taken by another body: to be quarantined. */
  reusedIds: DeadLetter[];
  /** The rows of the statement sent after the claim (`after`), if any. */
  afterRows: Record<string, unknown>[];
}

/** What the body digest covers: the type and the data (jsonb's canonical text, so key order does not matter). */
const bodyMd5 = (row = "") => `md5(${row}type || ' ' || ${row}data::text)`;

/** An event as a row of saga_event (the columns the dashboard filters by, lifted out of data). */
export function sagaEventRow(e: SagaEvent, p: KafkaPosition) {
  const { stepIndex, ...step } = stepOf(e);
  return {
    id: e.id,
    time: e.time.toISOString(),
    source: e.source,
    type: e.type,
    saga_id: e.data.sagaId,
    saga_type: e.data.sagaType,
    trace_id: e.trace.traceId,
    span_id: e.trace.spanId,
    ...step,
    step_index: stepIndex,
    data: e.data,
    extensions: e.extensions ?? null,
    kafka_topic: p.topic,
    kafka_partition: p.partition,
    kafka_offset: p.offset,
  };
}

type SagaEventRow = ReturnType<typeof sagaEventRow> & { n: number };

/** The batch as it arrives, before the identity claim decides which rows are new. */
export const STAGED_SAGA_EVENTS: StagingTable<SagaEventRow> = {
  name: "staging_saga_event",
  columns: {
    n: "int",
    id: "text",
    time: "timestamptz",
    source: "text",
    type: "text",
    saga_id: "text",
    saga_type: "text",
    trace_id: "text",
    span_id: "text",
    step: "text",
    step_index: "int",
    service: "text",
    data: "jsonb",
    extensions: "jsonb",
    kafka_topic: "text",
    kafka_partition: "int",
    kafka_offset: "bigint",
  },
};

/** Claims the staged events' identities and stores the events that claimed theirs; answers with the rows not stored (copies: usually none, so the answer stays small). */
const CLAIM_AND_INSERT = `WITH firsts AS (SELECT DISTINCT ON (source, id) * FROM ${STAGED_SAGA_EVENTS.name} ORDER BY source, id, n),
     claimed AS (
       INSERT INTO saga_event_identity (source, id, body_md5, time)
       SELECT source, id, ${bodyMd5()}, time FROM firsts
       ON CONFLICT DO NOTHING
       RETURNING source, id
     ),
     stored AS (
       INSERT INTO saga_event (id, time, source, type, saga_id, saga_type, trace_id, span_id, step, step_index,
                               service, data, extensions, kafka_topic, kafka_partition, kafka_offset)
       SELECT f.id, f.time, f.source, f.type, f.saga_id, f.saga_type, f.trace_id, f.span_id, f.step, f.step_index,
              f.service, f.data, f.extensions, f.kafka_topic, f.kafka_partition, f.kafka_offset
       FROM firsts f JOIN claimed c ON c.source = f.source AND c.id = f.id
     )
     SELECT r.n FROM ${STAGED_SAGA_EVENTS.name} r
     WHERE NOT EXISTS (
       SELECT FROM firsts f JOIN claimed c ON c.source = f.source AND c.id = f.id WHERE f.n = r.n
     )`;

/**
 * Inside the caller's transaction (the staged rows live until it commits), or the one its first
 * statement opens. The events' COPY and the claim go in one message, with `after` (a statement
 * without parameters) after them.
 */
export async function insertSagaEvents(
  client: PoolClient,
  incoming: IncomingEvent[],
  {
    opening,
    after,
  }: {
    /** What goes ahead of the first statement sent (withBoundaries' BEGIN). */
    opening?: (sql: string) => string;
    /** A statement sent after the claim in the same message, its rows returned as `afterRows`. */
    after?: string;
  } = {},
): Promise<StoredSagaEvents> {
  if (incoming.length === 0) return { fresh: [], reusedIds: [], afterRows: [] };
  const [notClaimed = [], afterRows = []] = await stageRows(
    client,
    STAGED_SAGA_EVENTS,
    incoming.map(({ event, position }, n) => ({ n, ...sagaEventRow(event, position) })),
    { ...(opening ? { opening } : {}), after: after ? `${CLAIM_AND_INSERT};\n${after}` : CLAIM_AND_INSERT },
  );
  if (notClaimed.length === 0) return { fresh: incoming, reusedIds: [], afterRows };
  const copies = notClaimed.map((r) => r.n as number);
  const copyAt = new Set(copies);
  const fresh = incoming.filter((_, n) => !copyAt.has(n));
  // Only a batch with copies pays for this: are they the same event again, or another body?
  const compared = await client.query<{ n: number; same: boolean }>(
    `SELECT r.n, i.body_md5 = ${bodyMd5("r.")} AS same
     FROM ${STAGED_SAGA_EVENTS.name} r JOIN saga_event_identity i ON i.source = r.source AND i.id = r.id
     WHERE r.n = ANY($1::int[])`,
    [copies],
  );
  const reusedIds = compared.rows
    .filter((r) => !r.same)
    .map((r) => reusedIdLetter(incoming[r.n] as IncomingEvent));
  return { fresh, reusedIds, afterRows };
}

/** An event that came without its bytes (a test, a replay), as the contract encodes it. */
function asMessage(event: SagaEvent): RawMessage {
  const { key, value, headers } = encodeSagaEvent(event);
  return {
    key: Buffer.from(key as string),
    value: Buffer.from(value as string),
    headers: headers as Record<string, string>,
  };
}

function reusedIdLetter({ event, position, raw }: IncomingEvent): DeadLetter {
  const message = raw ?? asMessage(event);
  return {
    position,
    ...message,
    reason: `${REUSED_ID_REASON}: source "${event.source}", id "${event.id}" is already stored with another type or data`,
    collidesWith: { source: event.source, id: event.id },
  };
}
