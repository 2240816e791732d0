import { describe, expect, it } from "vitest";
import {
  decodeSagaEvent,
  derivedTrace,
  encodeSagaEvent,
  isDerivedTrace,
  MAX_EVENT_BYTES,
  sagaEvent,
} from "./index.ts";
import { formatTraceparent, newTrace, parseTraceparent } from "./trace-context.ts";

const trace = newTrace();
const stepFailed = sagaEvent(
  "io.sagascope.saga.step.failed",
  {
    sagaId: "s-1",
    sagaType: "interbank-transfer",
    mode: "orchestrated",
    step: "credit",
    stepIndex: 1,
    service: "bank-b",
    durationMs: 12,
    error: { category: "business", message: "account closed" },
    willRetry: false,
  },
  { source: "/fleet/transfer-orchestrator", trace },
);

/** The encoded message as a consumer receives it: Buffers, not strings. */
function received(overrides: {
  key?: string;
  value?: string | Buffer;
  headers?: Record<string, string | undefined>;
}) {
  const m = encodeSagaEvent(stepFailed);
  const headers = { ...(m.headers as Record<string, string>), ...overrides.headers };
  return {
    key: Buffer.from(overrides.key ?? String(m.key)),
    value: Buffer.from(overrides.value ?? String(m.value)),
    headers: Object.fromEntries(
      Object.entries(headers)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, Buffer.from(v as string)]),
    ),
  };
}

function reason(result: ReturnType<typeof decodeSagaEvent>): string {
  if (result.ok) throw new Error("expected a rejection");
  return result.reason;
}

describe("saga event envelope (CloudEvents binary mode)", () => {
  it("round-trips an event through a Kafka message", () => {
    const result = decodeSagaEvent(received({}));
    expect(result).toEqual({ ok: true, event: stepFailed });
  });

  it("writes the CloudEvents attributes and traceparent as headers and keys by saga id", () => {
    const m = encodeSagaEvent(stepFailed);
    expect(m.key).toBe("s-1");
    expect(m.headers).toMatchObject({
      ce_specversion: "1.0",
      ce_id: stepFailed.id,
      ce_type: "io.sagascope.saga.step.failed",
      ce_source: "/fleet/transfer-orchestrator",
      traceparent: formatTraceparent(trace),
    });
    expect(JSON.parse(String(m.value))).toEqual(stepFailed.data);
  });

  it.each([
    [
      "an unknown type",
      { headers: { ce_type: "io.sagascope.saga.exploded" } },
      'unknown event type "io.sagascope.saga.exploded"',
    ],
    ["a missing id", { headers: { ce_id: undefined } }, "invalid CloudEvents headers: ce_id"],
    ["another spec version", { headers: { ce_specversion: "0.3" } }, "ce_specversion must be 1.0"],
    ["a bad time", { headers: { ce_time: "yesterday" } }, "ce_time must be an RFC 3339 timestamp"],
    [
      "a bad traceparent",
      { headers: { traceparent: "00-xyz-abc-01" } },
      'invalid traceparent "00-xyz-abc-01"',
    ],
    ["a value that is not JSON", { value: "{oops" }, "value is not JSON"],
    [
      "data of the wrong shape",
      { value: '{"sagaId":"s-1"}' },
      "data does not match io.sagascope.saga.step.failed",
    ],
    ["a key other than the saga id", { key: "other" }, 'message key "other" must be the saga id "s-1"'],
  ])("rejects %s with a reason", (_, overrides, expected) => {
    expect(reason(decodeSagaEvent(received(overrides)))).toContain(expected);
  });

  it("rejects what Postgres could not store as text: NUL in a header or in the value", () => {
    expect(reason(decodeSagaEvent(received({ headers: { ce_source: "/a\u0000b" } })))).toBe(
      "a header contains a NUL character",
    );
    const withEscape = String(encodeSagaEvent(stepFailed).value).replace("account closed", "acc\\u0000ount");
    expect(reason(decodeSagaEvent(received({ value: withEscape })))).toContain("NUL character");
  });

  it("rejects an event stamped more than a day ahead", () => {
    const ahead = new Date(Date.now() + 2 * 24 * 3600_000).toISOString();
    expect(reason(decodeSagaEvent(received({ headers: { ce_time: ahead } })))).toContain("in the future");
  });

  it("rejects an oversized payload without parsing it", () => {
    const huge = Buffer.alloc(MAX_EVENT_BYTES + 1, 0x20);
    expect(reason(decodeSagaEvent(received({ value: huge })))).toMatch(/^payload too large/);
  });

  it("refuses to build an event whose data breaks the contract", () => {
    expect(() =>
      sagaEvent(
        "io.sagascope.saga.completed",
        { sagaId: "", sagaType: "t", mode: "orchestrated", durationMs: 1 },
        {
          source: "/x",
          trace,
        },
      ),
    ).toThrow();
  });
});

