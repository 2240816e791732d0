// Turns what the stores hold (recent saga events, the breaker pairs with their figures, the
// projector's last checkpoint, the ingester's delay) into the service map's nodes and edges,
// each with its figures, its colour and its words. Pure: the reader does the I/O.
import type { BreakerStateName, ForcedState } from "../../breakers/index.ts";
import { topicRole } from "../kafka/deployment-names.ts";
import { INGESTER_ID, type KnownWiring, PROJECTOR_ID, publisherName, shortTopic } from "./known-wiring.ts";
import type { EdgeKind, MapEdge, MapGraph, MapNode } from "./map-model.ts";
import {
  breakerTone,
  errorRate,
  lagTone,
  pct,
  rateTone,
  type ShownBreakerState,
  shownBreakerState,
  type Tone,
} from "./map-tones.ts";

export interface Figures {
  calls: number;
  failures: number;
  rejections: number;
}

/** Saga events stored in the window, counted per publisher, step owner and topic. */
export interface SagaTraffic {
  /** CloudEvents source of the events: who published them. */
  source: string;
  /** The service that owns the steps they are about (null for saga-level events). */
  service: string | null;
  topic: string;
  events: number;
  /** step.started events (one per attempt), step.failed events, and of these the business refusals. */
  attempts: number;
  failed: number;
  business: number;
}

export interface BreakerReading {
  pair: string;
  caller: string;
  callee: string;
  operation: string | null;
  state: BreakerStateName;
  forced: ForcedState | null;
  reason: string;
  /** The breaker's own sliding window in Redis, now. */
  live: Figures;
  /** The callers' stats windows that ended within the stats window, summed over instances. */
  recent: Figures & { reports: number; instances: number };
}

export interface ProjectorReading {
  sampledAt: Date;
  generation: number;
  /** The latest checkpoint, per topic (partitions summed; the oldest waiting change is the worst one). */
  topics: { topic: string; offsetLag: number; logEndOffset: number; oldestUnappliedAgeMs: number | null }[];
}

export interface IngestReading {
  /** Saga events stored within the delay window, and the 95th percentile of stored-at minus event time. */
  events: number;
  delayP95Ms: number | null;
  newestStoredAt: Date | null;
}

export interface MapReadings {
  now: number;
  prefix: string;
  wiring: KnownWiring;
  windows: { trafficMs: number; breakerStatsMs: number; ingestDelayMs: number };
  traffic: SagaTraffic[];
  breakers: BreakerReading[];
  projector: ProjectorReading | null;
  ingest: IngestReading | null;
}

/** A projector that has not checkpointed for this long (it does every 5 s) is reported silent. */
export const SILENT_CHECKPOINT_MS = 30_000;

const count = (n: number) => n.toLocaleString("en-US");
const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}
const stateWords = (shown: ShownBreakerState, forced: boolean) =>
  `${forced ? "forced " : ""}${shown.replace("_", "-")}`;

interface ServiceDraft {
  name: string;
  attempts: number;
  failed: number;
  business: number;
  published: number;
  grpcIn: Figures;
  /** Calls it made through its breakers (caller side), for a service with nothing else to show. */
  grpcOut: number;
}

interface KafkaEdgeDraft {
  kind: Exclude<EdgeKind, "grpc">;
  from: string;
  to: string;
  observed: boolean;
  /** Whether anything counted its events (the projector's checkpoints do not). */
  counted: boolean;
  events: number;
  attempts: number;
  failed: number;
  business: number;
  /** How far back `events` counts, when not the traffic window. */
  windowMs?: number;
  /** For consumes edges into the projector: what its last checkpoint says about that topic. */
  lag?: { offsetLag: number; oldestMs: number | null; silent: boolean };
}

