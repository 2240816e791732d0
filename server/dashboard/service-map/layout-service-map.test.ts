// The map's layout: no two boxes overlap, however many nodes; callers stand left of their
// callees, topics between the services and Sagascope's consumers; every edge starts and ends on
// its nodes' sides and runs behind no other box; the same graph gives the same picture in any order.
import { describe, expect, it } from "vitest";
import { layoutServiceMap } from "./layout-service-map.ts";
import type { EdgeKind, MapEdge, MapGraph, MapNode, NodeKind, PlacedNode } from "./map-model.ts";

const node = (id: string, kind: NodeKind): MapNode => ({
  id,
  kind,
  name: id,
  label: id,
  detail: "",
  description: id,
  tone: "ok",
  errorRate: null,
  calls: 0,
  href: null,
});
const edge = (from: string, to: string, kind: EdgeKind, calls = 1): MapEdge => ({
  id: `${kind}:${from}>${to}`,
  from,
  to,
  kind,
  observed: true,
  errorRate: null,
  calls,
  failures: 0,
  rejections: 0,
  tone: "ok",
  label: "",
  description: "",
  href: null,
});

/** A busy world: chains of gRPC calls, a cycle, many topics, both Sagascope processes. */
function busyGraph(): MapGraph {
  const nodes: MapNode[] = [];
  const edges: MapEdge[] = [];
  for (let i = 0; i < 14; i += 1) nodes.push(node(`service:s${i}`, "service"));
  for (let i = 0; i < 11; i += 1) nodes.push(node(`topic:t${i}`, "topic"));
  nodes.push(node("sagascope:ingester", "sagascope"), node("sagascope:projector", "sagascope"));
  for (let i = 0; i < 10; i += 1)
    edges.push(edge(`service:s${i}`, `service:s${i + 1 + (i % 3)}`, "grpc", i * 10));
  edges.push(edge("service:s12", "service:s13", "grpc"), edge("service:s13", "service:s12", "grpc"));
  for (let i = 0; i < 14; i += 1) edges.push(edge(`service:s${i}`, `topic:t${i % 11}`, "publishes", i));
  for (let i = 0; i < 11; i += 1)
    edges.push(edge(`topic:t${i}`, i % 2 ? "sagascope:projector" : "sagascope:ingester", "consumes"));
  edges.push(edge("topic:t3", "service:s2", "consumes"));
  return { nodes, edges };
}

interface Point {
  x: number;
  y: number;
}

/** Points along an SVG path made of M, C and L commands (what the layout writes), 24 per segment. */
function samples(d: string): Point[] {
  const tokens = d.match(/[MCL]|-?[\d.]+/g) ?? [];
  const numbers = () => [Number(tokens.shift()), Number(tokens.shift())] as const;
  const points: Point[] = [];
  let at: Point = { x: 0, y: 0 };
  while (tokens.length > 0) {
    const command = tokens.shift();
    if (command === "M" || command === "L") {
      const [x, y] = numbers();
      const to = { x, y };
      if (command === "L") for (let k = 1; k <= 24; k += 1) points.push(lerp(at, to, k / 24));
      else points.push(to);
      at = to;
    } else if (command === "C") {
      const [c1, c2, to] = [numbers(), numbers(), numbers()].map(([x, y]) => ({ x, y })) as [
        Point,
        Point,
        Point,
      ];
      for (let k = 1; k <= 24; k += 1) {
        const t = k / 24;
        const u = 1 - t;
        points.push({
          x: u * u * u * at.x + 3 * u * u * t * c1.x + 3 * u * t * t * c2.x + t * t * t * to.x,
          y: u * u * u * at.y + 3 * u * u * t * c1.y + 3 * u * t * t * c2.y + t * t * t * to.y,
        });
      }
      at = to;
    } else throw new Error(`unexpected path command ${command} in ${d}`);
  }
  return points;
}
const lerp = (a: Point, b: Point, t: number) => ({ x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t });

