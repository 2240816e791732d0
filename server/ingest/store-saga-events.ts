// Saga events into saga_event, once per CloudEvents identity (source + id). The identity is
// claimed in saga_event_identity (saga_event is partitioned by time and cannot hold a unique
// index without it): a redelivery with the same body is a duplicate whatever its time; the
// same identity with another body is a producer's mistake, quarantined as a dead letter that
// names the event it collides with.
//
// Nearly every batch holds only new identities, so a batch is first stored as raw COPY would
// store it: its identities and its events copied straight into their tables, behind a
// savepoint. Only when that meets an identity already claimed (a redelivery, a reused id, the
// same event in a transaction of another partition) does it roll back to the savepoint and
// take the staging path: the batch copied into a staging table, the identities claimed with
// ON CONFLICT, and the copies told apart by their bodies' digests. The direct path writes every
// event once instead of twice and computes no digest: Postgres spends about half the staging
// path's time on its statements (docs/database.md).
import { copyInThen } from "../db/copy-in.ts";
import type { PoolClient } from "../db/pool.ts";
import { copyLines, copyStatement, type StagingTable, stageRows } from "../db/staging-table.ts";
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

/** saga_event's columns, in COPY order. */
const storedColumns = {
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
} as const;

/** saga_event's columns as the direct path copies them (the staging table's, but `n`). */
const STORED_SAGA_EVENTS: StagingTable<ReturnType<typeof sagaEventRow>> = {
  name: "saga_event",
  columns: storedColumns,
};

/** The identities as the direct path copies them: no digest (computed when one is met again). */
const CLAIMED_IDENTITIES: StagingTable<{ source: string; id: string; time: string }> = {
  name: "saga_event_identity",
  columns: { source: "text", id: "text", time: "timestamptz" },
};

const DIRECT_SAVEPOINT = "sagascope_direct_events";

/** The batch as it arrives, before the identity claim decides which rows are new. */
export const STAGED_SAGA_EVENTS: StagingTable<SagaEventRow> = {
  name: "staging_saga_event",
  columns: { n: "int", ...storedColumns },
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
 * without parameters) after them; a batch of new identities only takes one message, any other
 * batch two (see the head of this file).
 */
export async function insertSagaEvents(
  client: PoolClient,
  incoming: IncomingEvent[],
  {
    opening = (sql) => sql,
    after,
  }: {
    /** What goes ahead of the first statement sent (withBoundaries' BEGIN). */
    opening?: (sql: string) => string;
    /** A statement sent after the claim in the same message, its rows returned as `afterRows`. */
    after?: string;
  } = {},
): Promise<StoredSagaEvents> {
  if (incoming.length === 0) return { fresh: [], reusedIds: [], afterRows: [] };
  const rows = incoming.map(({ event, position }) => sagaEventRow(event, position));
  let staging = opening;
  if (!holdsAnIdentityTwice(incoming)) {
    try {
      const afterRows = await copyDirectly(client, rows, opening, after);
      return { fresh: incoming, reusedIds: [], afterRows };
    } catch (error) {
      // An identity already claimed (or claimed now by another transaction): the staging path
      // tells the copies apart. Any other error is the caller's, as it would be there.
      if ((error as { code?: unknown }).code !== "23505") throw error;
      staging = (sql) => `ROLLBACK TO SAVEPOINT ${DIRECT_SAVEPOINT};\n${sql}`;
    }
  }
  return claimByStaging(client, incoming, rows, staging, after);
}

/** Whether two of the batch's events share a source and id (the direct path would fail on it). */
function holdsAnIdentityTwice(incoming: IncomingEvent[]): boolean {
  const seen = new Map<string, Set<string>>();
  for (const { event } of incoming) {
    const ids = seen.get(event.source) ?? new Set<string>();
    if (ids.has(event.id)) return true;
    ids.add(event.id);
    seen.set(event.source, ids);
  }
  return false;
}

/** The direct path: identities and events copied as they are, in one message; `after`'s rows. */
async function copyDirectly(
  client: PoolClient,
  rows: ReturnType<typeof sagaEventRow>[],
  opening: (sql: string) => string,
  after: string | undefined,
): Promise<Record<string, unknown>[]> {
  const statements = [
    `SAVEPOINT ${DIRECT_SAVEPOINT}`,
    copyStatement(CLAIMED_IDENTITIES),
    copyStatement(STORED_SAGA_EVENTS),
    ...(after ? [after] : []),
  ];
  const { results } = await copyInThen(client, opening(statements.join(";\n")), [
    copyLines(CLAIMED_IDENTITIES, rows),
    copyLines(STORED_SAGA_EVENTS, rows),
  ]);
  return results[0] ?? [];
}

/** The staging path: the batch staged, its identities claimed ON CONFLICT, its copies told apart. */
async function claimByStaging(
  client: PoolClient,
  incoming: IncomingEvent[],
  rows: ReturnType<typeof sagaEventRow>[],
  opening: (sql: string) => string,
  after: string | undefined,
): Promise<StoredSagaEvents> {
  const [notClaimed = [], afterRows = []] = await stageRows(
    client,
    STAGED_SAGA_EVENTS,
    rows.map((row, n) => ({ n, ...row })),
    { opening, after: after ? `${CLAIM_AND_INSERT};\n${after}` : CLAIM_AND_INSERT },
  );
  if (notClaimed.length === 0) return { fresh: incoming, reusedIds: [], afterRows };
  const copies = notClaimed.map((r) => r.n as number);
  const copyAt = new Set(copies);
  const fresh = incoming.filter((_, n) => !copyAt.has(n));
  // Only a batch with copies pays for this: are they the same event again, or another body?
  // An identity the direct path claimed has no digest yet: its stored event's is computed.
  const compared = await client.query<{ n: number; same: boolean | null }>(
    `SELECT r.n, COALESCE(i.body_md5, (
              SELECT ${bodyMd5("e.")} FROM saga_event e
              WHERE e.id = i.id AND e.time = i.time AND e.source = i.source)) = ${bodyMd5("r.")} AS same
     FROM ${STAGED_SAGA_EVENTS.name} r JOIN saga_event_identity i ON i.source = r.source AND i.id = r.id
     WHERE r.n = ANY($1::int[])`,
    [copies],
  );
  // A stored event not found (never, while identities and events are dropped together) is not
  // taken for the same: quarantined, not dropped.
  const reusedIds = compared.rows
    .filter((r) => r.same !== true)
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
