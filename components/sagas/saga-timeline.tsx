// A Gantt view of a saga: one bar per step attempt and per compensation attempt; a long run of
// one step's attempts shows its first and last ones and a row counting those between.

import { formatDuration } from "@/components/ui/format.ts";
import type { FoldedAttempts, FoldedTimeline } from "@/server/dashboard/sagas/fold-timeline.ts";

/** Attempts folded out of a long run: how many, and how they ended. */
function FoldedRow({ row, left, width }: { row: FoldedAttempts; left: number; width: number }) {
  const outcomes = Object.entries(row.outcomes)
    .map(([outcome, n]) => `${n} ${outcome.replace("_", " ")}`)
    .join(", ");
  return (
    <li
      className="timeline-row timeline-folded"
      data-kind="folded"
      data-step={row.step}
      data-count={row.count}
    >
      <div className="timeline-label">
        <strong>
          {row.of === "compensation" ? "↩ compensate " : ""}
          {row.step}
        </strong>
        <span className="muted small">
          {" "}
          {row.service} · attempts {row.firstAttempt}–{row.lastAttempt}
        </span>
      </div>
      <div className="timeline-track">
        <div className="timeline-bar bar-folded" style={{ left: `${left}%`, width: `${width}%` }} />
      </div>
      <div className="timeline-meta small">
        {row.count} attempts folded: {outcomes}
      </div>
    </li>
  );
}

export function SagaTimelineChart({ timeline }: { timeline: FoldedTimeline }) {
  const { start, end, rows: bars } = timeline;
  if (!start || !end || bars.length === 0) return <p className="muted">No steps yet.</p>;
  const span = Math.max(1, end.getTime() - start.getTime());
  const pct = (d: Date) => ((d.getTime() - start.getTime()) / span) * 100;
  return (
    <ol className="timeline" data-testid="saga-timeline">
      {bars.map((bar) => {
        const left = pct(bar.start);
        const width = Math.max(0.8, (bar.end ? pct(bar.end) : 100) - left);
        if (bar.kind === "folded")
          return (
            <FoldedRow key={`folded-${bar.step}-${bar.firstAttempt}`} row={bar} left={left} width={width} />
          );
        const label = `${bar.kind === "compensation" ? "↩ compensate " : ""}${bar.step}`;
        return (
          <li
            key={`${bar.kind}-${bar.step}-${bar.attempt}-${bar.start.getTime()}`}
            className="timeline-row"
            data-kind={bar.kind}
            data-step={bar.step}
            data-outcome={bar.outcome}
            data-attempt={bar.attempt}
          >
            <div className="timeline-label">
              <strong>{label}</strong>
              <span className="muted small">
                {" "}
                {bar.service} · attempt {bar.attempt}
              </span>
            </div>
            <div className="timeline-track">
              <div
                className={`timeline-bar bar-${bar.kind} bar-${bar.outcome}`}
                style={{ left: `${left}%`, width: `${width}%` }}
                title={bar.error ?? bar.outcome}
              />
            </div>
            <div className="timeline-meta small">
              {bar.outcome.replace("_", " ")} ·{" "}
              {formatDuration(bar.end ? bar.end.getTime() - bar.start.getTime() : null)}
              {bar.error && <span className="fail"> · {bar.error}</span>}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
