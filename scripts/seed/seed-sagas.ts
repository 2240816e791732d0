// Fills an empty, migrated store with many sagas as the ingester would have stored them:
// events in saga_event, one folded summary per saga in saga_summary, the filters'
// vocabulary, and sagas that went quiet marked stuck as the sweeper marks them.
//
// Generated inside Postgres (INSERT … SELECT over generate_series, one transaction per
// chunk of 50 000 sagas), not sent by COPY from Node. Each chunk's events are a join of its
// sagas with a few thousand story templates built once in Node by the real saga runtime, so
// no row is serialised, sent or parsed. Measured on the 2-core machine: this path stores
// about 145 000 events/s (events, summaries and vocabulary, in time order, WAL-logged) on
// one core. COPY of the same rows takes ~2.6 s per 500 000 on the server side alone (text
// to jsonb, timestamps; ~190 000 rows/s) and Node would have to build ~290 MB of text per
// 500 000 rows on the other core: at best ~20 % faster with both cores to itself, worse on
// a shared machine, and node-pg needs another package for COPY FROM STDIN.
// The primary keys and secondary indexes of the big tables are dropped for the load and
// rebuilt after it (one sorted build each instead of ten million random B-tree insertions,
// each dirtying a page and writing it to the WAL whole after every checkpoint); see
// bulkIndexes for why that is safe.
import pg from "pg";
import { buildSagaTemplates, type SagaTemplate, templateVocabulary } from "./saga-templates.ts";

export interface SeedOptions {
  databaseUrl: string;
  sagas: number;
  /** Mean events per saga to aim at (stories longer than that keep their length). */
  eventsPerSaga: number;
  /** Sagas per transaction. */
  chunkSize?: number;
  /** Sagas start over this many days before `until`. */
  days?: number;
  /** The moment the data set describes: its newest saga starts just before it. */
  until?: Date;
  /** The ingester's stuck grace: a quiet saga is marked stuck this long after its next event was due. */
  stuckGraceMs: number;
  /** Where the events came from (they are stamped with Kafka positions on this topic). */
  topic: string;
  partitions?: number;
  /** Seeds the story templates and which saga plays which, with its start (the sagas' ids are random every run). */
  seed?: number;
  say?: (line: string) => void;
}

export interface SizeOf {
  table: string;
  rows: number;
  tableBytes: number;
  indexBytes: number;
}

export interface SeedReport {
  sagas: number;
  events: number;
  seconds: { load: number; indexes: number; vacuum: number; total: number };
  sizes: SizeOf[];
}

/** The store already holds sagas: seeding would mix two worlds. */
export class SeedRefusal extends Error {
  override name = "SeedRefusal";
}

const SETTLED_TEMPLATES = 2000;
const IN_FLIGHT_TEMPLATES = 40;
/** The tables whose indexes are rebuilt after the load. */
const BULK_TABLES = ["saga_event", "saga_event_identity", "saga_summary"];

