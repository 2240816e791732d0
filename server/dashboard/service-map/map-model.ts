// The service map's shape: what the reader builds (nodes and edges with their figures and
// colour), and what the layout adds (where each is drawn).

import type { ShownBreakerState, Tone } from "../../../browser-safe/map-tones.ts";
import type { ForcedState } from "../../breakers/index.ts";

export type NodeKind = "service" | "topic" | "sagascope";
export type EdgeKind = "grpc" | "publishes" | "consumes";

export interface MapNode {
  /** "service:<name>", "topic:<full topic name>", "sagascope:ingester" or "sagascope:projector". */
  id: string;
  kind: NodeKind;
  /** The service's name, the topic's full name, or the Sagascope process. */
  name: string;
  /** What the box says (a topic without the deployment's prefix). */
  label: string;
  /** The box's second line: its main figure. */
  detail: string;
  /** Everything known about it, in words: the tooltip and what assistive technology reads. */
  description: string;
  tone: Tone;
  /** A service's step failures / step attempts (or, without steps, failures / gRPC calls it received). */
  errorRate: number | null;
  /** Step attempts or calls received (service), events seen (topic), events stored (ingester); null when not counted. */
  calls: number | null;
  /** Where a click on it goes, if anywhere. */
  href: string | null;
}

export interface MapEdge {
  id: string;
  from: string;
  to: string;
  kind: EdgeKind;
  /** False when the edge is known from the code's topic wiring rather than seen in the data. */
  observed: boolean;
  /** gRPC edges: the breaker pair ("caller→callee" or "caller→callee/operation"). */
  pair?: string;
  /** gRPC edges: the breaker's own state, and what it does now (an override wins). */
  breakerState?: "closed" | "open" | "half_open";
  forced?: ForcedState | null;
  shownState?: ShownBreakerState;
  errorRate: number | null;
  /** Calls (gRPC) or events/reports (Kafka) in the window; null when nothing counts them. */
  calls: number | null;
  failures: number;
  rejections: number;
  tone: Tone;
  /** Drawn beside the edge; empty for none. */
  label: string;
  description: string;
  href: string | null;
}

export interface MapGraph {
  nodes: MapNode[];
  edges: MapEdge[];
}

export interface PlacedNode extends MapNode {
  /** The node's column (0 = leftmost) and its top-left corner and size, in viewBox units. */
  column: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge extends MapEdge {
  /** An SVG path from the source's side to the target's side (the arrowhead ends it). */
  path: string;
  labelX: number;
  labelY: number;
  strokeWidth: number;
}

export interface PlacedMap {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

export interface ServiceMap extends PlacedMap {
  readAt: Date;
  /** How far back saga events and breaker figures are counted. */
  windows: { trafficMs: number; breakerStatsMs: number };
  /** Sources that could not be read; the map shows what the others gave. */
  problems: string[];
}
