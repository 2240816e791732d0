// Turns what the stores hold (recent saga events, the breaker pairs with their figures, the
// projector's last checkpoint, the ingester's delay) into the service map's nodes and edges,
// each with its figures, its colour and its words. Pure: the reader does the I/O. The nodes
// and edges are drawn by map-nodes.ts and map-edges.ts from the drafts gathered here.
import { INGESTER_ID, PROJECTOR_ID, publisherName } from "./known-wiring.ts";
import { grpcEdge, kafkaMapEdge } from "./map-edges.ts";
import type { MapEdge, MapGraph, MapNode } from "./map-model.ts";
import { ingesterNode, projectorNode, serviceNode, topicNode } from "./map-nodes.ts";
import {
  type KafkaEdgeDraft,
  type MapReadings,
  type ServiceDraft,
  SILENT_CHECKPOINT_MS,
} from "./map-readings.ts";
import { count, duration, plural } from "./map-words.ts";

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
    for (const shared of wiring.fleetTopics) {
      if (shared.publishers.has(name)) kafkaEdge("publishes", `service:${name}`, topic(shared.topic), false);
      if (shared.consumers.has(name)) kafkaEdge("consumes", topic(shared.topic), `service:${name}`, false);
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