export function buildServiceMap(r: MapReadings): MapGraph {
  const { wiring, now } = r;
  const services = new Map<string, ServiceDraft>();
  const topicEvents = new Map<string, number>();
  const topicNotes = new Map<string, string>();
  const topicWindows = new Map<string, number>();
  const kafka = new Map<string, KafkaEdgeDraft>();
  const grpc: MapEdge[] = [];

  const service = (name: string) => {
    let s = services.get(name);
    if (!s) {
      s = {
        name,
        attempts: 0,
        failed: 0,
        business: 0,
        published: 0,
        grpcIn: { calls: 0, failures: 0, rejections: 0 },
        grpcOut: 0,
      };
      services.set(name, s);
    }
    return s;
  };
  const topic = (name: string, events = 0, windowMs?: number) => {
    topicEvents.set(name, (topicEvents.get(name) ?? 0) + events);
    if (windowMs) topicWindows.set(name, windowMs);
    return `topic:${name}`;
  };
  /** Adds to a Kafka edge; an edge seen in the data stays observed whatever the wiring adds. */
  const kafkaEdge = (
    kind: KafkaEdgeDraft["kind"],
    from: string,
    to: string,
    observed: boolean,
    add: Partial<
      Pick<KafkaEdgeDraft, "events" | "attempts" | "failed" | "business" | "lag" | "windowMs">
    > = {},
  ) => {
    const id = `${kind}:${from}>${to}`;
    const e = kafka.get(id) ?? {
      kind,
      from,
      to,
      observed,
      counted: false,
      events: 0,
      attempts: 0,
      failed: 0,
      business: 0,
    };
    e.observed ||= observed;
    e.counted ||= add.events !== undefined;
    e.events += add.events ?? 0;
    e.attempts += add.attempts ?? 0;
    e.failed += add.failed ?? 0;
    e.business += add.business ?? 0;
    if (add.lag) e.lag = add.lag;
    if (add.windowMs) e.windowMs = add.windowMs;
    kafka.set(id, e);
  };

  // Saga events: their publisher wrote them to their topic, the ingester read and stored them.
  for (const t of r.traffic) {
    const publisher = service(publisherName(t.source));
    publisher.published += t.events;
    if (t.service) {
      const owner = service(t.service);
      owner.attempts += t.attempts;
      owner.failed += t.failed;
      owner.business += t.business;
    }
    const topicId = topic(t.topic, t.events);
    kafkaEdge("publishes", `service:${publisher.name}`, topicId, true, t);
    kafkaEdge("consumes", topicId, INGESTER_ID, true, { events: t.events });
  }

  // Breakers: one gRPC edge per pair; the callers' stats windows travel over the breaker topic.
  for (const b of r.breakers) {
    const callee = service(b.callee);
    callee.grpcIn.calls += b.recent.calls;
    callee.grpcIn.failures += b.recent.failures;
    callee.grpcIn.rejections += b.recent.rejections;
    const edge = grpcEdge(b, r.windows.breakerStatsMs);
    service(b.caller).grpcOut += edge.calls ?? 0;
    grpc.push(edge);
    if (b.recent.reports > 0) {
      const topicId = topic(wiring.contract.breakerEvents, b.recent.reports, r.windows.breakerStatsMs);
      const reports = { events: b.recent.reports, windowMs: r.windows.breakerStatsMs };
      kafkaEdge("publishes", `service:${b.caller}`, topicId, true, reports);
      kafkaEdge("consumes", topicId, INGESTER_ID, true, reports);
    }
  }

  // The projector: its last checkpoint names the change topics it reads and how far behind it is.
  const projector = r.projector;
  const projectorSilent = projector ? now - projector.sampledAt.getTime() > SILENT_CHECKPOINT_MS : false;
  if (projector) {
    for (const t of projector.topics) {
      const owner = wiring.changeTopics.get(t.topic);
      // A change topic nobody ever wrote to, of a service not seen, would only be clutter.
      if (t.logEndOffset === 0 && !(owner && services.has(owner))) continue;
      const topicId = topic(t.topic);
      topicNotes.set(
        t.topic,
        `The projector's last checkpoint: ${plural(t.logEndOffset, "message")} in the log, ${count(t.offsetLag)} not applied yet${
          t.oldestUnappliedAgeMs !== null ? `, the oldest waiting ${duration(t.oldestUnappliedAgeMs)}` : ""
        }.`,
      );
      kafkaEdge("consumes", topicId, PROJECTOR_ID, true, {
        lag: { offsetLag: t.offsetLag, oldestMs: t.oldestUnappliedAgeMs, silent: projectorSilent },
      });
    }
    if (!projectorSilent) {
      const topicId = topic(wiring.contract.projectionEvents);
      kafkaEdge("publishes", PROJECTOR_ID, topicId, true);
      kafkaEdge("consumes", topicId, INGESTER_ID, true);
    }
  }

  // The code's wiring, drawn dotted: what services seen here publish and read that the data cannot show.
  for (const name of [...services.keys()]) {
    if (wiring.checkout.services.has(name)) {
      const topicId = topic(wiring.checkout.topic);
      kafkaEdge("publishes", `service:${name}`, topicId, false);
      kafkaEdge("consumes", topicId, `service:${name}`, false);
    }
    const changes = [...wiring.changeTopics].find(([, owner]) => owner === name)?.[0];
    if (changes && projector) {
      const topicId = topic(changes);
      kafkaEdge("publishes", `service:${name}`, topicId, false);
      kafkaEdge("consumes", topicId, PROJECTOR_ID, false);
    }
  }
  const ingesterSeen =
    [...topicEvents.keys()].some((t) => wiring.ingesterReads.has(t)) || Boolean(r.ingest?.newestStoredAt);
  if (ingesterSeen) {
    for (const t of topicEvents.keys()) {
      if (wiring.ingesterReads.has(t)) kafkaEdge("consumes", `topic:${t}`, INGESTER_ID, false);
    }
  }

  const observedEnds = new Set([...kafka.values()].filter((e) => e.observed).flatMap((e) => [e.from, e.to]));
  const nodes: MapNode[] = [
    ...[...services.values()].map((s) => serviceNode(s, r.windows)),
    ...[...topicEvents].map(([name, events]) =>
      topicNode(name, {
        events,
        prefix: r.prefix,
        note: topicNotes.get(name),
        seen: observedEnds.has(`topic:${name}`),
        windowMs: topicWindows.get(name) ?? r.windows.trafficMs,
      }),
    ),
  ];
  if (ingesterSeen) nodes.push(ingesterNode(r, kafka));
  if (projector) nodes.push(projectorNode(projector, projectorSilent, now));
  const labels = new Map(nodes.map((n) => [n.id, n.label]));
  const edges = [...grpc, ...[...kafka.values()].map((e) => kafkaMapEdge(e, labels, r))];
  return {
    nodes: nodes.sort((a, b) => a.id.localeCompare(b.id)),
    edges: edges.sort((a, b) => a.id.localeCompare(b.id)),
  };
}