export async function seedSagas(options: SeedOptions): Promise<SeedReport> {
  const say = options.say ?? (() => {});
  const chunkSize = options.chunkSize ?? 50_000;
  const days = options.days ?? 30;
  const until = options.until ?? new Date();
  const from = new Date(until.getTime() - days * 86_400_000);
  const began = Date.now();
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    // Bulk-load settings for this session only: a lost last chunk after a crash costs
    // nothing (the run starts over with --reset), JIT only slows the big INSERTs down, and
    // index builds sort in memory.
    await client.query(
      "SET synchronous_commit = off; SET jit = off; SET work_mem = '64MB'; SET maintenance_work_mem = '512MB'",
    );
    await refuseUnlessEmpty(client);
    await ensurePartitions(client, from, until);

    const seed = options.seed ?? 20_260_101;
    const templates = buildSagaTemplates({
      settled: SETTLED_TEMPLATES,
      inFlight: IN_FLIGHT_TEMPLATES,
      eventsPerSaga: options.eventsPerSaga,
      seed,
    });
    await loadTemplates(client, templates);
    const stride = Math.max(...templates.map((t) => t.events.length));
    const indexes = await bulkIndexes(client);

    let events = 0;
    const loadStarted = Date.now();
    for (let lo = 0; lo < options.sagas; lo += chunkSize) {
      const hi = Math.min(options.sagas, lo + chunkSize);
      await client.query("BEGIN");
      try {
        // Dropped in the first chunk's transaction: if that chunk fails, the indexes come back
        // with the rollback; once it commits, the store is no longer empty and a new run
        // needs --reset, which makes the database anew from the migrations.
        if (lo === 0) for (const index of indexes) await client.query(index.drop);
        events += await loadChunk(client, {
          lo,
          hi,
          total: options.sagas,
          from,
          until,
          stuckGraceMs: options.stuckGraceMs,
          topic: options.topic,
          partitions: options.partitions ?? 6,
          stride,
          seed,
        });
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      }
      say(progressLine(hi, options.sagas, events, Date.now() - loadStarted));
    }
    const loadSeconds = (Date.now() - loadStarted) / 1000;

    const indexStarted = Date.now();
    for (const [i, index] of indexes.entries()) {
      const t = Date.now();
      await client.query(index.restore);
      say(`index ${i + 1}/${indexes.length} ${index.name} rebuilt (${seconds(Date.now() - t)})`);
    }
    const indexSeconds = (Date.now() - indexStarted) / 1000;

    // VACUUM sets the visibility map (index-only scans) and hint bits now, so that neither
    // autovacuum nor the first reads do it later in the middle of a measurement.
    const vacuumStarted = Date.now();
    say("VACUUM (ANALYZE)…");
    await client.query("VACUUM (ANALYZE) saga_event, saga_summary, saga_vocabulary");
    const vacuumSeconds = (Date.now() - vacuumStarted) / 1000;

    return {
      sagas: options.sagas,
      events,
      seconds: {
        load: loadSeconds,
        indexes: indexSeconds,
        vacuum: vacuumSeconds,
        total: (Date.now() - began) / 1000,
      },
      sizes: await sizes(client),
    };
  } finally {
    await client.end();
  }
}

async function refuseUnlessEmpty(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ sagas: boolean; events: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM saga_summary) AS sagas, EXISTS (SELECT 1 FROM saga_event) AS events",
  );
  if (rows[0]?.sagas || rows[0]?.events) {
    throw new SeedRefusal("the database already holds sagas; run again with --reset to start from nothing");
  }
}

/** Monthly partitions over the whole span, so that no seeded event lands in the default one. */
async function ensurePartitions(client: pg.Client, from: Date, until: Date): Promise<void> {
  const months =
    (until.getUTCFullYear() - from.getUTCFullYear()) * 12 + until.getUTCMonth() - from.getUTCMonth() + 2;
  await client.query("SELECT sagascope_ensure_event_partitions($1, $2)", [from, months]);
}

