// One batch's transaction against the real database: batches of one saga stored at the same
// moment (two ingesters just after a repartition) fold into one summary that counts every
// event; and a saga batch costs two messages, each one round trip: BEGIN, the events' COPY, the
// claim and the sagas' locks; then the words, the notification, the summaries and COMMIT
// (what the ingester's throughput under load was measured on, docs/database.md).
import { afterAll, describe, expect, it, vi } from "vitest";
import { testInfra, uniqueName, until } from "../../scripts/test/infra.ts";
import { completedSaga, EVENTS_PER_SAGA } from "../../scripts/test/steady-load.ts";
import { createPool, type Pool } from "../db/pool.ts";
import { newTrace, type SagaEvent, sagaEvent } from "../events/index.ts";
import { type IncomingEvent, storeBatch } from "./store-batch.ts";
import { REUSED_ID_REASON } from "./store-saga-events.ts";

const pool = createPool(testInfra().databaseUrl, 6);
afterAll(() => pool.end());

let offset = 0;
const incoming = (events: SagaEvent[]): IncomingEvent[] =>
  events.map((event) => ({ event, position: { topic: "store-batch-test", partition: 0, offset: offset++ } }));

const saga = (sagaId: string) => completedSaga(sagaId, "/store-batch-test");
const HALF = EVENTS_PER_SAGA / 2;

