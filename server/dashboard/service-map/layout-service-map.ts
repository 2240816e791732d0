// Where the service map draws each node and edge: columns from left to right (callers, then
// their callees, then the Kafka topics, then Sagascope's own consumers), nodes ordered within
// a column to keep edges short and uncrossed. An edge that spans several columns passes each
// column between its ends through a lane of its own, so that no edge runs behind a box; every
// edge ends at a port of its own on the facing sides. Deterministic: the same graph gives the
// same picture, in any order.
import type { MapEdge, MapGraph, MapNode, NodeKind, PlacedEdge, PlacedMap, PlacedNode } from "./map-model.ts";

export const GEOMETRY = {
  nodeHeight: 60,
  nodeWidth: { service: 200, topic: 260, sagascope: 190 } satisfies Record<NodeKind, number>,
  columnGap: 150,
  serviceGap: 190,
  rowGap: 28,
  /** A lane through a column for an edge passing it, and the room around it. */
  laneHeight: 8,
  laneGap: 10,
  margin: 24,
  /** How far an edge between two nodes of one column bulges out to the right. */
  loop: 70,
  stroke: { min: 1.5, max: 7 },
};

const KIND_RANK: Record<NodeKind, number> = { service: 0, topic: 1, sagascope: 2 };
const SWEEPS = 4;
const r1 = (x: number) => Math.round(x * 10) / 10;

interface Point {
  x: number;
  y: number;
}

/** A node or a lane, as the ordering and the stacking of a column see it. */
interface Slot {
  id: string;
  column: number;
  height: number;
  node: MapNode | null;
}

export function layoutServiceMap(graph: MapGraph): PlacedMap {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const edges = graph.edges.filter((e) => byId.has(e.from) && byId.has(e.to));
  const column = assignColumns(graph.nodes, edges);

  // Lanes: an edge's passage through every column strictly between its ends.
  const slots = new Map<string, Slot>(
    graph.nodes.map((n) => [
      n.id,
      { id: n.id, column: column.get(n.id) ?? 0, height: GEOMETRY.nodeHeight, node: n },
    ]),
  );
  const chains = edges.map((e) => {
    const from = column.get(e.from) ?? 0;
    const to = column.get(e.to) ?? 0;
    const step = to > from ? 1 : -1;
    const lanes: string[] = [];
    for (let c = from + step; step * (to - c) > 0; c += step) {
      const id = `${e.id}@${c}`;
      slots.set(id, { id, column: c, height: GEOMETRY.laneHeight, node: null });
      lanes.push(id);
    }
    return [e.from, ...lanes, e.to];
  });
  const columns = orderColumns([...slots.values()], chains);

  // Stack each column's slots and centre the columns on one another.
  const gap = (a: Slot, b: Slot) => (a.node && b.node ? GEOMETRY.rowGap : GEOMETRY.laneGap);
  const stacks = columns.map((ids) =>
    stack(
      ids.map((id) => slots.get(id) as Slot),
      gap,
    ),
  );
  const tallest = Math.max(0, ...stacks.map((s) => s.height));
  const height = tallest === 0 ? 0 : 2 * GEOMETRY.margin + tallest;
  // A gap after a column of services holds the gRPC calls' labels.
  const holdsServices = (c: number) =>
    (columns[c] ?? []).some((id) => slots.get(id)?.node?.kind === "service");
  const gapAfter = (c: number) => (holdsServices(c) ? GEOMETRY.serviceGap : GEOMETRY.columnGap);
  const columnX: number[] = [];
  const columnWidth: number[] = [];
  let x = GEOMETRY.margin;
  columns.forEach((ids, c) => {
    const nodes = ids.map((id) => slots.get(id)?.node).filter((n): n is MapNode => Boolean(n));
    columnX[c] = x;
    columnWidth[c] = Math.max(0, ...nodes.map((n) => GEOMETRY.nodeWidth[n.kind]));
    x += (columnWidth[c] ?? 0) + gapAfter(c);
  });
  const width = columns.length === 0 ? 0 : x - gapAfter(columns.length - 1) + GEOMETRY.margin;
  const top = new Map<string, number>();
  columns.forEach((ids, c) => {
    const s = stacks[c] as ReturnType<typeof stack>;
    ids.forEach((id, k) => {
      top.set(id, GEOMETRY.margin + (tallest - s.height) / 2 + (s.tops[k] ?? 0));
    });
  });

  const placed = new Map<string, PlacedNode>();
  for (const n of graph.nodes) {
    const c = column.get(n.id) ?? 0;
    const w = GEOMETRY.nodeWidth[n.kind];
    placed.set(n.id, {
      ...n,
      column: c,
      x: (columnX[c] ?? 0) + ((columnWidth[c] ?? 0) - w) / 2,
      y: top.get(n.id) ?? 0,
      width: w,
      height: GEOMETRY.nodeHeight,
    });
  }
  const lane = (id: string) => {
    const c = slots.get(id)?.column ?? 0;
    return {
      left: columnX[c] ?? 0,
      right: (columnX[c] ?? 0) + (columnWidth[c] ?? 0),
      y: (top.get(id) ?? 0) + GEOMETRY.laneHeight / 2,
    };
  };
  // In reading order (column by column, top to bottom), which is also the order Tab follows.
  const reading = (a: PlacedNode, b: PlacedNode) =>
    a.column - b.column || a.y - b.y || a.id.localeCompare(b.id);
  const nodes = [...placed.values()].sort(reading);
  const edgesInOrder = placeEdges(edges, chains, placed, lane).sort(
    (a, b) =>
      reading(placed.get(a.from) as PlacedNode, placed.get(b.from) as PlacedNode) ||
      reading(placed.get(a.to) as PlacedNode, placed.get(b.to) as PlacedNode) ||
      a.id.localeCompare(b.id),
  );
  return { nodes, edges: edgesInOrder, width, height };
}

