// A Gantt view of a saga: one bar per step attempt and per compensation attempt; a long run of
// one step's attempts shows its first and last ones and a row counting those between; an
// operator's pauses and edits of the input are rows of their own, above the attempts.

import { formatDuration } from "@/components/ui/format.ts";
import type { FoldedAttempts, FoldedTimeline } from "@/server/dashboard/sagas/fold-timeline.ts";
import type { InputEdit, PauseSpan } from "@/server/dashboard/sagas/saga-timeline.ts";

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

/** An operator's pause: from the owner's answer to the pause until the answer to the resume. */
function PauseRow({ pause, left, width }: { pause: PauseSpan; left: number; width: number }) {
  return (
    <li className="timeline-row timeline-pause" data-kind="pause" data-open={pause.end === null}>
      <div className="timeline-label">
        <strong>⏸ paused</strong>
        <span className="muted small"> by {pause.by}</span>
      </div>
      <div className="timeline-track">
        <div className="timeline-bar bar-paused" style={{ left: `${left}%`, width: `${width}%` }} />
      </div>
      <div className="timeline-meta small">
        {pause.end
          ? `resumed after ${formatDuration(pause.end.getTime() - pause.start.getTime())}`
          : `since ${pause.start.toISOString()}`}
      </div>
    </li>
  );
}

/** An operator's edit of the saga's input: a mark where the owner took it. */
function EditRow({ edit, left }: { edit: InputEdit; left: number }) {
  return (
    <li className="timeline-row timeline-edit" data-kind="input-edit">
      <div className="timeline-label">
        <strong>✎ input edited</strong>
        <span className="muted small"> by {edit.by}</span>
      </div>
      <div className="timeline-track">
        <div className="timeline-bar bar-edit" style={{ left: `${left}%`, width: "0.8%" }} />
      </div>
      <div className="timeline-meta small mono" title={JSON.stringify(edit.input)}>
        {JSON.stringify(edit.input).slice(0, 80)}
      </div>
    </li>
  );
}

export function SagaTimelineChart({ timeline }: { timeline: FoldedTimeline }) {
  const { start, end, rows: bars, pauses, edits } = timeline;
  if (!start || !end || (bars.length === 0 && pauses.length === 0))
    return <p className="muted">No steps yet.</p>;
  const span = Math.max(1, end.getTime() - start.getTime());
  const pct = (d: Date) => ((d.getTime() - start.getTime()) / span) * 100;
  return (
    <ol className="timeline" data-testid="saga-timeline">
      {pauses.map((pause) => {
        const left = pct(pause.start);
        const width = Math.max(0.8, (pause.end ? pct(pause.end) : 100) - left);
        return <PauseRow key={`pause-${pause.start.getTime()}`} pause={pause} left={left} width={width} />;
      })}
      {edits.map((edit) => (
        <EditRow key={`edit-${edit.at.getTime()}`} edit={edit} left={Math.min(99.2, pct(edit.at))} />
      ))}
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