function grpcEdge(b: BreakerReading, statsMs: number): MapEdge {
  const shown = shownBreakerState(b.state, b.forced);
  // The callers report every 10 s; until the first report the breaker's own window speaks.
  const figures = b.recent.reports > 0 ? b.recent : b.live;
  const rate = errorRate(figures.failures, figures.calls);
  const words = stateWords(shown, b.forced !== null);
  const volume =
    figures.calls + figures.rejections === 0
      ? "no calls"
      : `${plural(figures.calls, "call")} · ${rate === null ? "—" : pct(rate)} failed${
          figures.rejections > 0 ? ` · ${count(figures.rejections)} refused` : ""
        }`;
  const name = `${b.caller} → ${b.callee}${b.operation ? ` / ${b.operation}` : ""}`;
  const span =
    b.recent.reports > 0
      ? `in the last ${duration(statsMs)}, from ${plural(b.recent.instances, "caller instance")}`
      : "in the breaker's current window (no caller report yet)";
  return {
    id: `grpc:${b.pair}`,
    from: `service:${b.caller}`,
    to: `service:${b.callee}`,
    kind: "grpc",
    observed: true,
    pair: b.pair,
    breakerState: b.state,
    forced: b.forced,
    shownState: shown,
    errorRate: rate,
    calls: figures.calls,
    failures: figures.failures,
    rejections: figures.rejections,
    tone: breakerTone(shown),
    label: shown === "closed" && !b.forced ? volume : `${words} · ${volume}`,
    description: `${name} over gRPC: breaker ${words}${b.forced ? " by an operator" : ""} (${b.reason}). ${count(
      figures.calls,
    )} calls, ${count(figures.failures)} failed${rate === null ? "" : ` (${pct(rate)})`}, ${count(
      figures.rejections,
    )} refused by the breaker ${span}. Opens the pair on the breakers page.`,
    href: `/breakers?pair=${encodeURIComponent(b.pair)}`,
  };
}