/** Tops of the slots stacked from 0, and the stack's height. */
function stack(slots: Slot[], gap: (a: Slot, b: Slot) => number) {
  const tops: number[] = [];
  let y = 0;
  slots.forEach((s, k) => {
    const before = slots[k - 1];
    if (before) y += gap(before, s);
    tops.push(y);
    y += s.height;
  });
  return { tops, height: y };
}

/**
 * Services by their depth in the gRPC call graph (a callee right of its deepest caller), then
 * one column of topics, then one of Sagascope's processes. Empty columns are dropped.
 */
function assignColumns(nodes: MapNode[], edges: MapEdge[]): Map<string, number> {
  const services = nodes.filter((n) => n.kind === "service").map((n) => n.id);
  const calls = forwardCalls(services, edges);
  const depth = new Map(services.map((id) => [id, 0]));
  // Longest paths over an acyclic graph settle within as many rounds as there are services.
  for (let round = 0; round < services.length; round += 1) {
    let deeper = false;
    for (const e of calls) {
      const d = (depth.get(e.from) ?? 0) + 1;
      if (d > (depth.get(e.to) ?? 0)) {
        depth.set(e.to, d);
        deeper = true;
      }
    }
    if (!deeper) break;
  }
  const topicColumn = depth.size === 0 ? 0 : Math.max(...depth.values()) + 1;
  const raw = new Map(
    nodes.map((n) => [
      n.id,
      n.kind === "service" ? (depth.get(n.id) ?? 0) : n.kind === "topic" ? topicColumn : topicColumn + 1,
    ]),
  );
  const used = [...new Set(raw.values())].sort((a, b) => a - b);
  return new Map([...raw].map(([id, c]) => [id, used.indexOf(c)]));
}

/**
 * The gRPC calls without those that close a cycle (services calling each other back), found
 * by a depth-first walk in name order, so that which call of a cycle points back is always the same.
 */
