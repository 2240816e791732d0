// "Has the read model seen this?" For a change's event id, an aggregate id (an order, an
// account), a saga id (its business key and id are aggregate ids) or a Kafka position, each
// projection answers whether it has applied it and, if not, how far behind it is: the
// change's partition offset against the projector's applied (committed) offset.
import { Partitioners } from "kafkajs";
import type { Pool } from "../../db/pool.ts";
import { activeGeneration, PROJECTION, schemaOf } from "../../projections/read-model.ts";

export interface SeenAnswer {
  /** Which read model answers: the order view or the account view. */
  projection: string;
  /** What was looked up, in words. */
  subject: string;
  seen: boolean;
  /** The sentence the page shows. */
  detail: string;
  topic: string | null;
  partition: number | null;
  offset: number | null;
  /** Changes still waiting on that partition (at the projector's last checkpoint). */
  waiting: number | null;
  appliedAt: Date | null;
}

export interface SeenLookup {
  query: string;
  generation: number | null;
  answers: SeenAnswer[];
}

const VIEW_OF: Record<string, string> = {
  order: "order view",
  payment: "order view",
  reservation: "order view",
  shipment: "order view",
  account: "account view",
};

const POSITION = /^(.+?)[:/](\d{1,6})[:/@](\d{1,18})$/;
const partitioner = Partitioners.DefaultPartitioner();

/** The partition a key lands on with the fleet's producers' (murmur2) partitioner. */
export function partitionOfKey(topic: string, key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
  }));
  return partitioner({ topic, partitionMetadata, message: { key, value: null } });
}

interface PartitionState {
  topic: string;
  partition: number;
  /** The last offset applied; -1 before the first. */
  appliedOffset: number;
  logEndOffset: number | null;
  sampledAt: Date | null;
}

type Db = Pick<Pool, "query">;

async function partitionStates(db: Db, generation: number): Promise<PartitionState[]> {
  const { rows } = await db.query<PartitionState>(
    `WITH latest AS (
       SELECT DISTINCT ON (topic, partition) topic, partition, log_end_offset, time
       FROM projection_lag_sample WHERE generation = $1 AND time > now() - interval '1 hour'
       ORDER BY topic, partition, time DESC)
     SELECT coalesce(a.topic, l.topic) AS topic, coalesce(a.partition, l.partition) AS partition,
            coalesce(a.last_offset, -1) AS "appliedOffset", l.log_end_offset AS "logEndOffset", l.time AS "sampledAt"
     FROM ${schemaOf(generation)}.applied_offset a FULL JOIN latest l ON a.topic = l.topic AND a.partition = l.partition`,
    [generation],
  );
  return rows;
}

function waitingOn(state: PartitionState | undefined): number | null {
  if (!state || state.logEndOffset === null) return null;
  return Math.max(0, state.logEndOffset - (state.appliedOffset + 1));
}

function byPosition(states: PartitionState[], topic: string, partition: number, offset: number): SeenAnswer {
  const state = states.find((s) => s.topic === topic && s.partition === partition);
  const base = { subject: `${topic} partition ${partition} offset ${offset}`, topic, partition, offset };
  if (!state)
    return {
      ...base,
      projection: "projection",
      seen: false,
      detail: "The projection does not read this topic and partition (or has not reached it yet).",
      waiting: null,
      appliedAt: null,
    };
  const seen = offset <= state.appliedOffset;
  return {
    ...base,
    projection: "projection",
    seen,
    detail: seen
      ? `Applied: the projector has applied this partition up to offset ${state.appliedOffset}.`
      : `Not yet: the projector has applied up to offset ${state.appliedOffset}; this change is ${offset - state.appliedOffset} changes further on.`,
    waiting: waitingOn(state),
    appliedAt: null,
  };
}

/**
 * Every other projection (declared or reporting its own checkpoints) that read this
 * partition within the hour: seen when its committed offset (the next one it will read) is
 * past the position.
 */
async function positionElsewhere(
  db: Db,
  at: { topic: string; partition: number; offset: number },
): Promise<SeenAnswer[]> {
  const { rows } = await db.query<{ projection: string; committed: number; log_end: number; time: Date }>(
    `SELECT DISTINCT ON (projection) projection, committed_offset::float8 AS committed,
            log_end_offset::float8 AS log_end, time
     FROM projection_lag_sample
     WHERE topic = $1 AND partition = $2 AND projection <> $3 AND active AND time > now() - interval '1 hour'
     ORDER BY projection, time DESC`,
    [at.topic, at.partition, PROJECTION],
  );
  return rows.map((r) => {
    const seen = at.offset < r.committed;
    return {
      projection: r.projection,
      subject: `${at.topic} partition ${at.partition} offset ${at.offset}`,
      topic: at.topic,
      partition: at.partition,
      offset: at.offset,
      seen,
      detail: seen
        ? `Consumed: ${r.projection} had committed up to offset ${r.committed} at its last checkpoint.`
        : `Not yet at its last checkpoint: ${r.projection} had committed up to offset ${r.committed}; this message is ${
            at.offset - r.committed + 1
          } further on.`,
      waiting: Math.max(0, r.log_end - r.committed),
      appliedAt: null,
    };
  });
}

interface AppliedRow {
  event_id: string;
  aggregate_type: string;
  aggregate_id: string;
  version: number;
  topic: string;
  partition: number;
  kafka_offset: number;
  occurred_at: Date;
  outcome: string;
  applied_at: Date;
}

