// Proves that the SQL migrations and the client generated from prisma/schema.prisma
// agree: a fresh database is migrated, then every model makes a full round trip with
// every field set, and the tables hold no column and no enum value the schema lacks.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase } from "../../scripts/test/infra.ts";
import { Prisma, SagaMode, SagaStatus } from "./generated/client.ts";
import { migrate } from "./migrate.ts";
import { createPrisma, type PrismaClient } from "./prisma.ts";

let databaseUrl: string;
let database: Awaited<ReturnType<typeof scratchDatabase>>;
let db: pg.Client;
let prisma: PrismaClient;

beforeAll(async () => {
  database = await scratchDatabase("schema_agreement");
  databaseUrl = database.url;
  await migrate(databaseUrl);
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  prisma = createPrisma(databaseUrl);
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.end();
  await database?.drop();
});

const at = new Date("2026-11-25T10:11:12.345Z");

describe("migrated database and generated client", () => {
  it("migrating again applies nothing", async () => {
    expect(await migrate(databaseUrl)).toEqual([]);
  });

  it("creates monthly event partitions once, even when several ingesters ask at the same moment", async () => {
    const clients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const c = new pg.Client({ connectionString: databaseUrl });
        await c.connect();
        return c;
      }),
    );
    const created = await Promise.all(
      clients.map((c) => c.query("SELECT sagascope_ensure_event_partitions('2031-01-15', 3) AS n")),
    );
    await Promise.all(clients.map((c) => c.end()));
    expect(created.map((r) => r.rows[0].n).reduce((a, b) => a + b, 0)).toBe(3);
    const parts = await db.query(
      "SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'saga_event_2031_%'",
    );
    expect(parts.rows[0].n).toBe(3);
  });

  it("round-trips a SagaEvent with every field", async () => {
    const row = {
      id: "evt-1",
      time: at,
      source: "/fleet/x",
      type: "io.sagascope.saga.step.started",
      sagaId: "saga-1",
      sagaType: "interbank-transfer",
      traceId: "a".repeat(32),
      spanId: "b".repeat(16),
      step: "debit",
      stepIndex: 0,
      service: "bank-a",
      data: { nested: { amount: 10 }, list: [1, "two"] },
      kafkaTopic: "t",
      kafkaPartition: 3,
      kafkaOffset: 9_007_199_254_740_993n,
      ingestedAt: at,
      extensions: { tracestate: "vendor=1", priority: 3 },
    };
    await prisma.sagaEvent.create({ data: row });
    expect(await prisma.sagaEvent.findUnique({ where: { id_time: { id: "evt-1", time: at } } })).toEqual(row);
  });

  it("round-trips a SagaSummary with every field", async () => {
    const row = {
      sagaId: "saga-1",
      sagaType: "interbank-transfer",
      mode: SagaMode.choreographed,
      status: SagaStatus.timed_out,
      traceId: "c".repeat(32),
      businessKey: "TX-9",
      currentStep: "credit",
      failedStep: "credit",
      failureReason: "timeout",
      startedAt: at,
      lastProgressAt: at,
      endedAt: at,
      eventCount: 7,
      stuck: true,
      stuckReason: "no progress",
      waitingOn: "participant",
      progressExpectedBy: at,
      progressExpectation: "step credit to finish",
      updatedAt: at,
      services: ["bank-a", "bank-b"],
      pausedBy: "alice@example.test",
      pausedAt: at,
    };
    await prisma.sagaSummary.create({ data: row });
    expect(await prisma.sagaSummary.findUnique({ where: { sagaId: "saga-1" } })).toEqual(row);
  });

  it("round-trips an AppUser and an AuditEntry with every field", async () => {
    const user = {
      email: "a@example.test",
      name: "A",
      role: "operator",
      passwordHash: "scrypt$x",
      disabled: true,
      createdAt: at,
      sessionVersion: 3,
    };
    const created = await prisma.appUser.create({ data: user });
    expect(created).toEqual({ ...user, id: created.id });
    const entry = {
      actionId: "0b9f6c39-3a5e-4a44-9d59-1f0d2a1c4e11",
      at,
      actor: "a@example.test",
      actorRole: "operator",
      action: "breaker.force-open",
      target: "a→b",
      params: { forMinutes: 5 },
      idempotencyKey: "k-12345678",
      phase: "requested",
      message: "",
    };
    const stored = await prisma.auditEntry.create({ data: entry });
    expect(stored).toEqual({ ...entry, id: stored.id });
  });

  it("round-trips a SignInThrottle count", async () => {
    const row = { key: "pair:a@example.test|192.0.2.1", attempts: 4, lastAt: at };
    await prisma.signInThrottle.create({ data: row });
    expect(await prisma.signInThrottle.findUnique({ where: { key: row.key } })).toEqual(row);
  });

  it("round-trips a SagaVocabulary entry", async () => {
    await prisma.sagaVocabulary.create({ data: { kind: "service", value: "bank-a" } });
    expect(await prisma.sagaVocabulary.findMany()).toEqual([{ kind: "service", value: "bank-a" }]);
  });

  it("round-trips a DeadLetter with every field", async () => {
    const created = await prisma.deadLetter.create({
      data: {
        kafkaTopic: "t",
        kafkaPartition: 1,
        kafkaOffset: 42n,
        key: new Uint8Array([0, 1, 255]),
        value: new Uint8Array([123, 0, 7]),
        headers: { ce_id: "x" },
        reason: "bad",
        receivedAt: at,
        eventSource: "/fleet/x",
        eventId: "evt-1",
        resolution: "replayed-edited",
        resolvedBy: "ops@example.test",
        resolvedAt: at,
        resolutionNote: "replayed to t/1/43",
        editedKey: new Uint8Array(Buffer.from("k2")),
        editedValue: new Uint8Array(Buffer.from('{"fixed":true}')),
        editedHeaders: { ce_id: "e2" },
      },
    });
    const found = await prisma.deadLetter.findUniqueOrThrow({ where: { id: created.id } });
    expect(found).toEqual(created);
    expect([...(found.key ?? [])]).toEqual([0, 1, 255]);
  });

  it("round-trips a SagaEventIdentity with every field", async () => {
    const row = { source: "/fleet/x", id: "evt-1", bodyMd5: "0".repeat(32), time: at };
    await prisma.sagaEventIdentity.create({ data: row });
    expect(
      await prisma.sagaEventIdentity.findUnique({
        where: { source_id: { source: "/fleet/x", id: "evt-1" } },
      }),
    ).toEqual(row);
  });

  it("round-trips a BreakerControl with every field", async () => {
    const row = {
      pair: "payments→ledger",
      forced: "closed",
      forcedUntil: at,
      failureRate: 0.5,
      minimumCalls: 4,
      openMs: 30_000,
      version: 1_764_400_000_000n,
      requestedBy: "ops@example.test",
      reason: "forced closed",
      ingestedAt: at,
    };
    await prisma.breakerControl.create({ data: row });
    expect(await prisma.breakerControl.findUnique({ where: { pair: row.pair } })).toEqual(row);
  });

  it("round-trips a BreakerTransition and a BreakerStats with every field", async () => {
    const transition = {
      id: "bt-1",
      time: at,
      pair: "transfers→bank-b",
      caller: "transfers",
      callee: "bank-b",
      operation: "Credit",
      instance: "transfers-1",
      fromState: "closed",
      toState: "open",
      forced: "open",
      reason: "failure rate 60.0% >= 50.0% over 20 calls (12 failed)",
      calls: 20,
      failures: 12,
      failureRateThreshold: 0.5,
      minimumCalls: 10,
      openUntil: at,
      kafkaPartition: 2,
      kafkaOffset: 77n,
      ingestedAt: at,
    };
    await prisma.breakerTransition.create({ data: transition });
    expect(await prisma.breakerTransition.findUnique({ where: { id: "bt-1" } })).toEqual(transition);
    const stats = {
      id: "bs-1",
      pair: "transfers→bank-b",
      caller: "transfers",
      callee: "bank-b",
      instance: "transfers-1",
      windowStart: at,
      windowEnd: at,
      state: "half_open",
      forced: "disabled",
      calls: 10,
      successes: 5,
      business: 2,
      failures: 3,
      rejections: 4,
      trials: 1,
      latencyP50: 1.5,
      latencyP95: 2.5,
      latencyP99: 3.5,
      latencyMax: 4.5,
      ingestedAt: at,
    };
    await prisma.breakerStats.create({ data: stats });
    expect(await prisma.breakerStats.findUnique({ where: { id: "bs-1" } })).toEqual(stats);
  });

  it("round-trips a ProjectionLagSample with every field", async () => {
    const row = {
      checkpointId: "cp-1",
      topic: "sagascope.fleet.order.changes",
      partition: 3,
      time: at,
      projection: "fleet",
      generation: 2,
      active: true,
      committedOffset: 10n,
      logEndOffset: 15n,
      offsetLag: 5n,
      newestAppliedAt: at,
      timeLagMs: 1234.5,
      oldestUnappliedAgeMs: 99.5,
      groupId: "sagascope.projector.g2",
    };
    await prisma.projectionLagSample.create({ data: row });
    expect(
      await prisma.projectionLagSample.findUnique({
        where: { checkpointId_topic_partition: { checkpointId: "cp-1", topic: row.topic, partition: 3 } },
      }),
    ).toEqual(row);
  });

  it("round-trips a ConsumerGroupLagSample and its sampling claim with every field", async () => {
    const sample = {
      scope: "acme.|ingester",
      groupId: "acme.sagascope.reader",
      time: at,
      committed: 40n,
      logEnd: 100n,
      lag: 60n,
      partitions: 3,
    };
    await prisma.consumerGroupLagSample.create({ data: sample });
    expect(
      await prisma.consumerGroupLagSample.findUnique({
        where: { scope_groupId_time: { scope: sample.scope, groupId: sample.groupId, time: at } },
      }),
    ).toEqual(sample);
    const claim = { scope: sample.scope, sampledAt: at };
    await prisma.consumerGroupSampling.create({ data: claim });
    expect(await prisma.consumerGroupSampling.findUnique({ where: { scope: claim.scope } })).toEqual(claim);
  });

  it("round-trips a SavedView and a LandingView with every field", async () => {
    const view = {
      id: "6f1c1d1e-7a53-4f0e-9a43-0c8d3c2b9a10",
      page: "sagas",
      name: "Failed transfers",
      query: "status=failed&type=transfer",
      owner: "42",
      ownerEmail: "ada@example.test",
      shared: true,
      createdAt: at,
      updatedAt: at,
    };
    await prisma.savedView.create({ data: view });
    expect(await prisma.savedView.findUnique({ where: { id: view.id } })).toEqual(view);
    await prisma.landingView.create({ data: { owner: "42", viewId: view.id } });
    expect(await prisma.landingView.findUnique({ where: { owner: "42" } })).toEqual({
      owner: "42",
      viewId: view.id,
    });
  });

  it("round-trips a BulkOperation and a BulkOperationTarget with every field", async () => {
    const operation = {
      id: "0b6a1f7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
      action: "compensate",
      filter: { sagaType: "transfer", stuck: true },
      filterQuery: "type=transfer&stuck=1",
      reason: "bank-b is back",
      startedById: "42",
      startedBy: "ada@example.test",
      startedByVia: "session",
      startActionId: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
      state: "suspended",
      stateMessage: "suspended by ada@example.test",
      stateChangedBy: "ada@example.test",
      total: 3,
      sent: 1,
      skipped: 1,
      failed: 0,
      ratePerSecond: 50,
      createdAt: at,
      stateChangedAt: at,
      endedAt: at,
      leaseOwner: "ingester-1",
      leaseUntil: at,
    };
    await prisma.bulkOperation.create({ data: operation });
    expect(await prisma.bulkOperation.findUnique({ where: { id: operation.id } })).toEqual(operation);
    const target = {
      operationId: operation.id,
      position: 1,
      sagaId: "saga-1",
      state: "sent",
      message: "sent to the saga's orchestrator",
      actionId: "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a",
      handledAt: at,
    };
    await prisma.bulkOperationTarget.create({ data: target });
    expect(
      await prisma.bulkOperationTarget.findUnique({
        where: { operationId_position: { operationId: operation.id, position: 1 } },
      }),
    ).toEqual(target);
  });

  it.each([
    ["saga_event", Prisma.SagaEventScalarFieldEnum],
    ["saga_event_identity", Prisma.SagaEventIdentityScalarFieldEnum],
    ["saga_summary", Prisma.SagaSummaryScalarFieldEnum],
    ["dead_letter", Prisma.DeadLetterScalarFieldEnum],
    ["breaker_transition", Prisma.BreakerTransitionScalarFieldEnum],
    ["breaker_stats", Prisma.BreakerStatsScalarFieldEnum],
    ["breaker_control", Prisma.BreakerControlScalarFieldEnum],
    ["projection_lag_sample", Prisma.ProjectionLagSampleScalarFieldEnum],
    ["consumer_group_lag_sample", Prisma.ConsumerGroupLagSampleScalarFieldEnum],
    ["consumer_group_sampling", Prisma.ConsumerGroupSamplingScalarFieldEnum],
    ["saved_view", Prisma.SavedViewScalarFieldEnum],
    ["landing_view", Prisma.LandingViewScalarFieldEnum],
    ["bulk_operation", Prisma.BulkOperationScalarFieldEnum],
    ["bulk_operation_target", Prisma.BulkOperationTargetScalarFieldEnum],
    ["saga_vocabulary", Prisma.SagaVocabularyScalarFieldEnum],
    ["app_user", Prisma.AppUserScalarFieldEnum],
    ["audit_entry", Prisma.AuditEntryScalarFieldEnum],
    ["sign_in_throttle", Prisma.SignInThrottleScalarFieldEnum],
  ])("table %s has exactly the model's columns", async (table, fields) => {
    const columns = await db.query(
      "SELECT column_name FROM information_schema.columns WHERE table_name = $1",
      [table],
    );
    expect(columns.rowCount).toBe(Object.keys(fields).length);
  });

  it.each([
    ["saga_status", SagaStatus],
    ["saga_mode", SagaMode],
  ])("enum %s has exactly the schema's values", async (type, values) => {
    const result = await db.query(`SELECT unnest(enum_range(NULL::${type}))::text AS v`);
    expect(result.rows.map((r) => r.v).sort()).toEqual(Object.values(values).sort());
  });
});
