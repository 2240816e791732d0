// The map's graph from readings: a service's error rate from its steps (business refusals not
// counted), gRPC edges coloured by what their breaker does, Kafka edges from the stored events,
// the projector's checkpoint and the code's wiring (dashed and said to be so).

import { describe, expect, it } from "vitest";
import { DEMO_FLEET_MANIFEST_PATH } from "../../fleet/demo-manifest.ts";
import { NO_MANIFEST, parseFleetManifest, readFleetManifest } from "../../fleet-manifest/fleet-manifest.ts";
import { buildServiceMap } from "./build-service-map.ts";
import { knownWiring } from "./known-wiring.ts";
import type { MapGraph } from "./map-model.ts";
import type { BreakerReading, MapReadings } from "./map-readings.ts";

/** The demo fleet, as its manifest describes it. */
const DEMO_FLEET = readFleetManifest(DEMO_FLEET_MANIFEST_PATH);

const NOW = Date.parse("2030-03-01T12:00:00Z");
const PREFIX = "demo.";
const SAGAS = `${PREFIX}sagascope.saga-events`;
const quiet = { calls: 0, failures: 0, rejections: 0 };

const breaker = (pair: string, b: Partial<BreakerReading>): BreakerReading => {
  const [caller = "", callee = ""] = pair.split("→");
  return {
    pair,
    caller,
    callee,
    operation: null,
    state: "closed",
    forced: null,
    reason: "new breaker",
    live: quiet,
    recent: { ...quiet, reports: 0, instances: 0 },
    ...b,
  };
};

function readings(change: Partial<MapReadings> = {}): MapReadings {
  return {
    now: NOW,
    prefix: PREFIX,
    wiring: knownWiring(PREFIX, DEMO_FLEET),
    windows: { trafficMs: 15 * 60_000, breakerStatsMs: 5 * 60_000, ingestDelayMs: 60_000 },
    traffic: [
      {
        source: "/fleet/transfer-orchestrator",
        service: "bank-b",
        topic: SAGAS,
        events: 30,
        attempts: 10,
        failed: 4,
        business: 2,
      },
      {
        source: "/fleet/transfer-orchestrator",
        service: "bank-a",
        topic: SAGAS,
        events: 20,
        attempts: 10,
        failed: 0,
        business: 0,
      },
      {
        source: "/fleet/transfer-orchestrator",
        service: null,
        topic: SAGAS,
        events: 15,
        attempts: 0,
        failed: 0,
        business: 0,
      },
      {
        source: "/fleet/checkout/order",
        service: "order",
        topic: SAGAS,
        events: 8,
        attempts: 4,
        failed: 0,
        business: 0,
      },
    ],
    breakers: [
      breaker("transfers→bank-b", {
        state: "open",
        reason: "failure rate 50.0% >= 50.0% over 40 calls (20 failed)",
        recent: { calls: 40, failures: 20, rejections: 12, reports: 6, instances: 2 },
      }),
      breaker("transfers→bank-a", { live: { calls: 5, failures: 0, rejections: 0 } }),
      breaker("bank-b→screening", { forced: "open" }),
    ],
    projector: {
      sampledAt: new Date(NOW - 2000),
      generation: 1,
      topics: [
        {
          topic: `${PREFIX}sagascope.fleet.bank-b.changes`,
          offsetLag: 3,
          logEndOffset: 100,
          oldestUnappliedAgeMs: 8000,
        },
        {
          topic: `${PREFIX}sagascope.fleet.order.changes`,
          offsetLag: 0,
          logEndOffset: 0,
          oldestUnappliedAgeMs: null,
        },
        {
          topic: `${PREFIX}sagascope.fleet.shipping.changes`,
          offsetLag: 0,
          logEndOffset: 0,
          oldestUnappliedAgeMs: null,
        },
      ],
    },
    ingest: { events: 50, delayP95Ms: 120, newestStoredAt: new Date(NOW - 1000) },
    ...change,
  };
}

const node = (g: MapGraph, id: string) => {
  const found = g.nodes.find((n) => n.id === id);
  if (!found) throw new Error(`no node ${id} in ${g.nodes.map((n) => n.id).join(", ")}`);
  return found;
};
const edge = (g: MapGraph, id: string) => {
  const found = g.edges.find((e) => e.id === id);
  if (!found) throw new Error(`no edge ${id} in ${g.edges.map((e) => e.id).join(", ")}`);
  return found;
};