const overlap = (a: PlacedNode, b: PlacedNode) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe("layoutServiceMap", () => {
  it("places no two nodes over each other, all inside the drawing", () => {
    const placed = layoutServiceMap(busyGraph());
    expect(placed.nodes).toHaveLength(27);
    for (const [i, a] of placed.nodes.entries()) {
      expect(a.x).toBeGreaterThanOrEqual(0);
      expect(a.y).toBeGreaterThanOrEqual(0);
      expect(a.x + a.width).toBeLessThanOrEqual(placed.width);
      expect(a.y + a.height).toBeLessThanOrEqual(placed.height);
      for (const b of placed.nodes.slice(i + 1)) expect(overlap(a, b), `${a.id} over ${b.id}`).toBe(false);
    }
  });

  it("puts callers left of callees, then the topics, then Sagascope's consumers", () => {
    const placed = layoutServiceMap(busyGraph());
    const at = new Map(placed.nodes.map((n) => [n.id, n]));
    const column = (id: string) => at.get(id)?.column ?? -1;
    const cycle = new Set(["service:s12", "service:s13"]);
    for (const e of busyGraph().edges.filter((x) => x.kind === "grpc")) {
      // The cycle s12 ⇄ s13 cannot have both ways rightward; every other call goes right.
      if (cycle.has(e.from) && cycle.has(e.to)) continue;
      expect(column(e.to), e.id).toBeGreaterThan(column(e.from));
    }
    const services = placed.nodes.filter((n) => n.kind === "service").map((n) => n.column);
    const topics = placed.nodes.filter((n) => n.kind === "topic").map((n) => n.column);
    expect(new Set(topics).size).toBe(1);
    expect(Math.min(...topics)).toBeGreaterThan(Math.max(...services));
    expect(column("sagascope:ingester")).toBe((topics[0] ?? 0) + 1);
    expect(column("sagascope:projector")).toBe(column("sagascope:ingester"));
  });

  it("starts and ends every edge on its nodes' facing sides, thicker for more traffic", () => {
    const placed = layoutServiceMap(busyGraph());
    const at = new Map(placed.nodes.map((n) => [n.id, n]));
    for (const e of placed.edges) {
      const points = samples(e.path);
      const [s, t] = [points[0] as Point, points.at(-1) as Point];
      const from = at.get(e.from) as PlacedNode;
      const to = at.get(e.to) as PlacedNode;
      expect(
        [from.x, from.x + from.width].some((x) => Math.abs(x - s.x) < 0.11),
        e.id,
      ).toBe(true);
      expect(
        [to.x, to.x + to.width].some((x) => Math.abs(x - t.x) < 0.11),
        e.id,
      ).toBe(true);
      expect(s.y).toBeGreaterThan(from.y);
      expect(s.y).toBeLessThan(from.y + from.height);
      expect(t.y).toBeGreaterThan(to.y);
      expect(t.y).toBeLessThan(to.y + to.height);
    }
    const width = (id: string) => placed.edges.find((e) => e.id === id)?.strokeWidth ?? 0;
    expect(width("grpc:service:s0>service:s1")).toBe(1.5);
    expect(width("grpc:service:s9>service:s10")).toBeGreaterThan(width("grpc:service:s1>service:s3"));
  });

  it("runs no edge behind a box, however many columns it crosses", () => {
    const placed = layoutServiceMap(busyGraph());
    // The busy graph has edges across several columns, forwards and backwards.
    expect(placed.edges.some((e) => e.path.includes("L"))).toBe(true);
    for (const e of placed.edges) {
      for (const q of samples(e.path)) {
        for (const n of placed.nodes) {
          if (n.id === e.from || n.id === e.to) continue;
          const inside =
            q.x > n.x + 0.5 && q.x < n.x + n.width - 0.5 && q.y > n.y + 0.5 && q.y < n.y + n.height - 0.5;
          expect(inside, `${e.id} runs behind ${n.id} at ${q.x},${q.y}`).toBe(false);
        }
      }
    }
  });

  it("gives every end of a node's side a port of its own", () => {
    const placed = layoutServiceMap(busyGraph());
    const ends = placed.edges.flatMap((e) => {
      const points = samples(e.path);
      const [s, t] = [points[0] as Point, points.at(-1) as Point];
      return [`${s.x},${s.y}`, `${t.x},${t.y}`];
    });
    expect(new Set(ends).size).toBe(ends.length);
  });

  it("gives the same picture whatever order the graph came in", () => {
    const g = busyGraph();
    const shuffled = { nodes: [...g.nodes].reverse(), edges: [...g.edges].reverse() };
    const byId = <T extends { id: string }>(list: T[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));
    const a = layoutServiceMap(g);
    const b = layoutServiceMap(shuffled);
    expect(byId(b.nodes)).toEqual(byId(a.nodes));
    expect(byId(b.edges)).toEqual(byId(a.edges));
    expect([b.width, b.height]).toEqual([a.width, a.height]);
  });

  it("draws nothing for an empty graph", () => {
    expect(layoutServiceMap({ nodes: [], edges: [] })).toEqual({ nodes: [], edges: [], width: 0, height: 0 });
  });
});
