// Sagas as OpenTelemetry traces, end to end: the ingester stores a compensated transfer (a
// retried step, a business refusal, a compensation) and a choreographed checkout, and exports
// each as a trace over OTLP/HTTP with the SDK's protobuf exporter to a receiver started here,
// which decodes the requests with the OpenTelemetry packages' own protobuf definitions. The
// span tree, statuses, error categories, services, attempts, links and the messaging span's
// attributes are the sagas'; each saga is exported once.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testInfra, uniqueName, until } from "../../scripts/test/infra.ts";
import { createPool } from "../db/pool.ts";
import { encodeSagaEvent, ensureTopics, newTrace, type SagaEvent, sagaEvent } from "../events/index.ts";
import { createIngester, type Ingester } from "../ingest/ingester.ts";
import { createLogger } from "../log.ts";
import {
  createOtlpExporter,
  createSagaTraceExporter,
  type SagaTraceExporter,
  samplerFrom,
} from "./saga-trace-exporter.ts";

// The OTLP protobuf messages as the OpenTelemetry JS packages define them.
const otlp = createRequire(import.meta.url)("@opentelemetry/otlp-transformer/build/src/generated/root.js");
const ExportRequest = otlp.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

interface ReceivedSpan {
  service: string;
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  status: { code?: number; message?: string };
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string }[];
}

const hex = (b64: string | undefined) => Buffer.from(b64 ?? "", "base64").toString("hex");
type AnyValue = { stringValue?: string; intValue?: string; boolValue?: boolean; doubleValue?: number };
const anyValue = (v: AnyValue) =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue ?? ""));
const attrs = (list: { key: string; value: AnyValue }[] = []) =>
  Object.fromEntries(list.map((a) => [a.key, anyValue(a.value)]));

const received: ReceivedSpan[] = [];
let receiver: Server;
const pool = createPool(testInfra().databaseUrl, 2);
const kafka = new Kafka({
  clientId: "traces-test",
  brokers: testInfra().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
const topic = `${uniqueName("traces")}.sagascope.saga-events`;
const groupId = uniqueName("traces-group");
let producer: Producer;
let ingester: Ingester;
let traces: SagaTraceExporter;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const request = ExportRequest.toObject(ExportRequest.decode(Buffer.concat(chunks)), {
        longs: String,
        bytes: String,
        enums: Number,
        defaults: false,
      });
      for (const rs of request.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            received.push({
              service: String(attrs(rs.resource?.attributes)["service.name"]),
              name: s.name,
              kind: s.kind,
              traceId: hex(s.traceId),
              spanId: hex(s.spanId),
              parentSpanId: hex(s.parentSpanId),
              status: s.status ?? {},
              attributes: attrs(s.attributes),
              links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({
                traceId: hex(l.traceId),
                spanId: hex(l.spanId),
              })),
            });
      res.writeHead(200, { "content-type": "application/x-protobuf" });
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic], 2).finally(() => admin.disconnect());
  producer = kafka.producer();
  await producer.connect();
  const log = createLogger("traces-test", "error");
  traces = createSagaTraceExporter({ pool, exporter: createOtlpExporter(url), groupId, log, everyMs: 200 });
  traces.start();
  ingester = createIngester({ kafka, pool, topics: [topic], groupId, log, traces });
  await ingester.start();
});

afterAll(async () => {
  await ingester?.stop();
  await traces?.stop();
  await producer?.disconnect();
  await pool.end();
  await new Promise((resolve) => receiver.close(resolve));
});

function compensatedTransfer(sagaId: string) {
  const trace = newTrace();
  const o = { source: "/fleet/transfers", trace };
  const base = { sagaId, sagaType: "interbank-transfer", mode: "orchestrated" as const };
  const debit = { ...base, step: "debit", stepIndex: 0, service: "bank-a" };
  const credit = { ...base, step: "credit", stepIndex: 1, service: "bank-b" };
  const events: SagaEvent[] = [
    sagaEvent(
      "io.sagascope.saga.started",
      {
        ...base,
        steps: [
          { name: "debit", service: "bank-a" },
          { name: "credit", service: "bank-b" },
        ],
      },
      o,
    ),
    sagaEvent("io.sagascope.saga.step.started", { ...debit, attempt: 1 }, o),
    sagaEvent("io.sagascope.saga.step.succeeded", { ...debit, attempt: 1, durationMs: 5 }, o),
    sagaEvent("io.sagascope.saga.step.started", { ...credit, attempt: 1 }, o),
    sagaEvent(
      "io.sagascope.saga.step.failed",
      {
        ...credit,
        attempt: 1,
        durationMs: 2000,
        error: { category: "transient", message: "bank-b unavailable" },
        willRetry: true,
      },
      o,
    ),
    sagaEvent("io.sagascope.saga.step.started", { ...credit, attempt: 2 }, o),
    sagaEvent(
      "io.sagascope.saga.step.failed",
      {
        ...credit,
        attempt: 2,
        durationMs: 7,
        error: { category: "business", message: "account closed", code: "ACCOUNT_CLOSED" },
        willRetry: false,
      },
      o,
    ),
    sagaEvent("io.sagascope.saga.compensation.started", debit, o),
    sagaEvent("io.sagascope.saga.compensation.succeeded", { ...debit, durationMs: 4 }, o),
    sagaEvent(
      "io.sagascope.saga.aborted",
      {
        ...base,
        durationMs: 2100,
        reason: "credit: account closed",
        failedStep: "credit",
        compensated: true,
      },
      o,
    ),
  ];
  return { trace, events };
}

