"use client";
// Every projection the dashboard knows (built-in, declared consumer groups, projectors that
// report themselves) with where each stood at its latest checkpoint; one is chosen by URL.
import Link from "next/link";
import { formatAge, formatDuration, formatTime } from "@/components/ui/format.ts";
import type { ProjectionSummary } from "@/server/dashboard/projections/projection-list.ts";
import type { TimeToClear } from "@/server/dashboard/projections/time-to-clear.ts";
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

const perSecond = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n)}/s`;

/** Roughly, as an operator says it: "~40 s", "~3 min", "~2 h". */
function roughly(ms: number): string {
  if (ms < 60_000) return `~${Math.max(1, Math.round(ms / 1000))} s`;
  if (ms < 3_600_000) return `~${Math.round(ms / 60_000)} min`;
  return `~${Math.round(ms / 3_600_000)} h`;
}

function TimeToClearCell({ estimate }: { estimate: TimeToClear }) {
  const rates =
    "consumePerSecond" in estimate
      ? `consuming ${perSecond(estimate.consumePerSecond)}, arriving ${perSecond(estimate.producePerSecond)} (last 30 s)`
      : undefined;
  const [text, tone] =
    estimate.kind === "caught-up"
      ? ["caught up", ""]
      : estimate.kind === "keeping-up"
        ? ["keeping up", ""]
        : estimate.kind === "clearing"
          ? [`clearing in ${roughly(estimate.inMs)}`, "warn"]
          : estimate.kind === "growing"
            ? ["growing: not clearing at this rate", "fail"]
            : ["—", "muted"];
  return (
    <td
      className={tone}
      data-testid="time-to-clear"
      data-kind={estimate.kind}
      title={estimate.kind === "unknown" ? estimate.why : rates}
    >
      {text}
    </td>
  );
}