function serviceNode(s: ServiceDraft, windows: MapReadings["windows"]): MapNode {
  const counted = s.failed - s.business;
  const stepRate = errorRate(counted, s.attempts);
  const grpcRate = errorRate(s.grpcIn.failures, s.grpcIn.calls);
  const rate = s.attempts > 0 ? stepRate : grpcRate;
  const words = [`Service ${s.name}.`];
  if (s.attempts > 0)
    words.push(
      `Saga steps in the last ${duration(windows.trafficMs)}: ${plural(s.attempts, "attempt")}, ${count(counted)} failed (${pct(
        stepRate ?? 0,
      )})${s.business > 0 ? `; ${plural(s.business, "business refusal")} not counted as failures` : ""}.`,
    );
  if (s.grpcIn.calls + s.grpcIn.rejections > 0)
    words.push(
      `gRPC calls received in the last ${duration(windows.breakerStatsMs)}: ${count(s.grpcIn.calls)}, ${count(
        s.grpcIn.failures,
      )} failed${s.grpcIn.rejections > 0 ? `, ${count(s.grpcIn.rejections)} refused by its callers' breakers` : ""}.`,
    );
  if (s.grpcOut > 0) words.push(`gRPC calls made: ${count(s.grpcOut)}.`);
  if (s.published > 0) words.push(`Published ${plural(s.published, "saga event")}.`);
  words.push("Opens its sagas.");
  const detail =
    s.attempts > 0
      ? `${plural(s.attempts, "step")} · ${pct(stepRate ?? 0)} failed`
      : s.grpcIn.calls > 0
        ? `${plural(s.grpcIn.calls, "call")} in · ${pct(grpcRate ?? 0)} failed`
        : s.grpcOut > 0
          ? `${plural(s.grpcOut, "call")} out`
          : s.published > 0
            ? `${plural(s.published, "event")} out`
            : "no traffic seen";
  return {
    id: `service:${s.name}`,
    kind: "service",
    name: s.name,
    label: s.name,
    detail,
    description: words.join(" "),
    tone: rateTone(rate),
    errorRate: rate,
    calls: s.attempts > 0 ? s.attempts : s.grpcIn.calls,
    href: `/sagas?service=${encodeURIComponent(s.name)}`,
  };
}

function topicNode(
  name: string,
  t: { events: number; prefix: string; note: string | undefined; seen: boolean; windowMs: number },
) {
  const { events, note, seen } = t;
  const role = topicRole(name);
  return {
    id: `topic:${name}`,
    kind: "topic",
    name,
    label: shortTopic(name, t.prefix),
    detail: `${role ?? "topic"}${events > 0 ? ` · ${plural(events, "event")}` : ""}`,
    description: [
      `Kafka topic ${name}${role ? `, ${role}` : ""}.`,
      events > 0 ? `${plural(events, "event")} stored from it in the last ${duration(t.windowMs)}.` : "",
      note ?? "",
      seen ? "" : "Not seen in the data: drawn from the code's wiring.",
    ]
      .filter(Boolean)
      .join(" "),
    tone: seen ? "ok" : "idle",
    errorRate: null,
    calls: events,
    href: null,
  } satisfies MapNode;
}