/** The templates as session tables the chunks join with. */
async function loadTemplates(client: pg.Client, templates: SagaTemplate[]): Promise<void> {
  await client.query(`
    DROP TABLE IF EXISTS seed_template, seed_template_event, seed_template_word, seed_template_pool;
    CREATE TEMP TABLE seed_template (template int PRIMARY KEY, saga_type text, mode saga_mode, id_prefix text,
      status saga_status, current_step text, failed_step text, failure_reason text, last_progress_ms int,
      ended_ms int, event_count int, expected_ms int, progress_expectation text, services text[]);
    CREATE TEMP TABLE seed_template_event (template int, seq int, type text, source text, step text,
      step_index int, service text, span int, at_ms int, data jsonb, PRIMARY KEY (template, seq));
    CREATE TEMP TABLE seed_template_word (template int, kind text, value text)`);
  const settled = templates.filter((t) => t.pool === "settled");
  const ordered = [...settled, ...templates.filter((t) => t.pool === "in-flight")];
  const summaries = ordered.map((t, template) => ({
    template,
    saga_type: t.sagaType,
    mode: t.mode,
    id_prefix: t.idPrefix,
    status: t.summary.status,
    current_step: t.summary.currentStep,
    failed_step: t.summary.failedStep,
    failure_reason: t.summary.failureReason,
    last_progress_ms: t.summary.lastProgressMs,
    ended_ms: t.summary.endedMs,
    event_count: t.summary.eventCount,
    expected_ms: t.summary.expectedMs,
    progress_expectation: t.summary.progressExpectation,
    services: t.summary.services,
  }));
  await client.query(
    `INSERT INTO seed_template SELECT * FROM json_populate_recordset(NULL::seed_template, $1::json)`,
    [JSON.stringify(summaries)],
  );
  const events = ordered.flatMap((t, template) =>
    t.events.map((e, seq) => ({
      template,
      seq,
      type: e.type,
      source: e.source,
      step: e.step,
      step_index: e.stepIndex,
      service: e.service,
      span: e.span,
      at_ms: e.atMs,
      data: e.data,
    })),
  );
  await client.query(
    `INSERT INTO seed_template_event SELECT * FROM json_populate_recordset(NULL::seed_template_event, $1::json)`,
    [JSON.stringify(events)],
  );
  const words = ordered.flatMap((t, template) =>
    templateVocabulary(t).map(([kind, value]) => ({ template, kind, value })),
  );
  await client.query(
    `INSERT INTO seed_template_word SELECT DISTINCT * FROM json_populate_recordset(NULL::seed_template_word, $1::json)`,
    [JSON.stringify(words)],
  );
  await client.query(
    "CREATE TEMP TABLE seed_template_pool AS SELECT $1::int AS settled, $2::int AS in_flight",
    [settled.length, templates.length - settled.length],
  );
  await client.query("ANALYZE seed_template; ANALYZE seed_template_event; ANALYZE seed_template_word");
}

interface BulkIndex {
  name: string;
  drop: string;
  restore: string;
}

/**
 * The indexes and keys of the big tables, as the migrations made them, with the
 * statements that drop and rebuild them. Dropping them is safe because the store is this
 * run's own and empty (checked before), nothing else writes to it, and a run that stops
 * half-way leaves a non-empty store that only --reset (a fresh, migrated database) reuses.
 */
async function bulkIndexes(client: pg.Client): Promise<BulkIndex[]> {
  const { rows } = await client.query<{
    table_name: string;
    index_name: string;
    indexdef: string;
    conname: string | null;
    condef: string | null;
  }>(
    `SELECT t.relname AS table_name, ic.relname AS index_name, pg_get_indexdef(i.indexrelid) AS indexdef,
            c.conname, pg_get_constraintdef(c.oid) AS condef
     FROM pg_index i
     JOIN pg_class t ON t.oid = i.indrelid
     JOIN pg_class ic ON ic.oid = i.indexrelid
     LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = t.oid
     WHERE t.relnamespace = 'public'::regnamespace AND t.relname = ANY($1)
     ORDER BY t.relname, c.conname IS NULL, ic.relname`,
    [BULK_TABLES],
  );
  return rows.map((r) => {
    const table = pg.escapeIdentifier(r.table_name);
    if (r.conname && r.condef) {
      const name = pg.escapeIdentifier(r.conname);
      return {
        name: r.index_name,
        drop: `ALTER TABLE ${table} DROP CONSTRAINT ${name}`,
        restore: `ALTER TABLE ${table} ADD CONSTRAINT ${name} ${r.condef}`,
      };
    }
    return {
      name: r.index_name,
      drop: `DROP INDEX ${pg.escapeIdentifier(r.index_name)}`,
      // A partitioned table's index is reported "ON ONLY" (without its partitions); the
      // rebuild must cover the partitions too.
      restore: r.indexdef.replace(" ON ONLY ", " ON "),
    };
  });
}

