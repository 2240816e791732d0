// A Gantt view of a saga: one bar per step attempt and per compensation attempt.

import { formatDuration } from "@/components/ui/format.ts";
import type { SagaTimeline } from "@/server/dashboard/sagas/saga-timeline.ts";

export function SagaTimelineChart({ timeline }: { timeline: SagaTimeline }) {
  const { start, end, bars } = timeline;
  if (!start || !end || bars.length === 0) return <p className="muted">No steps yet.</p>;
  const span = Math.max(1, end.getTime() - start.getTime());
  const pct = (d: Date) => ((d.getTime() - start.getTime()) / span) * 100;
  return (
    <ol className="timeline" data-testid="saga-timeline">
      {bars.map((bar) => {
        const left = pct(bar.start);
        const width = Math.max(0.8, (bar.end ? pct(bar.end) : 100) - left);
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