function ingesterNode(r: MapReadings, kafka: Map<string, KafkaEdgeDraft>): MapNode {
  const ingest = r.ingest;
  const stored = [...kafka.values()].filter((e) => e.to === INGESTER_ID).reduce((n, e) => n + e.events, 0);
  const recent = ingest !== null && ingest.events > 0;
  const delay = ingest?.delayP95Ms ?? null;
  const newest = ingest?.newestStoredAt ?? null;
  return {
    id: INGESTER_ID,
    kind: "sagascope",
    name: "ingester",
    label: "ingester",
    detail: recent && delay !== null ? `p95 delay ${duration(delay)}` : newest ? "idle" : "nothing stored",
    description: [
      "Sagascope's ingester: reads the contract topics and stores them in Postgres.",
      recent && delay !== null
        ? `In the last ${duration(r.windows.ingestDelayMs)} it stored ${plural(ingest.events, "saga event")}, 95% of them within ${duration(delay)} of their time.`
        : `Nothing stored in the last ${duration(r.windows.ingestDelayMs)}.`,
      newest ? `Newest stored ${duration(Math.max(0, r.now - newest.getTime()))} ago.` : "",
      "Opens the Kafka page (its consumer group's lag).",
    ]
      .filter(Boolean)
      .join(" "),
    tone: recent ? lagTone(delay) : "idle",
    errorRate: null,
    calls: stored,
    href: "/kafka",
  };
}

function projectorNode(p: ProjectorReading, silent: boolean, now: number): MapNode {
  const behind = p.topics.reduce((n, t) => n + t.offsetLag, 0);
  const waits = p.topics.map((t) => t.oldestUnappliedAgeMs).filter((x): x is number => x !== null);
  const oldest = waits.length > 0 ? Math.max(...waits) : null;
  const age = Math.max(0, now - p.sampledAt.getTime());
  return {
    id: PROJECTOR_ID,
    kind: "sagascope",
    name: "projector",
    label: "projector",
    detail: silent
      ? `silent for ${duration(age)}`
      : behind > 0
        ? `${count(behind)} behind${oldest !== null ? ` · ${duration(oldest)}` : ""}`
        : "up to date",
    description: [
      `The projector (generation ${p.generation}): builds the read model from the services' change topics.`,
      silent
        ? `No checkpoint for ${duration(age)}: it is stopped, or cannot reach Kafka or Postgres.`
        : `Last checkpoint ${duration(age)} ago: ${plural(behind, "change")} not applied yet${
            oldest !== null ? `, the oldest waiting ${duration(oldest)}` : ""
          }.`,
      "Opens the projections page.",
    ].join(" "),
    tone: silent ? "bad" : lagTone(oldest),
    errorRate: null,
    calls: null,
    href: "/projections",
  };
}

function kafkaMapEdge(e: KafkaEdgeDraft, labels: Map<string, string>, r: MapReadings): MapEdge {
  const from = labels.get(e.from) ?? e.from;
  const to = labels.get(e.to) ?? e.to;
  const failed = e.failed - e.business;
  const rate = errorRate(failed, e.attempts);
  // Kafka edges are coloured only by lag: a failed step is its service's, not its topic's.
  let tone: Tone = e.observed ? "ok" : "idle";
  let label = "";
  const span = `in the last ${duration(e.windowMs ?? r.windows.trafficMs)}`;
  let words: string;
  if (!e.observed) {
    words = `${from} ${e.kind === "publishes" ? "publishes to" : "is read by"} ${to}: known from the code's wiring, not seen in the data.`;
  } else if (e.lag) {
    tone = e.lag.silent ? "bad" : lagTone(e.lag.oldestMs);
    label = e.lag.offsetLag > 0 ? `${count(e.lag.offsetLag)} behind` : "";
    words = `The projector reads ${from}: ${count(e.lag.offsetLag)} changes not applied yet${
      e.lag.oldestMs !== null ? `, the oldest waiting ${duration(e.lag.oldestMs)}` : ""
    }${e.lag.silent ? " (as of its last checkpoint, which is old)" : ""}.`;
  } else if (e.kind === "publishes") {
    words = `${from} publishes to ${to}: ${plural(e.events, "event")} ${span}${
      e.attempts > 0 ? ` (${plural(e.attempts, "step attempt")}, ${count(failed)} failed)` : ""
    }.`;
  } else {
    words = `${to} reads ${from}: ${plural(e.events, "event")} stored ${span}.`;
  }
  return {
    id: `${e.kind}:${e.from}>${e.to}`,
    from: e.from,
    to: e.to,
    kind: e.kind,
    observed: e.observed,
    errorRate: e.observed ? rate : null,
    calls: e.counted ? e.events : null,
    failures: e.observed ? failed : 0,
    rejections: 0,
    tone,
    label,
    description: words,
    href: null,
  };
}
