// The large seed at a tiny size, into a scratch database: what it stores is what the
// ingester would have stored for those events, and the store's indexes come back whole.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../server/db/migrate.ts";
import { isSagaEventType, type SagaEvent, sagaEventDataSchemas } from "../../server/events/index.ts";
import { foldSagaSummary, isTerminal, type SagaSummaryState } from "../../server/ingest/fold-saga-summary.ts";
import { scratchDatabase } from "../test/infra.ts";
import { SeedRefusal, type SeedReport, seedSagas } from "./seed-sagas.ts";

const SAGAS = 200;
const GRACE_MS = 30_000;
const until = new Date();
let scratch: Awaited<ReturnType<typeof scratchDatabase>>;
let client: pg.Client;
let report: SeedReport;
let indexesBefore: string[];

const INDEXES = `SELECT indexname || ': ' || indexdef AS line FROM pg_indexes
  WHERE schemaname = 'public' AND tablename IN ('saga_event', 'saga_event_identity', 'saga_summary') ORDER BY 1`;

const seed = (databaseUrl: string) =>
  seedSagas({
    databaseUrl,
    sagas: SAGAS,
    eventsPerSaga: 10,
    chunkSize: 70,
    until,
    stuckGraceMs: GRACE_MS,
    topic: "sagascope.saga-events",
  });

beforeAll(async () => {
  scratch = await scratchDatabase("seed");
  await migrate(scratch.url);
  client = new pg.Client({ connectionString: scratch.url });
  await client.connect();
  indexesBefore = (await client.query<{ line: string }>(INDEXES)).rows.map((r) => r.line);
  report = await seed(scratch.url);
});

afterAll(async () => {
  await client?.end();
  await scratch?.drop();
});