describe("services", () => {
  it("rates a service by its failed steps over its attempts, business refusals not counted", () => {
    const g = buildServiceMap(readings());
    const bankB = node(g, "service:bank-b");
    expect(bankB).toMatchObject({ kind: "service", errorRate: 0.2, calls: 10, tone: "bad" });
    expect(bankB.detail).toBe("10 steps · 20% failed");
    expect(bankB.description).toContain("2 business refusals not counted as failures");
    expect(bankB.href).toBe("/sagas?service=bank-b");
    expect(node(g, "service:bank-a")).toMatchObject({ errorRate: 0, tone: "ok" });
  });

  it("names a publisher after its source, and gives no rate to one without steps or calls", () => {
    const g = buildServiceMap(readings());
    expect(node(g, "service:transfer-orchestrator")).toMatchObject({ errorRate: null, tone: "idle" });
    // A caller with nothing else to show says how much it called.
    expect(node(g, "service:transfers")).toMatchObject({
      errorRate: null,
      tone: "idle",
      detail: "45 calls out",
    });
    // A callee without steps is rated by the calls it received.
    const g2 = buildServiceMap(readings({ traffic: [] }));
    expect(node(g2, "service:bank-b")).toMatchObject({ errorRate: 0.5, calls: 40, tone: "bad" });
    expect(node(g2, "service:bank-b").detail).toBe("40 calls in · 50% failed");
  });
});

describe("gRPC edges", () => {
  it("colours a pair by its breaker and labels it with the callers' recent figures", () => {
    const g = buildServiceMap(readings());
    expect(edge(g, "grpc:transfers→bank-b")).toMatchObject({
      kind: "grpc",
      from: "service:transfers",
      to: "service:bank-b",
      breakerState: "open",
      shownState: "open",
      tone: "bad",
      calls: 40,
      failures: 20,
      rejections: 12,
      errorRate: 0.5,
      label: "open · 40 calls · 50% failed · 12 refused",
      href: "/breakers?pair=transfers%E2%86%92bank-b",
    });
    expect(edge(g, "grpc:transfers→bank-b").description).toContain("from 2 caller instances");
  });

  it("uses the breaker's own window until the callers' first report", () => {
    const g = buildServiceMap(readings());
    expect(edge(g, "grpc:transfers→bank-a")).toMatchObject({
      tone: "ok",
      calls: 5,
      errorRate: 0,
      label: "5 calls · 0% failed",
    });
  });

  it("shows an operator's override as what the breaker does, marked forced", () => {
    const g = buildServiceMap(readings());
    expect(edge(g, "grpc:bank-b→screening")).toMatchObject({
      breakerState: "closed",
      forced: "open",
      shownState: "open",
      tone: "bad",
      errorRate: null,
      label: "forced open · no calls",
    });
  });
});