function choreographedCheckout(sagaId: string) {
  const trace = newTrace();
  const base = { sagaId, sagaType: "checkout", mode: "choreographed" as const };
  const pay = { ...base, step: "pay", stepIndex: 0, service: "payment" };
  const ship = { ...base, step: "ship", stepIndex: 1, service: "shipping" };
  const events: SagaEvent[] = [
    sagaEvent(
      "io.sagascope.saga.started",
      {
        ...base,
        steps: [
          { name: "pay", service: "payment" },
          { name: "ship", service: "shipping" },
        ],
      },
      { source: "/fleet/order", trace },
    ),
    sagaEvent("io.sagascope.saga.step.started", pay, { source: "/fleet/payment", trace }),
    sagaEvent(
      "io.sagascope.saga.step.succeeded",
      { ...pay, durationMs: 3 },
      { source: "/fleet/payment", trace },
    ),
    sagaEvent("io.sagascope.saga.step.started", ship, { source: "/fleet/shipping", trace }),
    sagaEvent(
      "io.sagascope.saga.step.succeeded",
      { ...ship, durationMs: 3 },
      { source: "/fleet/shipping", trace },
    ),
    sagaEvent(
      "io.sagascope.saga.completed",
      { ...base, durationMs: 9 },
      { source: "/fleet/shipping", trace },
    ),
  ];
  return { trace, events };
}

const spansOf = (traceId: string) => received.filter((s) => s.traceId === traceId);
const OK = 1;
const ERROR = 2;
const INTERNAL = 1;
const CONSUMER = 5;

describe("sagas exported as traces over OTLP", () => {
  it("a compensated transfer: the saga as root, a span per attempt and compensation, the messaging span", async () => {
    const sagaId = `transfer-${randomUUID()}`;
    const { trace, events } = compensatedTransfer(sagaId);
    await producer.send({ topic, messages: events.map(encodeSagaEvent) });
    const spans = await until("its trace received", () =>
      spansOf(trace.traceId).length >= 6 ? spansOf(trace.traceId) : undefined,
    );
    const root = spans.find((s) => s.parentSpanId === "");
    expect(root).toMatchObject({
      name: "saga interbank-transfer",
      service: "transfers",
      kind: INTERNAL,
      status: { code: ERROR, message: "compensated: credit: account closed" },
      attributes: {
        "sagascope.saga.id": sagaId,
        "sagascope.saga.status": "compensated",
        "sagascope.saga.mode": "orchestrated",
      },
    });
    // In the order the saga ran (OTLP groups spans by service, so the received order is not it).
    const RAN = ["step debit/1", "step credit/1", "step credit/2", "compensate debit/1", `process ${topic}/`];
    const ranAt = (s: ReceivedSpan) =>
      RAN.indexOf(`${s.name}/${s.attributes["sagascope.step.attempt"] ?? ""}`);
    const children = spans.filter((s) => s.parentSpanId === root?.spanId).sort((a, b) => ranAt(a) - ranAt(b));
    expect(
      children.map((s) => [
        s.name,
        s.service,
        s.attributes["sagascope.step.attempt"] ?? null,
        s.status.code ?? 0,
        s.attributes["error.type"] ?? null,
      ]),
    ).toEqual([
      ["step debit", "bank-a", 1, OK, null],
      ["step credit", "bank-b", 1, ERROR, "transient"],
      ["step credit", "bank-b", 2, ERROR, "business"],
      ["compensate debit", "bank-a", 1, OK, null],
      [`process ${topic}`, "sagascope-ingester", null, OK, null],
    ]);
    expect(children[2]?.attributes["sagascope.error.code"]).toBe("ACCOUNT_CLOSED");
    expect(children[2]?.status.message).toBe("account closed");
    expect(children[4]).toMatchObject({
      kind: CONSUMER,
      attributes: {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.consumer.group.name": groupId,
      },
    });
    expect(children[4]?.attributes["messaging.destination.partition.id"]).toMatch(/^[01]$/);
    expect(typeof children[4]?.attributes["messaging.kafka.offset"]).toBe("number");
    expect(spans).toHaveLength(6);
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(6);
  });

  it("a choreographed checkout: each service's step, linked to the step it followed; exported once", async () => {
    const sagaId = `checkout-${randomUUID()}`;
    const { trace, events } = choreographedCheckout(sagaId);
    await producer.send({ topic, messages: events.map(encodeSagaEvent) });
    const spans = await until("its trace received", () =>
      spansOf(trace.traceId).length >= 4 ? spansOf(trace.traceId) : undefined,
    );
    const pay = spans.find((s) => s.name === "step pay");
    const ship = spans.find((s) => s.name === "step ship");
    expect(pay).toMatchObject({ service: "payment", links: [] });
    expect(ship).toMatchObject({
      service: "shipping",
      links: [{ traceId: trace.traceId, spanId: pay?.spanId }],
    });
    expect(spans.find((s) => s.parentSpanId === "")).toMatchObject({
      name: "saga checkout",
      service: "order",
      status: { code: OK },
    });
    // Redelivered, the saga is stored once and exported once.
    await producer.send({ topic, messages: events.map(encodeSagaEvent) });
    await traces.flush();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await traces.flush();
    expect(spansOf(trace.traceId)).toHaveLength(4);
  });
});