function fromApplied(row: AppliedRow, states: PartitionState[], subject: string): SeenAnswer {
  const state = states.find((s) => s.topic === row.topic && s.partition === row.partition);
  const waiting = waitingOn(state);
  const after =
    waiting === null
      ? ""
      : waiting === 0
        ? " Nothing is waiting on its partition, so no newer change of it can be pending."
        : ` ${waiting} changes are waiting on its partition; a newer one of it may be among them.`;
  return {
    projection: VIEW_OF[row.aggregate_type] ?? row.aggregate_type,
    subject,
    seen: true,
    detail: `Seen: ${row.aggregate_type} ${row.aggregate_id} version ${row.version} (${row.outcome}).${after}`,
    topic: row.topic,
    partition: row.partition,
    offset: row.kafka_offset,
    waiting,
    appliedAt: row.applied_at,
  };
}

export async function lookupSeen(db: Db, text: string): Promise<SeenLookup> {
  const query = text.trim();
  const generation = (await activeGeneration(db as Pool)) ?? null;
  const position = POSITION.exec(query);
  if (position) {
    const [, topic, partition, offset] = position as unknown as [string, string, string, string];
    const at = { topic, partition: Number(partition), offset: Number(offset) };
    const builtIn =
      generation === null
        ? []
        : [byPosition(await partitionStates(db, generation), at.topic, at.partition, at.offset)];
    return { query, generation, answers: [...builtIn, ...(await positionElsewhere(db, at))] };
  }
  if (generation === null) return { query, generation, answers: [] };
  const states = await partitionStates(db, generation);
  const schema = schemaOf(generation);

  // The first record: a replay racing a rebalance may have recorded the change again (as old news).
  const byEvent = await db.query<AppliedRow>(
    `SELECT * FROM ${schema}.applied_change WHERE event_id = $1 ORDER BY applied_at LIMIT 1`,
    [query],
  );
  if (byEvent.rows[0]) {
    const row = byEvent.rows[0];
    return { query, generation, answers: [fromApplied(row, states, `change ${row.event_id}`)] };
  }

  // A saga's id and business key name the aggregates it worked on (an order's saga id is its id).
  const saga = await db.query<{ business_key: string | null }>(
    "SELECT business_key FROM saga_summary WHERE saga_id = $1",
    [query],
  );
  const ids = [...new Set([query, ...saga.rows.flatMap((r) => (r.business_key ? [r.business_key] : []))])];
  const latest = await db.query<AppliedRow>(
    `SELECT DISTINCT ON (aggregate_type, aggregate_id) * FROM ${schema}.applied_change
     WHERE aggregate_id = ANY($1::text[]) ORDER BY aggregate_type, aggregate_id, version DESC`,
    [ids],
  );
  const answers = latest.rows.map((r) => fromApplied(r, states, `${r.aggregate_type} ${r.aggregate_id}`));
  const seenTypes = new Set(latest.rows.map((r) => `${r.aggregate_type}:${r.aggregate_id}`));

  // Older than the change log, or not seen at all: ask the views themselves and the partitions.
  const [orders, accounts] = await Promise.all([
    db.query<{ order_id: string; order_version: number; updated_at: Date }>(
      `SELECT order_id, order_version, updated_at FROM ${schema}.order_view WHERE order_id = ANY($1::text[])`,
      [ids],
    ),
    db.query<{ account_id: string; version: number; updated_at: Date }>(
      `SELECT account_id, version, updated_at FROM ${schema}.account_view WHERE account_id = ANY($1::text[])`,
      [ids],
    ),
  ]);
  for (const o of orders.rows)
    if (!seenTypes.has(`order:${o.order_id}`))
      answers.push(viewOnly("order view", `order ${o.order_id}`, o.order_version, o.updated_at));
  for (const a of accounts.rows)
    if (!seenTypes.has(`account:${a.account_id}`))
      answers.push(viewOnly("account view", `account ${a.account_id}`, a.version, a.updated_at));
  if (answers.length === 0) answers.push(...notSeen(query, states, saga.rows.length > 0));
  return { query, generation, answers };
}

function viewOnly(projection: string, subject: string, version: number, updatedAt: Date): SeenAnswer {
  return {
    projection,
    subject,
    seen: true,
    detail: `Seen: the view holds version ${version} (applied more than a day ago, before the change log kept).`,
    topic: null,
    partition: null,
    offset: null,
    waiting: null,
    appliedAt: updatedAt,
  };
}

/** Nothing of it applied: where its changes would wait, if it has any. */
function notSeen(query: string, states: PartitionState[], isSaga: boolean): SeenAnswer[] {
  const topics = [...new Set(states.map((s) => s.topic))];
  const waitingOnKey = topics.flatMap((topic) => {
    const partitions = states.filter((s) => s.topic === topic).length;
    const partition = partitionOfKey(topic, query, partitions);
    const state = states.find((s) => s.topic === topic && s.partition === partition);
    const waiting = waitingOn(state);
    return waiting ? [{ topic, partition, waiting }] : [];
  });
  const total = states.reduce((n, s) => n + (waitingOn(s) ?? 0), 0);
  const detail =
    waitingOnKey.length > 0
      ? `Not seen. Its changes would be on ${waitingOnKey
          .map((w) => `${w.topic} partition ${w.partition} (${w.waiting} waiting)`)
          .join(", ")}: if it was published, it is among those.`
      : total > 0
        ? `Not seen, and nothing is waiting on the partitions its key maps to; ${total} changes wait elsewhere. A change id that was not applied yet cannot be placed until it is.`
        : "Not seen, and the projector has nothing waiting: no change with this id or aggregate reached a projected topic.";
  return [
    {
      projection: "projection",
      subject: isSaga ? `saga ${query}` : query,
      seen: false,
      detail,
      topic: waitingOnKey[0]?.topic ?? null,
      partition: waitingOnKey[0]?.partition ?? null,
      offset: null,
      waiting: waitingOnKey.reduce((n, w) => n + w.waiting, 0) || null,
      appliedAt: null,
    },
  ];
}