interface Chunk {
  lo: number;
  hi: number;
  total: number;
  from: Date;
  until: Date;
  stuckGraceMs: number;
  topic: string;
  partitions: number;
  stride: number;
  seed: number;
}

/** One chunk of sagas: their events, summaries and vocabulary. Returns the events stored. */
async function loadChunk(client: pg.Client, c: Chunk): Promise<number> {
  const stepMs = (c.until.getTime() - c.from.getTime()) / c.total;
  // Postgres's random() seeded per chunk: the same seed gives every saga the same story and
  // start (a mix drawn afresh each run could land outside what the seed's templates promise).
  await client.query("SELECT setseed($1)", [((c.seed + c.lo) % 1_000_003) / 1_000_003]);
  // Sagas started within the grace before `until` are in flight; older ones have ended or
  // gone quiet. A saga's ids come from one UUID, as the fleet makes them.
  await client.query(
    `CREATE TEMP TABLE seed_saga ON COMMIT DROP AS
     WITH g AS MATERIALIZED (
       SELECT n, $3::timestamptz + (n + random()) * $4::float8 * interval '1 millisecond' AS started_at,
              gen_random_uuid()::text AS uuid, random() AS r
       FROM generate_series($1::bigint, $2::bigint - 1) AS n
     ), picked AS (
       SELECT g.*, CASE WHEN started_at > $5::timestamptz - $6::float8 * interval '1 millisecond'
                        THEN p.settled + floor(r * p.in_flight)::int ELSE floor(r * p.settled)::int END AS template
       FROM g CROSS JOIN seed_template_pool AS p
     )
     SELECT n, started_at, template, t.id_prefix || uuid AS saga_id, md5(uuid) AS trace_id,
            CASE t.id_prefix WHEN 'transfer-' THEN 'TX-' || upper(left(uuid, 8)) ELSE 'order-' || left(uuid, 8) END
              AS business_key,
            (hashtext(t.id_prefix || uuid)::bigint & 2147483647) % $7::int AS partition
     FROM picked JOIN seed_template AS t USING (template)`,
    [c.lo, c.hi, c.from, stepMs, c.until, c.stuckGraceMs, c.partitions],
  );
  // In time order, as the ingester writes them: one saga's events sit near each other.
  // Each event's identity is claimed as the ingester claims it (docs/database.md#idempotency).
  const inserted = await client.query(
    `WITH stored AS (
     INSERT INTO saga_event (id, time, source, type, saga_id, saga_type, trace_id, span_id, step, step_index,
                             service, data, kafka_topic, kafka_partition, kafka_offset, ingested_at)
     SELECT gen_random_uuid()::text, x.time, e.source, e.type, s.saga_id, t.saga_type, s.trace_id,
            left(md5(s.trace_id || '/' || e.span), 16), e.step, e.step_index, e.service,
            e.data || CASE WHEN e.seq = 0
                           THEN jsonb_build_object('sagaId', s.saga_id, 'businessKey', s.business_key)
                           ELSE jsonb_build_object('sagaId', s.saga_id) END,
            $1, s.partition, s.n * $2::int + e.seq, x.time + (8 + e.seq % 5) * interval '1 millisecond'
     FROM seed_saga AS s
     JOIN seed_template AS t USING (template)
     JOIN seed_template_event AS e USING (template)
     CROSS JOIN LATERAL (SELECT (s.started_at + e.at_ms * interval '1 millisecond')::timestamptz(3) AS time) AS x
     ORDER BY x.time
     RETURNING source, id, type, data, time
     )
     INSERT INTO saga_event_identity (source, id, body_md5, time)
     SELECT source, id, md5(type || ' ' || data::text), time FROM stored`,
    [c.topic, c.stride],
  );
  // The summary the ingester folded from those events; a saga whose next event is overdue
  // by more than the grace at `until` is stuck, with the sweeper's own wording.
  await client.query(
    `INSERT INTO saga_summary (saga_id, saga_type, mode, status, trace_id, business_key, current_step, failed_step,
                               failure_reason, started_at, last_progress_at, ended_at, event_count,
                               progress_expected_by, progress_expectation, stuck, stuck_reason, services, updated_at)
     SELECT saga_id, saga_type, mode, status, trace_id, business_key, current_step, failed_step, failure_reason,
            started_at, last_progress_at, ended_at, event_count, progress_expected_by, progress_expectation,
            stuck,
            CASE WHEN stuck THEN format('no progress for %s s: expected %s by %s',
              round(extract(epoch FROM $1::timestamptz - last_progress_at))::int,
              coalesce(progress_expectation, 'the next event'),
              to_char(progress_expected_by AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) END,
            services, CASE WHEN stuck THEN $1::timestamptz ELSE last_progress_at END
     FROM (
       SELECT s.saga_id, t.saga_type, t.mode, t.status, s.trace_id, s.business_key, t.current_step, t.failed_step,
              t.failure_reason, t.event_count, t.progress_expectation, t.services,
              s.started_at::timestamptz(3) AS started_at,
              (s.started_at + t.last_progress_ms * interval '1 millisecond')::timestamptz(3) AS last_progress_at,
              (s.started_at + t.ended_ms * interval '1 millisecond')::timestamptz(3) AS ended_at,
              (s.started_at + t.expected_ms * interval '1 millisecond')::timestamptz(3) AS progress_expected_by,
              t.status IN ('running', 'compensating', 'timed_out')
                AND s.started_at + t.expected_ms * interval '1 millisecond'
                    < $1::timestamptz - $2::float8 * interval '1 millisecond' AS stuck
       FROM seed_saga AS s JOIN seed_template AS t USING (template)
     ) AS folded
     ORDER BY started_at`,
    [c.until, c.stuckGraceMs],
  );
  await client.query(
    `INSERT INTO saga_vocabulary (kind, value)
     SELECT DISTINCT kind, value FROM seed_template_word
     WHERE template IN (SELECT DISTINCT template FROM seed_saga)
     ON CONFLICT DO NOTHING`,
  );
  return inserted.rowCount ?? 0;
}

