"use client";
// The map itself: an SVG scaled to its viewBox (so it fills a laptop or a wall screen alike),
// nodes as labelled boxes, edges as curves with arrowheads, every one focusable with its
// description as tooltip and accessible name; a service or a breaker edge opens its page.
// Pointing at or focusing a node or an edge brings it and its neighbours forward.
import { useRouter } from "next/navigation";
import { type MouseEvent, type ReactNode, useId, useState } from "react";
import type { Tone } from "@/browser-safe/map-tones.ts";
import type { PlacedEdge, PlacedNode, ServiceMap } from "@/server/dashboard/service-map/map-model.ts";
import styles from "./service-map.module.css";

const TONES: Tone[] = ["ok", "warn", "bad", "idle"];
/** Characters that fit a box's width at the label's size (the full text is in the tooltip). */
const truncate = (text: string, width: number, charWidth: number) => {
  const room = Math.floor((width - 24) / charWidth);
  return text.length <= room ? text : `${text.slice(0, Math.max(1, room - 1))}…`;
};
/** A label character's width: topics in the 13 px monospace face (0.6 em), the rest in 15 px bold. */
const MONO_CHAR = 7.85;
const LABEL_CHAR = 8;
const cx = (...names: (string | false | null | undefined)[]) => names.filter(Boolean).join(" ");

/** A focusable element: a link when it leads somewhere (followed without a reload), otherwise a described group. */
function Focusable(props: {
  href: string | null;
  label: string;
  className?: string | undefined;
  data: Record<string, string>;
  onActive: (on: boolean) => void;
  children: ReactNode;
}) {
  const router = useRouter();
  const common = {
    className: props.className,
    "aria-label": props.label,
    onFocus: () => props.onActive(true),
    onBlur: () => props.onActive(false),
    onMouseEnter: () => props.onActive(true),
    onMouseLeave: () => props.onActive(false),
    ...props.data,
  };
  if (!props.href) {
    return (
      // Named by its label, a focusable group: reached by keyboard like the links around it.
      <g tabIndex={0} {...common}>
        <title>{props.label}</title>
        {props.children}
      </g>
    );
  }
  const href = props.href;
  const follow = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    router.push(href);
  };
  return (
    <a href={href} onClick={follow} {...common}>
      <title>{props.label}</title>
      {props.children}
    </a>
  );
}

/** The ids that stay bright while something is pointed at: it, and what it touches. */
function related(map: ServiceMap, active: string | null): Set<string> | null {
  if (!active) return null;
  const bright = new Set([active]);
  for (const e of map.edges) {
    if (e.id === active) {
      bright.add(e.from);
      bright.add(e.to);
    } else if (e.from === active || e.to === active) {
      bright.add(e.id);
      bright.add(e.from);
      bright.add(e.to);
    }
  }
  return bright;
}

/** The label in lines of at most two parts, so that it fits between two columns; drawn just above its edge. */
function labelLines(label: string): string[] {
  const parts = label.split(" · ");
  const lines: string[] = [];
  for (let i = 0; i < parts.length; i += 2) lines.push(parts.slice(i, i + 2).join(" · "));
  return lines;
}

function Edge({
  edge,
  marker,
  dim,
  onActive,
}: {
  edge: PlacedEdge;
  marker: string;
  dim: boolean;
  onActive: (on: boolean) => void;
}) {
  return (
    <Focusable
      href={edge.href}
      label={edge.description}
      className={cx(styles.edge, styles[edge.tone], dim && styles.dim)}
      data={{
        "data-testid": "map-edge",
        "data-edge": edge.id,
        "data-kind": edge.kind,
        "data-from": edge.from,
        "data-to": edge.to,
        "data-observed": String(edge.observed),
        "data-tone": edge.tone,
        ...(edge.pair ? { "data-pair": edge.pair } : {}),
        ...(edge.shownState ? { "data-state": edge.shownState, "data-forced": edge.forced ?? "" } : {}),
      }}
      onActive={onActive}
    >
      <path className={styles.hit} d={edge.path} />
      <path
        className={cx(styles.line, !edge.observed && styles.wired, edge.forced && styles.forced)}
        data-testid="map-edge-line"
        d={edge.path}
        strokeWidth={edge.strokeWidth}
        markerEnd={`url(#${marker}-${edge.tone})`}
      />
    </Focusable>
  );
}

