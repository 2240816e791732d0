// The trace view over a real database filled by the ingester's own store: a choreographed
// saga's events from several services, plus a second saga in the same trace, come back in
// order with their lanes and bars; a saga's breaker decisions are found on its page.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase } from "../../../scripts/test/infra.ts";
import { BREAKER_OPEN_CODE } from "../../breakers/rejection-policy.ts";
import { migrate } from "../../db/migrate.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { childSpan, newTrace, type SagaEvent, sagaEvent } from "../../events/index.ts";
import { storeBatch } from "../../ingest/store-batch.ts";
import { getSagaDetail } from "../sagas/saga-detail.ts";
import { readTrace } from "./read-trace.ts";

let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let offset = 0;
const trace = newTrace();
const t0 = Date.parse("2030-05-01T10:00:00Z");

async function store(events: SagaEvent[], partition = 0) {
  await storeBatch(pool, {
    events: events.map((event) => ({
      event,
      position: { topic: "trace-test", partition, offset: offset++ },
    })),
  });
}

const ref = (sagaId: string) => ({
  sagaId,
  sagaType: "marketplace-checkout",
  mode: "choreographed" as const,
});
const at = (ms: number) => ({ source: "/fleet/order", trace: childSpan(trace), time: new Date(t0 + ms) });
const step = (sagaId: string, name: string, service: string, index: number) => ({
  ...ref(sagaId),
  step: name,
  stepIndex: index,
  service,
  attempt: 1,
});

beforeAll(async () => {
  db = await scratchDatabase("trace");
  await migrate(db.url);
  pool = createPool(db.url);
  await store([
    sagaEvent(
      "io.sagascope.saga.started",
      {
        ...ref("order-1"),
        steps: [
          { name: "place", service: "order" },
          { name: "charge", service: "payment" },
        ],
      },
      at(0),
    ),
    sagaEvent("io.sagascope.saga.step.started", step("order-1", "place", "order", 0), at(10)),
    sagaEvent(
      "io.sagascope.saga.step.succeeded",
      { ...step("order-1", "place", "order", 0), durationMs: 20 },
      at(30),
    ),
    sagaEvent("io.sagascope.saga.step.started", step("order-1", "charge", "payment", 1), at(40)),
    sagaEvent(
      "io.sagascope.saga.step.failed",
      {
        ...step("order-1", "charge", "payment", 1),
        durationMs: 1,
        willRetry: false,
        error: { category: "business", code: BREAKER_OPEN_CODE, message: "breaker order→payment is open" },
      },
      at(41),
    ),
    sagaEvent("io.sagascope.saga.compensation.started", step("order-1", "place", "order", 0), at(50)),
    sagaEvent(
      "io.sagascope.saga.compensation.succeeded",
      { ...step("order-1", "place", "order", 0), durationMs: 5 },
      at(55),
    ),
  ]);
  // A second saga of the same trace, on another partition, interleaved in time.
  await store(
    [
      sagaEvent(
        "io.sagascope.saga.started",
        { ...ref("refund-1"), steps: [{ name: "refund", service: "payment" }] },
        at(35),
      ),
      sagaEvent("io.sagascope.saga.step.started", step("refund-1", "refund", "payment", 0), at(45)),
    ],
    1,
  );
  await pool.query(
    `INSERT INTO breaker_transition (id, time, pair, caller, callee, instance, from_state, to_state, reason, calls,
       failures, failure_rate_threshold, minimum_calls, kafka_partition, kafka_offset)
     VALUES ('t1', $1, 'order→payment', 'order', 'payment', 'i1', 'closed', 'open', 'failure rate 80% ≥ 50%', 10, 8,
             0.5, 5, 0, 0),
            ('t2', $2, 'order→shipping', 'order', 'shipping', 'i1', 'closed', 'open', 'unrelated', 10, 8, 0.5, 5, 0, 1)`,
    [new Date(t0 + 20), new Date(t0 + 25)],
  );
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

describe("trace view", () => {
  it("returns every event of the trace in order, with a lane per service and bars per attempt", async () => {
    const view = await readTrace(pool, trace.traceId.toUpperCase());
    expect(view.traceId).toBe(trace.traceId);
    expect(view.sagas.map((s) => s.sagaId).sort()).toEqual(["order-1", "refund-1"]);
    expect(view.events.map((e) => e.offsetMs)).toEqual([0, 10, 30, 35, 40, 41, 45, 50, 55]);
    expect(view.events.map((e) => e.sagaId)).toEqual([
      "order-1",
      "order-1",
      "order-1",
      "refund-1",
      "order-1",
      "order-1",
      "refund-1",
      "order-1",
      "order-1",
    ]);
    expect(view.services).toEqual(["fleet/order", "order", "payment"]);
    const bars = view.bars.map((b) => `${b.sagaId}:${b.kind}:${b.step}:${b.service}:${b.outcome}`).sort();
    expect(bars).toEqual([
      "order-1:compensation:place:order:succeeded",
      "order-1:step:charge:payment:failed",
      "order-1:step:place:order:succeeded",
      "refund-1:step:refund:payment:running",
    ]);
  });

  it("says plainly when a trace is unknown or the id is not a trace id", async () => {
    await expect(readTrace(pool, "f".repeat(32))).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(readTrace(pool, "not-a-trace")).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "a trace id is 32 hexadecimal characters",
    });
  });

  it("shows on a saga's page the call its breaker refused and the transitions in front of its services", async () => {
    const detail = await getSagaDetail({ pool }, "order-1");
    expect(detail.summary.services).toEqual(["order", "payment"]);
    expect(detail.breakers.rejections).toEqual([
      expect.objectContaining({
        step: "charge",
        service: "payment",
        message: "breaker order→payment is open",
      }),
    ]);
    expect(detail.breakers.transitions.map((t) => `${t.pair} ${t.from}→${t.to}`)).toEqual([
      "order→payment closed→open",
    ]);
  });
});