describe("traceparent", () => {
  it("parses what it formats", () => {
    expect(parseTraceparent(formatTraceparent(trace))).toEqual(trace);
  });
  it("rejects all-zero ids and the forbidden version", () => {
    expect(parseTraceparent(`00-${"0".repeat(32)}-${"1".repeat(16)}-01`)).toBeUndefined();
    expect(parseTraceparent(`ff-${"1".repeat(32)}-${"1".repeat(16)}-01`)).toBeUndefined();
  });
});

describe("the trace context, however the producer carries it", () => {
  const traceparent = formatTraceparent(trace);
  const decoded = (headers: Record<string, string | undefined>) => {
    const result = decodeSagaEvent(received({ headers }));
    if (!result.ok) throw new Error(result.reason);
    return result.event;
  };

  it("takes ce_traceparent (the CloudEvents SDKs' Distributed Tracing extension) like traceparent", () => {
    expect(decoded({ traceparent: undefined, ce_traceparent: traceparent }).trace).toEqual(trace);
    expect(decoded({ ce_traceparent: traceparent }).trace).toEqual(trace);
  });

  it("refuses traceparent and ce_traceparent that disagree", () => {
    const other = formatTraceparent(newTrace());
    expect(reason(decodeSagaEvent(received({ headers: { ce_traceparent: other } })))).toBe(
      `traceparent "${traceparent}" and ce_traceparent "${other}" disagree`,
    );
  });

  it("derives one from the saga id when there is none: every event of the saga shares it", () => {
    const first = decoded({ traceparent: undefined, ce_id: "e-1" });
    const second = decoded({ traceparent: undefined, ce_id: "e-2" });
    expect(first.trace.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(second.trace.traceId).toBe(first.trace.traceId);
    expect(second.trace.spanId).not.toBe(first.trace.spanId);
    expect(first.trace.sampled).toBe(false);
    expect(isDerivedTrace("s-1", first.trace.traceId)).toBe(true);
    expect(isDerivedTrace("s-1", trace.traceId)).toBe(false);
    expect(first.trace).toEqual(derivedTrace("s-1", stepFailed.source, "e-1"));
  });
});

describe("saga event envelope (CloudEvents structured mode)", () => {
  const structured = (
    event: Record<string, unknown>,
    contentType = "application/cloudevents+json; charset=UTF-8",
  ) => ({
    key: Buffer.from("s-1"),
    value: Buffer.from(JSON.stringify(event)),
    headers: { "content-type": Buffer.from(contentType) },
  });
  const attributes = {
    specversion: "1.0",
    id: stepFailed.id,
    source: stepFailed.source,
    type: stepFailed.type,
    time: stepFailed.time.toISOString(),
    datacontenttype: "application/json",
    traceparent: formatTraceparent(trace),
  };

  it("reads the whole event from the value, with data or data_base64, with or without parameters", () => {
    expect(decodeSagaEvent(structured({ ...attributes, data: stepFailed.data }))).toEqual({
      ok: true,
      event: stepFailed,
    });
    const base64 = Buffer.from(JSON.stringify(stepFailed.data)).toString("base64");
    expect(
      decodeSagaEvent(structured({ ...attributes, data_base64: base64 }, "application/cloudevents+json")),
    ).toEqual({ ok: true, event: stepFailed });
  });

  it.each([
    ["no data", { data: undefined }, "the event has no data"],
    [
      "both data and data_base64",
      { data: {}, data_base64: "e30=" },
      "data and data_base64 cannot both be set",
    ],
    ["a missing id", { id: undefined, data: stepFailed.data }, "invalid CloudEvents JSON: id"],
    [
      "data_base64 that is not JSON",
      { data_base64: Buffer.from("{oops").toString("base64") },
      "data_base64 is not JSON",
    ],
    ["a bad traceparent", { traceparent: "00-xyz", data: stepFailed.data }, 'invalid traceparent "00-xyz"'],
  ])("rejects %s with a reason", (_, overrides, expected) => {
    const event = Object.fromEntries(
      Object.entries({ ...attributes, ...overrides }).filter(([, v]) => v !== undefined),
    );
    expect(reason(decodeSagaEvent(structured(event)))).toContain(expected);
  });

  it("rejects a value that is not JSON, and batched mode, with a reason", () => {
    expect(reason(decodeSagaEvent({ ...structured({}), value: Buffer.from("{oops") }))).toContain(
      "structured-mode value is not JSON",
    );
    expect(
      reason(decodeSagaEvent(structured({ ...attributes, data: {} }, "application/cloudevents-batch+json"))),
    ).toContain("batched CloudEvents");
  });
});