describe("Kafka edges", () => {
  it("draws who published to which topic and the ingester reading it, from the stored events", () => {
    const g = buildServiceMap(readings());
    expect(edge(g, `publishes:service:transfer-orchestrator>topic:${SAGAS}`)).toMatchObject({
      observed: true,
      calls: 65,
      errorRate: 2 / 20,
      tone: "ok",
    });
    expect(edge(g, `consumes:topic:${SAGAS}>sagascope:ingester`)).toMatchObject({
      observed: true,
      calls: 73,
    });
    expect(node(g, `topic:${SAGAS}`)).toMatchObject({ label: "sagascope.saga-events", calls: 73 });
    // Only the pair whose callers reported sent stats over the breaker topic.
    const breakerTopic = `topic:${PREFIX}sagascope.breaker-events`;
    expect(edge(g, `publishes:service:transfers>${breakerTopic}`)).toMatchObject({
      observed: true,
      calls: 6,
    });
    expect(g.edges.some((e) => e.id === `publishes:service:bank-b>${breakerTopic}`)).toBe(false);
    expect(node(g, "sagascope:ingester")).toMatchObject({ tone: "ok", detail: "p95 delay 120 ms" });
  });

  it("adds what the code's wiring knows, drawn as such, only for services that are there", () => {
    const g = buildServiceMap(readings());
    const checkout = `topic:${PREFIX}sagascope.fleet.checkout`;
    expect(edge(g, `publishes:service:order>${checkout}`)).toMatchObject({ observed: false, tone: "idle" });
    expect(edge(g, `consumes:${checkout}>service:order`)).toMatchObject({ observed: false });
    expect(edge(g, `consumes:${checkout}>service:order`).description).toContain(
      "known from the code's wiring",
    );
    expect(g.nodes.some((n) => n.id === "service:payment")).toBe(false);
    // bank-a is there and the projector reads its changes, though no checkpoint named the topic yet.
    expect(
      edge(g, `consumes:topic:${PREFIX}sagascope.fleet.bank-a.changes>sagascope:projector`),
    ).toMatchObject({
      observed: false,
    });
  });

  it("draws a fleet of its own from its manifest, and no fleet wiring without one", () => {
    // Two made-up services, nothing of the demo's: billing publishes invoices that mailer reads.
    const fleet = parseFleetManifest(
      JSON.stringify({
        version: 1,
        topics: [{ name: "acme.invoices", publishers: ["billing"], consumers: ["mailer"] }],
      }),
      "a test manifest",
    );
    const traffic = ["billing", "mailer"].map((service) => ({
      source: `https://acme.example/${service}`,
      service,
      topic: SAGAS,
      events: 4,
      attempts: 2,
      failed: 0,
      business: 0,
    }));
    const own = buildServiceMap(readings({ wiring: knownWiring(PREFIX, fleet), traffic, breakers: [] }));
    const invoices = `topic:${PREFIX}acme.invoices`;
    expect(edge(own, `publishes:service:billing>${invoices}`)).toMatchObject({ observed: false });
    expect(edge(own, `consumes:${invoices}>service:mailer`).description).toContain(
      "known from the code's wiring",
    );
    expect(own.edges.some((e) => e.id === `consumes:${invoices}>service:billing`)).toBe(false);
    expect(own.edges.some((e) => e.id.includes("sagascope.fleet.checkout"))).toBe(false);

    const none = buildServiceMap(
      readings({ wiring: knownWiring(PREFIX, NO_MANIFEST), traffic, breakers: [] }),
    );
    expect(none.edges.some((e) => e.id.includes("acme.invoices"))).toBe(false);
    expect(none.nodes.some((n) => n.id === "service:billing")).toBe(true);
  });

  it("draws the projector's reads from its checkpoint, coloured by the oldest waiting change", () => {
    const g = buildServiceMap(readings());
    const bankB = `topic:${PREFIX}sagascope.fleet.bank-b.changes`;
    expect(edge(g, `consumes:${bankB}>sagascope:projector`)).toMatchObject({
      observed: true,
      tone: "warn",
      label: "3 behind",
      // A checkpoint counts what waits, not what passed.
      calls: null,
    });
    expect(edge(g, `publishes:service:bank-b>${bankB}`)).toMatchObject({ observed: false });
    // An empty change topic of a service not seen would be clutter; one of a service seen is not.
    expect(g.nodes.some((n) => n.id === `topic:${PREFIX}sagascope.fleet.shipping.changes`)).toBe(false);
    expect(node(g, `topic:${PREFIX}sagascope.fleet.order.changes`).kind).toBe("topic");
    expect(node(g, "sagascope:projector")).toMatchObject({ tone: "warn", detail: "3 behind · 8.0 s" });
    expect(edge(g, `publishes:sagascope:projector>topic:${PREFIX}sagascope.projection-events`)).toMatchObject(
      { observed: true },
    );
    // Seen through the projector's checkpoints, though no saga event travels on it.
    expect(node(g, `topic:${PREFIX}sagascope.projection-events`).tone).toBe("ok");
  });

  it("reports a projector that stopped checkpointing as silent", () => {
    const base = readings();
    const g = buildServiceMap(
      readings({
        projector: {
          ...(base.projector as NonNullable<MapReadings["projector"]>),
          sampledAt: new Date(NOW - 90_000),
        },
      }),
    );
    expect(node(g, "sagascope:projector")).toMatchObject({ tone: "bad", detail: "silent for 2 min" });
    expect(g.edges.some((e) => e.from === "sagascope:projector")).toBe(false);
  });
});

describe("the whole", () => {
  it("is empty when nothing was seen", () => {
    const g = buildServiceMap(
      readings({
        traffic: [],
        breakers: [],
        projector: null,
        ingest: { events: 0, delayP95Ms: null, newestStoredAt: null },
      }),
    );
    expect(g).toEqual({ nodes: [], edges: [] });
  });

  it("comes out in the same order whatever order the readings came in", () => {
    const r = readings();
    const reversed = readings({ traffic: [...r.traffic].reverse(), breakers: [...r.breakers].reverse() });
    expect(buildServiceMap(reversed)).toEqual(buildServiceMap(r));
    const ids = buildServiceMap(r).edges.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a.localeCompare(b)));
  });

  it("has an end for every edge", () => {
    const g = buildServiceMap(readings());
    const ids = new Set(g.nodes.map((n) => n.id));
    for (const e of g.edges) expect(ids.has(e.from) && ids.has(e.to), e.id).toBe(true);
  });
});
