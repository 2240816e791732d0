// The service map's edges: a gRPC call pair through its breaker, and a Kafka edge (publishes
// to or consumes from a topic), each with its figures, its tone and its words.

import {
  breakerTone,
  errorRate,
  lagTone,
  pct,
  shownBreakerState,
  type Tone,
} from "../../../browser-safe/map-tones.ts";
import type { MapEdge } from "./map-model.ts";
import type { BreakerReading, KafkaEdgeDraft, MapReadings } from "./map-readings.ts";
import { count, duration, plural, stateWords } from "./map-words.ts";

export function grpcEdge(b: BreakerReading, statsMs: number): MapEdge {
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

export function kafkaMapEdge(e: KafkaEdgeDraft, labels: Map<string, string>, r: MapReadings): MapEdge {
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
