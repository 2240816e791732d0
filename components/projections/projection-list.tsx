"use client";
// Every projection the dashboard knows (built-in, declared consumer groups, projectors that
// report themselves) with where each stood at its latest checkpoint; one is chosen by URL.
import Link from "next/link";
import { formatAge, formatDuration, formatTime } from "@/components/ui/format.ts";
import { TimeToClearCell } from "@/components/ui/time-to-clear-cell.tsx";
import type { ProjectionSummary } from "@/server/dashboard/projections/projection-list.ts";
import { UndeclareProjection } from "./declare-projection.tsx";

const KIND: Record<ProjectionSummary["kind"], string> = {
  "built-in": "Sagascope's projector",
  declared: "declared consumer group",
  reported: "reports its own checkpoints",
};

export function ProjectionList({
  projections,
  selected,
}: {
  projections: ProjectionSummary[];
  selected: string;
}) {
  const now = Date.now();
  return (
    <table className="grid" data-testid="projection-list">
      <thead>
        <tr>
          <th>Projection</th>
          <th>Kind</th>
          <th>Consumer group</th>
          <th>Changes behind</th>
          <th>Seconds behind</th>
          <th>Clears</th>
          <th>Last checkpoint</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {projections.map((p) => (
          <tr key={p.name} data-projection={p.name} aria-current={p.name === selected ? "true" : undefined}>
            <td>
              <Link href={`/projections?projection=${encodeURIComponent(p.name)}`}>{p.name}</Link>
            </td>
            <td>
              {KIND[p.kind]}
              {p.declaration ? (
                <span className="muted small">
                  {" "}
                  (by {p.declaration.origin === "config" ? "the config" : p.declaration.declaredBy})
                </span>
              ) : null}
            </td>
            <td className="mono small">{p.groupId ?? "—"}</td>
            {p.declaration?.lastError ? (
              <td colSpan={4} className="fail" data-testid="projection-error">
                Not measured: {p.declaration.lastError}
              </td>
            ) : p.lastCheckpointAt === null ? (
              <td colSpan={4} className="muted">
                No checkpoint yet{p.kind === "declared" ? " (the ingester samples it every few seconds)" : ""}
              </td>
            ) : (
              <>
                <td className={p.offsetLag > 0 ? "fail" : ""} data-testid="projection-offset-lag">
                  {p.offsetLag}
                </td>
                <td>{p.timeLagMs === null ? "—" : formatDuration(p.timeLagMs)}</td>
                <TimeToClearCell estimate={p.timeToClear} />
                <td title={formatTime(p.lastCheckpointAt)}>{formatAge(p.lastCheckpointAt, now)}</td>
              </>
            )}
            <td>{p.declaration?.origin === "dashboard" ? <UndeclareProjection name={p.name} /> : null}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