async function sizes(client: pg.Client): Promise<SizeOf[]> {
  const sized: SizeOf[] = [];
  for (const table of [...BULK_TABLES, "saga_vocabulary"]) {
    const { rows } = await client.query<{ rows: number; table_bytes: string; index_bytes: string }>(
      `SELECT (SELECT count(*)::int FROM ${pg.escapeIdentifier(table)}) AS rows,
              sum(pg_table_size(p.relid)) AS table_bytes, sum(pg_indexes_size(p.relid)) AS index_bytes
       FROM (SELECT relid FROM pg_partition_tree($1::regclass) WHERE isleaf
             UNION SELECT oid FROM pg_class WHERE oid = $1::regclass AND relkind = 'r') AS p`,
      [table],
    );
    const r = rows[0];
    sized.push({
      table,
      rows: r?.rows ?? 0,
      tableBytes: Number(r?.table_bytes ?? 0),
      indexBytes: Number(r?.index_bytes ?? 0),
    });
  }
  return sized;
}

const count = (n: number) => n.toLocaleString("en-US");
export const seconds = (ms: number) =>
  ms < 60_000
    ? `${(ms / 1000).toFixed(1)} s`
    : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

function progressLine(done: number, total: number, events: number, elapsedMs: number): string {
  const rate = (done / Math.max(elapsedMs, 1)) * 1000;
  const eta = rate > 0 ? ((total - done) / rate) * 1000 : 0;
  return (
    `${count(done)} / ${count(total)} sagas (${((done / total) * 100).toFixed(1)} %), ${count(events)} events, ` +
    `${count(Math.round(rate))} sagas/s, ${count(Math.round((events / Math.max(elapsedMs, 1)) * 1000))} events/s, ` +
    `ETA ${seconds(eta)}`
  );
}