function forwardCalls(services: string[], edges: MapEdge[]) {
  const calls = edges
    .filter((e) => e.kind === "grpc" && e.from !== e.to)
    .sort((a, b) => a.id.localeCompare(b.id));
  const out = new Map<string, MapEdge[]>();
  for (const e of calls) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  const state = new Map<string, "walking" | "done">();
  const kept: MapEdge[] = [];
  const walk = (id: string) => {
    state.set(id, "walking");
    for (const e of out.get(id) ?? []) {
      const next = state.get(e.to);
      if (next === "walking") continue;
      kept.push(e);
      if (next === undefined) walk(e.to);
    }
    state.set(id, "done");
  };
  for (const id of [...services].sort()) if (!state.has(id)) walk(id);
  return kept;
}

/**
 * Each column's slots top to bottom: nodes by kind and name first (lanes after them), then,
 * sweeping right and back, by the mean height of their neighbours in the columns already placed.
 */
function orderColumns(slots: Slot[], chains: string[][]): string[][] {
  const byId = new Map(slots.map((s) => [s.id, s]));
  const rank = (s: Slot) => (s.node ? KIND_RANK[s.node.kind] : 3);
  const columns: string[][] = [];
  for (const s of [...slots].sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id)))
    columns[s.column] = [...(columns[s.column] ?? []), s.id];
  for (let c = 0; c < columns.length; c += 1) columns[c] ??= [];
  const neighbours = new Map<string, string[]>(slots.map((s) => [s.id, []]));
  for (const chain of chains) {
    for (let k = 1; k < chain.length; k += 1) {
      const [a, b] = [chain[k - 1] as string, chain[k] as string];
      if (a === b) continue;
      neighbours.get(a)?.push(b);
      neighbours.get(b)?.push(a);
    }
  }
  const gap = (a: Slot, b: Slot) => (a.node && b.node ? GEOMETRY.rowGap : GEOMETRY.laneGap);
  /** Every slot's centre, measured from the middle of its column (how the drawing centres columns). */
  const centres = () => {
    const at = new Map<string, number>();
    for (const ids of columns) {
      const list = ids.map((id) => byId.get(id) as Slot);
      const s = stack(list, gap);
      list.forEach((slot, k) => {
        at.set(slot.id, (s.tops[k] ?? 0) + slot.height / 2 - s.height / 2);
      });
    }
    return at;
  };
  for (let sweep = 0; sweep < SWEEPS; sweep += 1) {
    const rightward = sweep % 2 === 0;
    const order = columns.map((_, c) => c);
    if (!rightward) order.reverse();
    for (const c of order) {
      const at = centres();
      const placedSide = (id: string) => {
        const other = byId.get(id)?.column ?? 0;
        return rightward ? other < c : other > c;
      };
      const key = (id: string) => {
        const refs = (neighbours.get(id) ?? []).filter(placedSide);
        const own = at.get(id) ?? 0;
        return refs.length === 0 ? own : refs.reduce((sum, m) => sum + (at.get(m) ?? 0), 0) / refs.length;
      };
      const keys = new Map((columns[c] ?? []).map((id) => [id, key(id)]));
      columns[c]?.sort(
        (a, b) =>
          (keys.get(a) ?? 0) - (keys.get(b) ?? 0) ||
          (at.get(a) ?? 0) - (at.get(b) ?? 0) ||
          a.localeCompare(b),
      );
    }
  }
  return columns;
}

type Side = "left" | "right";
type Lane = (id: string) => { left: number; right: number; y: number };