describe("seed:large's generator", () => {
  it("stores the asked number of sagas, each with as many events as its summary counts", async () => {
    const { rows } = await client.query(
      `SELECT (SELECT count(*)::int FROM saga_summary) AS sagas,
              (SELECT count(*)::int FROM saga_event) AS events,
              (SELECT sum(event_count)::int FROM saga_summary) AS counted,
              (SELECT count(*)::int FROM saga_summary s
               WHERE s.event_count <> (SELECT count(*) FROM saga_event e WHERE e.saga_id = s.saga_id)) AS disagreeing,
              (SELECT count(*)::int FROM saga_event_default) AS outside_partitions`,
    );
    expect(rows[0]).toEqual({
      sagas: SAGAS,
      events: report.events,
      counted: report.events,
      disagreeing: 0,
      outside_partitions: 0,
    });
    expect(report.events / SAGAS).toBeGreaterThan(7);
    expect(report.events / SAGAS).toBeLessThan(14);
  });

  it("gives every saga the summary the ingester's fold makes of its events, and marks quiet ones stuck", async () => {
    const events = await client.query(
      `SELECT id, source, type, time, trace_id, span_id, data, kafka_topic, kafka_partition, kafka_offset
       FROM saga_event ORDER BY saga_id, kafka_offset`,
    );
    const folded = new Map<string, SagaSummaryState>();
    const partitions = new Map<string, Set<number>>();
    for (const r of events.rows) {
      expect(isSagaEventType(r.type)).toBe(true);
      // Each stored event is valid under the contract, as an ingested one is.
      const data = sagaEventDataSchemas[r.type as keyof typeof sagaEventDataSchemas].parse(r.data);
      const event = {
        id: r.id,
        source: r.source,
        type: r.type,
        time: r.time,
        trace: { traceId: r.trace_id, spanId: r.span_id, sampled: true },
        data,
      } as SagaEvent;
      folded.set(event.data.sagaId, foldSagaSummary(folded.get(event.data.sagaId), event));
      const seen = partitions.get(event.data.sagaId) ?? new Set<number>();
      seen.add(r.kafka_partition);
      partitions.set(event.data.sagaId, seen);
    }
    const summaries = await client.query("SELECT * FROM saga_summary");
    const statuses = new Set<string>();
    for (const s of summaries.rows) {
      const f = folded.get(s.saga_id);
      expect(f, s.saga_id).toBeDefined();
      if (!f) continue;
      statuses.add(s.status);
      expect(partitions.get(s.saga_id)?.size).toBe(1);
      expect(s.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect({
        sagaType: s.saga_type,
        mode: s.mode,
        status: s.status,
        traceId: s.trace_id,
        businessKey: s.business_key,
        currentStep: s.current_step,
        failedStep: s.failed_step,
        failureReason: s.failure_reason,
        startedAt: s.started_at,
        lastProgressAt: s.last_progress_at,
        endedAt: s.ended_at,
        eventCount: s.event_count,
        progressExpectedBy: s.progress_expected_by,
        progressExpectation: s.progress_expectation,
        services: s.services,
      }).toEqual({
        sagaType: f.sagaType,
        mode: f.mode,
        status: f.status,
        traceId: f.traceId,
        businessKey: f.businessKey,
        currentStep: f.currentStep,
        failedStep: f.failedStep,
        failureReason: f.failureReason,
        startedAt: f.startedAt,
        lastProgressAt: f.lastProgressAt,
        endedAt: f.endedAt,
        eventCount: f.eventCount,
        progressExpectedBy: f.progressExpectedBy,
        progressExpectation: f.progressExpectation,
        services: f.services,
      });
      // The sweeper's rule, as of the moment the data set describes.
      const overdue =
        !isTerminal(f.status) &&
        f.progressExpectedBy !== null &&
        f.progressExpectedBy.getTime() < until.getTime() - GRACE_MS;
      expect(s.stuck, s.saga_id).toBe(overdue);
      if (s.stuck) expect(s.stuck_reason).toMatch(/^no progress for \d+ s: expected .+ by \d{4}-/);
    }
    expect(statuses).toContain("completed");
    expect(statuses).toContain("compensated");
  });

  it("claims every event's identity as the ingester does", async () => {
    const { rows } = await client.query(
      `SELECT (SELECT count(*)::int FROM saga_event) AS events,
              (SELECT count(*)::int FROM saga_event e JOIN saga_event_identity i
                 ON i.source = e.source AND i.id = e.id AND i.time = e.time
                AND i.body_md5 = md5(e.type || ' ' || e.data::text)) AS claimed`,
    );
    expect(rows[0].claimed).toBe(rows[0].events);
    expect(rows[0].events).toBeGreaterThan(0);
  });

  it("fills the filters' vocabulary with every saga type, service, step and type's mode stored", async () => {
    const { rows } = await client.query(
      `SELECT (SELECT array_agg(w ORDER BY w) FROM (SELECT kind || ':' || value AS w FROM saga_vocabulary) AS v) AS vocabulary,
              (SELECT array_agg(w ORDER BY w) FROM (
                 SELECT DISTINCT 'saga_type:' || saga_type AS w FROM saga_summary
                 UNION SELECT DISTINCT 'service:' || service FROM saga_event WHERE service IS NOT NULL
                 UNION SELECT DISTINCT 'step:' || step FROM saga_event WHERE step IS NOT NULL
                 UNION SELECT DISTINCT 'type_service:' || saga_type || '/' || service
                       FROM saga_event WHERE service IS NOT NULL
                 UNION SELECT DISTINCT 'type_mode:' || saga_type || '/' || mode FROM saga_summary) AS x) AS stored`,
    );
    expect(rows[0].vocabulary).toEqual(rows[0].stored);
    expect(rows[0].vocabulary).toEqual(
      expect.arrayContaining([
        "saga_type:interbank-transfer",
        "saga_type:marketplace-checkout",
        "service:bank-b",
      ]),
    );
  });

  it("rebuilds every index and key it dropped for the load, valid", async () => {
    const after = (await client.query<{ line: string }>(INDEXES)).rows.map((r) => r.line);
    expect(after).toEqual(indexesBefore);
    const invalid = await client.query(
      "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid",
    );
    expect(invalid.rows).toEqual([]);
  });

  it("refuses a store that already holds sagas", async () => {
    await expect(seed(scratch.url)).rejects.toBeInstanceOf(SeedRefusal);
  });
});
