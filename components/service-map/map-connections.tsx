// Every connection of the map as a table: the same facts for reading row by row, by keyboard
// or with a screen reader, and for a map too dense to take in at once.
import Link from "next/link";
import { pct } from "@/browser-safe/map-tones.ts";
import type { ServiceMap } from "@/server/dashboard/service-map/map-model.ts";
import styles from "./service-map.module.css";

const KIND_WORDS = { grpc: "gRPC call", publishes: "publishes to", consumes: "is read by" } as const;

export function MapConnections({ map }: { map: ServiceMap }) {
  const labels = new Map(map.nodes.map((n) => [n.id, n.label]));
  return (
    <details className={styles.connections}>
      <summary>Every connection as a table ({map.edges.length})</summary>
      <table className="grid" data-testid="map-connections">
        <thead>
          <tr>
            <th>From</th>
            <th>Connection</th>
            <th>To</th>
            <th>Breaker</th>
            <th className="num">Calls / events</th>
            <th className="num">Failed</th>
            <th className="num">Refused</th>
            <th>Seen</th>
          </tr>
        </thead>
        <tbody>
          {map.edges.map((e) => (
            <tr key={e.id} data-edge={e.id}>
              <td className="mono small">{labels.get(e.from) ?? e.from}</td>
              <td>{KIND_WORDS[e.kind]}</td>
              <td className="mono small">{labels.get(e.to) ?? e.to}</td>
              <td>
                {e.shownState && e.href ? (
                  <Link href={e.href} className={styles[e.tone]}>
                    {e.forced ? "forced " : ""}
                    {e.shownState.replace("_", "-")}
                  </Link>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td className="num">{e.calls === null ? "—" : e.calls.toLocaleString()}</td>
              <td className="num">{e.errorRate === null ? "—" : pct(e.errorRate)}</td>
              <td className="num">{e.kind === "grpc" ? e.rejections.toLocaleString() : "—"}</td>
              <td>{e.observed ? "in the data" : <span className="muted">code's wiring</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
