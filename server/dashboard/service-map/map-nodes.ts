// The service map's nodes: a service (its steps, calls and events), a topic, the ingester
// and the projector, each with its figures, its tone and its words.

import { errorRate, lagTone, pct, rateTone } from "../../../browser-safe/map-tones.ts";
import { topicRole } from "../kafka/deployment-names.ts";
import { INGESTER_ID, PROJECTOR_ID, shortTopic } from "./known-wiring.ts";
import type { MapNode } from "./map-model.ts";
import type { KafkaEdgeDraft, MapReadings, ProjectorReading, ServiceDraft } from "./map-readings.ts";
import { count, duration, plural } from "./map-words.ts";

export function serviceNode(s: ServiceDraft, windows: MapReadings["windows"]): MapNode {
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

export function topicNode(
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

export function ingesterNode(r: MapReadings, kafka: Map<string, KafkaEdgeDraft>): MapNode {
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

export function projectorNode(p: ProjectorReading, silent: boolean, now: number): MapNode {
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