function placeEdges(
  edges: MapEdge[],
  chains: string[][],
  nodes: Map<string, PlacedNode>,
  lane: Lane,
): PlacedEdge[] {
  // Which side of each end an edge leaves or enters: the sides that face each other.
  const sides = edges.map((e) => {
    const from = nodes.get(e.from) as PlacedNode;
    const to = nodes.get(e.to) as PlacedNode;
    if (to.column > from.column) return { from: "right", to: "left" } as const;
    if (to.column < from.column) return { from: "left", to: "right" } as const;
    return { from: "right", to: "right" } as const;
  });
  /** The height an end heads for: its first (or last) lane, or the node at the other end. */
  const towards = (i: number, end: "from" | "to") => {
    const chain = chains[i] as string[];
    const next = chain[end === "from" ? 1 : chain.length - 2] as string;
    const node = nodes.get(next);
    return node ? node.y + node.height / 2 : lane(next).y;
  };
  // Every end gets a port of its own on its side, in the order of where the edges head.
  const ends = new Map<string, { edge: number; end: "from" | "to"; towards: number; id: string }[]>();
  edges.forEach((e, i) => {
    for (const end of ["from", "to"] as const) {
      const key = `${e[end]}|${sides[i]?.[end]}`;
      ends.set(key, [
        ...(ends.get(key) ?? []),
        { edge: i, end, towards: towards(i, end), id: `${e.id}|${end}` },
      ]);
    }
  });
  const ports = new Map<string, Point>();
  for (const [key, list] of ends) {
    const [id, side] = key.split("|") as [string, Side];
    const node = nodes.get(id) as PlacedNode;
    list.sort((a, b) => a.towards - b.towards || a.id.localeCompare(b.id));
    list.forEach((p, k) => {
      ports.set(`${p.edge}|${p.end}`, {
        x: side === "right" ? node.x + node.width : node.x,
        y: node.y + (node.height * (k + 1)) / (list.length + 1),
      });
    });
  }
  const volume = (e: MapEdge) => (e.observed ? (e.calls ?? 0) + e.rejections : 0);
  const loudest = Math.max(0, ...edges.map(volume));
  return edges.map((e, i) => {
    const start = ports.get(`${i}|from`) as Point;
    const end = ports.get(`${i}|to`) as Point;
    const lanes = (chains[i] as string[]).slice(1, -1).map(lane);
    const rightward = sides[i]?.from === "right" && sides[i]?.to === "left";
    const { min, max } = GEOMETRY.stroke;
    return {
      ...e,
      ...route(start, end, lanes, rightward, sides[i]?.from === sides[i]?.to),
      strokeWidth: r1(loudest > 0 ? min + ((max - min) * Math.log1p(volume(e))) / Math.log1p(loudest) : min),
    };
  });
}

/** The path: curves across the gaps between columns, straight through the lanes; the label halfway. */
function route(start: Point, end: Point, lanes: ReturnType<Lane>[], rightward: boolean, loop: boolean) {
  const p = (q: Point) => `${r1(q.x)},${r1(q.y)}`;
  const curve = (a: Point, b: Point) => {
    if (loop)
      return `C${p({ x: a.x + GEOMETRY.loop, y: a.y })} ${p({ x: b.x + GEOMETRY.loop, y: b.y })} ${p(b)}`;
    const dx = (b.x - a.x) / 2;
    return `C${p({ x: a.x + dx, y: a.y })} ${p({ x: b.x - dx, y: b.y })} ${p(b)}`;
  };
  const parts = [`M${p(start)}`];
  let at = start;
  for (const l of lanes) {
    const enter = { x: rightward ? l.left : l.right, y: l.y };
    const leave = { x: rightward ? l.right : l.left, y: l.y };
    parts.push(curve(at, enter), `L${p(leave)}`);
    at = leave;
  }
  parts.push(curve(at, end));
  const middle = lanes[Math.floor(lanes.length / 2)];
  // Halfway: the middle lane's centre, or the single curve's middle (t = 1/2 of the cubic Bézier).
  const label = middle
    ? { x: (middle.left + middle.right) / 2, y: middle.y }
    : loop
      ? { x: (start.x + end.x) / 2 + (GEOMETRY.loop * 3) / 4, y: (start.y + end.y) / 2 }
      : { x: (start.x + end.x) / 2, y: (start.y + end.y) / 2 };
  return { path: parts.join(" "), labelX: r1(label.x), labelY: r1(label.y) };
}