describe("storeBatch", () => {
  it("folds batches of the same new sagas stored at the same moment into one summary each, counting every event", async () => {
    const ids = Array.from({ length: 30 }, () => uniqueName("together"));
    const sagas = ids.map(saga);
    // Both batches are held at their summary upsert until each has got as far as it can, so
    // they overlap for sure: without a lock per saga, both would read no summary and the later
    // upsert would keep only its own half.
    await whileBothWait((racers) => [
      storeBatch(racers, { events: incoming(sagas.flatMap((s) => s.slice(0, HALF))) }),
      storeBatch(racers, { events: incoming(sagas.flatMap((s) => s.slice(HALF))) }),
    ]);
    const { rows } = await pool.query<{ event_count: number }>(
      "SELECT event_count FROM saga_summary WHERE saga_id = ANY($1)",
      [ids],
    );
    expect(rows.map((r) => r.event_count)).toEqual(ids.map(() => EVENTS_PER_SAGA));
  });

  it("stores a saga batch in two round trips: BEGIN, the identities' and events' COPYs and the locks; then words, notification, summaries and COMMIT", async () => {
    const sagaId = uniqueName("two");
    // Watch every connection of the pool: the batch takes one of them.
    const clients = await Promise.all(Array.from({ length: 6 }, () => pool.connect()));
    const spies = clients.map((c) => vi.spyOn(c, "query"));
    for (const c of clients) c.release();
    try {
      const outcome = await storeBatch(pool, { events: incoming(saga(sagaId)) });
      expect(outcome.inserted).toBe(EVENTS_PER_SAGA);
      // A connection's first batch also makes its staging tables, once, before its transaction.
      const sent = spies
        .flatMap((s) => s.mock.calls.map(([q]) => statementOf(q)))
        .filter((q) => !q.startsWith("CREATE TEMP TABLE"));
      expect(sent).toEqual([
        expect.stringMatching(
          /^BEGIN; SAVEPOINT sagascope_direct_events;\nCOPY saga_event_identity [^;]*FROM STDIN;\nCOPY saga_event [^;]*FROM STDIN;\nSELECT \* FROM sagascope_lock_sagas\([^;]*\)$/,
        ),
        expect.stringMatching(
          /^INSERT INTO saga_vocabulary [^;]*;\nSELECT pg_notify\([^;]*\);\nCOPY staging_saga_summary [^;]*FROM STDIN;\nINSERT INTO saga_summary [\s\S]*; COMMIT$/,
        ),
      ]);
    } finally {
      for (const s of spies) s.mockRestore();
    }
    const summary = await pool.query("SELECT status, event_count FROM saga_summary WHERE saga_id = $1", [
      sagaId,
    ]);
    expect(summary.rows).toEqual([{ status: "completed", event_count: EVENTS_PER_SAGA }]);
  });

  it("stores new identities straight, with no digest; met again, a copy is told from a reused id by the stored event's body", async () => {
    const sagaId = uniqueName("met-again");
    const events = saga(sagaId);
    const first = await storeBatch(pool, { events: incoming(events) });
    expect(first.inserted).toBe(EVENTS_PER_SAGA);
    const identities = await pool.query<{ body_md5: string | null }>(
      "SELECT body_md5 FROM saga_event_identity WHERE source = $1 AND id = ANY($2)",
      [events[0]?.source, events.map((e) => e.id)],
    );
    expect(identities.rows.map((r) => r.body_md5)).toEqual(events.map(() => null));

    // The same events again but the first (one of them under a new time), one under the first's
    // id with another body, and one new event of the same saga: no identity twice in the batch.
    const [started, stepStarted, ...rest] = events as [SagaEvent, SagaEvent, ...SagaEvent[]];
    const impostor: SagaEvent = { ...stepStarted, id: started.id };
    const late: SagaEvent = { ...stepStarted, id: uniqueName("late"), time: new Date() };
    const clients = await Promise.all(Array.from({ length: 6 }, () => pool.connect()));
    const spies = clients.map((c) => vi.spyOn(c, "query"));
    for (const c of clients) c.release();
    let again: Awaited<ReturnType<typeof storeBatch>>;
    try {
      again = await storeBatch(pool, {
        events: incoming([{ ...stepStarted, time: new Date() }, ...rest, impostor, late]),
      });
      const sent = spies
        .flatMap((spy) => spy.mock.calls.map(([q]) => statementOf(q)))
        .filter((q) => !q.startsWith("CREATE TEMP TABLE"));
      // The straight COPYs meet the stored identities; the same transaction rolls back to its
      // savepoint and claims by the staging path, then compares the copies' bodies.
      expect(sent.slice(0, 3)).toEqual([
        expect.stringMatching(/^BEGIN; SAVEPOINT sagascope_direct_events;\nCOPY saga_event_identity /),
        expect.stringMatching(
          /^ROLLBACK TO SAVEPOINT sagascope_direct_events;\nCOPY staging_saga_event [^;]*FROM STDIN;\nWITH firsts AS [\s\S]*;\nSELECT \* FROM sagascope_lock_sagas\(/,
        ),
        expect.stringMatching(/^SELECT r\.n, COALESCE\(i\.body_md5, /),
      ]);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(again).toMatchObject({ inserted: 1, duplicates: EVENTS_PER_SAGA - 1, deadLettered: 1 });
    expect(again.deadLetterReasons).toEqual([expect.stringContaining(REUSED_ID_REASON)]);
    const summary = await pool.query("SELECT event_count FROM saga_summary WHERE saga_id = $1", [sagaId]);
    expect(summary.rows).toEqual([{ event_count: EVENTS_PER_SAGA + 1 }]);
  });

  it("of two transactions claiming the same new identities at once, the later one counts them as copies", async () => {
    const events = saga(uniqueName("both"));
    // The first holds its identities uncommitted (its summaries wait for the holder's lock);
    // the second's COPY of the same identities waits for the first to end.
    const outcomes = await whileBothWait((racers) => [
      storeBatch(racers, { events: incoming(events) }),
      storeBatch(racers, { events: incoming(events) }),
    ]);
    expect(outcomes.map((o) => [o.inserted, o.duplicates]).sort()).toEqual([
      [0, EVENTS_PER_SAGA],
      [EVENTS_PER_SAGA, 0],
    ]);
  });

  it("carries ids and words of any characters through the literals of its messages: quotes, backslashes, braces, commas, newlines", async () => {
    // The sagas' ids (the locks' array) and the filters' words go to Postgres as literals
    // escaped by the driver, inside array literals; a character either layer mistook would
    // fail the batch, or lock, fold or record something else.
    const odd = `o'd"d\\ {a,b} ${uniqueName("x")}\nline`;
    const sagaId = `saga ${odd}`;
    const service = `svc ${odd}`;
    const o = { source: "/store-batch-test", trace: newTrace() };
    const base = { sagaId, sagaType: `type ${odd}`, mode: "orchestrated" as const };
    const step = { ...base, step: `step ${odd}`, stepIndex: 0, service };
    const outcome = await storeBatch(pool, {
      events: incoming([
        sagaEvent("io.sagascope.saga.started", { ...base, steps: [{ name: step.step, service }] }, o),
        sagaEvent("io.sagascope.saga.step.started", step, o),
      ]),
    });
    expect(outcome.sagasChanged).toEqual([sagaId]);
    const summary = await pool.query(
      "SELECT status, current_step, event_count FROM saga_summary WHERE saga_id = $1",
      [sagaId],
    );
    expect(summary.rows).toEqual([{ status: "running", current_step: step.step, event_count: 2 }]);
    // A second batch reads the summary the first wrote, under the same odd id.
    await storeBatch(pool, {
      events: incoming([sagaEvent("io.sagascope.saga.step.succeeded", { ...step, durationMs: 1 }, o)]),
    });
    const again = await pool.query("SELECT event_count FROM saga_summary WHERE saga_id = $1", [sagaId]);
    expect(again.rows).toEqual([{ event_count: 3 }]);
    const words = await pool.query(
      "SELECT kind, value FROM saga_vocabulary WHERE value IN ($1, $2, $3) ORDER BY kind",
      [base.sagaType, service, step.step],
    );
    expect(words.rows).toEqual([
      { kind: "saga_type", value: base.sagaType },
      { kind: "service", value: service },
      { kind: "step", value: step.step },
    ]);
  });
});

/** A statement's text, whether sent as text or as a COPY stream. */
function statementOf(query: unknown): string {
  const text = typeof query === "string" ? query : (query as { text?: string }).text;
  return (text ?? "").trim();
}

/**
 * Runs the batches that `start` begins on two connections of their own while saga_summary is
 * locked against their upserts, lets them go once both wait on a lock (each has got as far as
 * it can), and returns their outcomes.
 */
async function whileBothWait<T>(start: (racers: Pool) => Promise<T>[]): Promise<T[]> {
  const holder = await pool.connect();
  // The two batches' connections, told apart from other files' by their application name.
  const name = uniqueName("racer");
  const url = new URL(testInfra().databaseUrl);
  url.searchParams.set("application_name", name);
  const racers = createPool(url.toString(), 2);
  let stores: Promise<T>[] = [];
  try {
    await holder.query("BEGIN");
    await holder.query("LOCK TABLE saga_summary IN SHARE MODE");
    stores = start(racers);
    await until("both batches waiting on a lock", async () => {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE application_name = $1 AND wait_event_type = 'Lock'`,
        [name],
      );
      return rows[0]?.n === 2;
    });
  } finally {
    await holder.query("COMMIT");
    holder.release();
    await Promise.allSettled(stores);
    await racers.end();
  }
  return Promise.all(stores);
}