describe("built from the events seen or read back from the store", () => {
  it("gives the same trace either way", async () => {
    const sagaId = `transfer-${randomUUID()}`;
    const { trace, events } = compensatedTransfer(sagaId);
    const before = traces.counters().fromMemory;
    await producer.send({ topic, messages: events.map(encodeSagaEvent) });
    const seen = await until("its trace received", () =>
      spansOf(trace.traceId).length >= 6 ? spansOf(trace.traceId) : undefined,
    );
    // The ingester stored all ten events in this process: no read back.
    expect(traces.counters().fromMemory).toBeGreaterThan(before);
    // Another exporter that saw none of them reads the saga back from the store.
    const memory = new InMemorySpanExporter();
    const reader = createSagaTraceExporter({
      pool,
      exporter: memory,
      groupId,
      log: createLogger("traces-test", "error"),
    });
    reader.enqueue([{ sagaId, traceId: trace.traceId, eventCount: events.length }]);
    await reader.flush();
    expect(reader.counters()).toMatchObject({ readBack: 1, fromMemory: 0, exported: 1 });
    const shape = (s: {
      name: string;
      spanId: string;
      parentSpanId: string;
      status: { code?: number; message?: string };
      attributes: object;
    }) =>
      JSON.stringify([
        s.name,
        s.spanId,
        s.parentSpanId,
        s.status.code,
        s.status.message ?? "",
        Object.entries(s.attributes).sort(),
      ]);
    const readBack = memory.getFinishedSpans().map((s) =>
      shape({
        name: s.name,
        spanId: s.spanContext().spanId,
        parentSpanId: s.parentSpanContext?.spanId ?? "",
        status: s.status,
        attributes: s.attributes,
      }),
    );
    expect(readBack.sort()).toEqual(seen.map(shape).sort());
  });
});

describe("sampling, as the standard variables say", () => {
  it("keeps every trace by default, none with always_off, and a share by trace id with traceidratio", () => {
    const traces = Array.from({ length: 2000 }, () => ({
      sagaId: randomUUID(),
      traceId: newTrace().traceId,
      eventCount: 6,
    }));
    const kept = (env: Record<string, string>) => {
      const exporter = createSagaTraceExporter({
        pool,
        exporter: createOtlpExporter("http://127.0.0.1:9/v1/traces"),
        groupId: "g",
        log: createLogger("sampling-test", "error"),
        sampler: samplerFrom(env),
      });
      exporter.enqueue(traces);
      return traces.length - exporter.counters().sampledOut;
    };
    expect(kept({})).toBe(2000);
    expect(kept({ OTEL_TRACES_SAMPLER: "always_off" })).toBe(0);
    const tenth = kept({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" });
    expect(tenth).toBeGreaterThan(120);
    expect(tenth).toBeLessThan(280);
    // The same trace ids, the same decisions.
    expect(kept({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" })).toBe(tenth);
    expect(() => samplerFrom({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "2" })).toThrow(
      "OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1",
    );
    expect(() => samplerFrom({ OTEL_TRACES_SAMPLER: "jaeger_remote" })).toThrow("is not one of always_on");
  });
});