function EdgeLabel({ edge, dim }: { edge: PlacedEdge; dim: boolean }) {
  if (!edge.label) return null;
  const lines = labelLines(edge.label);
  return (
    <text
      className={cx(styles.edgeLabel, styles[edge.tone], dim && styles.dim)}
      x={edge.labelX}
      y={edge.labelY - 8 - (lines.length - 1) * 15}
      textAnchor="middle"
      data-testid="map-edge-label"
      data-edge={edge.id}
    >
      {lines.map((line, i) => (
        <tspan key={line} x={edge.labelX} dy={i === 0 ? 0 : 15}>
          {line}
        </tspan>
      ))}
    </text>
  );
}

function Node({ node, dim, onActive }: { node: PlacedNode; dim: boolean; onActive: (on: boolean) => void }) {
  return (
    <Focusable
      href={node.href}
      label={node.description}
      className={cx(styles.node, styles[node.kind], styles[node.tone], dim && styles.dim)}
      data={{
        "data-testid": "map-node",
        "data-node": node.id,
        "data-kind": node.kind,
        "data-tone": node.tone,
      }}
      onActive={onActive}
    >
      <rect
        className={styles.box}
        x={node.x}
        y={node.y}
        width={node.width}
        height={node.height}
        rx={node.kind === "topic" ? node.height / 2 : 8}
      />
      {node.kind === "service" ? (
        <rect className={styles.stripe} x={node.x} y={node.y} width={6} height={node.height} rx={3} />
      ) : null}
      <text className={styles.nodeLabel} x={node.x + node.width / 2} y={node.y + 25} textAnchor="middle">
        {truncate(node.label, node.width, node.kind === "topic" ? MONO_CHAR : LABEL_CHAR)}
      </text>
      <text className={styles.nodeDetail} x={node.x + node.width / 2} y={node.y + 45} textAnchor="middle">
        {truncate(node.detail, node.width, 7)}
      </text>
    </Focusable>
  );
}

export function MapGraph({ map }: { map: ServiceMap }) {
  const marker = `arrow${useId().replace(/[^a-zA-Z0-9_-]/g, "")}`;
  const [active, setActive] = useState<string | null>(null);
  const bright = related(map, active);
  const dim = (id: string) => bright !== null && !bright.has(id);
  const activate = (id: string) => (on: boolean) =>
    setActive((current) => (on ? id : current === id ? null : current));

  return (
    <div className={styles.frame}>
      <svg
        className={styles.svg}
        viewBox={`0 0 ${map.width} ${map.height}`}
        aria-label={`Service map: ${map.nodes.length} nodes, ${map.edges.length} connections`}
        data-testid="service-map"
      >
        <defs>
          {TONES.map((tone) => (
            <marker
              key={tone}
              id={`${marker}-${tone}`}
              className={cx(styles.arrow, styles[tone])}
              viewBox="0 0 10 10"
              refX="10"
              refY="5"
              markerWidth="11"
              markerHeight="11"
              markerUnits="userSpaceOnUse"
              orient="auto"
            >
              <path d="M0,0 L10,5 L0,10 z" />
            </marker>
          ))}
        </defs>
        <g>
          {map.edges.map((edge) => (
            <Edge key={edge.id} edge={edge} marker={marker} dim={dim(edge.id)} onActive={activate(edge.id)} />
          ))}
        </g>
        <g>
          {map.nodes.map((node) => (
            <Node key={node.id} node={node} dim={dim(node.id)} onActive={activate(node.id)} />
          ))}
        </g>
        {/* Labels last, with a halo, so that no box or curve hides them; their edge's name already says them. */}
        {/* biome-ignore lint/a11y/noAriaHiddenOnFocusable: an SVG group of text is not focusable. */}
        <g aria-hidden="true">
          {map.edges.map((edge) => (
            <EdgeLabel key={edge.id} edge={edge} dim={dim(edge.id)} />
          ))}
        </g>
      </svg>
    </div>
  );
}
