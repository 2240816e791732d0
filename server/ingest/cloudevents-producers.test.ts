// Producers the project did not write, against the real broker and ingester: the official
// CloudEvents SDK for JavaScript in binary and in structured mode (the example of
// docs/events.md, run as it is written), and Debian's kcat with no trace context at all.
// Each publishes a whole saga; each saga appears completed, with its steps, under the right trace.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KCAT } from "../../scripts/test/debian-tools.ts";
import { testInfra, uniqueName, until } from "../../scripts/test/infra.ts";
import { createPool } from "../db/pool.ts";
import { ensureTopics, isDerivedTrace } from "../events/index.ts";
import { createLogger } from "../log.ts";
import { createIngester, type Ingester } from "./ingester.ts";

const pool = createPool(testInfra().databaseUrl, 2);
const kafka = new Kafka({
  clientId: "outside-sdk",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
let ingester: Ingester;
const topic = `${uniqueName("sdk")}.sagascope.saga-events`;

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic], 3);
  await admin.disconnect();
  ingester = createIngester({
    kafka,
    pool,
    topics: [topic],
    groupId: uniqueName("sdk-group"),
    log: createLogger("sdk-test", "error"),
  });
  await ingester.start();
});

afterAll(async () => {
  await ingester.stop();
  await pool.end();
});

/**
 * The "From the CloudEvents SDK" example of docs/events.md, written where Node resolves the
 * SDK and kafkajs from this checkout's node_modules.
 */
function documentedSdkExample(): string {
  const doc = readFileSync("docs/events.md", "utf8");
  const block = /<!-- example:cloudevents-sdk -->\s*```js\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error("docs/events.md lost its cloudevents-sdk example");
  mkdirSync("test-results", { recursive: true });
  const file = path.resolve("test-results/docs-cloudevents-sdk.mjs");
  writeFileSync(file, block);
  return file;
}

/** A whole two-step saga's data, in order, as any producer would describe it. */
function sagaData(sagaId: string, mode: "orchestrated" | "choreographed") {
  const base = { sagaId, sagaType: `outside-${mode}`, mode };
  const step = (name: string, stepIndex: number) => ({
    ...base,
    step: name,
    stepIndex,
    service: `svc-${name}`,
  });
  return [
    [
      "saga.started",
      {
        ...base,
        steps: [
          { name: "reserve", service: "svc-reserve" },
          { name: "charge", service: "svc-charge" },
        ],
      },
    ],
    ["saga.step.started", { ...step("reserve", 0), attempt: 1 }],
    ["saga.step.succeeded", { ...step("reserve", 0), durationMs: 5 }],
    ["saga.step.started", { ...step("charge", 1), attempt: 1 }],
    ["saga.step.succeeded", { ...step("charge", 1), durationMs: 7 }],
    ["saga.completed", { ...base, durationMs: 20 }],
  ] as const;
}

async function summaryOf(sagaId: string, events = 6) {
  return until(`saga ${sagaId} completed in the store`, async () => {
    const { rows } = await pool.query<{ status: string; trace_id: string; event_count: number }>(
      "SELECT status, trace_id, event_count FROM saga_summary WHERE saga_id = $1",
      [sagaId],
    );
    return rows[0]?.status === "completed" && rows[0].event_count === events ? rows[0] : undefined;
  });
}

async function stepsOf(sagaId: string) {
  const { rows } = await pool.query<{ type: string; step: string | null; trace_id: string }>(
    "SELECT type, step, trace_id FROM saga_event WHERE saga_id = $1 ORDER BY kafka_offset",
    [sagaId],
  );
  return rows;
}

describe("producers the project did not write", () => {
  it.each([
    ["binary mode (ce_traceparent)", []],
    ["structured mode (application/cloudevents+json)", ["--structured"]],
  ])("the CloudEvents SDK in %s, as docs/events.md shows it", async (_, flags) => {
    const sagaId = uniqueName("sdk");
    const run = spawnSync(process.execPath, [documentedSdkExample(), sagaId, ...flags], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, KAFKA_BROKERS: testInfra().kafkaBrokers.join(","), SAGA_TOPIC: topic },
    });
    expect(run.status, run.stderr).toBe(0);
    const traceId = /\(trace ([0-9a-f]{32})\)/.exec(run.stdout)?.[1];
    expect((await summaryOf(sagaId, 4)).trace_id).toBe(traceId);
    const events = await stepsOf(sagaId);
    expect(events.map((e) => `${e.type.replace("io.sagascope.saga.", "")}:${e.step ?? ""}`)).toEqual([
      "started:",
      "step.started:pay",
      "step.succeeded:pay",
      "completed:",
    ]);
  });

  it("kcat with no trace context: stored under a trace id derived from the saga id", async () => {
    const sagaId = uniqueName("kcat");
    let n = 0;
    for (const [type, data] of sagaData(sagaId, "orchestrated")) {
      n += 1;
      const headers = {
        ce_specversion: "1.0",
        ce_id: `${sagaId}-${n}`,
        ce_source: "/outside/kcat",
        ce_type: `io.sagascope.${type}`,
        ce_time: new Date().toISOString(),
        "content-type": "application/json",
      };
      const run = spawnSync(
        KCAT.path,
        [
          "-P",
          "-b",
          testInfra().kafkaBrokers.join(","),
          "-t",
          topic,
          "-k",
          sagaId,
          ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}=${v}`]),
        ],
        { input: JSON.stringify(data), encoding: "utf8", timeout: 30_000 },
      );
      expect(run.status, run.stderr).toBe(0);
    }
    const summary = await summaryOf(sagaId);
    expect(isDerivedTrace(sagaId, summary.trace_id)).toBe(true);
    // Every event of the saga shares the derived trace, so the trace view finds them all.
    const events = await stepsOf(sagaId);
    expect(new Set(events.map((e) => e.trace_id))).toEqual(new Set([summary.trace_id]));
  });
});
